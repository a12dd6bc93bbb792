"""Extraction quality of a run against extraction-gold.json: recall and boilerplate leak.

    python bench/gold.py OUTPUT_DIR [GOLD_JSON]

recall = share of the gold `with` snippets found in the kept documents' text;
leak   = share of the gold `without` (boilerplate) snippets wrongly found there.
"""

from __future__ import annotations

import json
import os
import sys

import pyarrow.parquet as pq

DEFAULT_GOLD = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "corpus", "extraction-gold.json"
)


def _squash(text: str) -> str:
    return " ".join(text.split())


def score(output: str, gold_path: str = DEFAULT_GOLD) -> dict:
    """{pages, kept_pages, recall, leak} for the documents of one run."""
    with open(gold_path, encoding="utf-8") as handle:
        gold = json.load(handle)
    table = pq.read_table(os.path.join(output, "data"), columns=["url", "text"]).to_pylist()
    texts: dict[str, str] = {}
    for row in table:
        texts.setdefault(row["url"], _squash(row["text"]))
    found = expected = leaked = boilerplate = 0
    kept = 0
    for url, snippets in gold.items():
        if url not in texts:
            continue
        kept += 1
        text = texts[url]
        expected += len(snippets.get("with", []))
        found += sum(_squash(s) in text for s in snippets.get("with", []))
        boilerplate += len(snippets.get("without", []))
        leaked += sum(_squash(s) in text for s in snippets.get("without", []))
    return {
        "gold_pages": len(gold),
        "kept_pages": kept,
        "recall": found / expected if expected else 0.0,
        "leak": leaked / boilerplate if boilerplate else 0.0,
    }


if __name__ == "__main__":
    result = score(*sys.argv[1:3])
    print(json.dumps(result, indent=2))
