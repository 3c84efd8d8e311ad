"""Evol-Instruct's elimination rules that need no model: pure functions, each giving the reason
an evolution is dropped (None: it passes). The equality judge is a model stage (stage.py); it
and the answer check use `unanswerable` and `read_equal` here to read the model's replies.

Reasons start with the rule's name, so --stats counts them per rule.
"""

from __future__ import annotations

import re

import orjson

from camelid.text import word_tokens

# The paper's rule: an answer that says sorry and is short (under 80 words) shows that the
# model struggled with the evolved instruction. Any answer under MIN_ANSWER_WORDS is no answer.
SORRY_WORDS, MIN_ANSWER_WORDS = 80, 3
_SORRY = re.compile(r"\bsorry\b", re.IGNORECASE)

# Words of the evolving prompt that must not reach the evolution: the paper's labels and ours.
_LEAK = re.compile(
    r"#[^#\n]{0,40}(?:prompt|task)[^#\n]{0,10}#"
    r"|\b(?:given|rewritten|created|evolved|original)\s+prompts?\b"
    r"|\brewritten\s+(?:task|instruction|version)s?\b",
    re.IGNORECASE,
)

# English function words (articles, pronouns, auxiliaries, prepositions, conjunctions).
_STOP_TEXT = """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    i'm it's don't isn't aren't can't won't let's"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def _normal(text: str) -> list[str]:
    return word_tokens(text)


def same_as_parent(evolved: str, parent: str) -> str | None:
    """An evolution that only changes case, spacing or punctuation adds no information."""
    if _normal(evolved) == _normal(parent):
        return "no information gain: the same words as its parent"
    return None


def leaked_words(evolved: str) -> str | None:
    """The evolution copies the evolving prompt's own words ("#Rewritten Prompt#", "given
    prompt", ...): it talks about the rewriting instead of being a task."""
    if match := _LEAK.search(evolved):
        return f"prompt leakage: says '{' '.join(match.group(0).lower().split())}'"
    return None


def only_stop_words(evolved: str) -> str | None:
    """Nothing but punctuation and stop words (or nothing at all)."""
    if all(word in STOP_WORDS for word in word_tokens(evolved)):
        return "only punctuation and stop words"
    return None


def evolution_problem(evolved: str, parent: str) -> str | None:
    """The first rule that drops this evolution without asking a model, or None."""
    return only_stop_words(evolved) or leaked_words(evolved) or same_as_parent(evolved, parent)


def unanswerable(answer: str) -> str | None:
    """The model could not answer the evolution: it says sorry in a short answer (the paper's
    rule), or it wrote next to nothing."""
    words = len(answer.split())
    if words < MIN_ANSWER_WORDS:
        return f"unanswerable: the answer has {words} words (at least {MIN_ANSWER_WORDS})"
    if words < SORRY_WORDS and _SORRY.search(answer):
        return f"unanswerable: the answer says sorry in {words} words (under {SORRY_WORDS})"
    return None


def read_equal(text: str) -> bool | None:
    """The equality judge's verdict: True (equal), False, or None when it cannot be read. JSON
    {"equal": "yes"|"no"} as the schema asks; plain "yes"/"no"/"equal"/"not equal" as well."""
    value: object = None
    try:
        parsed = orjson.loads(text.strip())
        value = parsed.get("equal") if isinstance(parsed, dict) else parsed
    except orjson.JSONDecodeError:
        value = text
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    words = word_tokens(value)
    if words[:2] == ["not", "equal"] or words[:1] == ["no"]:
        return False
    if words[:1] in (["yes"], ["equal"]):
        return True
    return None
