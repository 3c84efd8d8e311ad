"""The reply parsers of Self-Instruct and Alpaca: a base model's continuation of a numbered
task list, of an Alpaca batch, and of instance examples (input-first, output-first).

A parser gives what it could read, and each piece it could not use with the reason (Dropped).
"""

from __future__ import annotations

import re
from typing import Literal

from camelid.records import Record
from camelid.stages.instructions.filters import TRUNCATED, Dropped, ListedInstruction, Pair

_TASK_MARKERS = {
    "task": re.compile(r"^[ \t]*Task[ \t]*(\d+)[ \t]*:[ \t]*", re.IGNORECASE),  # "Task 3: ..."
    "number": re.compile(r"^[ \t]*(\d+)[ \t]*\.(?:[ \t]+|$)"),  # "3. ..." (Self-Instruct's own)
}


def parse_task_list(
    text: str, *, finish_reason: str | None = None, style: Literal["task", "number"] = "task"
) -> list[ListedInstruction]:
    """Split a base model's continuation of a numbered task list into instructions.

    The prompt ends with the opening marker of the next task ("Task 9:"), so the text before
    the first marker is an instruction too. Lines without a marker continue the instruction
    above them (multi-line tasks). Empty items are dropped; on finish_reason "length" the last
    item is marked truncated (unless it is empty: then the reply stopped between tasks).
    """
    marker = _TASK_MARKERS[style]
    items: list[list[str]] = [[]]
    for line in text.splitlines():
        found = marker.match(line)
        if found:
            items.append([line[found.end() :]])
        else:
            items[-1].append(line)
    texts = ["\n".join(lines).strip() for lines in items]
    # Only the very last item can be cut off; if it is empty, the one before it ended cleanly.
    last = len(texts) - 1 if finish_reason == "length" else -1
    return [ListedInstruction(t, truncated=i == last) for i, t in enumerate(texts) if t]


_ALPACA_FIELD = re.compile(r"^[ \t]*(\d+)[ \t]*\.[ \t]*(Instruction|Input|Output)[ \t]*:", re.M)
_ALPACA_LABELS = ["Instruction", "Input", "Output"]


def _alpaca_block(block: str) -> Record | str:
    """One "N. Instruction: / N. Input: / N. Output:" block as a record, or why not."""
    fields = list(_ALPACA_FIELD.finditer(block))
    labels = [f.group(2) for f in fields]
    if labels != _ALPACA_LABELS:
        missing = [label for label in _ALPACA_LABELS if label not in labels]
        repeated = [label for label in _ALPACA_LABELS if labels.count(label) > 1]
        if missing:
            return "missing field: " + ", ".join(missing)
        if repeated:
            return "repeated field: " + ", ".join(repeated)
        return "fields out of order: " + ", ".join(labels)
    numbers = [f.group(1) for f in fields]
    if len(set(numbers)) > 1:
        return "inconsistent numbering: " + ", ".join(numbers)
    ends = [f.end() for f in fields]
    starts = [f.start() for f in fields[1:]] + [len(block)]
    instruction, inp, output = (block[a:b].strip() for a, b in zip(ends, starts, strict=True))
    inp = "" if inp.lower() == "<noinput>" else inp
    return Record(instruction=instruction, input=inp, output=output)


def parse_alpaca_batch(
    text: str, *, finish_reason: str | None = None, prefix: str = ""
) -> tuple[list[Record], list[Dropped]]:
    """Parse Alpaca's "###"-separated batch of numbered tasks into records and drops.

    `prefix` is the end of the prompt the model continued (Alpaca's "4. Instruction:"), glued
    back so the first block is whole. Blank blocks are not data and are skipped; on
    finish_reason "length" the last block is dropped, as Alpaca did.
    """
    blocks = (prefix + text).split("###")
    records: list[Record] = []
    dropped: list[Dropped] = []
    for i, block in enumerate(blocks):
        if not block.strip():
            continue
        if i == len(blocks) - 1 and finish_reason == "length":
            dropped.append(Dropped(block.strip(), TRUNCATED))
            continue
        parsed = _alpaca_block(block)
        if isinstance(parsed, str):
            dropped.append(Dropped(block.strip(), parsed))
        else:
            records.append(parsed)
    return records, dropped


_EXAMPLE = re.compile(r"^[ \t]*Example(?:[ \t]*\d+[ \t]*[.:]?|[ \t]*:?[ \t]*$)", re.M)
_INPUT = re.compile(r"Input[ \t]*\d*[ \t]*:")
_OUTPUT = re.compile(r"Output[ \t]*\d*[ \t]*:")


def _input_output(text: str) -> Pair | str:
    """One example's (input, output), as Self-Instruct read it; a reason if it has none."""
    parts = _OUTPUT.split(text, maxsplit=1)
    if len(parts) == 1:
        if _INPUT.match(text.strip()):
            return "example has no 'Output:' field"
        return "", text.strip()  # a task without input: the whole example is the output
    inp, out = parts
    out = _INPUT.split(out, maxsplit=1)[0]  # the model ran on into a second pair
    inp = _INPUT.sub("", inp.strip(), count=1) if _INPUT.match(inp.strip()) else inp
    return inp.strip(), out.strip()


def _drop_truncated(
    items: list[tuple[str, Pair | str]], finish_reason: str | None
) -> list[tuple[str, Pair | str]]:
    if items and finish_reason == "length":
        items[-1] = (items[-1][0], TRUNCATED)
    return items


def _split_results(items: list[tuple[str, Pair | str]]) -> tuple[list[Pair], list[Dropped]]:
    pairs = [p for _, p in items if not isinstance(p, str)]
    dropped = [Dropped(t, p) for t, p in items if isinstance(p, str)]
    return pairs, dropped


def parse_input_first(
    text: str, *, finish_reason: str | None = None
) -> tuple[list[Pair], list[Dropped]]:
    """Parse an input-first instance reply ("Example 1\\nInput: ...\\nOutput: ...").

    Without "Example" headers the reply is one instance. On finish_reason "length" the last
    instance is dropped.
    """
    text = text.strip()
    if _EXAMPLE.search(text):
        chunks = [c.strip() for c in _EXAMPLE.split(text) if c.strip()]
    elif _OUTPUT.search(text):
        chunks = [text]
    else:
        return [], [Dropped(text, "no 'Output:' field")] if text else []
    items = [(c, _input_output(c)) for c in chunks]
    return _split_results(_drop_truncated(items, finish_reason))


_CLASS_LABEL = re.compile(r"^[ \t]*Class[ \t]+label[ \t]*:", re.M | re.IGNORECASE)


def parse_output_first(
    text: str, *, finish_reason: str | None = None
) -> tuple[list[Pair], list[Dropped]]:
    """Parse an output-first classification reply ("Class label: X\\nInput: ...").

    The label's line is the output; the lines under it are the input (a leading "Input:" is
    removed, other field names such as "Sentence:" are part of the input). Text before the
    first label is ignored. On finish_reason "length" the last instance is dropped.
    """
    chunks = _CLASS_LABEL.split(text)[1:]
    if not chunks:
        return [], [Dropped(text.strip(), "no 'Class label:' field")] if text.strip() else []
    items: list[tuple[str, Pair | str]] = []
    for chunk in chunks:
        label, _, rest = chunk.strip().partition("\n")
        rest = rest.strip()
        inp = _INPUT.sub("", rest, count=1).strip() if _INPUT.match(rest) else rest
        items.append(("Class label: " + chunk.strip(), (inp, label.strip())))
    return _split_results(_drop_truncated(items, finish_reason))
