"""The quality filters of Self-Instruct and Alpaca, as pure functions (parsers.py reads the replies).

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

from camelid.text import word_count

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
    n = word_count(text)
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
