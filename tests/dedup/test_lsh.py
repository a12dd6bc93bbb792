import numpy as np
import pytest

from dedup.lsh import candidate_probability, params_for_threshold, threshold_point
from dedup.minhash import MinHasher, MinHashParams
from tests.dedup.test_minhash import pair_with_jaccard


def test_refinedweb_curve():
    # RefinedWeb App. G.3.1 quotes 76% at s = 0.75 and 99.4% at s = 0.8 for 450 x 20.
    assert candidate_probability(0.75, 450, 20) == pytest.approx(0.761, abs=0.001)
    assert candidate_probability(0.8, 450, 20) == pytest.approx(0.995, abs=0.001)
    assert threshold_point(450, 20) == pytest.approx(0.737, abs=0.001)


@pytest.mark.parametrize(
    "bands, rows, similarities",
    [(20, 5, (0.3, 0.5, 0.6, 0.8)), (450, 20, (0.7, 0.75, 0.8))],
)
def test_candidate_rate_matches_formula(bands, rows, similarities):
    hasher = MinHasher(MinHashParams(bands=bands, rows=rows, seed=11))
    rng = np.random.default_rng(5)
    trials = 150 if bands == 450 else 400
    for similarity in similarities:
        pairs = [pair_with_jaccard(rng, similarity, union=200) for _ in range(trials)]
        exact = pairs[0][2]
        sets = [s for a, b, _ in pairs for s in (a, b)]
        bands_of = hasher.band_hashes(hasher.signatures(sets))
        hits = (bands_of[0::2] == bands_of[1::2]).any(axis=1).mean()
        expected = candidate_probability(exact, bands, rows)
        sigma = np.sqrt(expected * (1 - expected) / trials)
        assert abs(hits - expected) <= 4 * sigma + 0.01, (similarity, hits, expected)


def test_params_for_threshold():
    bands, rows = params_for_threshold(0.75, 112)
    assert bands * rows <= 112
    assert 0.6 < threshold_point(bands, rows) < 0.85
    bands, rows = params_for_threshold(0.9, 256)
    assert candidate_probability(0.98, bands, rows) > 0.99
    assert candidate_probability(0.8, bands, rows) < 0.05


@pytest.mark.parametrize("buckets", [7, 1000])
def test_bucket_stars_are_the_star_edges_of_every_band_key(buckets):
    import numpy as np

    from core.document import document_id, handle_id, id_handle
    from dedup.components import star_edges
    from dedup.lsh import band_chunks, bucket_stars

    ids = [document_id(f"2023-06-0{i % 3 + 1}T00:00:00Z", f"record-{i}") for i in range(60)]
    ids.append(ids[7])  # one record read from two copies of a file: never an edge to itself
    # Few distinct values per band: many shared band keys, some across bands.
    hashes = np.random.default_rng(1).integers(0, 6, size=(len(ids), 5), dtype=np.uint64)
    want = sorted(
        edge
        for band in range(5)
        for value in set(hashes[:, band].tolist())
        for edge in star_edges([ids[d] for d in range(len(ids)) if hashes[d, band] == value])
    )
    # Two batches, as two workers would send them.
    by_bucket: dict[int, list] = {}
    for batch in (slice(0, 30), slice(30, None)):
        handles = b"".join(id_handle(i) for i in ids[batch])
        for bucket, chunk in band_chunks(handles, hashes[batch], buckets):
            # A chunk carries the handles of the documents it names, and no others.
            assert len(chunk.handles) == 16 * len(set(chunk.entries["row"].tolist()))
            by_bucket.setdefault(bucket, []).append(chunk)
    got = sorted(
        (handle_id(a), handle_id(b))
        for chunks in by_bucket.values()
        for a, b in bucket_stars(chunks)
    )
    assert got == want and len(want) > 100
