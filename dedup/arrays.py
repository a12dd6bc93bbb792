"""Numpy helpers for records shuffled in batches (many rows per record, not one)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def split_by(groups: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(group, row indices) for each distinct value of `groups`, rows in their order."""
    if not len(groups):
        return
    order = np.argsort(groups, kind="stable")
    values = groups[order]
    heads = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    for head, end in zip(heads, [*heads[1:], len(values)], strict=True):
        yield int(values[head]), order[head:end]
