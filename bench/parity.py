"""Do macrodata's filters decide as datatrove 0.10.1's do, rule by rule, on real pages?

    python bench/parity.py --peer-python PEER_VENV/bin/python [--recipe refinedweb|fineweb]
        [--input GLOB] [--show N]

--peer-python is the interpreter of a separate environment with datatrove 0.10.1 and spaCy
(never a dependency of this project; spaCy's blank English tokenizer needs no model download).
The pages of --input (default: the shared corpus) are extracted and language-identified once, by
macrodata (the recipe's extraction settings); the English ones go to both sides: datatrove's
filters at FineWeb's settings (its examples/fineweb.py), run by bench/peer_parity.py under
that interpreter, and ours at the recipe's configuration (`macrodata config --recipe R`): the
Gopher filters with its reading (filters/reading.py; `paper` for refinedweb, `fineweb` for
fineweb), and for fineweb also c4_quality and fineweb_quality.

Printed, per filter and per rule: documents, agreement, both keep, both drop, and the
documents only one side drops. With the paper reading every disagreement is put down to a
cause: the first single point of filters/reading.py which, read FineWeb's way, makes our rule
decide as datatrove's; else "several points together" (the whole FineWeb reading agrees), else
the words (our English splitter's words differ from spaCy's on that page), else unexplained.
For documents both sides keep, the text each hands on is compared (C4's rules edit it).
Then what judging a document costs (CPU; the Gopher filters under each reading), and how
often our English splitter's words differ from spaCy's (core/text.py). With --recipe fineweb,
whether each filter reaches 99% agreement (exit status 1 if one does not).

A filter is compared by one entry of `pairs()`: how to build ours, datatrove's class and
FineWeb's arguments for it, and its rules (our reasons, or our arguments that leave only that
rule on; datatrove's arguments that do the same). Adding a filter is adding an entry.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from core.document import Document  # noqa: E402
from core.text import split_english_words  # noqa: E402
from filters.c4 import C4Quality  # noqa: E402
from filters.fineweb_quality import FineWebQuality  # noqa: E402
from filters.quality import QualityFilter  # noqa: E402
from filters.reading import PAPER, READINGS, Reading  # noqa: E402
from filters.repetition import DUP_NGRAM_SIZES, TOP_NGRAM_SIZES, RepetitionFilter  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.extract import ExtractSettings, clean_text, extract_main_text  # noqa: E402
from pipeline.langid import LanguageID  # noqa: E402
from pipeline.recipes import RECIPES  # noqa: E402
from pipeline.warc import ReadLimits, iter_warc  # noqa: E402

PEER_SCRIPT = os.path.join(os.path.dirname(__file__), "peer_parity.py")
DEFAULT_INPUT = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpus", "*.warc.gz")
TARGET = 0.99  # FineWeb reading: agreement per filter


@dataclass(frozen=True)
class Rule:
    """One rule: its label, our drop reasons for it, datatrove's arguments turning it on, and
    (for a filter of ours without `failures`) our arguments turning it on."""

    name: str
    ours: tuple[str, ...]
    theirs: dict
    ours_only: dict = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Pair:
    """One of our filters and datatrove's counterpart."""

    name: str
    # (config, reading, arguments over the config's) -> our Filter
    build: Callable[..., object]
    peer_class: str
    peer_arguments: dict  # FineWeb's settings
    peer_off: dict  # arguments that turn every rule of datatrove's filter off
    rules: tuple[Rule, ...]
    recipes: tuple[str, ...] = ("refinedweb", "fineweb")
    # Points of filters/reading.py this filter reads (the causes tried for a disagreement).
    aspects: tuple[str, ...] = ()
    # Our arguments that turn every rule off (filters without `failures`, judged per rule by
    # building them with one rule on).
    ours_off: dict = dataclasses.field(default_factory=dict)


def _repetition(config: Config, reading: str | Reading, arguments: dict | None = None):
    return RepetitionFilter(
        **{**config.section("repetition"), **(arguments or {}), "reading": reading}
    )


def _quality(config: Config, reading: str | Reading, arguments: dict | None = None):
    return QualityFilter(**{**config.section("quality"), **(arguments or {}), "reading": reading})


def _c4_quality(config: Config, reading: str | Reading, arguments: dict | None = None):
    params = {**config.section_or_empty("c4_quality"), **(arguments or {})}
    if "policy_phrases" in params:
        params["policy_phrases"] = tuple(params["policy_phrases"])
    return C4Quality(**params)


def _fineweb_quality(config: Config, reading: str | Reading, arguments: dict | None = None):
    return FineWebQuality(**{**config.section_or_empty("fineweb_quality"), **(arguments or {})})


def _repetition_rules(section: dict) -> tuple[Rule, ...]:
    rules = [
        Rule(key, (f"{key}_too_high",), {key: section[key]})
        for key in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac")
    ]
    rules += [
        Rule(
            f"top_{n}gram_char_frac",
            (f"top_{n}gram_char_frac_too_high",),
            {"top_n_grams": [[n, section["top_ngram_char_frac"][n]]]},
        )
        for n in TOP_NGRAM_SIZES
    ]
    rules += [
        Rule(
            f"dup_{n}gram_char_frac",
            (f"dup_{n}gram_char_frac_too_high",),
            {"dup_n_grams": [[n, section["dup_ngram_char_frac"][n]]]},
        )
        for n in DUP_NGRAM_SIZES
    ]
    return tuple(rules)


def _quality_rules(q: dict) -> tuple[Rule, ...]:
    return (
        Rule("min_words", ("too_few_words",), {"min_doc_words": q["min_words"]}),
        Rule("max_words", ("too_many_words",), {"max_doc_words": q["max_words"]}),
        Rule(
            "mean_word_length",
            ("mean_word_length_too_short", "mean_word_length_too_long"),
            {
                "min_avg_word_length": q["min_mean_word_length"],
                "max_avg_word_length": q["max_mean_word_length"],
            },
        ),
        Rule(
            "hash_or_ellipsis_per_word",
            ("hash_to_word_ratio_too_high", "ellipsis_to_word_ratio_too_high"),
            {"max_symbol_word_ratio": q["max_hash_to_word_ratio"]},
        ),
        Rule(
            "bullet_lines",
            ("bullet_lines_frac_too_high",),
            {"max_bullet_lines_ratio": q["max_bullet_lines_frac"]},
        ),
        Rule(
            "ellipsis_lines",
            ("ellipsis_lines_frac_too_high",),
            {"max_ellipsis_lines_ratio": q["max_ellipsis_lines_frac"]},
        ),
        Rule(
            "alpha_words",
            ("alpha_words_frac_too_low",),
            {"max_non_alpha_words_ratio": q["min_alpha_words_frac"]},
        ),
        Rule("stop_words", ("too_few_stop_words",), {"min_stop_words": q["min_stop_words"]}),
    )


def _c4_rules(c4: dict) -> tuple[Rule, ...]:
    sentences = c4.get("min_sentences", 5)
    return (
        Rule(
            "lorem_ipsum",
            ("lorem_ipsum",),
            {"filter_lorem_ipsum": True},
            {"filter_lorem_ipsum": True},
        ),
        Rule(
            "curly_bracket",
            ("curly_bracket",),
            {"filter_curly_bracket": True},
            {"filter_curly_bracket": True},
        ),
        Rule(
            "min_sentences",
            ("too_few_sentences",),
            {"min_num_sentences": sentences},
            {"min_sentences": sentences},
        ),
    )


def _fineweb_quality_rules(f: FineWebQuality) -> tuple[Rule, ...]:
    return (
        Rule(
            "line_punct_ratio",
            ("line_punct_ratio_too_low",),
            {"line_punct_thr": f.min_line_punct_ratio},
            {"min_line_punct_ratio": f.min_line_punct_ratio},
        ),
        Rule(
            "short_line_ratio",
            ("short_line_ratio_too_high",),
            {"short_line_thr": f.max_short_line_ratio},
            {"max_short_line_ratio": f.max_short_line_ratio},
        ),
        Rule(
            "char_dup_ratio",
            ("char_dup_ratio_too_high",),
            {"char_duplicates_ratio": f.max_char_dup_ratio},
            {"max_char_dup_ratio": f.max_char_dup_ratio},
        ),
        Rule(
            "list_ratio",
            ("list_ratio_too_high",),
            {"new_line_ratio": f.max_newlines_per_word},
            {"max_newlines_per_word": f.max_newlines_per_word},
        ),
    )


def pairs(config: Config) -> tuple[Pair, ...]:
    """The filters compared, with the thresholds of `config` on both sides."""
    repetition_off = {
        "dup_line_frac": None,
        "dup_para_frac": None,
        "dup_line_char_frac": None,
        "dup_para_char_frac": None,
        "top_n_grams": [],
        "dup_n_grams": [],
    }
    quality_off = dict.fromkeys(
        (
            "min_doc_words",
            "max_doc_words",
            "min_avg_word_length",
            "max_avg_word_length",
            "max_symbol_word_ratio",
            "max_bullet_lines_ratio",
            "max_ellipsis_lines_ratio",
            "max_non_alpha_words_ratio",
            "min_stop_words",
        )
    )
    return (
        Pair(
            "repetition",
            _repetition,
            "GopherRepetitionFilter",
            {},
            repetition_off,
            _repetition_rules(config.section("repetition")),
            aspects=(
                "english_words",
                "raw_lines",
                "raw_paragraphs",
                "text_denominator",
                "top_ngram_as_joined",
                "dup_ngrams_after_first",
            ),
        ),
        Pair(
            "quality",
            _quality,
            "GopherQualityFilter",
            {},
            quality_off,
            _quality_rules(config.section("quality")),
            aspects=(
                "english_words",
                "raw_lines",
                "punctuation_free_words",
                "two_bullets",
                "exact_stop_words",
            ),
        ),
        # FineWeb's own stages: datatrove's filters at examples/fineweb.py's arguments.
        Pair(
            "c4_quality",
            _c4_quality,
            "C4QualityFilter",
            {"filter_no_terminal_punct": False},
            {"filter_lorem_ipsum": False, "filter_curly_bracket": False, "min_num_sentences": -1},
            _c4_rules(config.section_or_empty("c4_quality")),
            recipes=("fineweb",),
            ours_off={
                "filter_lorem_ipsum": False,
                "filter_curly_bracket": False,
                "min_sentences": -1,
            },
        ),
        Pair(
            "fineweb_quality",
            _fineweb_quality,
            "FineWebQualityFilter",
            {},
            # Thresholds no ratio can pass (shares are within [0, 1]).
            {
                "line_punct_thr": 0.0,
                "short_line_thr": 1.0,
                "char_duplicates_ratio": 1.0,
                "new_line_ratio": 1e9,
            },
            _fineweb_quality_rules(_fineweb_quality(config, "")),
            recipes=("fineweb",),
            ours_off={
                "min_line_punct_ratio": 0.0,
                "max_short_line_ratio": 1.0,
                "max_char_dup_ratio": 1.0,
                "max_newlines_per_word": 1e9,
            },
        ),
    )


def english_texts(pattern: str, extract: dict, limits: ReadLimits) -> list[dict]:
    """{id, url, text} of the English pages (score >= 0.65) of the WARC files, extracted."""
    names = ExtractSettings.__dataclass_fields__
    settings = ExtractSettings(**{k: v for k, v in extract.items() if k in names})
    language = LanguageID()
    texts = []
    for path in sorted(glob.glob(pattern)):
        with open(path, "rb") as stream:
            for outcome in iter_warc(stream, path, limits):
                doc = outcome.document
                if doc is None or not doc.html:
                    continue
                html = doc.html[: extract["max_html_chars"]]
                text = clean_text(
                    extract_main_text(html, settings),
                    extract["max_consecutive_newlines"],
                    extract["remove_urls"],
                )[: extract["max_text_chars"]]
                if not text:
                    continue
                code, score = language.identify(text)
                if code == "en" and score >= language.min_score:
                    texts.append({"id": doc.id, "url": doc.url, "text": text})
    return texts


def run_peer(peer_python: str, compared: tuple[Pair, ...], texts: list[dict]) -> dict[str, dict]:
    """datatrove's verdicts, whole filter and per rule, and spaCy's words, by document id."""
    spec = {
        pair.name: {
            "class": pair.peer_class,
            "arguments": pair.peer_arguments,
            "rules": {rule.name: {**pair.peer_off, **rule.theirs} for rule in pair.rules},
        }
        for pair in compared
    }
    with tempfile.TemporaryDirectory(prefix="parity-") as work:
        paths = [os.path.join(work, name) for name in ("spec.json", "texts.jsonl", "out.jsonl")]
        with open(paths[0], "w", encoding="utf-8") as handle:
            json.dump(spec, handle)
        with open(paths[1], "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps({"id": t["id"], "text": t["text"]}) + "\n" for t in texts)
        result = subprocess.run([peer_python, PEER_SCRIPT, *paths], capture_output=True, text=True)
        if result.returncode:
            sys.exit(f"the peer failed:\n{result.stderr[-3000:]}")
        with open(paths[2], encoding="utf-8") as handle:
            return {record["id"]: record for record in map(json.loads, handle)}


@dataclass
class Tally:
    """Agreement counts of one filter or rule."""

    both_keep: int = 0
    both_drop: int = 0
    only_ours: list[str] = dataclasses.field(default_factory=list)
    only_theirs: list[str] = dataclasses.field(default_factory=list)

    def add(self, doc_id: str, ours_keep: bool, theirs_keep: bool) -> None:
        if ours_keep and theirs_keep:
            self.both_keep += 1
        elif not ours_keep and not theirs_keep:
            self.both_drop += 1
        elif ours_keep:
            self.only_theirs.append(doc_id)
        else:
            self.only_ours.append(doc_id)

    @property
    def total(self) -> int:
        return self.both_keep + self.both_drop + len(self.only_ours) + len(self.only_theirs)

    @property
    def agreement(self) -> float:
        return (self.both_keep + self.both_drop) / self.total if self.total else 1.0

    def row(self, label: str) -> str:
        return (
            f"  {label:<28} {self.total:>5} {self.agreement:>8.1%} {self.both_keep:>6}"
            f" {self.both_drop:>6} {len(self.only_ours):>10} {len(self.only_theirs):>10}"
        )


HEADER = (
    f"  {'rule':<28} {'docs':>5} {'agree':>8} {'keep':>6} {'drop':>6}"
    f" {'only ours':>10} {'only dt':>10}"
)


_BUILT: dict[str, object] = {}


def built(pair: Pair, config: Config, reading: str | Reading, arguments: dict | None = None):
    """Our filter of `pair` for a reading and arguments, built once."""
    key = repr((pair.name, config.digest(), reading, arguments))
    if key not in _BUILT:
        _BUILT[key] = pair.build(config, reading, arguments)
    return _BUILT[key]


def judge(pair: Pair, config: Config, reading: str | Reading, doc: Document):
    """Our filter on one document: (kept, {rule: kept}, the text it hands on if kept)."""
    flt = built(pair, config, reading)
    if hasattr(flt, "failures"):  # every rule's verdict from one scoring
        scores = flt.score(doc)
        failures = set(flt.failures(scores))
        rules = {rule.name: not failures.intersection(rule.ours) for rule in pair.rules}
        return not failures, rules, doc.text
    out, verdict = flt.apply(doc)
    rules = {
        rule.name: built(pair, config, reading, {**pair.ours_off, **rule.ours_only})
        .apply(doc)[1]
        .keep
        for rule in pair.rules
    }
    return verdict.keep, rules, out.text


def cause_of(
    pair: Pair,
    config: Config,
    rule: Rule,
    doc: Document,
    theirs_keep: bool,
    words_differ: bool,
) -> str:
    """The first point of the reading that, read FineWeb's way, makes the rule agree."""
    for aspect in pair.aspects:
        _, rules, _ = judge(pair, config, dataclasses.replace(PAPER, **{aspect: True}), doc)
        if rules[rule.name] == theirs_keep:
            return aspect
    if judge(pair, config, "fineweb", doc)[1][rule.name] == theirs_keep:
        return "several points together"
    return "words split differently" if words_differ else "unexplained"


def word_differences(texts: list[dict], peer: dict[str, dict]) -> tuple[int, int, int, Counter]:
    """(documents whose words equal spaCy's, words differing, spaCy's words, top differences)."""
    same = differing = total = 0
    examples: Counter = Counter()
    for text in texts:
        ours, theirs = split_english_words(text["text"]), peer[text["id"]]["words"]
        total += len(theirs)
        if ours == theirs:
            same += 1
            continue
        matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op != "equal":
                differing += max(i2 - i1, j2 - j1)
                examples[(" ".join(ours[i1:i2]), " ".join(theirs[j1:j2]))] += 1
    return same, differing, total, examples


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def score_cost(flt, docs: list[Document], repeats: int = 3) -> float:
    """CPU milliseconds `flt` takes to judge one document, best of `repeats` passes."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for doc in docs:
            flt.apply(doc)
        best = min(best, time.process_time() - start)
    return best * 1000 / max(len(docs), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--peer-python", required=True, help="interpreter of a datatrove 0.10.1 + spaCy venv"
    )
    parser.add_argument("--recipe", choices=tuple(RECIPES), default="refinedweb")
    parser.add_argument("--input", default=DEFAULT_INPUT, help="WARC files (glob)")
    parser.add_argument("--show", type=int, default=3, help="document ids listed per group")
    args = parser.parse_args()

    config = Config.load(recipe=args.recipe)
    reading = config.section("repetition")["reading"]
    extract = config.section("extract")
    texts = english_texts(args.input, extract, ReadLimits(**config.section("read")))
    if not texts:
        sys.exit(f"no English page in {args.input}")
    compared = tuple(p for p in pairs(config) if args.recipe in p.recipes)
    peer = run_peer(args.peer_python, compared, texts)
    docs = [Document(id=t["id"], url=t["url"], text=t["text"], language="en") for t in texts]
    same_words = {t["id"]: split_english_words(t["text"]) == peer[t["id"]]["words"] for t in texts}

    print(
        f"recipe {args.recipe}: macrodata's reading '{reading}' vs datatrove 0.10.1 at FineWeb's"
        f" settings, {len(docs)} English documents of {args.input}"
    )
    below = []
    for pair in compared:
        whole = Tally()
        per_rule = {rule.name: Tally() for rule in pair.rules}
        causes: dict[str, Counter] = defaultdict(Counter)
        examples: dict[tuple[str, str], list[str]] = defaultdict(list)
        texts_differ = []
        # The recipe's reading of this filter (filters without readings ignore it).
        pair_reading = config.section_or_empty(pair.name).get("reading", reading)
        for doc in docs:
            theirs = peer[doc.id]["filters"][pair.name]
            keep, ours_rules, out_text = judge(pair, config, pair_reading, doc)
            whole.add(doc.id, keep, theirs["keep"])
            if keep and theirs["keep"] and _sha1(out_text) != theirs["text_sha1"]:
                texts_differ.append(doc.id)
            for rule in pair.rules:
                theirs_keep = theirs["rules"][rule.name]
                per_rule[rule.name].add(doc.id, ours_rules[rule.name], theirs_keep)
                if ours_rules[rule.name] != theirs_keep:
                    if pair_reading == "paper":
                        cause = cause_of(
                            pair, config, rule, doc, theirs_keep, not same_words[doc.id]
                        )
                    else:
                        cause = "words split differently" if not same_words[doc.id] else "-"
                    side = "only ours drops" if theirs_keep else "only datatrove drops"
                    causes[rule.name][(side, cause)] += 1
                    examples[(rule.name, side, cause)].append(doc.id)
        print(f"\n{pair.name} (datatrove {pair.peer_class})")
        print(HEADER)
        print(whole.row("whole filter"))
        for rule in pair.rules:
            print(per_rule[rule.name].row(rule.name))
        if texts_differ:
            shown = " ".join(texts_differ[: args.show])
            print(f"  kept by both with a different text: {len(texts_differ)}  {shown}")
        if causes:
            print("  disagreements by cause:")
            for rule in pair.rules:
                for (side, cause), count in sorted(causes[rule.name].items()):
                    ids = examples[(rule.name, side, cause)][: args.show]
                    print(f"    {rule.name:<26} {side:<21} {cause:<26} {count:>4}  {' '.join(ids)}")
        if args.recipe == "fineweb":
            verdict = "meets" if whole.agreement >= TARGET else "BELOW"
            print(f"  whole filter {whole.agreement:.1%}: {verdict} the {TARGET:.0%} target")
            if whole.agreement < TARGET:
                below.append(pair.name)

    print("\nCPU ms a document to judge (best of 3, this invocation):")
    for pair in compared:
        if pair.aspects:
            costs = {name: score_cost(built(pair, config, name), docs) for name in READINGS}
            figures = ", ".join(f"{name} {cost:.3f}" for name, cost in costs.items())
        else:
            figures = f"{score_cost(built(pair, config, reading), docs):.3f}"
        print(f"  {pair.name:<16} {figures}")

    same, differing, total, top = word_differences(texts, peer)
    print(
        f"\nEnglish words (core/text.py split_english_words vs spaCy's blank English tokenizer):"
        f" {same}/{len(texts)} documents identical, {differing} of {total} words differ"
        f" ({differing / max(total, 1):.4%})"
    )
    for (ours, theirs), count in top.most_common(args.show * 3):
        print(f"  {count:>4}  ours {ours!r}  spaCy {theirs!r}")
    if below:
        sys.exit(f"below {TARGET:.0%} agreement: {', '.join(below)}")


if __name__ == "__main__":
    main()
