"""Humpback-style cleaning: is this block page furniture, and is this segment a usable answer?

Each check returns a reason (for --rejects) or None. The thresholds are deliberately plain so a
user can predict them; they were tuned on READMEs, package descriptions and HTML manuals.
"""

from __future__ import annotations

import re

from camelid.text import content_word_count, word_count

# Phrases of site chrome. Only short blocks are checked: an article *about* cookies is content.
BOILERPLATE = re.compile(
    r"\bwe use cookies\b|\bcookie (?:policy|settings|preferences|consent|notice)\b"
    r"|\baccept (?:all )?cookies\b|\ball rights reserved\b|(?:©|\(c\)|\bcopyright\b)\s*\d{4}"
    r"|\bprivacy (?:policy|notice)\b|\bterms (?:of|and) (?:use|service|conditions)\b"
    r"|\bskip to (?:main )?content\b|\bback to top\b|\bsubscribe to (?:our|the) newsletter\b"
    r"|\bfollow us on\b|\bshare (?:this|on) (?:facebook|twitter|linkedin)\b"
    r"|\bsign (?:in|up) to\b|\blog ?in to (?:your|continue)\b",
    re.I,
)
BOILERPLATE_MAX_WORDS = 40
LINK_SHARE = 0.5  # more than half the words are link text: a link list, not prose
MIN_ALPHA_SHARE = 0.6  # letters among non-space characters; prose is ~0.8, tables and code lower
SHORT_LINE_WORDS = 3  # menu entries: Home / About us / Contact
TINY_LINE_WORDS = 2
MAX_CODE_SHARE = 0.75  # of a segment's words; more is a code dump or transcript, not an answer
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LIST_MARK = re.compile(r"^\s*(?:[-*+•·|]|\d+[.)])\s*")


def block_problem(text: str, link_words: int) -> str | None:
    """Why a block is navigation or boilerplate, or None when it looks like content."""
    # List markers ("1.", "-") are not words: a numbered list of links is still all links.
    words = sum(content_word_count(_LIST_MARK.sub("", line)) for line in text.split("\n"))
    if not words:
        return "empty"
    if link_words / words > LINK_SHARE:
        return "navigation: mostly links"
    if words <= BOILERPLATE_MAX_WORDS and BOILERPLATE.search(text):
        return "boilerplate: cookie, copyright or site notice"
    if _menu_like(text):
        return "navigation: menu-like list"
    return None


def _menu_like(text: str) -> bool:
    """Three or more lines, each at most three Title-Case words: Home / About us / Contact."""
    lines = [_LIST_MARK.sub("", line).strip() for line in text.split("\n") if line.strip()]
    if len(lines) < 3:
        return False
    return all(
        0 < word_count(line) <= SHORT_LINE_WORDS
        and all(w[0].isupper() or not w[0].isalpha() for w in line.split())
        and not line.endswith((".", "!", "?", ":"))
        and not any(c.isdigit() for c in line)
        for line in lines
    )


def segment_problem(text: str, min_words: int, max_words: int) -> str | None:
    """Why a candidate answer segment is unusable, or None.

    The character and line checks look at the prose only: code is judged by its share alone, so
    an explanation with a short snippet passes and a console transcript does not.
    """
    words = content_word_count(text)
    if words < min_words:
        return f"too short: {words} words < --min-words {min_words}"
    if words > max_words:
        return f"too long: {words} words > --max-words {max_words}"
    prose, code = _split_code(text)
    code_words = sum(content_word_count(line) for line in code)
    if code_words > MAX_CODE_SHARE * words:
        return f"mostly code or console output ({code_words / words:.0%} of the words)"
    visible = [c for line in prose for c in line if not c.isspace()]
    alpha = sum(c.isalpha() for c in visible) / max(len(visible), 1)
    if alpha < MIN_ALPHA_SHARE:
        return f"mostly non-alphabetic characters ({alpha:.0%} letters)"
    short = sum(word_count(_LIST_MARK.sub("", line)) <= TINY_LINE_WORDS for line in prose)
    if len(prose) >= 4 and short / len(prose) > 0.5:
        return f"mostly very short lines ({short} of {len(prose)})"
    return None


def _split_code(text: str) -> tuple[list[str], list[str]]:
    """Non-blank lines outside and inside fenced code blocks (fence lines count as code)."""
    prose: list[str] = []
    code: list[str] = []
    fenced = False
    for line in text.split("\n"):
        fence = _FENCE.match(line) is not None
        if fence or fenced:
            code.append(line)
        elif line.strip():
            prose.append(line)
        fenced ^= fence
    return prose, code
