"""The Italian study's Table 1 for any triplet set: sizes, token lengths, duplicates, leakage, scores."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from glotta.data.pairs import leaks
from glotta.errors import GlottaError


def read_rows(path: Path):
    """Rows of ``triplets.jsonl`` / ``.parquet`` (or of a build folder holding them)."""
    if path.is_dir():
        path = path / "triplets.jsonl"
    if not path.is_file():
        raise GlottaError("triplet file not found", fix="pass a folder made by 'glotta triplets build' or its triplets.jsonl", path=path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches():
            yield from batch.to_pylist()
        return
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            try:
                row = json.loads(line)
                row["query"], row["positive"], row["negatives"]  # noqa: B018 - required fields
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise GlottaError(f"not a triplet row ({type(exc).__name__}: {exc})", path=path, line=number) from None
            yield row


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
