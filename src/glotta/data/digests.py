"""Content hashes of files and folders: what revisions, manifests and stage fingerprints are built on."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def file_sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def files_digest(folder: Path, files: Iterable[Path]) -> str:
    """sha256 over each file's path in ``folder`` and contents, in path order."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(bytes.fromhex(file_sha256(path)))
    return digest.hexdigest()


def path_digest(path: Path) -> str:
    """A file's sha256, or a folder's over every file in it (recursively)."""
    if path.is_dir():
        return files_digest(path, (p for p in path.rglob("*") if p.is_file()))
    return file_sha256(path)
