"""The exact_substring Beam stage against the suffix-array reference."""

from __future__ import annotations

import random
from dataclasses import replace

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from core.document import Document
from dedup.exact_substring import (
    ALL_COPIES,
    KEEP_FIRST,
    TOO_SHORT,
    ExactSubstring,
    SpanTokenizer,
    cut_text,
    kept_enough,
)
from pipeline.beam.exact_substring import ExactSubstringStage
from pipeline.funnel import merge_counters
from tests.conftest import corpus_texts, suffix_array_repeats

NAME = "exact_substring"
WORDS = ["Straße", "中文", "😀🎉", "river", "stone", "lamp", "meadow", "Übermut", "harbor"]
PARAGRAPH = (
    "A paragraph planted into several pages: it repeats word for word, long enough to be well "
    "over fifty tokens, with German Größe, Chinese 中文字符 and emoji 👩‍👩‍👧‍👦 so that the "
    "cut has to respect multi-byte characters at its edges."
)


def planted_texts() -> dict[str, str]:
    rng = random.Random(11)

    def words(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    texts = {f"d{i:02d}": f"{words(40)} {PARAGRAPH} {words(30)}" for i in range(6)}
    texts["d06"] = PARAGRAPH  # nothing left after the cut: dropped
    texts["d07"] = f"{words(20)} {PARAGRAPH} {words(5)} {PARAGRAPH}"  # twice in one document
    texts["d08"] = words(8)  # shorter than one window
    texts["d09"] = words(100)  # no repeat
    return texts


def expected(texts: dict[str, str], mode: str) -> tuple[dict[str, str], int, set[str]]:
    """Kept (id -> text), tokens removed and dropped ids, from the suffix-array reference."""
    tokenizer = SpanTokenizer()
    names = sorted(texts)
    encoded = tokenizer.encode([texts[n] for n in names])
    removed = suffix_array_repeats([t.ids for t in encoded], 50, keep_first=mode == KEEP_FIRST)
    kept, dropped, tokens_removed = {}, set(), 0
    for name, tokens, positions in zip(names, encoded, removed, strict=True):
        tokens_removed += len(positions)
        runs, start = [], None
        for p in range(len(tokens.ids) + 1):
            if p in positions and start is None:
                start = p
            if p not in positions and start is not None:
                runs.append((start, p))
                start = None
        text, _ = cut_text(texts[name], tokens, runs)
        if runs and not kept_enough(text, 20):
            dropped.add(name)
        else:
            kept[name] = text
    return kept, tokens_removed, dropped


def run_stage(texts: dict[str, str], stage: ExactSubstring, check_audit=None):
    kept_text, tokens_removed, dropped = expected(texts, stage.mode)
    docs = [Document(id=d, url=f"https://example.com/{d}", text=t) for d, t in texts.items()]

    def check_stats(counters):
        counts = merge_counters(counters)
        assert counts[("stage", NAME, "in")] == len(texts)
        assert counts[("stage", NAME, "out")] == len(kept_text)
        assert counts[("stage", NAME, "dropped", TOO_SHORT)] == len(dropped)
        assert counts[("dedup", NAME, "tokens_removed")] == tokens_removed
        cut = sum(1 for d in texts if d in dropped or kept_text.get(d) != texts[d])
        assert counts[("dedup", NAME, "documents_cut")] == cut

    with TestPipeline(runner=FnApiRunner()) as p:
        kept, stats, dropped_samples, errors, audit = (
            p | beam.Create(docs) | ExactSubstringStage(stage)
        )
        assert_that(kept | beam.Map(lambda d: (d.id, d.text)), equal_to(list(kept_text.items())))
        if check_audit:
            assert_that(audit, check_audit, label="audit")
        assert_that(
            dropped_samples | "Dropped ids" >> beam.Map(lambda kv: (kv[0], kv[1]["id"])),
            equal_to([(f"{NAME}/{TOO_SHORT}", d) for d in dropped]),
            label="dropped",
        )
        assert_that(stats, check_stats, label="stats")
        assert_that(errors, equal_to([]), label="errors")
    return kept_text, dropped


@pytest.mark.parametrize("mode", [ALL_COPIES, KEEP_FIRST])
def test_stage_removes_what_the_suffix_array_finds(mode):
    texts = planted_texts()

    def check_spans(audit):
        [section] = audit
        spans = section["spans"]
        assert spans and all(s["text"] in texts[s["id"]] for s in spans)

    kept, dropped = run_stage(texts, ExactSubstring(mode=mode), check_spans)
    holders = sorted(d for d, t in kept.items() if PARAGRAPH in t)
    # d06 is the paragraph alone: d00 holds its windows first, so it goes in both modes.
    assert holders == ([] if mode == ALL_COPIES else ["d00"]) and dropped == {"d06"}
    for d in ("d01", "d02", "d03", "d04", "d05"):
        assert d in kept and len(kept[d]) > 100  # hosts survive with the rest of their text
    assert kept["d08"] == texts["d08"] and kept["d09"] == texts["d09"]


def test_stage_matches_suffix_array_on_corpus():
    run_stage(dict(corpus_texts(60)), ExactSubstring())


def test_stage_on_random_token_texts():
    rng = np.random.default_rng(5)
    pieces = ["".join(rng.choice(list("abcdefgh ")) for _ in range(300)) for _ in range(3)]
    texts = {
        f"r{i}": pieces[i % 3][rng.integers(100) :] + pieces[(i + 1) % 3][: rng.integers(300)]
        for i in range(8)
    }
    run_stage(texts, ExactSubstring())


def test_stage_is_planned_before_tokenize_and_configurable():
    from pipeline.config import Config
    from pipeline.stages import SKIPPABLE, RunSpec, build_stage, funnel_plan

    config = Config.load(overrides={"exact_substring.mode": "keep_first"})
    spec = RunSpec(files=[], output="", config=config, tokenizer="tiktoken:o200k_base")
    names = [name for name, _ in funnel_plan(spec)]
    # RefinedWeb order: MinHash, then exact substrings; URL dedup across parts comes last.
    assert names[-5:] == ["exact_dedup", "minhash", NAME, "url_dedup", "tokenize"]
    skipped = RunSpec([], "", config, "tiktoken:o200k_base", skip=frozenset({NAME}))
    assert NAME not in [name for name, _ in funnel_plan(skipped)] and NAME in SKIPPABLE
    stage = build_stage(NAME, config, spec)
    assert (stage.mode, stage.tokenizer, stage.min_tokens) == (KEEP_FIRST, spec.tokenizer, 50)


def test_uncut_documents_hand_their_ids_to_the_tokenize_stage():
    from core.tokenizer import DEFAULT_TOKENIZER, TokenizeSettings, load_tokenizer
    from pipeline.beam.sink import TokenizeStage

    texts = planted_texts()
    tokenizer = load_tokenizer(DEFAULT_TOKENIZER)
    kept_text, _, _ = expected(texts, ALL_COPIES)
    uncut = {d for d, t in kept_text.items() if t == texts[d]}
    assert uncut and len(uncut) < len(kept_text)
    want = dict(zip(kept_text, tokenizer.encode_batch(list(kept_text.values())), strict=True))
    docs = [Document(id=d, url="", text=t) for d, t in texts.items()]
    stage = replace(ExactSubstring(), hand_on_ids=True)
    with TestPipeline(runner=FnApiRunner()) as p:
        kept = (p | beam.Create(docs) | ExactSubstringStage(stage)).documents
        assert_that(
            kept | "Carried" >> beam.Map(lambda d: (d.id, d.text_ids is not None)),
            equal_to([(d, d in uncut) for d in kept_text]),
            label="carried",
        )
        tokenized = kept | TokenizeStage(TokenizeSettings(DEFAULT_TOKENIZER, True))
        assert_that(
            tokenized.documents
            | "Ids" >> beam.Map(lambda d: (d.id, d.input_ids.tolist(), d.text_ids)),
            equal_to([(d, ids, None) for d, ids in want.items()]),
            label="ids",
        )
