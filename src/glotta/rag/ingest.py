"""Read a user's own documents (PDF, DOCX, HTML, Markdown, text, glotta corpora) into clean text.

A folder of real documents always holds some that cannot be read: a scanned PDF without a text
layer, an encrypted or broken file, a spreadsheet. Those are named, counted by reason and skipped,
so one bad file never stops a build; a folder that yields nothing at all is an error. The parsers
(pypdf, python-docx, trafilatura) are imported only when a file of their kind is read.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from glotta.data.corpus import CorpusReader
from glotta.errors import GlottaError
from glotta.rag.normalise import join_pages, normalise_text

CORPUS_SUFFIXES = (".jsonl", ".parquet")  # glotta's own corpus layouts, read by CorpusReader
TITLE_SEPARATOR = " \u2013 "  # an en dash, as in the statutes' "<regulation> \u2013 <section>" titles
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    offset: int  # where the heading's text starts in the document's text (where its section starts, for a
    # heading taken from a corpus record's title, whose text is not in the document's text)


@dataclass(frozen=True)
class Document:
    id: str  # the path relative to the input folder: stable across machines and rebuilds
    title: str
    text: str
    source: str  # the file it was read from
    pages: tuple[tuple[int, int, int], ...] = ()  # (page number, start, end) in ``text``; PDFs only
    headings: tuple[Heading, ...] = ()


@dataclass
class Ingested:
    """The documents read, and every file left out with its reason."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    @property
    def skipped_by_reason(self) -> Counter:
        return Counter(reason for _, reason in self.skipped)


class Unreadable(Exception):
    """A file that cannot be read; its message is the reason it is counted under."""


def optional_module(module: str):
    """A module of the ``docs`` extra, or one error saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise GlottaError(f"reading this kind of document needs {module.split('.')[0]}, which is not installed",
                          fix="pip install 'glotta[docs]'") from None


def ingest(paths: list[Path]) -> Ingested:
    """Every readable document under ``paths`` (folders are searched recursively), in path order."""
    result = Ingested()
    seen: dict[str, Path] = {}
    for root in paths:
        if not root.exists():
            raise GlottaError("document folder or file not found", fix="check the path", path=root)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            relative = path.relative_to(root).as_posix() if root.is_dir() else path.name
            try:
                documents = list(_read(path, relative))
            except Unreadable as exc:
                result.skipped.append((str(path), str(exc)))
                continue
            except OSError as exc:  # a file without read permission, or one removed while the folder is read
                result.skipped.append((str(path), f"cannot be read ({exc.strerror or exc})"))
                continue
            for document in documents:
                if document.id in seen:
                    raise GlottaError(f"two documents have the id {document.id!r} (also in {seen[document.id]})",
                                      fix="give each input folder or file a different name", path=path)
                seen[document.id] = path
            result.documents.extend(documents)
    if not result.documents:
        raise _nothing_usable(paths, result)
    return result


def _nothing_usable(paths: list[Path], result: Ingested) -> GlottaError:
    counts = ", ".join(f"{count} {reason}" for reason, count in result.skipped_by_reason.most_common())
    problem = f"no usable document ({counts})" if counts else "no files to read"
    if len(paths) > 1:
        problem += f" in {', '.join(map(str, paths))}"
    fix = (f"add documents with a text layer ({', '.join(READERS)}, or a glotta docs.jsonl/.parquet "
           "corpus); run OCR (e.g. ocrmypdf) on scanned PDFs first")
    return GlottaError(problem, path=paths[0] if len(paths) == 1 else None, fix=fix)


def _read(path: Path, relative: str) -> Iterator[Document]:
    suffix = path.suffix.lower()
    if suffix in CORPUS_SUFFIXES:
        yield from _corpus(path, relative)
        return
    if suffix not in READERS:
        raise Unreadable("unsupported extension")
    if path.stat().st_size == 0:
        raise Unreadable("empty file")
    title, text, pages, headings = READERS[suffix](path)
    if not text.strip():
        raise Unreadable("no text layer (scanned PDF?)" if suffix == ".pdf" else "no text")
    yield Document(relative, title or path.stem, text, str(path), pages, headings)


def _corpus(path: Path, relative: str) -> Iterator[Document]:
    try:
        reader = CorpusReader([path])
        records = list(reader)
    except GlottaError as exc:  # a broken Parquet file is one bad file among many here, not a stop
        raise Unreadable(f"corrupt {path.suffix[1:]} corpus ({exc.problem})") from None
    if not records:
        raise Unreadable("no usable record")
    for record in records:
        title, section = _split_title(record.title)
        headings = (Heading(1, section, 0),) if section else ()
        yield Document(f"{relative}:{record.id}", title, normalise_text(record.text), str(path), (), headings)


def _split_title(title: str) -> tuple[str, str]:
    """``"<work> \u2013 <section>"`` (glotta corpora's convention, e.g. a statute's chapter) as (work, section).

    The section becomes a heading at offset 0 whose text is not in the document's text, so chunk
    titles read as before and the section heading can serve as a query.
    """
    work, separator, section = title.rpartition(TITLE_SEPARATOR)
    return (work.strip(), section.strip()) if separator and work.strip() and section.strip() else (title, "")


def _pdf(path: Path):
    pypdf = optional_module("pypdf")
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)  # a broken file is reported once, as skipped, not as warnings per object
    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
            raise Unreadable("encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata or {}).get("/Title") or ""
        text, spans = join_pages(pages)
        headings = _outline(reader, reader.outline, text, {n: (start, end) for n, start, end in spans}, 1)
    except Unreadable:
        raise
    except Exception as exc:  # pypdf raises many types (PdfReadError, KeyError, ValueError...) for a broken file
        raise Unreadable("corrupt PDF") from exc
    finally:
        logger.setLevel(level)
    return str(title), text, spans, tuple(sorted(headings, key=lambda h: h.offset))


def _outline(reader, items: list, text: str, pages: dict[int, tuple[int, int]], level: int) -> list[Heading]:
    """The PDF's bookmarks (its outline) as headings: where the title is printed on its page, else the page's start.

    pypdf lists a bookmark's children as a list right after it, one level deeper.
    """
    headings = []
    for item in items:
        if isinstance(item, list):
            headings += _outline(reader, item, text, pages, level + 1)
            continue
        heading = normalise_text(str(item.title or ""))
        number = reader.get_destination_page_number(item)  # None for a bookmark that points nowhere
        page = None if number is None else pages.get(number + 1)
        if heading and page:
            found = text.find(heading, *page)
            headings.append(Heading(level, heading, found if found >= 0 else page[0]))
    return headings


def _docx(path: Path):
    docx = optional_module("docx")
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # a broken zip, a missing part, or another format renamed .docx
        raise Unreadable("corrupt DOCX") from exc
    blocks = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        level = 0 if style == "Title" else int(style[8:]) if re.fullmatch(r"Heading \d", style) else None
        blocks.append((level, paragraph.text))
    title = document.core_properties.title or next((text for level, text in blocks if level == 0), "")
    return (title, *_assemble(blocks))


def _html(path: Path):
    trafilatura = optional_module("trafilatura")
    from lxml import etree

    html = path.read_bytes()
    xml = trafilatura.extract(html, output_format="xml", include_comments=False, include_tables=True,
                              favor_recall=True, with_metadata=True)
    if not xml:
        return "", "", (), ()
    root = etree.fromstring(xml.encode())
    blocks = []
    for element in root.iter("head", "p", "item", "cell", "quote", "code"):
        text = " ".join("".join(element.itertext()).split())
        rend = element.get("rend") or ""
        level = int(rend[1:]) if element.tag == "head" and re.fullmatch(r"h\d", rend) else None
        blocks.append((level, text))
    return (root.get("title") or "", *_assemble(blocks))


def _assemble(blocks: list[tuple[int | None, str]]):
    """Text from (heading level or None, text) blocks, one blank line apart, with the headings' offsets."""
    parts, headings, start = [], [], 0
    for level, raw in blocks:
        text = normalise_text(raw)
        if not text:
            continue
        if parts:
            start += 2
        if level is not None:
            headings.append(Heading(max(level, 1), text, start))
        parts.append(text)
        start += len(text)
    return "\n\n".join(parts), (), tuple(headings)


def _utf8(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("not UTF-8") from None


def _markdown(path: Path):
    """Heading lines keep their words (without the ``#``) in the text, so offsets point at them."""
    blocks: list[tuple[int | None, str]] = []
    paragraph: list[str] = []
    for line in _utf8(path).splitlines():
        match = _MARKDOWN_HEADING.match(line)
        if match or not line.strip():
            blocks.append((None, "\n".join(paragraph)))
            paragraph = []
        if match:
            blocks.append((len(match[1]), match[2]))
        elif line.strip():
            paragraph.append(line)
    blocks.append((None, "\n".join(paragraph)))
    title = next((text for level, text in blocks if level == 1), "")
    return (title, *_assemble(blocks))


def _plain(path: Path):
    return "", normalise_text(_utf8(path)), (), ()


READERS = {".pdf": _pdf, ".docx": _docx, ".html": _html, ".htm": _html, ".md": _markdown, ".txt": _plain}
