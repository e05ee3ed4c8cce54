"""Stream documents from a raw corpus: JSONL (``{"id","title","text"}``), plain text or Parquet.

Documents are yielded one at a time, so a corpus far larger than memory can be cut into shards.
Unusable documents (empty text, bytes that are not UTF-8, malformed lines) are skipped and
counted, never fatal: a corpus of millions of documents should not stop on one bad line. A
corpus in which *every* document is unusable is a mistake, though: ``nothing_usable`` says why.
"""

from __future__ import annotations

import dataclasses
import json
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from glotta.errors import GlottaError, os_error

_FORMATS = 'use .jsonl ({"id","title","text"} per line), .txt or .parquet'


@dataclass(frozen=True)
class CorpusDocument:
    id: str
    title: str
    text: str
    source: str
    corpus: str = ""  # which input file: the unit of source-homogeneous batching in training


def require_file(path: Path, what: str, fix: str) -> None:
    """One clear error for an input that is missing, a folder or a loop of links (``is_file`` only says False)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise GlottaError(f"{what} not found", fix=fix, path=path) from None
    except OSError as exc:
        error = os_error(exc)
        raise GlottaError(f"{what} cannot be read ({error.problem})", fix=error.fix, path=path) from None
    if stat.S_ISDIR(mode):
        raise GlottaError(f"{what} is a folder, not a file", fix=fix, path=path)


def check_corpus_files(paths: list[Path]) -> None:
    """Refuse what cannot be read at all, before any work: a missing file, another format, a broken Parquet footer."""
    for path in paths:
        require_file(path, "corpus file", fix=f"check the path; {_FORMATS}")
        if path.suffix not in {".jsonl", ".txt", ".parquet"}:
            raise GlottaError(f"unsupported corpus format {path.suffix!r}", fix=_FORMATS, path=path)
        if path.suffix == ".parquet":
            _parquet_file(path)


def _parquet_file(path: Path):
    """The open file, or one error naming it: pyarrow's own is a traceback about magic bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
    except pa.ArrowException as exc:
        raise GlottaError(f"not a Parquet file ({exc})", fix="give a .parquet file written by pyarrow, pandas or "
                          "datasets, or a .jsonl corpus", path=path) from None
    if "text" not in table.schema_arrow.names:
        raise GlottaError("Parquet corpus has no 'text' column", fix="name the text column 'text'", path=path)
    return table


def corpus_label(path: Path) -> str:
    """``eltec_ita`` for ``.../eltec_ita/docs.jsonl``; the file name's stem otherwise."""
    return path.parent.name if path.stem == "docs" and path.parent.name else path.stem


class CorpusReader:
    """Iterate the documents of one or more files; ``skipped`` counts what was left out and why.

    With ``given_pairs`` the JSONL lines are the user's ``{"query","positive"}`` pairs, read as
    documents whose title is the query and text the positive (the ``given`` pair strategy).
    """

    def __init__(self, paths: list[Path], given_pairs: bool = False):
        self.title_field, self.text_field = ("query", "positive") if given_pairs else ("title", "text")
        check_corpus_files(paths)
        self.paths = paths
        self.skipped: Counter = Counter()

    def nothing_usable(self) -> GlottaError:
        """The error for a corpus that yielded no document: what was skipped, and what a document looks like."""
        if self.skipped:
            reasons = ", ".join(f"{count} {why}" for why, count in self.skipped.most_common())
            problem = f"no usable document: all {sum(self.skipped.values())} were skipped ({reasons})"
        else:
            problem = "no document: the corpus is empty"
        if len(self.paths) > 1:
            problem += f" in {', '.join(map(str, self.paths))}"
        if self.text_field == "positive":
            fix = "give one UTF-8 JSON object per line with a 'query' and a non-empty 'positive'"
        else:
            fix = ("give UTF-8 documents with text: one JSON object per line with a non-empty 'text' (.jsonl), "
                   "plain text (.txt) or a 'text' column (.parquet)")
        return GlottaError(problem, fix=fix, path=self.paths[0] if len(self.paths) == 1 else None)

    def __iter__(self) -> Iterator[CorpusDocument]:
        for path in self.paths:
            reader = {".jsonl": self._jsonl, ".txt": self._text, ".parquet": self._parquet}[path.suffix]
            label = corpus_label(path)
            for document in reader(path):
                if not document.text.strip():
                    self.skipped["empty text"] += 1
                    continue
                yield dataclasses.replace(document, corpus=label)

    def _jsonl(self, path: Path) -> Iterator[CorpusDocument]:
        with path.open("rb") as stream:
            for number, raw in enumerate(stream, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw.decode("utf-8-sig"))  # a BOM: editors on Windows write one
                except UnicodeDecodeError:
                    self.skipped["not UTF-8"] += 1
                    continue
                except json.JSONDecodeError:
                    self.skipped["malformed JSON"] += 1
                    continue
                if not isinstance(record, dict) or not isinstance(record.get(self.text_field), str):
                    self.skipped[f"no '{self.text_field}' field"] += 1
                    continue
                yield CorpusDocument(str(record.get("id", f"{path.stem}:{number}")),
                                     str(record.get(self.title_field) or ""), record[self.text_field],
                                     str(record.get("source") or path.stem))

    def _text(self, path: Path) -> Iterator[CorpusDocument]:
        """A plain-text file: documents separated by two blank lines, paragraphs by one."""
        try:
            content = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            self.skipped["not UTF-8"] += 1
            return
        for number, block in enumerate(content.split("\n\n\n")):
            yield CorpusDocument(f"{path.stem}:{number}", "", block.strip(), path.stem)

    def _parquet(self, path: Path) -> Iterator[CorpusDocument]:
        import pyarrow as pa

        number = 0
        try:
            for batch in _parquet_file(path).iter_batches(batch_size=4096):
                for record in batch.to_pylist():
                    number += 1
                    if not isinstance(record.get("text"), str):
                        self.skipped["no 'text' field"] += 1
                        continue
                    yield CorpusDocument(str(record.get("id") or f"{path.stem}:{number}"),
                                         str(record.get("title") or ""), record["text"],
                                         str(record.get("source") or path.stem))
        except pa.ArrowException as exc:  # the footer was readable, the data pages are not
            raise GlottaError(f"unreadable Parquet data after row {number} ({exc})",
                              fix="rewrite the file, or convert it to .jsonl", path=path) from None
