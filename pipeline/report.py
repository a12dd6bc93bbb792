"""report.html from stats.json: one self-contained page (no external references).

Every count on the page comes from stats.json and carries its path there in a `data-key`
attribute ("stages/3/out"); every share carries `data-num` and `data-den` paths. The sections
read are those of `pipeline.stats.Stats`; a stage's audit is the section named after it
(`minhash`: `pairs`, `exact_substring`: `spans`). A stage absent from `stages` is shown as
"stage not run". Merging runs is `pipeline.stats.merge_stats`; this module only renders.
"""

from __future__ import annotations

import html
import json
import os

import yaml

from pipeline.recipes import DEFAULT_RECIPE, RECIPES, recipe_of
from pipeline.stats import Stats, load_stats, merge_stats, percent

# RefinedWeb Figure 2: share of raw CommonCrawl kept after each stage, in percent (documents up
# to language ID, tokens from repetition removal on), beside our stage that does the same work.
# Source: Penedo et al. 2023, arXiv 2306.01116, Fig. 2 bar values as transcribed in
# docs/refinedweb-spec.md §2.1 (secondary).
REFINEDWEB_KEPT = {
    "url_filter": ("URL filtering", "documents", 97.76),
    "extract": ("text extraction", "documents", 96.31),
    "language": ("language ID", "documents", 47.51),
    "repetition": ("repetition removal", "tokens", 35.97),
    "quality": ("document-wise filtering", "tokens", 30.15),
    "line_corrections": ("line-wise corrections", "tokens", 23.34),
    "minhash": ("fuzzy dedup", "tokens", 14.50),
    # RefinedWeb's "exact dedup" bar is its exact-substring cuts, after MinHash.
    "exact_substring": ("exact dedup (substring cuts)", "tokens", 11.67),
}
# Our stages with no bar of their own in Figure 2, and why.
REFINEDWEB_NONE = {
    "exact_dedup": "no exact-document stage: its MinHash removed these copies (see minhash)",
    "url_dedup": "no bar of its own (the last bar may include it, spec §2.1)",
    "tokenize": "not a filter",
    # Stages of the fineweb recipe: its report shows no RefinedWeb figures.
    "c4_quality": "not a RefinedWeb stage (fineweb recipe)",
    "fineweb_quality": "not a RefinedWeb stage (fineweb recipe)",
    "pii": "not a RefinedWeb stage (fineweb recipe)",
}
# Stages whose own figures (stats.json dedup.STAGE) the report lists under "line rules and
# PII": lines each rule removed, addresses replaced.
TEXT_STAGES = ("c4_quality", "fineweb_quality", "pii")
SAMPLES_PER_REASON = 3
SAMPLE_CHARS = 600
TOP_LANGUAGES = 15
DOMAINS_VISIBLE = 15
COLORS = ("#2b6cb0", "#dd6b20", "#718096")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1100px;padding:1em 2em;color:#1a202c;line-height:1.4}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #e2e8f0;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0 1em}
td,th{border:1px solid #e2e8f0;padding:3px 8px;text-align:right;vertical-align:top}
th{background:#f7fafc}td.l,th.l{text-align:left}
.muted{color:#718096}.summary span.n{font-weight:600}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #e2e8f0;border-radius:6px;
padding:.5em 1em}.card b{display:block;font-size:1.4em}
.grid{display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start}
details{margin:.3em 0}summary{cursor:pointer}
pre{white-space:pre-wrap;word-break:break-word;background:#f7fafc;padding:.5em;
border:1px solid #e2e8f0;font-size:.85em;max-height:12em;overflow:auto}
.sample{border-left:3px solid #e2e8f0;padding-left:.6em;margin:.6em 0}
.url{word-break:break-all;font-family:monospace;font-size:.85em}
svg text{font-size:11px;fill:#2d3748}
.notrun{color:#a0aec0;font-style:italic}
table.drops{width:500px}.none{font-size:.8em}th{white-space:nowrap}
table.domains td:nth-child(3){font-size:.85em}
"""
# The page may load nothing: a stray reference fails loudly in the browser console.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _path(*parts) -> str:
    """A stats.json path as a JSON pointer without the leading slash (RFC 6901 escapes)."""
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _n(value, key: str) -> str:
    """A count shown on the page, tagged with its stats.json path."""
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    return f'<span class="n" data-key="{_e(key)}" data-value="{_e(value)}">{text}</span>'


def _pct(num: float, num_key: str, den: float, den_key: str) -> str:
    """A share shown on the page, tagged with the paths of its numerator and denominator."""
    return (
        f'<span class="p" data-num="{_e(num_key)}" data-den="{_e(den_key)}">'
        f"{percent(num, den):.2f}%</span>"
    )


def _notrun(what: str) -> str:
    return f'<p class="notrun">{_e(what)}: stage not run.</p>'


# ---- plots (inline SVG) ----


def _hbars(title: str, labels: list[str], series: list[tuple[str, list]], unit: str = "%") -> str:
    """Horizontal grouped bars; values None are left out; the axis runs to the largest value."""
    top = max([v for _, values in series for v in values if v is not None] + [1e-9])
    if unit == "%":
        top = max(top, 100.0)
    label_w, bar_w, bar_h = 170, 460, 11
    group_h = bar_h * len(series) + 8
    height = 30 + group_h * len(labels) + 18 * ((len(series) + 2) // 3)
    width = max(label_w + bar_w + 70, 10 + 230 * min(len(series), 3))
    parts = [
        f'<svg class="plot" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{_e(title)}</title>'
    ]
    for tick in range(5):
        x = label_w + bar_w * tick / 4
        parts.append(
            f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{20 + group_h * len(labels)}" '
            'stroke="#e2e8f0"/>'
            f'<text x="{x:.1f}" y="14" text-anchor="middle">{top * tick / 4:,.0f}{unit}</text>'
        )
    for row, label in enumerate(labels):
        y0 = 22 + row * group_h
        parts.append(
            f'<text x="{label_w - 6}" y="{y0 + group_h / 2:.1f}" text-anchor="end" '
            f'dominant-baseline="middle">{_e(label)}</text>'
        )
        for index, (name, values) in enumerate(series):
            value = values[row]
            if value is None:
                continue
            y = y0 + index * bar_h
            w = bar_w * value / top
            shown = f"{value:.2f}{unit}" if unit == "%" else f"{value:,}"
            parts.append(
                f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{COLORS[index % len(COLORS)]}"><title>{_e(label)} · {_e(name)}: '
                f"{shown}</title></rect>"
                f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h / 2:.1f}" '
                f'dominant-baseline="middle" font-size="9">{shown}</text>'
            )
    legend_y = 30 + group_h * len(labels)
    for index, (name, _) in enumerate(series):
        x = 10 + (index % 3) * 230
        y = legend_y + (index // 3) * 18
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLORS[index % len(COLORS)]}"/>'
            f'<text x="{x + 14}" y="{y + 9}">{_e(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _columns(title: str, buckets: dict[str, int], what: str) -> str:
    """Column chart of a power-of-two histogram: bucket b holds values in [b, 2b)."""
    items = sorted(((int(k), v) for k, v in buckets.items()), key=lambda kv: kv[0])
    if not items:
        return ""
    top = max(v for _, v in items) or 1
    col_w, plot_h, left = 34, 160, 44
    width = left + col_w * len(items) + 10
    height = plot_h + 60
    parts = [
        f'<svg class="plot" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{_e(title)}</title>',
        '<text x="4" y="12">documents</text>',
        f'<text x="{left}" y="{height - 4}">{_e(what)} (bucket lower bound)</text>',
    ]
    for tick in range(3):
        value = top * tick / 2
        y = 20 + plot_h - plot_h * tick / 2
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 6}" y2="{y:.1f}" stroke="#e2e8f0"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>'
        )
    for index, (bucket, count) in enumerate(items):
        h = plot_h * count / top
        x = left + index * col_w
        upper = 1 if bucket == 0 else 2 * bucket
        parts.append(
            f'<rect class="bar" x="{x + 2}" y="{20 + plot_h - h:.1f}" width="{col_w - 4}" '
            f'height="{h:.1f}" fill="{COLORS[0]}"><title>{bucket:,}–{upper - 1:,} {_e(what)}: '
            f"{count:,} documents</title></rect>"
            f'<text x="{x + col_w / 2}" y="{20 + plot_h + 14}" text-anchor="middle" '
            f'font-size="9">{_short(bucket)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(value: int) -> str:
    if value >= 1_000_000:
        return f"{value // 1_000_000}M"
    if value >= 1000:
        return f"{value // 1000}k"
    return str(value)


# ---- sections ----


def _bases(stats: dict) -> tuple[int, str, int, str]:
    """(documents read, its path, words extracted, its path): the funnel's 100%."""
    stages = stats["stages"]
    if stages[0]["name"] == "read":
        docs, docs_key = stages[0]["out"], "stages/0/out"
    else:
        docs, docs_key = stages[0]["in"], "stages/0/in"
    for index, row in enumerate(stages):
        if row.get("words_out"):
            return docs, docs_key, row["words_out"], f"stages/{index}/words_out"
    return docs, docs_key, 0, ""


def _summary(stats: dict) -> str:
    final = stats["final"]
    docs, docs_key, _, _ = _bases(stats)
    cards = [
        ("WARC records read", _n(stats["stages"][0]["in"], "stages/0/in")),
        ("HTML documents", _n(docs, docs_key)),
        ("documents kept", _n(final["documents"], "final/documents")),
        ("share kept", _pct(final["documents"], "final/documents", docs, docs_key)),
        ("words kept", _n(final.get("words", 0), "final/words")),
        ("tokens kept", _n(final["tokens"], "final/tokens")),
    ]
    return (
        '<div class="cards summary">'
        + "".join(f'<div class="card">{label}<b>{value}</b></div>' for label, value in cards)
        + "</div>"
    )


def report_recipe(stats: dict) -> str:
    """The recipe of the run (of all merged runs; "mixed" if they differ)."""
    if stats.get("runs"):
        found = {recipe_of(entry.get("run")) for entry in stats["runs"]}
        return found.pop() if len(found) == 1 else "mixed"
    return recipe_of(stats.get("run"))


def _recipe(stats: dict) -> str:
    name = report_recipe(stats)
    recipe = RECIPES.get(name)
    title = f" ({_e(recipe.title)})" if recipe else ""
    stages = ", ".join(row["name"] for row in stats["stages"])
    return (
        f"<p class='recipe'>Recipe <b>{_e(name)}</b>{title}: "
        f"<span class='muted'>{_e(stages)}</span></p>"
    )


def _funnel(stats: dict) -> str:
    if report_recipe(stats) != DEFAULT_RECIPE:
        return _plain_funnel(stats)
    stages = stats["stages"]
    docs, docs_key, words, words_key = _bases(stats)
    shown = [(i, row) for i, row in enumerate(stages) if row["name"] != "read"]
    labels, ours_docs, ours_words, theirs = [], [], [], []
    rows = []
    for index, row in shown:
        name = row["name"]
        published = REFINEDWEB_KEPT.get(name)
        labels.append(name)
        ours_docs.append(percent(row["out"], docs))
        has_words = bool(words_key) and "words_out" in row and (row["words_out"] or row["out"] == 0)
        ours_words.append(percent(row["words_out"], words) if has_words else None)
        theirs.append(published[2] if published else None)
        base = f"stages/{index}"
        rows.append(
            f'<tr><td class="l">{_e(name)}</td><td>{_n(row["in"], base + "/in")}</td>'
            f"<td>{_n(row['out'], base + '/out')}</td>"
            f"<td>{_pct(row['out'], base + '/out', docs, docs_key)}</td>"
            f"<td>{_n(row['words_out'], base + '/words_out') if has_words else '–'}</td>"
            f"<td>{_pct(row['words_out'], base + '/words_out', words, words_key) if has_words else '–'}</td>"  # noqa: E501
            f"<td>{_n(row['tokens_out'], base + '/tokens_out') if 'tokens_out' in row else '–'}</td>"  # noqa: E501
            + (
                f'<td class="l">{published[0]}: {published[2]:.2f}% ({published[1]})</td>'
                if published
                else f'<td class="l muted">{_e(REFINEDWEB_NONE.get(name, "–"))}</td>'
            )
            + "</tr>"
        )
    plot = _hbars(
        "Funnel: share kept after each stage",
        labels,
        [
            ("documents kept (this run)", ours_docs),
            ("words kept (this run)", ours_words),
            ("RefinedWeb Fig. 2 (published)", theirs),
        ],
    )
    return (
        "<h2 id='funnel'>Funnel</h2>"
        f"<p>After each stage, the share still kept: documents as a share of the "
        f"{_n(docs, docs_key)} HTML documents read, words as a share of the "
        f"{_n(words, words_key) if words_key else 0} words extracted. RefinedWeb's published "
        "shares (Fig. 2, of raw CommonCrawl) count documents up to language ID and tokens "
        "after it.</p>"
        f"{plot}<table><tr><th class='l'>stage</th><th>in</th><th>out</th>"
        "<th>documents kept</th><th>words out</th><th>words kept</th><th>tokens out</th>"
        f"<th class='l'>RefinedWeb kept</th></tr>{''.join(rows)}</table>"
    )


def _plain_funnel(stats: dict) -> str:
    """The funnel of a run of another recipe: RefinedWeb's Figure 2 is no yardstick there."""
    stages = stats["stages"]
    docs, docs_key, words, words_key = _bases(stats)
    labels, ours_docs, ours_words, rows = [], [], [], []
    for index, row in enumerate(stages):
        if row["name"] == "read":
            continue
        has_words = bool(words_key) and "words_out" in row and (row["words_out"] or row["out"] == 0)
        labels.append(row["name"])
        ours_docs.append(percent(row["out"], docs))
        ours_words.append(percent(row["words_out"], words) if has_words else None)
        base = f"stages/{index}"
        rows.append(
            f'<tr><td class="l">{_e(row["name"])}</td><td>{_n(row["in"], base + "/in")}</td>'
            f"<td>{_n(row['out'], base + '/out')}</td>"
            f"<td>{_pct(row['out'], base + '/out', docs, docs_key)}</td>"
            f"<td>{_n(row['words_out'], base + '/words_out') if has_words else '–'}</td>"
            f"<td>{_pct(row['words_out'], base + '/words_out', words, words_key) if has_words else '–'}</td>"  # noqa: E501
            f"<td>{_n(row['tokens_out'], base + '/tokens_out') if 'tokens_out' in row else '–'}</td>"  # noqa: E501
            "</tr>"
        )
    plot = _hbars(
        "Funnel: share kept after each stage",
        labels,
        [("documents kept (this run)", ours_docs), ("words kept (this run)", ours_words)],
    )
    return (
        "<h2 id='funnel'>Funnel</h2>"
        f"<p>After each stage, the share still kept: documents as a share of the "
        f"{_n(docs, docs_key)} HTML documents read, words as a share of the "
        f"{_n(words, words_key) if words_key else 0} words extracted.</p>"
        f"{plot}<table><tr><th class='l'>stage</th><th>in</th><th>out</th>"
        "<th>documents kept</th><th>words out</th><th>words kept</th><th>tokens out</th>"
        f"</tr>{''.join(rows)}</table>"
    )


def _text_stages(stats: Stats) -> str:
    """What the line rules removed and PII replaced (stats.json dedup.STAGE of those stages)."""
    ran = [name for name in TEXT_STAGES if _ran(stats, name) is not None]
    if not ran:
        return ""
    parts = ["<h2 id='text'>Line rules and PII</h2>"]
    for name in ran:
        table = _figures(stats, name)
        parts.append(f"<h3>{_e(name)}</h3>" + (table or "<p class='muted'>nothing counted</p>"))
    return "".join(parts)


def _drops(stats: dict) -> str:
    parts = ["<h2 id='drops'>Drops by reason</h2><div class='grid'>"]
    for index, row in enumerate(stats["stages"]):
        base = f"stages/{index}"
        reasons = sorted(row["dropped"].items(), key=lambda kv: (-kv[1], kv[0]))
        lines = "".join(
            f'<tr><td class="l">{_e(reason)}</td>'
            f"<td>{_n(count, _path('stages', index, 'dropped', reason))}</td>"
            f"<td>{_pct(count, _path('stages', index, 'dropped', reason), row['in'], base + '/in')}"
            "</td></tr>"
            for reason, count in reasons
            if count
        )
        zero = [reason for reason, count in reasons if not count]
        if not lines:
            lines = '<tr><td class="l muted" colspan="3">nothing dropped</td></tr>'
        note = (
            f'<tr><td class="l muted none" colspan="3">none for: {_e(", ".join(zero))}</td></tr>'
            if zero
            else ""
        )
        parts.append(
            f"<table class='drops'><tr><th class='l'>{_e(row['name'])}</th><th>dropped</th>"
            f"<th>of {_n(row['in'], base + '/in')} in</th></tr>{lines}{note}</table>"
        )
    parts.append("</div>")
    parts.append(_counted(stats, "read", "Input", "what was read"))
    parts.append(_counted(stats, "limits", "Cut at a limit, kept", "documents (stage.limit)"))
    return "".join(parts)


def _counted(stats: Stats, section: str, title: str, what: str) -> str:
    """A flat section of counts (read, limits) as a table, or a note that it is empty."""
    counts = stats.get(section) or {}
    if not counts:
        return f"<h3>{_e(title)}</h3><p class='muted'>none</p>"
    rows = "".join(
        f"<tr><td class='l'>{_e(k)}</td><td>{_n(v, _path(section, k))}</td></tr>"
        for k, v in counts.items()
    )
    return (
        f"<h3>{_e(title)}</h3><table><tr><th class='l'>{_e(what)}</th><th>n</th></tr>{rows}</table>"
    )


def _languages(stats: dict) -> str:
    parts = ["<h2 id='languages'>Languages</h2>"]
    phases = stats.get("languages") or {}
    if not phases:
        return parts[0] + _notrun("language identification")
    for phase, table in phases.items():
        total_docs = sum(v["documents"] for v in table.values())
        total_words = sum(v["words"] for v in table.values())
        ranked = sorted(table.items(), key=lambda kv: (-kv[1]["documents"], kv[0]))
        top = ranked[:TOP_LANGUAGES]
        plot = _hbars(
            f"Languages ({phase})",
            [lang for lang, _ in top],
            [
                ("documents", [percent(v["documents"], total_docs) for _, v in top]),
                ("words", [percent(v["words"], total_words) for _, v in top]),
            ],
        )
        rows = "".join(
            f'<tr><td class="l">{_e(lang)}</td>'
            f"<td>{_n(v['documents'], f'languages/{phase}/{lang}/documents')}</td>"
            f"<td>{percent(v['documents'], total_docs):.2f}%</td>"
            f"<td>{_n(v['words'], f'languages/{phase}/{lang}/words')}</td>"
            f"<td>{percent(v['words'], total_words):.2f}%</td></tr>"
            for lang, v in ranked
        )
        parts.append(
            f"<h3>{_e(phase)}: {len(table)} languages, shares of {total_docs:,} documents and "
            f"{total_words:,} words (top {min(len(ranked), TOP_LANGUAGES)} plotted)</h3>"
            f"<div class='grid'>{plot}<details><summary>table</summary><table><tr>"
            "<th class='l'>language</th><th>documents</th><th>share</th><th>words</th>"
            f"<th>share</th></tr>{rows}</table></details></div>"
        )
    return "".join(parts)


HISTOGRAM_TITLES = {
    "words_extracted": ("Words per document after extraction", "words"),
    "tokens_final": ("Tokens per document in the final output", "tokens"),
    "minhash_cluster_size": ("MinHash duplicate cluster sizes", "documents per cluster"),
}


def _histogram(stats: dict, name: str) -> str:
    buckets = stats.get("histograms", {}).get(name)
    title, what = HISTOGRAM_TITLES.get(name, (name, "value"))
    if not buckets:
        return f"<div><h3>{_e(title)}</h3>{_notrun(name)}</div>"
    total = sum(buckets.values())
    rows = "".join(
        f"<tr><td>{int(b):,}</td><td>{_n(v, f'histograms/{name}/{b}')}</td></tr>"
        for b, v in sorted(buckets.items(), key=lambda kv: int(kv[0]))
    )
    return (
        f"<div><h3>{_e(title)}</h3>{_columns(title, buckets, what)}"
        f"<details><summary>{total:,} documents: table</summary><table><tr><th>from</th>"
        f"<th>documents</th></tr>{rows}</table></details></div>"
    )


def _lengths(stats: dict) -> str:
    known = ["words_extracted", "tokens_final"]
    others = [
        n
        for n in stats.get("histograms", {})
        if n not in known and n != "minhash_cluster_size" and not n.startswith("exact_substring")
    ]
    return (
        "<h2 id='lengths'>Document lengths</h2><div class='grid'>"
        + "".join(_histogram(stats, n) for n in known + others)
        + "</div>"
    )


def _domains(stats: dict) -> str:
    parts = ["<h2 id='domains'>Top domains</h2>"]
    domains = stats.get("domains")
    if not domains:
        return parts[0] + _notrun("domain counting")
    kept = [
        f'<tr><td class="l">{_e(d["domain"])}</td>'
        f"<td>{_n(d['documents'], f'domains/kept/{i}/documents')}</td></tr>"
        for i, d in enumerate(domains.get("kept", []))
    ]
    dropped = [
        f'<tr><td class="l">{_e(d["domain"])}</td>'
        f"<td>{_n(d['documents'], f'domains/dropped/{i}/documents')}</td>"
        f'<td class="l">'
        + ", ".join(
            f"{_e(r)} {_n(c, _path('domains', 'dropped', i, 'reasons', r))}"
            for r, c in sorted(d["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))
        )
        + "</td></tr>"
        for i, d in enumerate(domains.get("dropped", []))
    ]
    note = (
        " (merged runs: a domain outside one run's top list counts 0 there)"
        if domains.get("merged")
        else ""
    )
    parts.append(
        f"<p>The top {_e(domains.get('top', ''))} domains by documents{note}; "
        "a leading “www.” is ignored; documents dropped before the URL filter (non-HTML "
        "records) are not counted.</p><div class='grid'>"
        + _folded("<tr><th class='l'>kept</th><th>documents</th></tr>", kept)
        + _folded(
            "<tr><th class='l'>dropped</th><th>documents</th><th class='l'>stage/reason</th></tr>",
            dropped,
        )
        + "</div>"
    )
    return "".join(parts)


def _folded(head: str, rows: list[str], visible: int = DOMAINS_VISIBLE) -> str:
    """A table showing its first rows, the rest behind a click."""
    rest = rows[visible:]
    more = (
        f"<details><summary>{len(rest)} more</summary><table>{head}{''.join(rest)}</table>"
        "</details>"
        if rest
        else ""
    )
    return f"<div><table class='domains'>{head}{''.join(rows[:visible])}</table>{more}</div>"


def _ran(stats: Stats, stage: str) -> int | None:
    """The index of `stage` in the funnel, or None when the run did not do it."""
    return next((i for i, row in enumerate(stats["stages"]) if row["name"] == stage), None)


def _figures(stats: Stats, stage: str) -> str:
    """A stage's own figures (stats.json dedup.STAGE) as a table."""
    figures = stats.get("dedup", {}).get(stage, {})
    rows = "".join(
        f"<tr><td class='l'>{_e(k)}</td><td>{_value(v, _path('dedup', stage, k))}</td></tr>"
        for k, v in figures.items()
    )
    return f"<table>{rows}</table>" if rows else ""


def _minhash(stats: Stats) -> str:
    parts = ["<h3>Near duplicates (MinHash)</h3>"]
    if _ran(stats, "minhash") is None:
        return parts[0] + _notrun("MinHash dedup") + _histogram(stats, "minhash_cluster_size")
    if stats.get("histograms", {}).get("minhash_cluster_size"):
        parts.append(_histogram(stats, "minhash_cluster_size"))
    else:
        parts.append("<p class='muted'>no duplicate cluster</p>")
    parts.append(_figures(stats, "minhash"))
    pairs = (stats.get("minhash") or {}).get("pairs")
    parts.append("<h4>Sampled merged pairs</h4>")
    if not pairs:
        return "".join(parts) + "<p class='muted'>no pair was merged</p>"
    columns = list(dict.fromkeys(k for pair in pairs for k in pair))
    head = "".join(f"<th class='l'>{_e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='l'>{_value(pair.get(c), f'minhash/pairs/{i}/{c}')}</td>" for c in columns
        )
        + "</tr>"
        for i, pair in enumerate(pairs)
    )
    parts.append(f"<table><tr>{head}</tr>{body}</table>")
    return "".join(parts)


def _exact_substring(stats: Stats) -> str:
    parts = ["<h3>Exact substrings removed</h3>"]
    index = _ran(stats, "exact_substring")
    if index is None:
        return parts[0] + _notrun("exact-substring dedup")
    figures = stats.get("dedup", {}).get("exact_substring", {})

    def shown(name: str) -> str:
        # A figure the run never counted (nothing was cut) is 0, and has no path to point to.
        if name not in figures:
            return "0"
        return _n(figures[name], _path("dedup", "exact_substring", name))

    def share(name: str, whole: int, whole_key: str) -> str:
        if name not in figures or not whole:
            return "0.00%"
        return _pct(figures[name], _path("dedup", "exact_substring", name), whole, whole_key)

    docs_in = stats["stages"][index]["in"]
    tokens_in = figures.get("tokens_in", 0)
    parts.append(
        f"<p class='summary'>{shown('documents_cut')} documents cut "
        f"({share('documents_cut', docs_in, f'stages/{index}/in')} of those in), "
        f"{shown('tokens_removed')} tokens removed ("
        f"{share('tokens_removed', tokens_in, _path('dedup', 'exact_substring', 'tokens_in'))}"
        f" of their tokens), {shown('chars_removed')} characters removed.</p>"
    )
    parts.append(
        f"<details><summary>every figure</summary>{_figures(stats, 'exact_substring')}</details>"
    )
    spans = (stats.get("exact_substring") or {}).get("spans") or []
    parts.append(f"<h4>Sampled removed spans ({len(spans)})</h4>")
    if not spans:
        return "".join(parts) + "<p class='muted'>no span was removed</p>"
    for span in spans:
        parts.append(
            f"<div class='sample'><div class='url'>{_e(span.get('url', ''))}</div>"
            f"<div class='muted'>characters {_e(span.get('start'))}–{_e(span.get('end'))}</div>"
            f"<pre>{_e(str(span.get('text', ''))[:SAMPLE_CHARS])}</pre></div>"
        )
    return "".join(parts)


def _dedup(stats: Stats) -> str:
    return "<h2 id='dedup'>Deduplication</h2>" + _minhash(stats) + _exact_substring(stats)


def _value(value, key: str) -> str:
    """A cell from a free-form section: numbers tagged, text escaped and truncated."""
    if isinstance(value, bool) or value is None:
        return _e(value)
    if isinstance(value, int):
        return _n(value, key)
    if isinstance(value, float):
        return f'<span class="f" data-key="{_e(key)}" data-value="{value!r}">{value:.3f}</span>'
    text = str(value)
    return _e(text[:200] + ("…" if len(text) > 200 else ""))


def pick_samples(samples: dict, per_reason: int = SAMPLES_PER_REASON) -> dict:
    """The `per_reason` lowest-ranked samples of each "stage/reason" (the sampling order)."""
    return {
        key: sorted(rows, key=lambda s: s.get("rank", ""))[:per_reason]
        for key, rows in sorted(samples.items())
    }


def load_samples(dirs: list[str], per_reason: int = SAMPLES_PER_REASON) -> dict:
    """{"stage/reason": [sample, ...]}: the lowest-ranked dropped samples over all runs."""
    samples: dict[str, list] = {}
    for directory in dirs:
        root = os.path.join(directory, "dropped")
        if not os.path.isdir(root):
            continue
        for stage in sorted(os.listdir(root)):
            for name in sorted(os.listdir(os.path.join(root, stage))):
                if not name.endswith(".jsonl"):
                    continue
                with open(os.path.join(root, stage, name), encoding="utf-8") as handle:
                    rows = [json.loads(line) for line in handle if line.strip()]
                samples.setdefault(f"{stage}/{name[: -len('.jsonl')]}", []).extend(rows)
    return pick_samples(samples, per_reason)


def _signal_of(reason: str) -> str:
    """The signal a reason is about: "alpha_words_frac_too_low" -> "alpha_words_frac"."""
    for suffix in ("_too_high", "_too_low", "_too_long", "_too_short"):
        reason = reason.removesuffix(suffix)
    for prefix in ("too_few_", "too_many_"):
        reason = reason.removeprefix(prefix)
    return reason


def _samples(stats: dict, samples: dict) -> str:
    parts = ["<h2 id='samples'>Dropped documents, a few per reason</h2>"]
    if not samples:
        return parts[0] + '<p class="notrun">No dropped samples found next to stats.json.</p>'
    where = {row["name"]: i for i, row in enumerate(stats["stages"])}
    for key, rows in samples.items():
        stage, _, reason = key.partition("/")
        signal = _signal_of(reason)
        index = where.get(stage)
        total = ""
        if index is not None and reason in stats["stages"][index]["dropped"]:
            count = stats["stages"][index]["dropped"][reason]
            total = f" of {_n(count, _path('stages', index, 'dropped', reason))} dropped"
        items = []
        for sample in rows:
            pool = {"language_score": sample.get("language_score"), **(sample.get("signals") or {})}
            signals = {k: v for k, v in pool.items() if k == signal and v is not None}
            text = sample.get("text") or ""
            cut = len(text) > SAMPLE_CHARS or sample.get("truncated")
            shown = ", ".join(f"{_e(k)} = {v:.3g}" for k, v in signals.items())
            lang = sample.get("language") or ""
            detail = sample.get("detail") or ""
            items.append(
                f"<div class='sample'><div class='url'>{_e(sample.get('url', ''))}</div>"
                f"<div class='muted'>{_e(lang)}"
                f"{' · ' + shown if shown else ''}{' · ' + _e(detail[:200]) if detail else ''}"
                f"</div><pre>{_e(text[:SAMPLE_CHARS])}{' […]' if cut else ''}</pre></div>"
            )
        parts.append(
            f"<details open><summary>{_e(key)} ({len(rows)} shown{total})</summary>"
            f"{''.join(items)}"
            "</details>"
        )
    return "".join(parts)


def _inputs(run: dict) -> str:
    """A run's inputs as given (its files, listed in stats.json, may be thousands), its part."""
    given = run.get("input_patterns", run.get("inputs", []))
    part = f"<br>part {_e(run['part'])}" if run.get("part") else ""
    return "<br>".join(_e(x) for x in given) + part


def _run(stats: dict) -> str:
    runs = stats.get("runs") or [
        {
            "run": stats.get("run", {}),
            "version": stats.get("version"),
            "config_hash": stats.get("config_hash"),
        }
    ]
    rows = []
    for i, entry in enumerate(runs):
        run = entry.get("run") or {}
        key = f"runs/{i}/run" if "runs" in stats else "run"
        wall = run.get("wall_seconds")
        rows.append(
            f"<tr><td class='l'>{_e(entry.get('dir', ''))}</td>"
            f"<td class='l url'>{_inputs(run)}</td>"
            f"<td>{_n(run['files'], key + '/files') if 'files' in run else '–'}</td>"
            f"<td class='l'>{_e(run.get('runner', '–'))}</td>"
            f"<td class='l'>{_e(entry.get('version') or '–')}</td>"
            f"<td class='l'><code>{_e(entry.get('config_hash') or '–')}</code></td>"
            f"<td>{_n(wall, key + '/wall_seconds') if wall is not None else '–'}</td></tr>"
        )
    stage_seconds = stats.get("run", {}).get("stage_seconds", {})
    times = "".join(
        f"<tr><td class='l'>{_e(name)}</td><td>{_n(value, f'run/stage_seconds/{name}')}</td></tr>"
        for name, value in stage_seconds.items()
    )
    configs = stats.get("configs") or (
        {stats.get("config_hash") or "": stats["config"]} if stats.get("config") else {}
    )
    config_html = "".join(
        f"<details><summary>configuration <code>{_e(h)}</code></summary>"
        f"<pre>{_e(yaml.safe_dump(c, sort_keys=False))}</pre></details>"
        for h, c in configs.items()
    )
    return (
        "<h2 id='run'>The run</h2><table><tr><th class='l'>output</th><th class='l'>inputs</th>"
        "<th>files</th><th class='l'>runner</th><th class='l'>version</th>"
        f"<th class='l'>config hash</th><th>wall s</th></tr>{''.join(rows)}</table>"
        + (
            "<p>Worker seconds in each stage's own code, summed over workers:</p><table>"
            f"<tr><th class='l'>stage</th><th>seconds</th></tr>{times}</table>"
            if times
            else ""
        )
        + (config_html or "<p class='muted'>configuration not recorded</p>")
    )


def render_report(stats: dict, samples: dict | None = None) -> str:
    """The human-readable report of one run (or of several merged runs)."""
    runs = len(stats.get("runs") or [1])
    title = "macrodata run report" + (f" ({runs} runs merged)" if runs > 1 else "")
    nav = " · ".join(
        f"<a href='#{a}'>{t}</a>"
        for a, t in [
            ("funnel", "funnel"),
            ("drops", "drops"),
            ("languages", "languages"),
            ("lengths", "lengths"),
            ("domains", "domains"),
            ("dedup", "dedup"),
            *([("text", "line rules and PII")] if _text_stages(stats) else []),
            ("samples", "samples"),
            ("run", "run"),
        ]
    )
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class='muted'>{nav}</p>"
        + _recipe(stats)
        + _summary(stats)
        + _funnel(stats)
        + _drops(stats)
        + _languages(stats)
        + _lengths(stats)
        + _domains(stats)
        + _dedup(stats)
        + _text_stages(stats)
        + _samples(stats, samples or {})
        + _run(stats)
        + "</body></html>\n"
    )


def rebuild_report(dirs: list[str], output: str | None = None) -> str:
    """Write report.html for one run directory, or one merged report for several; its path."""
    stats = merge_stats([load_stats(d) for d in dirs], list(dirs))
    path = output or os.path.join(dirs[0], "report.html")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_report(stats, load_samples(dirs)))
    return path
