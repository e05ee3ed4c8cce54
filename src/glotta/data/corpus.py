"""Stream documents from a raw corpus: JSONL (``{"id","title","text"}``), plain text or Parquet.

Documents are yielded one at a time, so a corpus far larger than memory can be cut into shards.
Unusable documents (empty text, bytes that are not UTF-8, malformed lines) are skipped and
counted, never fatal: a corpus of millions of documents should not stop on one bad line.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from glotta.errors import GlottaError


@dataclass(frozen=True)
class CorpusDocument:
    id: str
    title: str
    text: str
    source: str
    corpus: str = ""  # which input file: the unit of source-homogeneous batching in training


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
        for path in paths:
            if not path.is_file():
                raise GlottaError("corpus file not found", fix="pass a .jsonl, .txt or .parquet file", path=path)
            if path.suffix not in {".jsonl", ".txt", ".parquet"}:
                raise GlottaError(f"unsupported corpus format {path.suffix!r}",
                                  fix="use .jsonl ({\"id\",\"title\",\"text\"} per line), .txt or .parquet", path=path)
        self.paths = paths
        self.skipped: Counter = Counter()

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
                try:
                    record = json.loads(raw.decode("utf-8"))
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
            content = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.skipped["not UTF-8"] += 1
            return
        for number, block in enumerate(content.split("\n\n\n")):
            yield CorpusDocument(f"{path.stem}:{number}", "", block.strip(), path.stem)

    def _parquet(self, path: Path) -> Iterator[CorpusDocument]:
        import pyarrow.parquet as pq

        table = pq.ParquetFile(path)
        if "text" not in table.schema_arrow.names:
            raise GlottaError("Parquet corpus has no 'text' column", fix="name the text column 'text'", path=path)
        number = 0
        for batch in table.iter_batches(batch_size=4096):
            for record in batch.to_pylist():
                number += 1
                if not isinstance(record.get("text"), str):
                    self.skipped["no 'text' field"] += 1
                    continue
                yield CorpusDocument(str(record.get("id") or f"{path.stem}:{number}"), str(record.get("title") or ""),
                                     record["text"], str(record.get("source") or path.stem))
