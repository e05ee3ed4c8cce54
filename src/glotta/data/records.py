"""Line-numbered readers for JSONL, TSV and YAML files that fail with the file, line and fix."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

from glotta.errors import GlottaError, os_error


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line_number, line)`` of a UTF-8 text file; anything unreadable is one GlottaError.

    A byte order mark at the start is dropped (Windows editors write one); a path that is
    missing, a folder, a link loop or not readable is named with the fix for it.
    """
    try:
        with path.open(encoding="utf-8-sig") as handle:
            yield from enumerate(handle, start=1)
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except OSError as exc:
        raise os_error(exc) from None


def _not_utf8(path: Path) -> GlottaError:
    """Where the first undecodable byte is: the text decoder only knows its offset in its own buffer.

    Only the error path reads the file again, as bytes split into the lines text mode sees.
    """
    fix = "re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8), or correct that line"
    offset = 0
    for number, line in enumerate(path.read_bytes().splitlines(keepends=True), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return GlottaError(f"not UTF-8 text: byte 0x{line[exc.start]:02x} at byte {exc.start + 1} of the line "
                               f"(offset {offset + exc.start} in the file): {exc.reason}",
                               fix=fix, path=path, line=number)
        offset += len(line)
    return GlottaError("not UTF-8 text (the file changed while it was read)", fix=fix, path=path)


def read_text(path: Path) -> str:
    """A whole UTF-8 text file, with numbered_lines' errors."""
    return "".join(line for _, line in numbered_lines(path))


def parse_yaml(text: str, where: str | Path) -> object:
    """Plain YAML data (mappings, lists, text, numbers); a syntax error or a tag is one GlottaError.

    ``safe_load`` never constructs objects, so a tag such as ``!!python/object/apply`` is only
    refused; the message says so, with the line and column, rather than PyYAML's internals.
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        column = f" (column {mark.column + 1})" if mark else ""
        if "constructor for the tag" in problem:
            tag = problem.split("tag ", 1)[1].replace("tag:yaml.org,2002:", "!!")
            message, fix = (f"YAML tag {tag} is not allowed{column}: glotta reads plain data and constructs no objects",
                            "remove the tag: write plain text, numbers, lists and mappings")
        else:
            context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
            opened = (f" ({context} that starts at line {start.line + 1}, column {start.column + 1})"
                      if context and start else "")
            message, fix = (f"malformed YAML{column}: {problem}{opened}",
                            "check the YAML syntax there: indent with spaces, not tabs; close quotes and brackets; "
                            "quote text that holds ': ' or starts with a special character")
        raise GlottaError(message, fix=fix, path=where, line=mark.line + 1 if mark else None) from None


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
            joined = line.startswith("\ufeff")  # a byte order mark after the first line: files joined with cat
            raise GlottaError(
                f"malformed JSON ({exc.msg}, column {exc.colno})",
                fix="remove the byte order mark (U+FEFF) that starts the line" if joined
                else "each line must be one JSON object",
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


def read_tsv(
    path: Path, columns: tuple[str, ...], is_header: Callable[[list[str]], bool] | None = None, fix: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, fields)`` for each data row of a tab-separated file.

    ``is_header`` tells from the first row whether it names the columns, so a file without a
    header line keeps its first row (BEIR files have one, others do not); ``fix`` replaces
    the advice for a row with the wrong number of columns.
    """
    first = True
    for number, line in numbered_lines(path):
        row = line.rstrip("\r\n").split("\t")
        if not "".join(row).strip():
            continue
        if len(row) != len(columns):
            raise GlottaError(
                f"expected {len(columns)} tab-separated columns ({', '.join(columns)}), found {len(row)}",
                fix=fix or f"write one '{'<TAB>'.join(columns)}' row per line",
                path=path,
                line=number,
            )
        if first:
            first = False
            if is_header is not None and is_header(row):
                continue
        yield number, row


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "string", int: "integer", float: "number", list: "list", dict: "object"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
