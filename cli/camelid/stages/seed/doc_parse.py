"""Plain text and Markdown -> sections: a heading (or none) and the blocks of text under it.

A block is a paragraph, a list or a code block. We keep the Markdown of the prose (emphasis,
lists, code) because chat models answer in Markdown too, but drop what only a renderer needs:
images, badges, raw HTML tags, comments and link targets (link words are counted instead, so
the cleaner can spot navigation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from camelid.text import word_count

WORD_LIMIT_HEADING = 10  # a plain-text line longer than this is prose, not a title


@dataclass
class Block:
    text: str
    link_words: int = 0


@dataclass
class Section:
    heading: str | None
    blocks: list[Block] = field(default_factory=list)


_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_URL = re.compile(r"https?://\S+")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_STRUCTURED = re.compile(r"^\s*([-*+]\s|\d+[.)]\s|\||>|\t| {4})")
_END_PUNCT = (".", "!", "?", ",", ";", ":")


def markdown_sections(text: str) -> list[Section]:
    text = _COMMENT.sub("", _FRONT_MATTER.sub("", _normalize(text)))
    sections = [Section(None)]
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        if lines:
            block = _markdown_block(lines, fenced_code=_FENCE.match(lines[0]) is not None)
            if block.text:
                sections[-1].blocks.append(block)
            lines.clear()

    for line in text.split("\n"):
        if fenced or _FENCE.match(line):
            if not fenced:
                flush()
            lines.append(line)
            if fenced and _FENCE.match(line):
                flush()
            fenced = not fenced if _FENCE.match(line) else fenced
            continue
        heading = _ATX.match(line)
        if heading:
            flush()
            sections.append(Section(_inline(heading.group(2) or "")[0] or None))
        elif _SETEXT.match(line) and len(lines) == 1 and not _STRUCTURED.match(lines[0]):
            title = _inline(lines.pop())[0]
            sections.append(Section(title or None))
        elif not line.strip() or _SETEXT.match(line):
            flush()  # a blank line, or a thematic break (---) after one
        elif not _REF_DEF.match(line):
            lines.append(line)
    flush()
    return [s for s in sections if s.blocks or s.heading]


def text_sections(text: str) -> list[Section]:
    """Paragraphs split on blank lines; a short lone line without end punctuation is a title."""
    sections = [Section(None)]
    for paragraph in re.split(r"\n[ \t]*\n", _normalize(text)):
        lines = [line.rstrip() for line in paragraph.strip("\n").split("\n") if line.strip()]
        if not lines:
            continue
        underlined = len(lines) == 2 and _SETEXT.match(lines[1])
        if underlined or (len(lines) == 1 and _looks_like_title(lines[0])):
            sections.append(Section(lines[0].strip()))
        else:
            sections[-1].blocks.append(Block(_unwrap(lines), len(_URL.findall(paragraph))))
    return [s for s in sections if s.blocks or s.heading]


def _looks_like_title(line: str) -> bool:
    words = line.split()
    return (
        0 < len(words) <= WORD_LIMIT_HEADING
        and not line.rstrip().endswith(_END_PUNCT)
        and (line.lstrip()[0].isupper() or line.lstrip()[0].isdigit())
        and not _STRUCTURED.match(line)
    )


def _markdown_block(lines: list[str], fenced_code: bool) -> Block:
    if fenced_code:  # code is kept byte for byte
        return Block("\n".join(lines).strip("\n"))
    link_words = 0
    cleaned = []
    for line in lines:
        text, links = _inline(line)
        link_words += links
        if text.strip():
            cleaned.append(text.rstrip())
    return Block(_unwrap(cleaned), link_words)


def _inline(line: str) -> tuple[str, int]:
    """Line without images, tags and link targets; and how many of its words were links."""
    line = _IMAGE.sub("", line)
    link_words = 0

    def link_text(match: re.Match[str]) -> str:
        nonlocal link_words
        words = (match.group(1) or match.group(2) or "").strip()
        link_words += word_count(words)
        return words

    line = _LINK.sub(link_text, _AUTOLINK.sub(r"\1", line))
    line = _TAG.sub("", line)
    link_words += len(_URL.findall(line))
    return re.sub(r"[ \t]{2,}", " ", line).strip() if line.strip() else "", link_words


def _unwrap(lines: list[str]) -> str:
    """Hard-wrapped prose becomes one line; lists, tables, quotes and indented code keep theirs."""
    if any(_STRUCTURED.match(line) for line in lines):
        return "\n".join(lines).strip()
    return " ".join(line.strip() for line in lines).strip()


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
