"""Training rows from glotta triplet files, validated and split into sources.

A row is ``{"query", "positive"}`` plus, for triplets, ``"negatives"`` (a list, as
``glotta triplets build`` writes) or ``"negative"`` (one text). sentence-transformers' losses
read the columns in order (anchor, positive, negative_1, ...), so every row of one training
set must carry the same number of negatives: rows with fewer are left out and counted.

Each row belongs to a *source*: its ``corpus`` field (the corpus file it was mined from),
else its file. Sources become the datasets of a ``DatasetDict`` so that the multi-dataset
samplers can draw every batch from one source (E5-NL's source-homogeneous batches).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from glotta.errors import GlottaError

GENERAL_PREFIX = "general:"  # the source name of general-language pairs (--general) starts with it


@dataclass
class TrainingData:
    """Columns per source: ``query``, ``positive``, ``negative_1`` ... ``negative_n``."""

    sources: dict[str, dict[str, list[str]]]
    negatives: int
    skipped: Counter = field(default_factory=Counter)

    @property
    def rows(self) -> int:
        return sum(len(columns["query"]) for columns in self.sources.values())

    def counts(self) -> dict[str, int]:
        return {name: len(columns["query"]) for name, columns in self.sources.items()}

    def to_datasets(self, homogeneous: bool):
        """A ``DatasetDict`` (one dataset per source) or one ``Dataset`` with every row."""
        from datasets import Dataset, DatasetDict

        if homogeneous:
            return DatasetDict({name: Dataset.from_dict(columns) for name, columns in self.sources.items()})
        merged = {column: [v for columns in self.sources.values() for v in columns[column]]
                  for column in self.columns}
        return Dataset.from_dict(merged)

    def with_general_share(self, share: float, seed: int) -> TrainingData:
        """The rows with the general sources cut (seeded) so they make up ``share`` of all rows, or
        as close as the general pairs allow; ``share`` 0 drops them."""
        general = [name for name in self.sources if name.startswith(GENERAL_PREFIX)]
        target_rows = sum(len(self.sources[name]["query"]) for name in self.sources if name not in general)
        wanted = round(share / (1 - share) * target_rows) if share < 1 else None
        available = sum(len(self.sources[name]["query"]) for name in general)
        keep = available if wanted is None else min(wanted, available)
        sources = {name: columns for name, columns in self.sources.items() if name not in general}
        rng = random.Random(seed)
        for name in general:  # each general source gives its proportional part of the wanted rows
            size = len(self.sources[name]["query"])
            rows = sorted(rng.sample(range(size), round(keep * size / available))) if available else []
            if rows:
                sources[name] = {c: [values[i] for i in rows] for c, values in self.sources[name].items()}
        return TrainingData(sources, self.negatives, self.skipped)

    @property
    def columns(self) -> list[str]:
        return ["query", "positive", *[f"negative_{i + 1}" for i in range(self.negatives)]]


def load_training_data(paths: list[Path], negatives: int, general: list[Path] = (),
                       max_rows: int | None = None) -> TrainingData:
    """Read ``paths`` (and ``general`` pairs, each file a source of its own named ``general:<file>``)."""
    check_files(paths, general)
    data = TrainingData({}, negatives)
    for path, is_general in [*[(p, False) for p in paths], *[(p, True) for p in general]]:
        if max_rows is not None and data.rows >= max_rows:
            break
        for number, record in _records(path):
            row = _row(record, negatives, path, number, data.skipped)
            if row is None:
                continue
            source = f"{GENERAL_PREFIX}{path.stem}" if is_general else str(record.get("corpus") or path.stem)
            columns = data.sources.setdefault(source, {c: [] for c in data.columns})
            for column, text in zip(data.columns, row, strict=True):
                columns[column].append(text)
            if max_rows is not None and data.rows >= max_rows:
                break
    if data.rows == 0:
        raise GlottaError(
            f"no usable training rows ({_describe(data.skipped) or 'the files are empty'})",
            fix="pass files written by 'glotta triplets build' ({query, positive, negatives} per line)"
            + (f" or lower --negatives (rows have fewer than {negatives})" if negatives else ""),
            path=paths[0] if len(paths) == 1 else None,
        )
    return data


def check_files(paths: list[Path], general: list[Path] = ()) -> None:
    for path in paths:
        _check_file(path, "--data")
    for path in general:
        _check_file(path, "--general")


def _describe(skipped: Counter) -> str:
    return ", ".join(f"{why}: {count}" for why, count in skipped.most_common())


def _row(record: dict, negatives: int, path: Path, number: int, skipped: Counter) -> list[str] | None:
    for name in ("query", "positive"):
        if not isinstance(record.get(name), str):
            raise GlottaError(f"row has no text field {name!r}",
                              fix="each row needs 'query' and 'positive' strings", path=path, line=number)
        if not record[name].strip():
            skipped[f"empty {name}"] += 1
            return None
    given = record.get("negatives", [record["negative"]] if "negative" in record else [])
    if not isinstance(given, list) or not all(isinstance(t, str) for t in given):
        raise GlottaError("'negatives' must be a list of strings", fix="write negatives as [\"text\", ...]",
                          path=path, line=number)
    given = [t for t in given if t.strip()]
    if len(given) < negatives:
        skipped[f"fewer than {negatives} negatives"] += 1
        return None
    return [record["query"], record["positive"], *given[:negatives]]


def _check_file(path: Path, option: str) -> None:
    """Every input is checked before the first is read: a missing file, a folder, another format."""
    from glotta.data.corpus import require_file

    require_file(path, f"{option} file", fix="pass the triplets.jsonl or triplets.parquet of 'glotta triplets build'")
    if path.suffix not in (".jsonl", ".parquet"):
        raise GlottaError(f"unsupported training file {path.suffix!r}", fix="use .jsonl or .parquet", path=path)


def _records(path: Path):
    """(line or row number, record) from JSONL or Parquet; malformed JSON stops with its line."""
    if path.suffix == ".parquet":
        yield from _parquet_records(path)
        return
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
                record = json.loads(text.removeprefix("\ufeff") if number == 1 else text)  # BOM: Windows editors
            except UnicodeDecodeError as exc:
                raise GlottaError(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line",
                                  fix="re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
                                  path=path, line=number) from None
            except json.JSONDecodeError as exc:
                raise GlottaError(f"not a JSON object ({exc.msg}, column {exc.colno})",
                                  fix="one JSON object per line, UTF-8", path=path, line=number) from None
            if not isinstance(record, dict):
                raise GlottaError("line is not a JSON object", fix="one {...} object per line", path=path, line=number)
            yield number, record


def _parquet_records(path: Path):
    """(row number, record); a file that is not Parquet, or is cut short, is one error naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    number = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
            for record in batch.to_pylist():
                number += 1
                yield number, record
    except pa.ArrowException as exc:
        raise GlottaError(f"not a readable Parquet file ({exc})",
                          fix="pass the triplets.parquet of 'glotta triplets build', or a .jsonl file",
                          path=path) from None
