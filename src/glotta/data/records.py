"""Line-numbered readers for JSONL and TSV files that fail with the file, line and fix."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from glotta.errors import GlottaError


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line_number, line)`` of a UTF-8 text file; a decoding error or a missing file is one GlottaError."""
    try:
        with path.open(encoding="utf-8") as handle:
            yield from enumerate(handle, start=1)
    except UnicodeDecodeError as exc:
        raise GlottaError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            fix="re-encode the file as UTF-8",
            path=path,
        ) from None
    except FileNotFoundError:
        raise GlottaError("file not found", path=path) from None


def read_jsonl(
    path: Path, required: dict[str, type | tuple[type, ...]], non_empty: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, record)`` for each non-blank line of a JSONL file.

    ``required`` maps field names to accepted types; ``non_empty`` names the string fields
    that must hold more than whitespace.
    """
    for number, line in numbered_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GlottaError(
                f"malformed JSON ({exc.msg}, column {exc.colno})",
                fix="each line must be one JSON object",
                path=path,
                line=number,
            ) from None
        if not isinstance(record, dict):
            raise GlottaError(
                f"expected a JSON object, got {type(record).__name__}",
                fix="each line must be one JSON object",
                path=path,
                line=number,
            )
        for field, kind in required.items():
            if field not in record:
                raise GlottaError(
                    f"missing field {field!r}",
                    fix=f"every line needs the fields {', '.join(repr(f) for f in required)}",
                    path=path,
                    line=number,
                )
            if not isinstance(record[field], kind) or isinstance(record[field], bool):
                raise GlottaError(
                    f"field {field!r} has type {type(record[field]).__name__}",
                    fix=f"{field!r} must be of type {_type_name(kind)}",
                    path=path,
                    line=number,
                )
        for field in non_empty:
            if not str(record.get(field, "")).strip():
                raise GlottaError(
                    f"empty {field!r}",
                    fix="remove the line or give it text",
                    path=path,
                    line=number,
                )
        yield number, record


def read_tsv(path: Path, columns: int, header: bool = True) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, fields)`` for each data row of a tab-separated file."""
    rows = csv.reader((line for _, line in numbered_lines(path)), delimiter="\t", quoting=csv.QUOTE_NONE)
    for number, row in enumerate(rows, start=1):
        if header and number == 1:
            continue
        if not row or not "".join(row).strip():
            continue
        if len(row) != columns:
            raise GlottaError(
                f"expected {columns} tab-separated columns, found {len(row)}",
                fix="write one 'query-id<TAB>corpus-id<TAB>score' row per line",
                path=path,
                line=number,
            )
        yield number, row


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "string", int: "integer", float: "number", list: "list", dict: "object"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
