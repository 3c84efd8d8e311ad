"""HTML -> sections (heading + blocks) with the stdlib parser: no new dependency.

Page furniture is skipped at the element level, before any text heuristics: scripts, styles,
navigation, footers, forms, sidebars, and elements whose role, id or class says they are
navigation, cookie banners and the like. A <header> is skipped only outside article/main/section,
where it is the site banner; inside them it holds the article's own title.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from camelid.stages.seed.doc_parse import Block, Section
from camelid.text import word_count

SKIP_TAGS = {
    "script", "style", "nav", "footer", "noscript", "template", "svg", "iframe", "form",
    "button", "select", "aside", "head", "dialog", "menu",
}  # fmt: skip
SKIP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "dialog"}
SKIP_CLASS_WORDS = {
    "nav", "navbar", "navigation", "menu", "footer", "cookie", "cookies", "consent",
    "breadcrumb", "breadcrumbs", "sidebar", "share", "social", "advert", "ads", "banner",
    "skip", "pagination", "toc",
}  # fmt: skip
CONTENT_TAGS = {"article", "main", "section"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
LISTS = {"ul", "ol", "dl"}
BLOCK_TAGS = {
    "p", "div", "li", "dd", "dt", "br", "tr", "table", "blockquote", "pre", "section",
    "article", "main", "figcaption", "hr", "header", "body", "html", "address", "details",
    "summary", "figure",
}  # fmt: skip
_WORD_SPLIT = re.compile(r"[\s_\-:]+")


class _SectionParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections = [Section(None)]
        self.parts: list[str] = []
        self.link_words = 0
        self.skip_tag: str | None = None  # the element being skipped, and how deep in it we are
        self.skip_depth = 0
        self.in_content = self.in_link = self.in_pre = self.in_list = 0
        self.heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_tag is not None:
            self.skip_depth += tag == self.skip_tag
            return
        if self._is_furniture(tag, dict(attrs)):
            self.skip_tag, self.skip_depth = tag, 1
            return
        self.in_content += tag in CONTENT_TAGS
        self.in_link += tag == "a"
        if tag in HEADINGS:
            self._flush()
            self.heading = []
        elif tag == "pre":
            self._flush()
            self.in_pre += 1
        elif tag in LISTS:
            if not self.in_list:
                self._flush()
            self.in_list += 1
        elif tag in ("li", "dt", "dd") and self.in_list:
            if tag == "dd":  # "- term: definition" on one line
                self.parts[:] = ["".join(self.parts).rstrip(), ": "]
            else:
                self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in BLOCK_TAGS:
            self._block_break()

    def handle_endtag(self, tag: str) -> None:
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        self.in_content -= tag in CONTENT_TAGS and self.in_content > 0
        self.in_link -= tag == "a" and self.in_link > 0
        if tag in HEADINGS and self.heading is not None:
            title = " ".join("".join(self.heading).split())
            self.heading = None
            self.sections.append(Section(title or None))
        elif tag == "pre" and self.in_pre:
            self._flush()
            self.in_pre -= 1
        elif tag in LISTS and self.in_list:
            self.in_list -= 1
            if not self.in_list:
                self._flush()
        elif tag in BLOCK_TAGS:
            self._block_break()

    def handle_data(self, data: str) -> None:
        if self.skip_tag is not None:
            return
        if self.heading is not None:
            self.heading.append(data)
            return
        if not self.in_pre:
            data = re.sub(r"\s+", " ", data)
        if self.in_link:
            self.link_words += word_count(data)
        self.parts.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _is_furniture(self, tag: str, attrs: dict[str, str | None]) -> bool:
        if tag in SKIP_TAGS or (tag == "header" and not self.in_content):
            return True
        if (attrs.get("role") or "").lower() in SKIP_ROLES or "hidden" in attrs:
            return True
        names = f"{attrs.get('id') or ''} {attrs.get('class') or ''}".lower()
        return bool(SKIP_CLASS_WORDS & set(_WORD_SPLIT.split(names)))

    def _block_break(self) -> None:
        if self.in_list:
            self.parts.append(" ")  # a <p> inside a list item stays in the list
        elif not self.in_pre:
            self._flush()

    def _flush(self) -> None:
        raw = "".join(self.parts)
        self.parts.clear()
        if self.in_pre:  # a code block, fenced as in Markdown so the cleaner can see it
            code = raw.strip("\n").rstrip()
            text = f"```\n{code}\n```" if code.strip() else ""
        else:
            lines = (" ".join(line.split()) for line in raw.split("\n"))
            text = "\n".join(line for line in lines if line not in ("", "-"))
        if text.strip():
            self.sections[-1].blocks.append(Block(text, self.link_words))
        self.link_words = 0


def html_sections(text: str) -> list[Section]:
    parser = _SectionParser()
    parser.feed(text)
    parser.close()
    return [s for s in parser.sections if s.blocks or s.heading]
