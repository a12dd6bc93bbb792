"""report.html from stats.json: one self-contained page (no external references)."""

from __future__ import annotations

import html

from pipeline.stats import percent


def render_report(stats: dict) -> str:
    """The human-readable report of one run."""
    stages = stats["stages"]
    first = stages[0]["in"] if stages else 0
    rows = []
    for row in stages:
        drops = ", ".join(f"{html.escape(k)}: {v:,}" for k, v in row["dropped"].items() if v)
        rows.append(
            f"<tr><td>{html.escape(row['name'])}</td><td>{row['in']:,}</td><td>{row['out']:,}</td>"
            f"<td>{percent(row['out'], first):.2f}%</td><td>{drops}</td></tr>"
        )
    final = stats["final"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>macrodata report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child{{text-align:left}}</style>
</head><body>
<h1>macrodata run report</h1>
<p>Final: {final["documents"]:,} documents, {final["tokens"]:,} tokens.</p>
<table><tr><th>stage</th><th>in</th><th>out</th><th>kept of read</th><th>dropped</th></tr>
{"".join(rows)}
</table></body></html>
"""


def rebuild_report(dirs: list[str], output: str | None = None) -> str:
    """Write report.html for one run directory; return its path."""
    import json
    import os

    with open(os.path.join(dirs[0], "stats.json"), encoding="utf-8") as handle:
        stats = json.load(handle)
    path = output or os.path.join(dirs[0], "report.html")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_report(stats))
    return path
