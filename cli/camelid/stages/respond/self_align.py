"""Self-Align (Dromedary): the sixteen principles, and the filter its answers must pass.

The self-align pack asks for a structured reply: internal thoughts, the principles they invoke,
then the answer. `respond` keeps the thoughts in `rationales.thoughts` and the principles in
`principles`, so `output` holds only the answer: ready for principle engraving (training on the
answer without the principles in the prompt). The filter refuses answers that would teach the
wrong thing, each with the exact reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from camelid.packs import Pack
from camelid.records import Completion, Record, with_extras
from camelid.stages.respond.stage import Check
from camelid.text import word_tokens

# Canonical names, in the order (and with the numbers) the pack's system prompt gives them.
PRINCIPLES = (
    "ethical",
    "informative",
    "helpful",
    "question assessment",
    "reasoning",
    "multi-aspect",
    "candor",
    "knowledge recitation",
    "static",
    "clarification",
    "numerical sensitivity",
    "dated knowledge",
    "step-by-step",
    "balanced & informative perspectives",
    "creative",
    "operational",
)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower().replace("&", " and ")).strip()


_BY_KEY = {_key(name): name for name in PRINCIPLES}
_NUMBERED = re.compile(r"^\s*(\d{1,2})\s*(?:[.):]|\((?P<name>[^)]*)\))?\s*(?P<rest>.*)$")


def canonical_principle(value: object) -> str | None:
    """The canonical name for "candor", "7", "7 (candor)" or "Step by step"; None if unknown."""
    if isinstance(value, int) and not isinstance(value, bool):
        return PRINCIPLES[value - 1] if 1 <= value <= len(PRINCIPLES) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if match := _NUMBERED.match(text):
        number = int(match.group(1))
        by_number = PRINCIPLES[number - 1] if 1 <= number <= len(PRINCIPLES) else None
        label = _key(match.group("name") or match.group("rest") or "")
        return by_number if not label or _BY_KEY.get(label) == by_number else None
    return _BY_KEY.get(_key(text))


def canonical_principles(values: object) -> list[str] | str:
    """Canonical names, each once, in principle order; or why the list cannot be read."""
    if not isinstance(values, list):
        return "principles is not a list"
    names = set()
    for value in values:
        name = canonical_principle(value)
        if name is None:
            return f"unknown principle {value!r}"
        names.add(name)
    return [p for p in PRINCIPLES if p in names]


@dataclass(frozen=True)
class AnswerRules:
    """Thresholds of the answer filter (each a `respond` option)."""

    min_words: int = 5  # fewer words than this: too short
    leak_words: int = 8  # this many words in a row shared with the pack's fixed text: a leak
    max_repeat_share: float = 0.3  # above this share of repeated sentences: degenerate
    echo_min_words: int = 4  # shorter instructions are not checked for a verbatim echo


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _ngrams(tokens: list[str], n: int) -> dict[tuple[str, ...], int]:
    return {tuple(tokens[i : i + n]): i for i in range(len(tokens) - n + 1)}


# What the model writes in its internal thoughts, and must not carry into the answer.
_NAMES = "|".join(re.escape(name) for name in PRINCIPLES)
FORMAT_MARKERS = (
    re.compile(r'"(?:thoughts|principles|answer)"\s*:', re.I),
    re.compile(r"\binternal thoughts\b", re.I),
    re.compile(r"\bthe user (?:wants|asks|is asking)\b", re.I),
    re.compile(rf"\b\d{{1,2}}\s*\(\s*(?:{_NAMES})\s*\)", re.I),
)


def format_leak(answer: str) -> str | None:
    for marker in FORMAT_MARKERS:
        if match := marker.search(answer):
            return f"answer contains the thought format ({match.group(0)!r})"
    return None


def too_short(answer: str, rules: AnswerRules) -> str | None:
    count = len(word_tokens(answer))
    if count < rules.min_words:
        unit = "word" if count == 1 else "words"
        return f"answer too short: {count} {unit} (--min-answer-words {rules.min_words})"
    return None


def echoes(answer: str, record: Record, rules: AnswerRules) -> str | None:
    said = word_tokens(answer)
    asked = word_tokens(record.instruction or "")
    if len(asked) >= rules.echo_min_words and _contains(said, asked):
        return "answer repeats the instruction verbatim"
    given = word_tokens(record.input or "")
    if given and said == given:
        return "answer only repeats the input"
    return None


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [" ".join(word_tokens(p)) for p in parts if word_tokens(p)]


def repeats(answer: str, rules: AnswerRules) -> str | None:
    sentences = _sentences(answer)
    repeated = len(sentences) - len(set(sentences))
    if len(sentences) >= 3 and repeated / len(sentences) > rules.max_repeat_share:
        return (
            f"answer repeats itself: {repeated} of {len(sentences)} sentences are repeats "
            f"(--max-repeat-share {rules.max_repeat_share})"
        )
    return None


def fixed_grams(fixed: Iterable[str], n: int) -> set[tuple[str, ...]]:
    """Every run of n words in the pack's exemplars."""
    return {gram for text in fixed for gram in _ngrams(word_tokens(text), n)}


def leaks(answer: str, record: Record, grams: set[tuple[str, ...]], n: int) -> str | None:
    """A run of n words copied from the pack's exemplars. Runs that the instruction or input
    itself contains are the user's words, not a leak."""
    own = _ngrams(word_tokens(f"{record.instruction or ''}\n{record.input or ''}"), n)
    said = word_tokens(answer)
    for gram, at in _ngrams(said, n).items():
        if gram in grams and gram not in own:
            return f"answer copies the pack's exemplars: {' '.join(said[at : at + n])!r}"
    return None


def check_answer(
    answer: str, record: Record, grams: set[tuple[str, ...]], rules: AnswerRules
) -> str | None:
    """Why this answer is refused, or None to keep it. The first rule that fails names it.
    `grams`: fixed_grams(exemplar_text(pack), rules.leak_words)."""
    return (
        format_leak(answer)
        or too_short(answer, rules)
        or echoes(answer, record, rules)
        or repeats(answer, rules)
        or leaks(answer, record, grams, rules.leak_words)
    )


PROBE = "\x00camelid-probe\x00"


def exemplar_text(pack: Pack) -> list[str]:
    """The pack's worked exemplars: every message but the system prompt that is the same
    whatever the record (for a completion pack, the text before the record's)."""
    prompt = pack.render(Record(instruction=PROBE, input=PROBE))
    if isinstance(prompt, str):
        return [prompt.split(PROBE)[0]]
    return [m["content"].split(PROBE)[0] for m in prompt if m["role"] != "system"]


def has_thoughts(pack: Pack) -> bool:
    """A principle-driven pack: its reply schema carries thoughts besides the answer."""
    schema = pack.manifest.parser.json_schema or {}
    return {"thoughts", "answer"} <= set(schema.get("properties", {}))


def review(exemplars: Iterable[str], rules: AnswerRules | None) -> Check:
    """The per-completion check of a principle-driven pack: principles by canonical name, then
    the answer filter (rules None: no filter)."""
    grams = fixed_grams(exemplars, rules.leak_words) if rules else set()

    def check(record: Record, completion: Completion) -> Completion | str:
        extra = completion.__pydantic_extra__ or {}
        if "principles" in extra:
            names = canonical_principles(extra["principles"])
            if isinstance(names, str):
                return names
            completion = with_extras(completion, principles=names)
        if rules is not None and (reason := check_answer(completion.text, record, grams, rules)):
            return reason
        return completion

    return check
