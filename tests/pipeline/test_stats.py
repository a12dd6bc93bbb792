"""stats.json content does not depend on the order counters were merged in."""

from __future__ import annotations

import json
from collections import Counter

from pipeline.stats import build_stats

PLAN = [("read", ("not_html",)), ("language", ("language_not_selected",))]
COUNTS = [
    {("stage", "read", "in"): 5, ("stage", "read", "out"): 4},
    {("stage", "read", "dropped", "not_html"): 1, ("read", "records"): 5},
    {("stage", "language", "in"): 4, ("stage", "language", "out"): 2},
    {("stage", "language", "dropped", "language_not_selected"): 2},
    {("lang", "identified", "en", "documents"): 2, ("lang", "identified", "de", "documents"): 2},
    {("lang", "kept", "en", "documents"): 2, ("hist", "words_extracted", 8): 3},
    {("hist", "tokens_final", 16): 2, ("hist", "words_extracted", 2): 1},
]


def test_stats_text_is_the_same_whatever_the_merge_order():
    forward = build_stats(Counter(sum(map(Counter, COUNTS), Counter())), PLAN)
    backward = build_stats(Counter(sum(map(Counter, reversed(COUNTS)), Counter())), PLAN)
    assert json.dumps(forward) == json.dumps(backward)
    # Equal document counts: languages tie-break by code.
    assert list(forward["languages"]["identified"]) == ["de", "en"]
    assert list(forward["histograms"]) == ["tokens_final", "words_extracted"]
