"""Text helpers shared by every stage: the one place that says what a word and a token are.

- `word_count` / `split_words`: words as Self-Instruct and Alpaca count them (whitespace
  separated); what every length bound (instruction filters, `filter --min-words`, topics) uses.
- `word_tokens`: lower-cased words without punctuation, apostrophes kept inside a word; for
  comparing texts word by word (copied exemplars, echoed instructions).
- `content_word_count`: whitespace words holding a letter or digit ("-" and "|" are not words).
- `rouge_tokenize` / `unicode_tokenize`: the ROUGE-L tokens of the novelty filter and dedup.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

TokenizerName = Literal["unicode", "rouge"]
TOKENIZERS: tuple[str, ...] = ("unicode", "rouge")

# rouge_score.tokenize.tokenize without a stemmer: lowercase, every run of characters outside
# [a-z0-9] becomes a space, split on whitespace, drop empty tokens. After the substitution only
# [a-z0-9] and " " remain, so str.split() is the same as its re.split + validity filter.
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Scripts written without spaces between words, scored character by character: Han (with the
# iteration marks 々 and 〇), Hiragana, Katakana (NFKC has already widened half-width kana) and
# Hangul (syllables and jamo).
_CJK = re.compile(
    "[\u1100-\u11ff\u3005\u3007\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\U0001b000-\U0001b16f"
    "\U00020000-\U000323af]"
)
_char_kind: dict[str, int] = {}  # cache: 0 separator, 1 word character, 2 CJK character


def rouge_tokenize(text: str) -> list[str]:
    """Exactly rouge_score's default tokenizer (no stemming), on any text."""
    return _NON_ALNUM.sub(" ", text.lower()).split()


def _kind(ch: str) -> int:
    kind = _char_kind.get(ch)
    if kind is None:
        # Letters, digits and combining marks (Devanagari vowel signs, ...) of any script;
        # punctuation inside the CJK blocks (the katakana middle dot) still separates.
        word = unicodedata.category(ch)[0] in "LNM"
        kind = (2 if _CJK.match(ch) else 1) if word else 0
        _char_kind[ch] = kind
    return kind


def unicode_tokenize(text: str) -> list[str]:
    """rouge_score's tokenizer extended to every script.

    Identical to `rouge_tokenize` on ASCII text. Otherwise the text is NFKC-normalised and
    casefolded; runs of letters, digits and marks of any script are tokens, CJK characters are
    one token each, everything else separates tokens.
    """
    if text.isascii():
        return rouge_tokenize(text)
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    tokens: list[str] = []
    start = -1  # start of the current word, or -1
    for i, ch in enumerate(text):
        kind = _kind(ch)
        if kind == 1:
            if start < 0:
                start = i
            continue
        if start >= 0:
            tokens.append(text[start:i])
            start = -1
        if kind == 2:
            tokens.append(ch)
    if start >= 0:
        tokens.append(text[start:])
    return tokens


def tokenize(text: str, tokenizer: TokenizerName = "unicode") -> list[str]:
    if tokenizer == "unicode":
        return unicode_tokenize(text)
    if tokenizer == "rouge":
        return rouge_tokenize(text)
    raise ValueError(f"unknown tokenizer {tokenizer!r}; choose one of: {', '.join(TOKENIZERS)}")


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def split_words(text: str) -> list[str]:
    return text.split()


def word_count(text: str) -> int:
    return len(text.split())


def word_tokens(text: str) -> list[str]:
    """Lower-cased words without punctuation; "don’t" and "don't" are the same word."""
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def content_word_count(text: str) -> int:
    return sum(any(c.isalnum() for c in token) for token in text.split())
