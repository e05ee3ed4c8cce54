"""Clean extracted text so that a query can match it: what PDFs and word processors do to words.

Pure functions on strings. A PDF hands back ligature glyphs ("ﬁ" for "fi"), words hyphenated at
a line break, and the running header and footer of every page; each would stop a query from
matching the words a person reads, or make every page look alike to a retriever.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# Typographic ligatures and the Dutch "ĳ" digraph: NFKC for these characters only, because NFKC on
# a whole text would also rewrite superscripts, fractions and full-width forms that carry meaning.
LIGATURES = "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06\u0132\u0133"
_ANY_LIGATURE = re.compile(f"[{LIGATURES}]")
_LIGATURE_TABLE = str.maketrans({char: unicodedata.normalize("NFKC", char) for char in LIGATURES})
# A letter, a hyphen at the end of a line, and a lower-case letter starting the next: one word
# broken by the layout. An upper-case continuation ("Noord-\nHolland") is a real compound.
_LINE_BREAK_HYPHEN = re.compile(r"([^\W\d_])-[ \t]*\n[ \t]*([^\W\d_])")
_DIGITS = re.compile(r"\d+")
REPEAT_SHARE = 0.6  # a first/last line seen on at least this share of pages is a header or footer
MIN_PAGES_FOR_REPEATS = 3  # on two pages a repeated line is as likely content as a header


def expand_ligatures(text: str) -> str:
    # str.translate with a table walks every character in Python-level lookups; most texts have no ligature
    return text.translate(_LIGATURE_TABLE) if _ANY_LIGATURE.search(text) else text


def join_hyphenated(text: str) -> str:
    """``"verant-\\nwoordelijk"`` -> ``"verantwoordelijk"``; hyphens inside a line stay."""
    return _LINE_BREAK_HYPHEN.sub(lambda match: match[1] + match[2] if match[2].islower() else match[0], text)


def normalise_text(text: str) -> str:
    """NFC, ligatures expanded, broken words joined, trailing spaces and runs of blank lines removed."""
    text = join_hyphenated(expand_ligatures(unicodedata.normalize("NFC", text)))
    text = re.sub(r"[ \t]+\n", "\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _edge_key(line: str) -> str:
    """Page numbers differ from page to page: compare the line without its digits."""
    return _DIGITS.sub("#", " ".join(line.split()))


def strip_repeated_edges(pages: list[str]) -> list[str]:
    """Drop a page's first or last line when it recurs (digits ignored) on >= 60% of the pages."""
    if len(pages) < MIN_PAGES_FOR_REPEATS:
        return pages
    lines = [[line for line in page.split("\n") if line.strip()] for page in pages]
    repeated = set()
    for position in (0, -1):
        counts = Counter(_edge_key(page[position]) for page in lines if page)
        repeated |= {(position, key) for key, count in counts.items() if count >= REPEAT_SHARE * len(pages)}
    cleaned = []
    for page in lines:
        if page and (0, _edge_key(page[0])) in repeated:
            page = page[1:]
        if page and (-1, _edge_key(page[-1])) in repeated:
            page = page[:-1]
        cleaned.append("\n".join(page))
    return cleaned


def join_pages(pages: list[str]) -> tuple[str, tuple[tuple[int, int, int], ...]]:
    """The document's text from its pages' texts, and (page number, start, end) for each page with text."""
    parts, spans, start = [], [], 0
    for number, page in enumerate(strip_repeated_edges(pages), start=1):
        page = normalise_text(page)
        if not page:
            continue
        if parts:
            start += 2  # the blank line between pages
        parts.append(page)
        spans.append((number, start, start + len(page)))
        start += len(page)
    return "\n\n".join(parts), tuple(spans)
