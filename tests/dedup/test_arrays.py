import numpy as np

from dedup.arrays import split_by


def test_split_by_groups_rows_in_their_order():
    groups = np.array([3, 1, 3, 2, 1])
    assert [(g, rows.tolist()) for g, rows in split_by(groups)] == [
        (1, [1, 4]),
        (2, [3]),
        (3, [0, 2]),
    ]


def test_split_by_of_nothing_is_nothing():
    # Earlier runs' band entries that none of this run's pass the filter: no rows at all.
    assert list(split_by(np.zeros(0, dtype=np.int64))) == []
