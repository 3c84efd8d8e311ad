"""`export`'s run: records -> rows of the chosen format -> JSONL, an Alpaca array, or a
`datasets` folder. A record the format cannot hold goes to --rejects (or stops a --strict run)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from camelid.errors import BadInputError
from camelid.io import display_name
from camelid.records import Reject
from camelid.runtime import Run
from camelid.stages.export.formats import Row, export
from camelid.stages.export.output import JsonArrayWriter, save_folder


@dataclass
class ExportPlan:
    rows_format: str  # the layout of each row (for hf: what --as names)
    humpback_tags: bool
    strict: bool
    kind: str  # the --format: a JSONL one, alpaca or hf
    output: str | None
    folder: Path | None  # hf: the checked target folder
    test_size: float
    seed: int


def run_export(run: Run, paths: list[str], plan: ExportPlan) -> None:
    rows = _rows(run, export(run.records(paths), plan.rows_format, plan.humpback_tags), plan.strict)
    if plan.kind == "alpaca":
        with JsonArrayWriter(plan.output) as writer:
            for row in rows:
                writer.write(row)
                run.written += 1
    elif plan.kind == "hf" and plan.folder is not None:
        table = list(rows)
        if not table:
            where = ", ".join(display_name(p) for p in paths)
            raise BadInputError(where, None, f"no rows to export ({run.rejected} rejected)")
        sizes = save_folder(table, plan.folder, plan.test_size, plan.seed)
        run.written = len(table)
        listing = ", ".join(f"{k} {v}" for k, v in sizes.items())
        run.note(f"export: {listing} rows in {plan.output}")
    else:
        run.write(rows)


def _rows(run: Run, items: Iterator[Row | Reject], strict: bool) -> Iterator[Row]:
    for item in items:
        if not isinstance(item, Reject):
            yield item
        elif strict:
            raise BadInputError(item.where or "<input>", None, item.reason)
        else:
            run.reject(item)
