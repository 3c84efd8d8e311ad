"""Humpback's two tags: system prompts that tell the model where a training example came from.

Seed pairs (written by people as assistant answers) and augmented pairs (web text with a
backtranslated instruction) differ in style. Humpback trains on both with a tag saying which is
which, then prompts with the seed tag at inference to get assistant-style answers.

Records carry the origin in `source` ("seed" or "augmented"); the tag is not written into
`system` by `backtranslate`, so a dataset stays plain and the wording can change in one place.
`export` and `train` apply it with `tag_system_prompt` (our wording, not the paper's).
"""

from __future__ import annotations

from camelid.records import Record

SEED_TAG = "Respond the way a helpful AI assistant would."
AUGMENTED_TAG = "Respond using knowledge found through a web search."

TAGS: dict[str, str] = {"seed": SEED_TAG, "augmented": AUGMENTED_TAG}


def tag_system_prompt(record: Record) -> str | None:
    """The system prompt that tags this record's origin, or None for other sources."""
    return TAGS.get(record.source or "")
