"""The charts of `camelid report`, drawn with matplotlib (Agg): inline SVG, and PNG on request.

Each chart is drawn from a section of report_stats' dict; a section that is None gets no chart.
matplotlib is imported when the first chart is drawn, never by `--help`.
"""

from __future__ import annotations

import importlib.util
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from camelid.errors import CamelidError

INSTALL = "pip install 'camelid[report]'"
GREY, KEPT, REJECTED = "#9e9e9e", "#2e7d32", "#c62828"
MAX_REASONS = 15  # more rows than this would not be read; the rest are summed as one
WIDE = (9.0, 4.0)


@dataclass(frozen=True)
class Chart:
    name: str  # the section, and the PNG's file name
    title: str
    svg: str  # an <svg> element, ready to inline
    png: bytes | None = None


def require() -> None:
    """Refuse now, before the inputs are read, if matplotlib is missing."""
    if importlib.util.find_spec("matplotlib") is None:
        raise CamelidError(f"report needs matplotlib for its charts: {INSTALL}")


def _figure_class() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise CamelidError(f"report needs matplotlib for its charts: {INSTALL}") from None
    matplotlib.use("Agg")  # no display here, and no GUI toolkit to import
    # Text stays text in the SVG (smaller, selectable); fixed ids make the same report twice
    # byte-identical.
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "camelid",
                                "font.size": 9, "axes.spines.top": False,
                                "axes.spines.right": False})  # fmt: skip
    from matplotlib.figure import Figure  # no pyplot: no global figures to leak

    return Figure


def draw(stats: dict[str, Any], png: bool = False) -> list[Chart]:
    """The charts for the sections that have data, in page order."""
    figure = None
    charts = []
    for name, title, make in DRAWERS:
        data = stats.get(name)
        if not data or (name == "verbs" and not data["verbs"]):
            continue
        figure = figure or _figure_class()
        fig = make(figure, data)
        fig.tight_layout()
        charts.append(Chart(name, title, _svg(fig), _png(fig) if png else None))
    return charts


def _svg(fig: Any) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    text = text[text.index("<svg") :]  # drop the XML declaration and DOCTYPE for inlining
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)  # RDF boilerplate


def _png(fig: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=150, metadata={"Software": None})
    return out.getvalue()


def _bars(ax: Any, bins: list[list[Any]], color: Any = "#3f6fb5", **kw: Any) -> None:
    labels = [str(label) for label, _ in bins]
    ax.bar(range(len(bins)), [n for _, n in bins], color=color, **kw)
    turn = len(bins) > 8  # many labels: slanted, so that they do not overlap
    ax.set_xticks(
        range(len(bins)), labels, rotation=45 if turn else 0, ha="right" if turn else "center"
    )
    ax.yaxis.get_major_locator().set_params(integer=True)  # counts: no 0.5 ticks


def _lengths(figure: Any, data: dict[str, Any]) -> Any:
    fig = figure(figsize=WIDE)
    axes = fig.subplots(1, len(data), squeeze=False)[0]
    for ax, (kind, stats) in zip(axes, data.items(), strict=True):
        _bars(ax, stats["bins"])
        ax.set_title(f"{kind}s (median {stats['median']:g} words)")
        ax.set_xlabel("words")
        ax.set_ylabel("count")
    return fig


def _shade(color: tuple[float, ...], towards_white: float) -> tuple[float, ...]:
    return tuple(c + (1 - c) * towards_white for c in color[:3]) + (1.0,)


def _verbs(figure: Any, data: dict[str, Any]) -> Any:
    """A two-ring sunburst: root verbs inside, each verb's top objects outside it."""
    from matplotlib import colormaps

    fig = figure(figsize=(7.0, 7.0))
    ax = fig.add_subplot()
    palette = colormaps["tab20"]
    verbs = data["verbs"]
    total = sum(v["count"] for v in verbs)
    inner, inner_colors = [v["count"] for v in verbs], [palette(i % 20) for i in range(len(verbs))]
    sizes, labels, colors = [], [], []
    for verb, base in zip(verbs, inner_colors, strict=True):
        for j, (noun, n) in enumerate(verb["nouns"]):
            sizes.append(n)
            labels.append(noun if n / total >= 0.006 else "")
            colors.append(_shade(base, 0.3 + 0.15 * j))
        if rest := verb["count"] - sum(n for _, n in verb["nouns"]):
            sizes.append(rest)  # the verb's other objects: a blank wedge keeps the rings aligned
            labels.append("")
            colors.append((1.0, 1.0, 1.0, 0.0))
    ring = {"startangle": 90, "counterclock": False, "rotatelabels": True}
    edge = {"edgecolor": "white", "linewidth": 0.6}
    ax.pie(inner, radius=0.6, colors=inner_colors, labeldistance=0.72, textprops={"fontsize": 8},
           labels=[v["verb"] if v["count"] / total >= 0.01 else "" for v in verbs],
           wedgeprops={"width": 0.32, **edge}, **ring)  # fmt: skip
    ax.pie(sizes, radius=1.0, colors=colors, labels=labels, labeldistance=0.8,
           textprops={"fontsize": 6.5}, wedgeprops={"width": 0.4, **edge}, **ring)  # fmt: skip
    ax.set_aspect("equal")
    ax.set_title(f"top {len(verbs)} root verbs and their top direct objects")
    return fig


def _novelty(figure: Any, data: dict[str, Any]) -> Any:
    fig = figure(figsize=WIDE)
    ax = fig.add_subplot()
    width = 1 / len(data["bins"])
    ax.bar([float(lo) for lo, _ in data["bins"]], [n for _, n in data["bins"]], width=width,
           align="edge", color="#3f6fb5", edgecolor="white")  # fmt: skip
    ax.axvline(data["mean"], color=REJECTED, linestyle="--", label=f"mean {data['mean']:.2f}")
    ax.set_xlim(0, 1)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("ROUGE-L to the most similar pool instruction")
    ax.set_ylabel("instructions")
    ax.legend(frameon=False)
    return fig


def _scores(figure: Any, data: dict[str, Any]) -> Any:
    cols = min(3, len(data))
    rows = math.ceil(len(data) / cols)
    fig = figure(figsize=(3.2 * cols + 0.5, 2.8 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (aspect, stats) in zip(axes, data.items(), strict=False):
        bins = [*stats.get("bins", []), ["n/a", stats["n/a"]]]
        _bars(ax, bins, color=["#3f6fb5"] * (len(bins) - 1) + [GREY])
        mean = f", mean {stats['mean']:.2f}" if stats["n"] else ""
        ax.set_title(f"{aspect} (n={stats['n']}{mean})")
    for ax in axes[len(data) :]:
        ax.set_visible(False)
    return fig


def _short(text: str, n: int = 72) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _rejects(figure: Any, data: dict[str, Any]) -> Any:
    rows = [("kept", data["kept"], KEPT)]
    reasons = data["by_reason"]
    rows += [(_short(f"{s}: {r}"), n, REJECTED) for s, r, n in reasons[:MAX_REASONS]]
    if rest := sum(n for _, _, n in reasons[MAX_REASONS:]):
        rows.append((f"{len(reasons) - MAX_REASONS} other reasons", rest, REJECTED))
    fig = figure(figsize=(9.0, 1.2 + 0.32 * len(rows)))
    ax = fig.add_subplot()
    total = data["total"] or 1
    shares = [100 * n / total for _, n, _ in rows]
    ax.barh(range(len(rows)), shares, color=[c for _, _, c in rows])
    ax.set_yticks(range(len(rows)), [label for label, _, _ in rows])
    ax.invert_yaxis()
    for y, (share, (_, n, _)) in enumerate(zip(shares, rows, strict=True)):
        ax.text(share, y, f" {n}", va="center", fontsize=8)
    ax.set_xlabel(f"% of {data['total']} (kept + rejected)")
    return fig


def _principles(figure: Any, data: dict[str, Any]) -> Any:
    names = data["names"]
    groups = [(g, v) for g, v in data["groups"].items() if v["answers"]]
    fig = figure(figsize=(9.0, 1.4 + 0.3 * len(names) * len(groups)))
    ax = fig.add_subplot()
    height = 0.8 / len(groups)
    for i, (group, values) in enumerate(groups):
        ys = [y + i * height for y in range(len(names))]
        label = f"{group} (n={values['answers']})"
        color = REJECTED if group == "red-team" else "#3f6fb5"
        ax.barh(ys, [100 * s for s in values["shares"]], height=height, label=label, color=color)
    ax.set_yticks([y + height * (len(groups) - 1) / 2 for y in range(len(names))], names)
    ax.invert_yaxis()
    ax.set_xlabel("% of the group's answers that invoke the principle")
    ax.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    return fig


DRAWERS: list[tuple[str, str, Callable[[Any, Any], Any]]] = [
    ("lengths", "Lengths of instructions and answers", _lengths),
    ("verbs", "Root verbs and their direct objects", _verbs),
    ("novelty", "Novelty: ROUGE-L to the most similar pool instruction", _novelty),
    ("scores", "Scores per rubric aspect", _scores),
    ("rejects", "Kept and rejected, per reason", _rejects),
    ("principles", "Principles invoked: red-team vs other instructions", _principles),
]
