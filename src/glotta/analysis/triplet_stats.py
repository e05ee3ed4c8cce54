"""The Italian study's Table 1 for any triplet set: sizes, token lengths, duplicates, leakage, scores."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from glotta.data.corpus import require_file
from glotta.data.pairs import leaks
from glotta.data.records import numbered_lines
from glotta.errors import GlottaError

ROW_FIX = ("each row needs 'query' and 'positive' (text) and 'negatives' (a list of texts); 'negative_kinds' "
           "and 'negative_scores', if given, as long as 'negatives': rows as 'glotta triplets build' writes them")


def read_rows(path: Path):
    """Rows of ``triplets.jsonl`` / ``.parquet`` (or of a build folder holding them)."""
    if path.is_dir():
        if not (path / "triplets.jsonl").exists() and (path / "manifest.json").exists():
            raise GlottaError("this build has not finished: it holds no triplets.jsonl yet",
                              fix="rerun the same 'glotta triplets build' command: it resumes from the kept shards",
                              path=path)
        path = path / "triplets.jsonl"
    require_file(path, "triplet file", fix="pass a folder made by 'glotta triplets build' or its triplets.jsonl")
    if path.suffix == ".parquet":
        yield from _parquet_rows(path)
        return
    for number, line in numbered_lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GlottaError(f"not a triplet row (malformed JSON: {exc.msg})", fix=ROW_FIX, path=path,
                              line=number) from None
        yield _checked(row, path, line=number)


def _parquet_rows(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    number = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches():
            for row in batch.to_pylist():
                number += 1
                yield _checked(row, path, row_number=number)
    except pa.ArrowException as exc:
        raise GlottaError(f"not a readable Parquet file ({exc})", fix="pass the build's triplets.jsonl instead, or "
                          "rerun the build to write it again", path=path) from None


def _checked(row: object, path: Path, line: int | None = None, row_number: int | None = None) -> dict:
    """The row if it has what the statistics read; else one error naming the row and what it lacks."""
    problem = _row_problem(row)
    if problem is None:
        return row
    at = f"row {row_number}: " if row_number is not None else ""
    raise GlottaError(f"{at}not a triplet row ({problem})", fix=ROW_FIX, path=path, line=line)


def _row_problem(row: object) -> str | None:
    if not isinstance(row, dict):
        return f"a JSON {type(row).__name__}, not an object"
    for field in ("query", "positive"):
        if not isinstance(row.get(field), str):
            return f"{field!r} is missing or not text"
    if not _list_of(row.get("negatives"), str):
        return "'negatives' is missing or not a list of texts"
    number = (int, float, type(None))
    for field, kind, what in (("negative_kinds", str, "texts"), ("negative_scores", number, "numbers")):
        if row.get(field) is not None and not _list_of(row[field], kind, len(row["negatives"])):
            return f"{field!r} is not a list of {what} as long as 'negatives'"
    if not isinstance(row.get("positive_score"), number):
        return "'positive_score' is not a number"
    return None


def _list_of(value: object, kind: type | tuple[type, ...], length: int | None = None) -> bool:
    return (isinstance(value, list) and all(isinstance(item, kind) for item in value)
            and (length is None or len(value) == length))


def _mean_std(values: list[int]) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values))} if values else {"mean": None, "std": None}


def _distribution(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    array = np.asarray(values)
    return {"count": len(values), "mean": float(array.mean()), "std": float(array.std()),
            **{f"p{q}": float(np.percentile(array, q)) for q in (5, 50, 95)}}


def triplet_statistics(path: Path, tokenizer=None) -> dict:
    """Counts over every (query, positive, negative) triplet the rows expand to."""
    kinds: Counter = Counter()
    lengths: dict[str, list[int]] = {"query": [], "positive": [], "negative": []}
    token_lengths: dict[str, list[int]] = {"query": [], "positive": [], "negative": []}
    seen: set[int] = set()
    duplicates = leakage = rows = 0
    positive_scores, negative_scores = [], {"hard": [], "random": []}

    def measure(field: str, text: str) -> None:
        lengths[field].append(len(text.split()))
        if tokenizer is not None:
            token_lengths[field].append(len(tokenizer(text, add_special_tokens=False)["input_ids"]))

    for row in read_rows(path):
        rows += 1
        measure("query", row["query"])
        measure("positive", row["positive"])
        leakage += leaks(row["query"], row["positive"])
        if row.get("positive_score") is not None:
            positive_scores.append(row["positive_score"])
        row_kinds = row.get("negative_kinds") or ["hard"] * len(row["negatives"])
        row_scores = row.get("negative_scores") or [None] * len(row["negatives"])
        for negative, kind, score in zip(row["negatives"], row_kinds, row_scores, strict=True):
            kinds[kind] += 1
            measure("negative", negative)
            key = hash((row["query"], row["positive"], negative))
            duplicates += key in seen
            seen.add(key)
            if score is not None:
                negative_scores.setdefault(kind, []).append(score)
    if not rows:
        raise GlottaError("no triplet rows", path=path,
                          fix="pass a triplets.jsonl with rows, as 'glotta triplets build' writes it")
    stats = {
        "rows (query, positive)": rows,
        "triplets": sum(kinds.values()),
        "hard negatives": kinds["hard"],
        "random negatives": kinds["random"],
        "exact duplicate triplets": duplicates,
        "leakage (query inside positive)": leakage,
        "whitespace tokens": {field: _mean_std(values) for field, values in lengths.items()},
        "positive scores": _distribution(positive_scores),
        "negative scores": {kind: _distribution(values) for kind, values in negative_scores.items() if values},
    }
    if tokenizer is not None:
        stats["tokenizer tokens"] = {field: _mean_std(values) for field, values in token_lengths.items()}
    return stats
