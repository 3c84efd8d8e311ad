"""The quality filters and reply parsers of Self-Instruct and Alpaca, as pure functions.

Rules follow Self-Instruct's `bootstrap_instructions.py` / `generate_instances.py` and Alpaca's
`generate_instruction.py`, with three deliberate departures: a truncated generation loses only
its last item (Self-Instruct dropped the whole reply), an instruction keeps its case (the
original `.capitalize()` lowercased everything after the first letter), and one input with
conflicting outputs drops those instances only (Self-Instruct dropped the whole instruction).
Every filter returns None to keep, or the exact reason to drop.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Literal, NamedTuple

from camelid.records import Record

Variant = Literal["self-instruct", "alpaca"]
Pair = tuple[str, str]  # (input, output)

# Tasks a text-only model cannot do (see or make pictures, files, places); "go to" is a phrase.
SELF_INSTRUCT_BLACKLIST = (
    "image", "images", "graph", "graphs", "picture", "pictures", "file", "files",
    "map", "maps", "draw", "plot", "go to",
)  # fmt: skip
ALPACA_BLACKLIST = (*SELF_INSTRUCT_BLACKLIST, "video", "audio", "music", "flowchart", "diagram")
BLACKLISTS: dict[str, tuple[str, ...]] = {
    "self-instruct": SELF_INSTRUCT_BLACKLIST,
    "alpaca": ALPACA_BLACKLIST,
}
TRUNCATED = "generation truncated (finish_reason=length)"


class Dropped(NamedTuple):
    """A piece of a reply a parser could not use, and why."""

    text: str
    reason: str


class ListedInstruction(NamedTuple):
    """One instruction from a numbered-list continuation."""

    text: str
    truncated: bool = False  # the last item of a reply cut off at the token limit


# ---------------------------------------------------------------- instruction filters


@lru_cache(maxsize=16)
def _blacklist_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words only ("filed", "mapping" pass); a phrase matches across any whitespace.
    alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def blacklisted_word(text: str, words: Sequence[str]) -> str | None:
    """The first blacklisted word or phrase in the text, lowercased and single-spaced."""
    words = tuple(w for w in words if w.strip())
    if not words:
        return None
    match = _blacklist_pattern(words).search(text)
    return " ".join(match.group(0).lower().split()) if match else None


def instruction_reject(
    instruction: str,
    *,
    truncated: bool = False,
    variant: Variant = "self-instruct",
    min_words: int = 4,
    max_words: int = 150,
    extra_blacklist: Iterable[str] = (),
) -> str | None:
    """None to keep the instruction, else why it is dropped (the first rule that fails)."""
    if min_words > max_words:
        raise ValueError(f"min_words ({min_words}) is greater than max_words ({max_words})")
    text = instruction.strip()
    if not text:
        return "empty instruction"
    if truncated:
        return TRUNCATED
    n = len(text.split())
    if not min_words <= n <= max_words:
        unit = "word" if n == 1 else "words"
        return f"instruction has {n} {unit} (allowed {min_words}-{max_words})"
    word = blacklisted_word(text, (*BLACKLISTS[variant], *extra_blacklist))
    if word:
        return f"instruction contains blacklisted word '{word}'"
    # The papers saw models tack "Write a program" onto tasks, leaving it unclear whether to
    # answer or to write code; only the opening counts.
    if text.lower().startswith("write a program"):
        return "instruction starts with 'Write a program'"
    if text[0] in string.punctuation:
        return f"instruction starts with punctuation '{text[0]}'"
    if not text[0].isascii():
        return f"instruction starts with a non-ASCII character '{text[0]}'"
    return None


# ---------------------------------------------------------------- instance filters


def instance_reject(input: str, output: str, instruction: str = "") -> str | None:
    """None to keep one (input, output) instance, else why it is dropped."""
    if not output.strip():
        return "empty output"
    if input.strip() == output.strip():
        return "input equals output"
    # Small models often echo the task back as its answer.
    if instruction.strip() and " ".join(output.split()) == " ".join(instruction.split()):
        return "output repeats the instruction"
    # A trailing colon is almost always a generation that stopped before its content.
    if input.strip().endswith(":"):
        return "input ends with a colon"
    if output.strip().endswith(":"):
        return "output ends with a colon"
    return None


def filter_instances(
    pairs: Iterable[Pair], instruction: str = ""
) -> tuple[list[Pair], list[tuple[Pair, str]]]:
    """Split an instruction's instances into kept ones and (instance, reason) rejects.

    Order is kept. After the per-instance rules, a non-empty input seen with different outputs
    is ambiguous, so all its instances go; exact repeats keep their first copy.
    """
    rejected: list[tuple[Pair, str]] = []
    valid: list[Pair] = []
    for pair in pairs:
        reason = instance_reject(*pair, instruction=instruction)
        if reason:
            rejected.append((pair, reason))
        else:
            valid.append(pair)
    outputs: dict[str, set[str]] = {}
    for inp, out in valid:
        outputs.setdefault(inp.strip(), set()).add(out.strip())
    kept: list[Pair] = []
    seen: set[tuple[str, str]] = set()
    for inp, out in valid:
        key = (inp.strip(), out.strip())
        n_outputs = len(outputs[key[0]])
        if key[0] and n_outputs > 1:
            rejected.append(((inp, out), f"input appears with {n_outputs} different outputs"))
        elif key in seen:
            rejected.append(((inp, out), "duplicate instance"))
        else:
            seen.add(key)
            kept.append((inp, out))
    return kept, rejected


# ---------------------------------------------------------------- parsers

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
