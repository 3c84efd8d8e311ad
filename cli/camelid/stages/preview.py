"""What a pack sends the model for records: `packs render` shows it (a rubric pack per aspect,
with the answers, exactly as `score` sends it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import NamedTuple

from camelid.engines.base import Prompt
from camelid.packs import Pack
from camelid.records import Record
from camelid.stages.score import record_prompts


class Rendered(NamedTuple):
    record_id: str
    prompt: Prompt | None  # None: the record lacks fields the pack needs
    missing: list[str]


def preview(pack: Pack, records: Iterable[Record], limit: int) -> Iterator[Rendered]:
    """Every prompt of the first `limit` records (a record that lacks what the pack needs once,
    with what it lacks)."""
    for record in islice(records, limit):
        if missing := pack.missing_inputs(record):
            yield Rendered(record.id, None, missing)
            continue
        prompts = record_prompts(record, pack) if pack.manifest.rubric else [pack.render(record)]
        for prompt in prompts:
            yield Rendered(record.id, prompt, [])
