"""`camelid report`: records -> an HTML page, a dataset card, PNGs. The logic is in
camelid.stages.report_* (numbers, verbs, charts, page); spaCy and matplotlib load only there."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from camelid.commands import common
from camelid.errors import UsageError
from camelid.io import (
    STDIO,
    display_name,
    read_records,
    write_file_atomic,
)
from camelid.runtime.progress import stderr

HELP = "Describe a dataset: one self-contained HTML page of counts and charts, a dataset card."
DESCRIPTION = f"""{HELP}

The page shows: counts by source, command (last stage), stage, pack version and model, from the
records' lineage; the lengths of instructions and answers in words; Self-Instruct's diversity
figure, the most common root verbs and their direct objects as a sunburst, from a spaCy
dependency parse; the novelty histogram of self-instruct output (ROUGE-L to the most similar pool
instruction); score distributions per rubric aspect (null as n/a); with --rejects-from, the
kept and rejected shares per stage and reason; and for self-align output how often each
principle was invoked, red-team questions against the others (Dromedary's figure). A section
without data says so. Charts are inline SVG: the page needs no network to open.

Needs the report extra: pip install 'camelid[report]' (matplotlib, spaCy and its English model)."""


def register(app: typer.Typer) -> None:
    app.command(
        "report",
        help=DESCRIPTION,
        short_help=HELP,
        epilog=common.epilog(
            "camelid report generated.jsonl --rejects-from rejects.jsonl --card README.md "
            "--png figures -o report.html",
            "source, lineage[{stage, pack, pack_version, model}], instruction, input, output, "
            "completions[{text, scores}], scores, most_similar_instructions, "
            "avg_similarity_score, principles, question_type; reject lines {stage, reason}",
            "the HTML page (-o FILE), the Markdown card (--card FILE) and one PNG per chart "
            "(--png DIR), each atomically; nothing on stdout",
        ),
    )(report_command)


def report_command(
    inputs: common.Inputs = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="The HTML page to write.", show_default=False
        ),
    ] = None,
    card: Annotated[
        str | None,
        typer.Option(
            metavar="FILE", help="Also write a Markdown dataset card (Hugging Face style)."
        ),
    ] = None,
    png: Annotated[
        str | None,
        typer.Option(
            metavar="DIR", help="Also write each chart as DIR/NAME.png (the card links them)."
        ),
    ] = None,
    rejects_from: Annotated[
        list[str] | None,
        typer.Option(
            "--rejects-from",
            metavar="FILE",
            help="A file written by --rejects (filter, self-instruct, respond, ...): kept and "
            "rejected shares per reason. Repeat for several.",
        ),
    ] = None,
    title: Annotated[
        str, typer.Option(metavar="TEXT", help="Title of the page and the card.")
    ] = "Dataset report",
    quiet: common.Quiet = False,
) -> None:
    started = time.monotonic()
    paths = common.input_paths(inputs)
    reject_paths = common.input_paths(rejects_from) if rejects_from else []
    if (paths + reject_paths).count(STDIO) > 1:
        raise UsageError("only one of the inputs and --rejects-from files can be '-' (stdin)")
    page_path = _target(output, "-o")
    card_path = _target(card, "--card") if card else None
    png_dir = _png_dir(png) if png else None

    from camelid.stages.report import charts as report_charts
    from camelid.stages.report import page as report_page
    from camelid.stages.report import stats as report_stats
    from camelid.stages.report import verbs as report_verbs

    report_verbs.require()
    report_charts.require()
    records = list(read_records(paths))
    rejects = report_stats.read_rejects(reject_paths) if rejects_from else None
    stats = report_stats.statistics(records, rejects)
    stats["verbs"] = report_verbs.verb_stats(report_stats.instructions(records))
    charts = report_charts.draw(stats, png=png_dir is not None)

    links: dict[str, str] = {}
    if png_dir is not None:
        png_dir.mkdir(exist_ok=True)
        for chart in charts:
            write_file_atomic(png_dir / f"{chart.name}.png", chart.png or b"")
            if card_path is not None:
                where = os.path.relpath(png_dir / f"{chart.name}.png", card_path.parent)
                links[chart.name] = Path(where).as_posix()
    if card_path is not None:
        write_file_atomic(card_path, report_page.card(title, stats, links).encode())
    names = [display_name(p) for p in paths]
    write_file_atomic(page_path, report_page.page(title, stats, charts, names).encode())
    if not quiet:
        extra = (f", card {card_path}" if card_path else "") + (
            f", {len(charts)} PNGs in {png_dir}" if png_dir else ""
        )
        stderr.print(
            f"report: {len(records)} records, {len(charts)} charts -> {page_path}{extra} "
            f"in {time.monotonic() - started:.1f}s",
            markup=False,
        )


def _target(path: str | None, flag: str) -> Path:
    """A file we may write: refused now, before the inputs are read and parsed."""
    if path is None or path == STDIO:
        raise UsageError(f"{flag} FILE: give a file name, e.g. -o report.html (stdout stays empty)")
    target = Path(path)
    if target.is_symlink():  # replace the file it points to, keep the link
        target = target.resolve()
    if target.is_dir():
        raise UsageError(f"{flag} {path}: is a directory, expected a file name")
    if not target.parent.is_dir():
        raise UsageError(f"{flag} {path}: its folder {target.parent} does not exist")
    return target


def _png_dir(path: str) -> Path:
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--png {path}: is a file, expected a folder")
    if not folder.parent.is_dir():
        raise UsageError(f"--png {path}: its folder {folder.parent} does not exist")
    return folder
