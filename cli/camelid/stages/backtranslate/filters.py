"""Is a backtranslated instruction usable? Objective rules, each with one exact reason.

`instruction_problem` returns None to keep an instruction or the reason of the first rule it
fails. The rules catch what small models were seen to write in place of an instruction, in this
order: nothing; a fragment or a run-on; a reply cut at the schema's length bound; the segment's
own words (often its first sentence); an in-context example, whole or by its topic words; a
question about "the text" the user never gives; a phrase looping; a statement, not a request.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from camelid.text import word_tokens

MIN_WORDS, MAX_WORDS = 3, 150
REPEAT_NGRAM, REPEAT_TIMES = 3, 3  # the same three words three times over: a loop

# How a request or question opens: question words, auxiliaries, common imperative verbs and
# greetings. An instruction that ends in "?" needs none of these.
_OPENER_WORDS = """what which who whom whose when where why how is are was were am do does
    did can could will would should shall may might must have has had please i i'm i've i'd my
    we we're let let's hi hello hey explain describe write give list tell summarize summarise
    compare show provide create suggest name make help translate define outline recommend find
    calculate compute generate rewrite classify identify plan design draft compose convert teach
    walk introduce discuss analyze analyse evaluate share offer prepare imagine pretend act argue
    justify fix implement build sort rank rate choose pick predict estimate solve correct edit
    improve shorten expand paraphrase brainstorm detail elaborate illustrate"""
OPENERS = frozenset(_OPENER_WORDS.split())
# The user gives the model nothing but the instruction, so pointing at a text is unanswerable.
# ("the answer" alone is left out: "What is the answer to 17 x 3?" is a fine instruction.)
ABSENT_TEXT = re.compile(
    r"\b(?:(?:this|that|above|following|given|provided) "
    r"(?:text|passage|paragraph|excerpt|segment|answer|response|reply|article|document)"
    r"|the (?:text|passage|paragraph|excerpt|segment)|the above)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Exemplar:
    """An in-context example of a prompting pack: its instruction and its topic words."""

    instruction: str
    topic_words: tuple[str, ...] = field(default=())


def instruction_problem(
    instruction: str,
    segment: str,
    exemplars: Sequence[Exemplar] = (),
    max_chars: int | None = None,
) -> str | None:
    """None to keep the instruction written for `segment`, else why it is rejected.

    `max_chars` is the reply schema's length bound: an instruction that reaches it was cut off.
    """
    text = instruction.strip()
    if not text:
        return "empty instruction"
    found = word_tokens(text)
    if len(found) < MIN_WORDS:
        unit = "word" if len(found) == 1 else "words"
        return f"instruction has {len(found)} {unit} (at least {MIN_WORDS})"
    if len(found) > MAX_WORDS:
        return f"instruction has {len(found)} words (at most {MAX_WORDS})"
    if max_chars is not None and len(text) >= max_chars:
        return f"instruction reached the {max_chars}-character limit of the reply"
    if f" {' '.join(found)} " in f" {' '.join(word_tokens(segment))} ":
        return "instruction is copied from the segment"
    segment_words = set(word_tokens(segment))
    for exemplar in exemplars:
        if found == word_tokens(exemplar.instruction):
            return "instruction repeats an in-context example"
        for topic in exemplar.topic_words:
            if topic.lower() in found and topic.lower() not in segment_words:
                return f"instruction mentions '{topic.lower()}' from an in-context example"
    if match := ABSENT_TEXT.search(text):
        return f"instruction refers to a text it does not include ('{match.group(0).lower()}')"
    if loop := repeated_phrase(found):
        return f"instruction repeats the phrase '{loop}'"
    if not text.endswith("?") and found[0] not in OPENERS:
        return "instruction is neither a question nor a request"
    return None


def repeated_phrase(found: list[str]) -> str | None:
    """The first run of REPEAT_NGRAM words that occurs REPEAT_TIMES times or more."""
    grams = [" ".join(found[i : i + REPEAT_NGRAM]) for i in range(len(found) - REPEAT_NGRAM + 1)]
    counts = Counter(grams)
    return next((g for g in grams if counts[g] >= REPEAT_TIMES), None)
