"""Unlabelled documents -> candidate answer segments, for Humpback-style backtranslation.

A segment is the text that follows a heading (Markdown #, HTML h1-h6, a title line in plain text)
up to the next heading. Furniture blocks (link lists, menus, cookie and copyright notices) are
dropped first; a section longer than --max-words is split at paragraph boundaries, packing as
many whole paragraphs per segment as fit; then each segment must pass the length bounds and the
quality checks, and must not repeat an earlier one. Everything dropped goes to --rejects.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from camelid.errors import UsageError
from camelid.io import STDIO, display_name
from camelid.records import Record, Reject, make_record
from camelid.stages.seed.doc_clean import block_problem, segment_problem
from camelid.stages.seed.doc_parse import Block, Section, markdown_sections, text_sections
from camelid.stages.seed.formats import lineage
from camelid.stages.seed.html_sections import html_sections
from camelid.text import content_word_count

DOCUMENT = "document"
KINDS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}
KIND_NAMES = {"text": "a plain-text document", "markdown": "a Markdown document",
              "html": "an HTML document"}  # fmt: skip
PARSERS: dict[str, Callable[[str], list[Section]]] = {
    "text": text_sections,
    "markdown": markdown_sections,
    "html": html_sections,
}
MIN_WORDS, MAX_WORDS = 20, 400


@dataclass
class DocOptions:
    min_words: int = MIN_WORDS
    max_words: int = MAX_WORDS
    seen: set[str] = field(default_factory=set)  # segment texts so far, across all documents


def is_document_path(path: str) -> bool:
    return path != STDIO and (Path(path).is_dir() or Path(path).suffix.lower() in KINDS)


def document_files(path: str) -> list[str]:
    """The file itself, or a folder's documents: recursive, sorted, hidden entries skipped."""
    if path == STDIO or not Path(path).is_dir():
        return [path]
    root = Path(path)
    found = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in KINDS
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not found:
        raise UsageError(f"{path}: no {', '.join(KINDS)} files in this folder")
    return [str(p) for p in found]


def sniff_kind(text: str) -> str:
    """For stdin and unknown extensions: HTML if it starts with a tag, else Markdown."""
    return "html" if text.lstrip().startswith("<") else "markdown"


def read_document(path: str, note: Callable[[str], None]) -> tuple[str, str]:
    """(text, kind). Undecodable bytes are replaced, with a warning, rather than failing a crawl."""
    try:
        data = sys.stdin.buffer.read() if path == STDIO else Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        note(f"seed: {display_name(path)} is not valid UTF-8; undecodable bytes replaced")
        text = data.decode("utf-8", errors="replace")
    kind = KINDS.get(Path(path).suffix.lower()) if path != STDIO else None
    return text, kind or sniff_kind(text)


def segment_document(
    name: str, text: str, kind: str, options: DocOptions
) -> Iterator[Record | Reject]:
    for section in PARSERS[kind](text):
        blocks = []
        for block in section.blocks:
            problem = block_problem(block.text, block.link_words)
            if problem is None:
                blocks.append(block)
            elif problem != "empty":
                yield _reject(problem, name, section.heading, block.text)
        for group in pack(blocks, options.max_words):
            yield _segment(name, section.heading, "\n\n".join(b.text for b in group), options)


def pack(blocks: list[Block], max_words: int) -> list[list[Block]]:
    """Consecutive blocks, as many per group as fit in max_words (a lone long block stays alone)."""
    groups: list[list[Block]] = []
    words = 0
    for block in (part for whole in blocks for part in split_block(whole, max_words)):
        n = content_word_count(block.text)
        if groups and words + n <= max_words:
            groups[-1].append(block)
            words += n
        else:
            groups.append([block])
            words = n
    return groups


def split_block(block: Block, max_words: int) -> list[Block]:
    """A list or other multi-line block too long for one segment, cut between lines."""
    lines = block.text.split("\n")
    if (
        content_word_count(block.text) <= max_words
        or len(lines) == 1
        or block.text.startswith("```")
    ):
        return [block]
    parts = [Block(line) for line in lines]
    return [Block("\n".join(b.text for b in group)) for group in pack(parts, max_words)]


def _segment(name: str, heading: str | None, text: str, options: DocOptions) -> Record | Reject:
    problem = segment_problem(text, options.min_words, options.max_words)
    if problem is None and text in options.seen:
        problem = "duplicate of an earlier segment"
    if problem is not None:
        return _reject(problem, name, heading, text)
    options.seen.add(text)
    return make_record(
        output=text, source=DOCUMENT, lineage=lineage("documents"), document=name, heading=heading
    )


def _reject(reason: str, name: str, heading: str | None, text: str) -> Reject:
    raw = {"output": text, "document": name, "heading": heading}
    return Reject(
        "seed", reason, record={k: v for k, v in raw.items() if v is not None}, where=name
    )
