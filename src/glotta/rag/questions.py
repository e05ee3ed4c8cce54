"""Questions a person wrote (``--questions``, JSONL or CSV), matched to the documents they are about.

Each row has a ``question`` and a ``document`` (its id as the build names it, or the part after
the folder or corpus name when that is unique), an ``answer`` (text of the documents), or both.
A document makes every chunk of it relevant; an answer makes relevant every chunk that holds a
share of one of its occurrences, so an answer that straddles two chunks counts in both. Answers
are found case- and whitespace-insensitively; one found nowhere is reported with its line and
left out, never dropped silently.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from glotta.data.corpus import require_file
from glotta.data.records import read_jsonl, read_text
from glotta.errors import GlottaError
from glotta.rag.ingest import Document
from glotta.rag.queries import Query, Span

FIELDS = ("question", "document", "answer")
_FIX = ('one question per row: {"question": ..., "document": ..., "answer": ...} (JSONL) or a CSV with the header '
        "question,document,answer; each row needs a question and a document, an answer, or both")


@dataclass
class Questions:
    queries: list[Query] = field(default_factory=list)
    not_found: list[tuple[int, str]] = field(default_factory=list)  # (line, answer) matched nowhere


class FoldedText:
    """A text case-folded with runs of whitespace made one space, and where each folded character came from."""

    def __init__(self, text: str):
        chars, origin, space = [], [], False
        for position, char in enumerate(text):
            if char.isspace():
                if not space and chars:
                    chars.append(" ")
                    origin.append(position)
                space = True
                continue
            space = False
            for folded in char.casefold():
                chars.append(folded)
                origin.append(position)
        self.text, self.origin = "".join(chars), origin

    def find_all(self, needle: str) -> list[tuple[int, int]]:
        """(start, end) in the original text of every occurrence of ``needle`` (folded like the text)."""
        needle = FoldedText(needle.strip()).text
        spans, at = [], self.text.find(needle) if needle else -1
        while at >= 0:
            spans.append((self.origin[at], self.origin[at + len(needle) - 1] + 1))
            at = self.text.find(needle, at + 1)
        return spans


def _rows(path: Path) -> list[tuple[int, dict]]:
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(read_text(path)))
        if reader.fieldnames is None or "question" not in reader.fieldnames:
            raise GlottaError("the CSV has no 'question' column in its header line", fix=_FIX, path=path, line=1)
        return [(reader.line_num, row) for row in reader]
    return list(read_jsonl(path, {}))


class DocumentIndex:
    """A row's ``document`` value to a document: the full id, or a unique tail after ``/`` or ``:``."""

    def __init__(self, documents: list[Document]):
        self.by_id = {d.id: d for d in documents}
        tails: dict[str, list[Document]] = {}
        for document in documents:
            for separator in ("/", ":"):
                if separator in document.id:
                    tails.setdefault(document.id.rsplit(separator, 1)[1], []).append(document)
        self.tails = tails

    def find(self, name: str, path: Path, line: int) -> Document:
        if name in self.by_id:
            return self.by_id[name]
        matches = self.tails.get(name, [])
        if len(matches) == 1:
            return matches[0]
        example = next(iter(self.by_id))
        if matches:
            raise GlottaError(f"document {name!r} names {len(matches)} documents ({matches[0].id}, {matches[1].id})",
                              fix="give the document's full id", path=path, line=line)
        raise GlottaError(f"document {name!r} is not among the documents read",
                          fix=f"use a document id as the build names it (e.g. {example!r}: the file's path "
                              "under the input folder, and ':<id>' for a record of a corpus file)",
                          path=path, line=line)


def read_questions(path: Path, documents: list[Document]) -> Questions:
    require_file(path, "--questions file", _FIX)
    index = DocumentIndex(documents)
    folded: dict[str, FoldedText] = {}
    result = Questions()
    for line, row in _rows(path):
        unknown = sorted(set(row) - set(FIELDS))
        if unknown:
            raise GlottaError(f"unknown field {unknown[0]!r}", fix=f"fields: {', '.join(FIELDS)}", path=path, line=line)
        values = {name: row.get(name) for name in FIELDS}
        for name, value in values.items():
            if value is not None and not isinstance(value, str):
                raise GlottaError(f"{name!r} is {type(value).__name__}, not text", fix=_FIX, path=path, line=line)
        question, document, answer = (" ".join((values[name] or "").split()) for name in FIELDS)
        if not question:
            raise GlottaError("empty question", fix=_FIX, path=path, line=line)
        if not document and not answer:
            raise GlottaError("the row has neither a document nor an answer", fix=_FIX, path=path, line=line)
        candidates = [index.find(document, path, line)] if document else documents
        answers = []
        if answer:
            for candidate in candidates:
                if candidate.id not in folded:
                    folded[candidate.id] = FoldedText(candidate.text)
                answers += [Span(candidate.id, s, e) for s, e in folded[candidate.id].find_all(answer)]
            if not answers:
                result.not_found.append((line, answer))
                continue
        owner = candidates[0].id if document else answers[0].document_id
        sections = () if answers else (Span(owner, 0, len(candidates[0].text)),)
        result.queries.append(Query(question, "human", owner, answers=tuple(answers), sections=sections, line=line))
    if not result.queries:
        raise GlottaError("no usable question" + (f" ({len(result.not_found)} answers found in no document)"
                                                   if result.not_found else ""), fix=_FIX, path=path)
    return result

