import numpy as np
import pytest
from datasketch import MinHash

from dedup.minhash import (
    EMPTY,
    PRESETS,
    MinHasher,
    MinHashParams,
    band_key_bytes,
    estimate_jaccard,
)


def pair_with_jaccard(rng, similarity: float, union: int = 300):
    """Two random 64-bit shingle sets whose Jaccard is exactly round(s * union) / union."""
    values = np.unique(rng.integers(0, 1 << 63, size=union * 2, dtype=np.uint64))[:union]
    rng.shuffle(values)
    common = round(similarity * union)
    rest = values[common:]
    half = len(rest) // 2
    a = np.concatenate([values[:common], rest[:half]])
    b = np.concatenate([values[:common], rest[half:]])
    return a, b, common / union


def datasketch_estimate(a, b, num_perm: int) -> float:
    sketches = []
    for values in (a, b):
        sketch = MinHash(num_perm=num_perm, seed=7)
        sketch.update_batch([int(v).to_bytes(8, "little") for v in values])
        sketches.append(sketch)
    return sketches[0].jaccard(sketches[1])


@pytest.mark.parametrize("num_perm", [256, 9000])
def test_estimates_match_datasketch(num_perm):
    rng = np.random.default_rng(3)
    hasher = MinHasher(
        MinHashParams(
            bands=num_perm // 8 if num_perm == 256 else 450, rows=8 if num_perm == 256 else 20
        )
    )
    ours_errors, theirs_errors = [], []
    for similarity in (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95):
        a, b, exact = pair_with_jaccard(rng, similarity)
        signatures = hasher.signatures([a, b])
        ours = estimate_jaccard(signatures[0], signatures[1])
        theirs = datasketch_estimate(a, b, num_perm)
        sigma = np.sqrt(max(exact * (1 - exact), 0.01) / num_perm)
        assert abs(ours - exact) < 4 * sigma
        assert abs(ours - theirs) < 6 * sigma
        ours_errors.append(abs(ours - exact))
        theirs_errors.append(abs(theirs - exact))
    # Same accuracy class as the reference implementation.
    assert np.mean(ours_errors) < 2 * np.mean(theirs_errors) + 1 / num_perm


def test_batch_equals_one_at_a_time_and_chunking_is_invisible():
    rng = np.random.default_rng(1)
    sets = [
        np.unique(rng.integers(0, 1 << 63, size=n, dtype=np.uint64)) for n in (1, 7, 500, 0, 40)
    ]
    hasher = MinHasher(PRESETS["fineweb"])
    batch = hasher.signatures(sets)
    for i, values in enumerate(sets):
        assert np.array_equal(batch[i], hasher.signatures([values])[0])
        if len(values):
            manual = (hasher.hash_input(values)[:, None] * hasher.a[None, :]).min(axis=0)
            assert np.array_equal(batch[i], manual)
    small = MinHasher(PRESETS["fineweb"])
    small.chunk = 3
    assert np.array_equal(small.signatures(sets), batch)
    assert (batch[3] == EMPTY).all()  # empty set


def test_long_document_memory_is_bounded_by_chunks():
    hasher = MinHasher(PRESETS["refinedweb"])
    assert hasher.chunk * hasher.params.num_perm * 8 <= 1 << 20
    values = np.arange(1, 20_001, dtype=np.uint64)
    assert hasher.signatures([values]).shape == (1, 9000)


def test_no_shingle_is_the_minimum_of_every_hash():
    # A shingle hashing to 0 would be every hash function's minimum, so all documents holding
    # it would share every band; odd inputs times odd multipliers are never 0.
    hasher = MinHasher(PRESETS["fineweb"])
    values = np.array([0, 1, 1 << 32, (1 << 64) - 1], dtype=np.uint64)
    signatures = hasher.signatures([values[:1], values[1:2], values[2:]])
    assert (signatures % 2 == 1).all()
    assert not np.array_equal(signatures[0], signatures[2])


def test_band_keys_per_document():
    hasher = MinHasher(MinHashParams(bands=10, rows=4))
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"
    keys = hasher.band_keys([text, text.upper() + "!", "", "something else entirely here now"])
    assert len(keys[0]) == 10 and len(set(keys[0])) == 10
    assert keys[0] == keys[1]  # normalisation makes them the same document
    assert keys[2] == []  # no shingles, no keys: empty texts never collide
    assert not set(keys[0]) & set(keys[3])
    assert [k[:2] for k in keys[0]] == [i.to_bytes(2, "big") for i in range(10)]


def test_band_key_bytes_keep_trailing_zeros():
    keys = band_key_bytes(np.array([0, 256], dtype=np.uint64))
    assert keys == [bytes(10), (1).to_bytes(2, "big") + (256).to_bytes(8, "big")]


def test_long_bands_hash_all_rows():
    hasher = MinHasher(MinHashParams(bands=2, rows=20))
    signatures = np.zeros((2, 40), dtype=np.uint64)
    signatures[1, 19] = 1  # differs only in the last row of band 0
    bands = hasher.band_hashes(signatures)
    assert bands[0, 0] != bands[1, 0] and bands[0, 1] == bands[1, 1]


def test_presets():
    assert PRESETS["refinedweb"].num_perm == 9000
    assert (PRESETS["fineweb"].bands, PRESETS["fineweb"].rows) == (14, 8)
