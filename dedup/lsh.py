"""LSH banding arithmetic: candidate probability and (bands, rows) for a threshold."""

from __future__ import annotations

from datasketch.lsh import _optimal_param


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Chance two documents at Jaccard `similarity` share at least one band: 1-(1-s^r)^b."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def threshold_point(bands: int, rows: int) -> float:
    """The similarity where the candidate probability is about one half: (1/b)^(1/r)."""
    return (1.0 / bands) ** (1.0 / rows)


def params_for_threshold(
    threshold: float, num_perm: int, false_positive_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) using at most `num_perm` hashes that best separate at `threshold`.

    datasketch minimises the weighted false-positive and false-negative areas under the
    candidate curve (numerically: some seconds at 9000 hashes).
    """
    return _optimal_param(threshold, num_perm, false_positive_weight, 1.0 - false_positive_weight)
