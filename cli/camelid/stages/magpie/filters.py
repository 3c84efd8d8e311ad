"""Magpie's rule filters, none of which needs a model: each returns why a text fails (None: it
passes), so a dropped record carries its reason to --rejects."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Rules:
    min_words: int = 3
    max_words: int = 200
    min_ascii: float = 0.9  # share of letters that are ASCII; 0 turns the check off
    ngram: int = 4
    max_repeated_share: float = 0.3  # of the text's n-grams, the share that repeat an earlier one
    max_line_repeats: int = 2  # a line (3+ words) seen more often than this is a loop


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def length_reason(text: str, min_words: int, max_words: int) -> str | None:
    count = len(words(text))
    if count < min_words:
        return f"too short: {count} words (at least {min_words})"
    if count > max_words:
        return f"too long: {count} words (at most {max_words})"
    return None


def ascii_share(text: str) -> float:
    """The share of letters that are ASCII: 1.0 for English, low for other scripts."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    return sum(c.isascii() for c in letters) / len(letters)


def language_reason(text: str, min_ascii: float) -> str | None:
    share = ascii_share(text)
    if share < min_ascii:
        return f"not English: {share:.0%} of letters are ASCII (at least {min_ascii:.0%})"
    return None


def repeated_share(tokens: list[str], n: int) -> float:
    """The share of the n-grams that repeat an earlier one (0 for a text without repeats)."""
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    if not grams:
        return 0.0
    return (len(grams) - len(set(grams))) / len(grams)


def repetition_reason(text: str, rules: Rules) -> str | None:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    counts = Counter(line for line in lines if len(line.split()) >= 3)
    if counts:
        line, times = counts.most_common(1)[0]
        if times > rules.max_line_repeats:
            return f"repetition: a line repeated {times} times: '{line[:60]}'"
    share = repeated_share(words(text), rules.ngram)
    if share > rules.max_repeated_share:
        return (
            f"repetition: {share:.0%} of its {rules.ngram}-grams repeat "
            f"(at most {rules.max_repeated_share:.0%})"
        )
    return None


def query_reason(text: str, rules: Rules) -> str | None:
    """Why a generated user query is not kept: empty, length, language, repetition."""
    if not text.strip():
        return "empty query"
    for reason in (
        length_reason(text, rules.min_words, rules.max_words),
        language_reason(text, rules.min_ascii) if rules.min_ascii > 0 else None,
        repetition_reason(text, rules),
    ):
        if reason:
            return f"query {reason}"
    return None


def answer_reason(text: str, rules: Rules) -> str | None:
    """Why an answer is not kept: empty, or looping (its length is the model's business)."""
    if not text.strip():
        return "empty answer"
    reason = repetition_reason(text, rules)
    return f"answer {reason}" if reason else None
