"""The two documents of `camelid report`: one self-contained HTML page, and a dataset card.

The page has no external resources: plain CSS, charts as inline SVG, tables for the counts, and a
few lines of script that count the charts the browser actually laid out (a test reads it).
The card is Markdown in the Hugging Face dataset-card style: YAML front matter, then the tables.
"""

from __future__ import annotations

import html
from typing import Any

import yaml

from camelid import __version__
from camelid.stages.report.charts import Chart

SECTIONS = [  # (key, heading, what the page says when the data is absent)
    ("counts", "Counts", "No records."),
    ("lengths", "Lengths", "No instructions or answers."),
    ("verbs", "Instruction diversity", "No instruction has a root verb with a direct object."),
    ("novelty", "Novelty", "No most_similar_instructions here (self-instruct writes them)."),
    ("scores", "Scores", "No scores here (camelid score writes them)."),
    ("rejects", "Filters", "No reject files given (--rejects-from FILE)."),
    ("principles", "Principles", "No principles here (respond --pack self-align writes them)."),
]
COUNT_TITLES = {"source": "source", "command": "command (last stage)", "stage": "stage (any)",
                "pack": "pack version", "model": "model", "question_type": "red-team question type"}  # fmt: skip
CSS = """body{font:15px/1.45 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;
color:#222}h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}th,td{border:1px solid #ddd;
padding:.25em .6em;text-align:left;vertical-align:top}td.n{text-align:right}th{background:#f4f4f4}
.grid{display:flex;flex-wrap:wrap;align-items:flex-start;gap:0 1.5em}figure.chart{margin:1em 0}figure.chart svg{
max-width:100%;height:auto}figcaption{color:#555;font-size:.9em}.note{color:#666}"""
SCRIPT = """window.addEventListener("load", function () {
  var n = 0;  // charts whose SVG the browser laid out with a non-zero size
  document.querySelectorAll("figure.chart").forEach(function (f) {
    var svg = f.querySelector("svg"), box = svg && svg.getBoundingClientRect();
    if (box && box.width > 0 && box.height > 0) n++;
  });
  document.body.dataset.chartsRendered = String(n);
});"""


def _n(x: Any) -> str:
    if isinstance(x, float):  # 4.0 as 4, 0.5853 as 0.585, 1234.5 as it is (not 1.23e+03)
        return str(int(x)) if x.is_integer() else f"{x:.1f}" if abs(x) >= 100 else f"{x:.3g}"
    return "n/a" if x is None else str(x)


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "n/a"


def tables(stats: dict[str, Any]) -> dict[str, list[tuple[list[str], list[list[Any]]]]]:
    """Per section, its tables as (header, rows): the page and the card show the same ones."""
    out: dict[str, list[tuple[list[str], list[list[Any]]]]] = {}
    counts = stats["counts"] or {}
    if counts:
        out["counts"] = [([COUNT_TITLES[k], "records"], rows) for k, rows in counts.items()]
    if lengths := stats["lengths"]:
        rows = [[k, s["n"], s["mean"], s["median"], s["min"], s["max"]] for k, s in lengths.items()]
        out["lengths"] = [(["words per", "n", "mean", "median", "min", "max"], rows)]
    if (verbs := stats["verbs"]) and verbs["verbs"]:
        rows = [[v["verb"], v["count"], ", ".join(f"{a} ({k})" for a, k in v["nouns"])]
                for v in verbs["verbs"]]  # fmt: skip
        out["verbs"] = [(["root verb", "instructions", "top direct objects"], rows)]
    if nov := stats["novelty"]:
        rows = [[nov["n"], nov["mean"], nov["median"], nov["min"], nov["max"],
                 nov["avg_similarity_mean"]]]  # fmt: skip
        out["novelty"] = [(["instructions", "mean", "median", "min", "max", "mean avg"], rows)]
    if scores := stats["scores"]:
        rows = [[a, s["n"], s.get("mean"), s.get("median"), s["n/a"]] for a, s in scores.items()]
        out["scores"] = [(["aspect", "scored", "mean", "median", "n/a"], rows)]
    if rej := stats["rejects"]:
        t = rej["total"]
        stage_rows = [["(kept)", rej["kept"], _share(rej["kept"], t)]]
        stage_rows += [[s, n, _share(n, t)] for s, n in rej["by_stage"]]
        reason_rows = [[s, r, n, _share(n, t)] for s, r, n in rej["by_reason"]]
        out["rejects"] = [(["stage", "records", "share"], stage_rows),
                          (["stage", "reason", "rejected", "share"], reason_rows)]  # fmt: skip
    if pr := stats["principles"]:
        groups = [(g, v) for g, v in pr["groups"].items() if v["answers"]]
        header = ["principle"] + [f"{g} (of {v['answers']})" for g, v in groups]
        rows = [[name] + [f"{v['counts'][i]} ({100 * v['shares'][i]:.0f}%)" for _, v in groups]
                for i, name in enumerate(pr["names"])]  # fmt: skip
        out["principles"] = [(header, rows)]
    return out


def intro(stats: dict[str, Any], key: str) -> str | None:
    """A sentence before a section's tables."""
    if key == "verbs" and (v := stats["verbs"]):
        return (f"{v['with_pair']} of {v['instructions']} instructions have a root verb with a "
                f"direct noun object ({v['distinct_verbs']} distinct verbs); the figure shows the "
                "top verbs and their top objects, as in Self-Instruct.")  # fmt: skip
    if key == "rejects" and (r := stats["rejects"]):
        return (f"{r['kept']} records kept (the inputs), {r['rejected']} rejected; reasons are "
                "grouped with numbers as N and quoted text as …")  # fmt: skip
    return None


def _html_table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    cells = lambda row: "".join(  # noqa: E731
        f'<td class="n">{_n(c)}</td>'
        if isinstance(c, (int, float))
        else f"<td>{html.escape(_n(c))}</td>"
        for c in row
    )
    body = "".join(f"<tr>{cells(row)}</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, stats: dict[str, Any], charts: list[Chart], inputs: list[str]) -> str:
    by_name, found = {c.name: c for c in charts}, tables(stats)
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="note">{stats["records"]} records from {html.escape(", ".join(inputs))}; '
             f"made by camelid {__version__} report.</p>"]  # fmt: skip
    for key, heading, absent in SECTIONS:
        parts.append(f'<section id="{key}"><h2>{heading}</h2>')
        if key not in found and key not in by_name:
            parts.append(f'<p class="note">{html.escape(absent)}</p></section>')
            continue
        if text := intro(stats, key):
            parts.append(f"<p>{html.escape(text)}</p>")
        if chart := by_name.get(key):
            parts.append(f'<figure class="chart" id="chart-{key}">{chart.svg}'
                         f"<figcaption>{html.escape(chart.title)}</figcaption></figure>")  # fmt: skip
        grid = "".join(_html_table(h, rows) for h, rows in found.get(key, []))
        parts.append(f'<div class="grid">{grid}</div></section>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n"
            f'<body data-charts="{len(charts)}">\n' + "\n".join(parts)
            + f"\n<script>{SCRIPT}</script>\n</body></html>\n")  # fmt: skip


def _size_category(n: int) -> str:
    """The Hugging Face size_categories bucket."""
    for bound, label in [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")]:  # fmt: skip
        if n < bound:
            return label
    return "n>10M" if n < 100_000_000 else "100M<n<1B"


def _md_table(header: list[str], rows: list[list[Any]]) -> str:
    cell = lambda c: _n(c).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows])


def card(title: str, stats: dict[str, Any], pngs: dict[str, str]) -> str:
    """The dataset card; `pngs` maps a chart name to its image path relative to the card."""
    stages = [k for k, _ in (stats["counts"] or {}).get("stage", []) if k]
    front = {"pretty_name": title, "task_categories": ["text-generation"],
             "size_categories": [_size_category(stats["records"])],
             "tags": ["camelid", "synthetic", *sorted(stages)]}  # fmt: skip
    sources = ", ".join(f"{k} ({n})" for k, n in (stats["counts"] or {}).get("source", []))
    out = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip(), "---", "",
           f"# {title}", "", f"{stats['records']} records made with camelid; by source: "
           f"{sources or 'none'}. This card was written by `camelid report` {__version__}."]  # fmt: skip
    found = tables(stats)
    for key, heading, absent in SECTIONS:
        out += ["", f"## {heading}", ""]
        if key not in found:
            out.append(absent)
            continue
        if text := intro(stats, key):
            out += [text, ""]
        out.append("\n\n".join(_md_table(h, rows) for h, rows in found[key]))
        if key in pngs:
            out += ["", f"![{heading}]({pngs[key]})"]
    return "\n".join(out) + "\n"
