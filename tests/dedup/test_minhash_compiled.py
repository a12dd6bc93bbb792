"""The compiled MinHash path gives the numpy reference's values bit for bit, and is in use."""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import pickle
import shutil
import sysconfig
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import minhash
from dedup.minhash import EMPTY, PRESETS, MinHasher, MinHashParams, band_key_bytes
from dedup.normalize import fold
from dedup.shingles import POSITIONS, fold_table, ngram_hashes, word_hashes
from tests.conftest import corpus_texts

compiled = pytest.mark.skipif(minhash._minhash is None, reason="dedup._minhash not built")

# Presets plus shapes that exercise every part of the kernel: fewer hashes than one SIMD
# register, tails of 1-15 and 16-63 hashes after the 64-wide tiles, bands of one row, longer
# bands than one combine (> 16 rows), n-grams of 1 and of 16 words.
SHAPES = [
    PRESETS["refinedweb"],
    PRESETS["fineweb"],
    MinHashParams(bands=1, rows=1),
    MinHashParams(bands=3, rows=5, ngram=1),
    MinHashParams(bands=7, rows=9),
    MinHashParams(bands=2, rows=33, ngram=16),
    MinHashParams(bands=5, rows=256, ngram=3, seed=9),
]


def random_sets(rng: np.random.Generator) -> list[np.ndarray]:
    """Shingle sets from empty to far past the reference's block of shingles."""
    sizes = [0, 1, 2, 7, 8, 63, 64, 65, 600, 3000]
    sets = [np.unique(rng.integers(0, 1 << 64, size=n, dtype=np.uint64)) for n in sizes]
    # Edge values: 0, all ones, and high halves that are 0 (then forced odd).
    sets.append(np.array([0, 1, (1 << 32) - 1, 1 << 32, (1 << 64) - 1], dtype=np.uint64))
    return sets


def compiled_keys(words: np.ndarray, a: np.ndarray, p: MinHashParams) -> list[bytes]:
    """The band keys of one document's word hashes by the compiled band hashes."""
    out = np.empty(p.bands, dtype=np.uint64)
    minhash._minhash.band_hashes(words, a, POSITIONS, p.ngram, p.bands, p.rows, out)
    return band_key_bytes(out) if len(words) else []


def reference_keys(hasher: MinHasher, words: np.ndarray) -> list[bytes]:
    """band_keys of one document's word hashes by the numpy path."""
    shingles = ngram_hashes(words, hasher.params.ngram)
    if not len(shingles):
        return []
    return band_key_bytes(hasher.band_hashes(hasher.signatures([shingles]))[0])


@compiled
@pytest.mark.parametrize("params", SHAPES, ids=str)
def test_signatures_equal_the_reference(params):
    rng = np.random.default_rng(params.num_perm)
    sets = random_sets(rng)
    fast = MinHasher(params).signatures(sets)
    assert np.array_equal(fast, MinHasher(params, compiled=False).signatures(sets))
    assert (fast[0] == EMPTY).all()


@compiled
@pytest.mark.parametrize("params", SHAPES, ids=str)
def test_band_keys_of_word_hashes_equal_the_reference(params):
    rng = np.random.default_rng(params.num_perm + 1)
    reference = MinHasher(params, compiled=False)
    a, p = reference.a, params
    for n in (0, 1, p.ngram - 1, p.ngram, p.ngram + 1, 50, 2000):
        words = rng.integers(0, 1 << 64, size=n, dtype=np.uint64)
        # Repeated words make repeated n-grams, which the reference drops before hashing.
        words[n // 2 : n // 2 + min(n // 4, 20)] = words[: min(n // 4, 20)]
        fast = compiled_keys(words, a, p)
        assert fast == reference_keys(reference, words), n


@compiled
def test_long_page_equals_the_reference():
    # 20,000 shingles: thousands of the reference's blocks of 9000 hashes, one kernel call.
    rng = np.random.default_rng(4)
    words = rng.integers(0, 1 << 64, size=20_004, dtype=np.uint64)
    hasher = MinHasher(PRESETS["refinedweb"], compiled=False)
    p = hasher.params
    fast = compiled_keys(words, hasher.a, p)
    assert fast == reference_keys(hasher, words)


@pytest.fixture(scope="module")
def real_pages(corpus_dir) -> list[str]:
    """Extracted text of about 200 pages of the real-page corpus, and of the sample WARC."""
    from pipeline.extract import ExtractSettings, extract_main_text
    from pipeline.warc import iter_warc

    settings = ExtractSettings(extractor="resiliparse")
    texts = [text for _, text in corpus_texts(50)]
    for path in sorted(glob.glob(os.path.join(corpus_dir, "*.warc.gz"))):
        with open(path, "rb") as handle:
            for outcome in iter_warc(handle, path):
                if outcome.document is not None and outcome.document.html:
                    texts.append(extract_main_text(outcome.document.html, settings))
                if len(texts) >= 250:
                    return texts
    return texts


@compiled
def test_long_page_memory_is_linear_and_small():
    # No (shingles x hashes) block: the word hashes (8 bytes), n-gram inputs (4) and the
    # signature (36 KB). A block of 200,000 shingles x 9000 hashes would be 7 GB.
    rng = np.random.default_rng(2)
    vocabulary = [f"word{i}" for i in range(5000)]
    text = " ".join(rng.choice(vocabulary, size=200_000))
    hasher = MinHasher(PRESETS["refinedweb"])
    tracemalloc.start()
    keys = hasher.band_keys([text])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(keys[0]) == 450
    assert peak < 200_000 * 40


@compiled
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_band_keys_of_real_pages_equal_the_reference(preset, real_pages):
    texts = list(real_pages)
    texts += ["", "   \n\t ", "one", "Ünïcödé wörds, ÇA VA?", "。".join("日本語の文章です") * 3]
    fast = MinHasher(PRESETS[preset])
    reference = MinHasher(PRESETS[preset], compiled=False)
    for start in range(0, len(texts), 32):  # batches, as the pipeline sends them
        batch = texts[start : start + 32]
        assert fast.band_keys(batch) == reference.band_keys(batch)


@compiled
def test_band_keys_follow_the_reference_in_its_errors():
    p = MinHashParams(bands=2, rows=257)  # a band over 16 x 16 rows: combine refuses it
    with pytest.raises(ValueError):
        MinHasher(p, compiled=False).band_keys(["a b c d e f"])
    with pytest.raises(ValueError):
        MinHasher(p).band_keys(["a b c d e f"])


@compiled
def test_arrays_of_the_wrong_type_are_refused():
    hasher = MinHasher(PRESETS["fineweb"])
    out = np.full(hasher.params.num_perm, EMPTY, dtype=np.uint32)
    x = np.ones(3, dtype=np.uint32)
    with pytest.raises(ValueError):
        minhash._minhash.signature(x.astype(np.int64), hasher.a, out)
    with pytest.raises(ValueError):
        minhash._minhash.signature(x, hasher.a, out[:-1])
    read_only = out.copy()
    read_only.setflags(write=False)
    with pytest.raises((ValueError, BufferError)):
        minhash._minhash.signature(x, hasher.a, read_only)
    words = word_hashes("one two three four five six")
    with pytest.raises(ValueError):
        compiled_keys(words.astype(np.uint32), hasher.a, hasher.params)
    with pytest.raises(ValueError):  # an out array of the wrong length
        minhash._minhash.band_hashes(words, hasher.a, POSITIONS, 5, 14, 8, np.empty(13, np.uint64))


@compiled
def test_blake2b_equals_hashlib():
    # Lengths around the 128-byte block: empty, one block, one byte more, several blocks.
    rng = np.random.default_rng(0)
    for n in [*range(300), 1000, 4096]:
        data = rng.bytes(n)
        expected = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")
        assert minhash._minhash.blake2b_64(data) == expected, n


# Where fold of a token could differ from fold of its characters one by one: combining marks
# (reordered by NFD; the few that fold keeps), the capital sigma, decompositions into several
# characters (Hangul, U+FA6C beyond the BMP), multi-character lowercase, scripts without spaces.
RISKY = list("aAΣσςΑΊsİıiIßẞǅǄÅΩ가힣日本タไทยÄäéÉçœﬁ½Ⅻ.,!-—«»'$^`\u00a0\u2028\x1c ")
RISKY += [chr(c) for c in (*range(0x300, 0x370), 0x345, 0x5B0, 0xE31, 0xE48, 0xF71, 0xF80)]
RISKY += [chr(c) for c in (0x1715, 0x302E, 0xFA6C, 0x1E9B, 0x1F88, 0x390)]
# Tokens of ASCII, of those characters, and of any character.
TOKEN_TEXT = st.one_of(
    st.text(st.characters(max_codepoint=127), max_size=12),
    st.text(st.sampled_from(RISKY), max_size=12),
    st.text(max_size=12),
)
SPACES = st.sampled_from([" ", "\n", "\t", "\u3000", "\x1c", "\x85", "\u00a0", "\u2028"])


@compiled
@settings(max_examples=400, deadline=None)
@given(st.lists(TOKEN_TEXT, max_size=12), SPACES)
def test_word_hashes_equal_the_reference(pieces, space):
    text = space.join(pieces)
    hasher = MinHasher(PRESETS["fineweb"])  # a cold cache for each text
    expected = word_hashes(text).tolist()
    assert hasher.word_hashes(text).tolist() == expected
    assert hasher.word_hashes(text).tolist() == expected  # again, from the cache


@compiled
def test_word_hashes_of_edge_tokens_equal_the_reference():
    texts = [
        "",
        " \t\n ",
        "!!! ... — «»",  # tokens without words
        "x" * 1000 + " " + "A" * 129 + "," + "b" * 200,  # words over one blake2b block
        "é" * 300,
        "Σ ΣΣ aΣ Σa ΑΣ.",  # final sigma: lowercase depends on the neighbours
        "cafe\u0301 İstanbul ǅ ß ﬁ Å Ω",  # decompositions, multi-character lowercase
        "\x00\x01 \x7f \x1b[0m",  # control characters are kept
        "東京タワー ไทย 한국어",  # scripts without spaces
        "a\x1cb\x1dc\x1ed\x1fe a\u2028b\u00a0c\u3000d\x85e",  # whitespace beyond ASCII
        "emoji 🙂🙂 𝔘𝔫𝔦",  # beyond the BMP
    ]
    hasher = MinHasher(PRESETS["fineweb"])
    for text in texts + texts:  # cold, then warm
        assert hasher.word_hashes(text).tolist() == word_hashes(text).tolist(), text


@compiled
def test_token_cache_grows_clears_and_gives_the_same_hashes():
    hasher = MinHasher(PRESETS["fineweb"])
    # 30,000 distinct tokens: the table doubles many times; every third is not ASCII.
    text = " ".join(f"w{i}é" if i % 3 == 0 else f"W{i}," for i in range(30_000))
    expected = word_hashes(text).tolist()
    assert hasher.word_hashes(text).tolist() == expected
    assert len(hasher._words) == 30_000
    hasher._words.clear()
    assert len(hasher._words) == 0
    assert hasher.word_hashes(text).tolist() == expected


@compiled
def test_lone_surrogates_fail_as_in_the_reference():
    text = "ok \ud800x ok"
    with pytest.raises(UnicodeEncodeError):
        word_hashes(text)
    with pytest.raises(UnicodeEncodeError):
        MinHasher(PRESETS["fineweb"]).word_hashes(text)


def test_fold_table_is_fold_of_each_character():
    folded, unspaced = fold_table()
    for code in range(0x10000):
        entry = int(folded[code])
        if entry >> 63:
            continue
        chars = []
        while entry:
            chars.append(chr((entry & 0x1FFFFF) - 1))
            entry >>= 21
        assert "".join(chars) == fold(chr(code)), hex(code)
    assert bool(unspaced[0x4E00 // 8] & 1) and not unspaced[ord("a") // 8] & (1 << ord("a") % 8)
    # What the table leaves to Python: whitespace, surrogates, the capital sigma, the few
    # combining marks fold keeps, and characters that fold to more than 3.
    assert folded[ord("\u03a3")] >> 63 and folded[0xD800] >> 63 and folded[ord(" ")] >> 63
    assert (folded >> np.uint64(63)).sum() < 3000


@compiled
def test_a_pickled_hasher_gives_the_same_keys():
    # Beam may pickle a DoFn holding a hasher; the token cache is rebuilt empty.
    hasher = MinHasher(PRESETS["fineweb"])
    text = "Grüße aus Köln, dem schönen Rheinland, sagt der Text hier"
    keys = hasher.band_keys([text])
    copy = pickle.loads(pickle.dumps(hasher))
    assert copy.compiled and len(copy._words) == 0
    assert copy.band_keys([text]) == keys


def c_compiler() -> str | None:
    """The C compiler setuptools builds extensions with, if it is installed."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc)


def test_compiled_path_is_built_and_taken_when_a_compiler_is_there():
    # The extension is optional, so a failed build only warns during pip install: here it fails.
    if c_compiler() is None:
        pytest.skip("no C compiler: the install falls back to the numpy path")
    assert minhash._minhash is not None, "dedup._minhash did not build: see `pip install -v`"
    hasher = MinHasher()
    assert hasher.compiled and hasher.backend == minhash.BACKEND
    assert minhash.BACKEND.startswith("compiled (")


@compiled
def test_simd_clone_matches_the_cpu():
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = next((line for line in handle if line.startswith("flags")), "")
    except OSError:
        pass
    target = minhash._minhash.simd()
    if " avx512f" in flags:
        assert target == "avx512f"
    elif " avx2" in flags:
        assert target == "avx2"
    else:
        assert target in ("default", "portable")


def test_the_path_is_logged_once(caplog, monkeypatch):
    monkeypatch.setattr(minhash, "_announced", set())
    with caplog.at_level(logging.INFO, logger="dedup.minhash"):
        MinHasher(PRESETS["fineweb"], compiled=False)
        MinHasher(PRESETS["fineweb"], compiled=False)
    messages = [r.getMessage() for r in caplog.records if r.name == "dedup.minhash"]
    assert len(messages) == 1 and "numpy" in messages[0]
