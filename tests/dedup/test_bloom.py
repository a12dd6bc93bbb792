import numpy as np
import pytest

from dedup.bloom import MAX_FP_RATE, MIN_FP_RATE, BloomFilter, fp_rate_for, key_hashes


def random_hashes(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**64, size=n, dtype=np.uint64)


def test_every_added_key_is_found():
    keys = random_hashes(20_000, 1)
    bloom = BloomFilter.sized(len(keys), 0.01)
    bloom.add(keys[:10_000])
    bloom.add(keys[10_000:])
    assert bloom.contains(keys).all()


@pytest.mark.parametrize("rate", [0.01, 1e-3])
def test_false_positives_near_the_rate_asked(rate):
    bloom = BloomFilter.sized(20_000, rate)
    bloom.add(random_hashes(20_000, 2))
    others = random_hashes(200_000, 3)
    measured = bloom.contains(others).mean()
    assert rate / 3 < measured < rate * 2


def test_filters_of_halves_merge_into_the_filter_of_all():
    keys = random_hashes(5000, 4)
    whole, left, right = (BloomFilter.sized(5000, 0.01) for _ in range(3))
    whole.add(keys)
    left.add(keys[:2500])
    right.add(keys[2500:])
    assert np.array_equal(left.merge(right).words, whole.words)
    with pytest.raises(ValueError):
        left.merge(BloomFilter.sized(10, 0.01))


def test_empty_inputs():
    bloom = BloomFilter.sized(0, 0.01)
    bloom.add(np.zeros(0, dtype=np.uint64))
    assert bloom.contains(np.zeros(0, dtype=np.uint64)).shape == (0,)
    assert not bloom.contains(random_hashes(100, 5)).any()


def test_rate_keeps_false_positives_to_one_percent_of_own_keys():
    assert fp_rate_for(1000, 0) == MAX_FP_RATE
    assert fp_rate_for(1000, 1000) == MAX_FP_RATE
    assert fp_rate_for(1000, 100_000) == pytest.approx(1e-4)
    assert fp_rate_for(1, 10**12) == MIN_FP_RATE
    # The filter grows with the log of the earlier keys, not with them.
    small = BloomFilter.sized(1000, fp_rate_for(1000, 10_000)).nbytes
    large = BloomFilter.sized(1000, fp_rate_for(1000, 10_000_000)).nbytes
    assert large < 3 * small


def test_key_hashes_take_the_first_half_of_each_key():
    keys = [bytes(range(16)), bytes(range(16, 32))]
    hashes = key_hashes(keys)
    assert hashes.tolist() == [int.from_bytes(k[:8], "little") for k in keys]
    assert key_hashes(b"".join(keys)).tolist() == hashes.tolist()
