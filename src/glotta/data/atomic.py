"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def refuse_existing(out: Path, overwrite: bool) -> None:
    """An existing output is an earlier result: it is replaced only when asked."""
    if out.exists() and not overwrite:
        from glotta.errors import GlottaError

        raise GlottaError("output folder exists", fix="pass a new --output, or --overwrite to replace it", path=out)


def check_writable(out: Path, option: str, *, folder: bool = True) -> None:
    """Fail before any work when ``out`` cannot be written, naming ``option`` and the fix.

    Found only after an hour of evaluation, an unwritable output loses the hour. The check
    writes (and removes) a probe file in the nearest existing folder, so read-only file
    systems and permissions are caught as the real write would meet them; it creates nothing.
    """
    from glotta.errors import GlottaError

    kind = "folder" if folder else "file"
    if out.exists() and folder != out.is_dir():
        found = "a folder" if out.is_dir() else "a file"
        raise GlottaError(f"{option} is {found}, not a {kind}", fix=f"give {option} a {kind} path", path=out)
    parent = out if folder and out.is_dir() else out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise GlottaError(f"{option} cannot be created: {parent} is a file", fix=f"give {option} a path under a folder",
                          path=out)
    try:
        handle, probe = tempfile.mkstemp(dir=parent, prefix=".glotta-probe.")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise GlottaError(f"{option} is not writable ({exc.strerror})",
                          fix=f"choose a {kind} you may write, or change its permissions", path=out) from None


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, data: object) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_folder_atomic(out: Path, write) -> None:
    """``write(folder)`` fills a fresh folder beside ``out``, which is then renamed onto ``out``.

    A run cut short leaves ``out`` as it was (an earlier result, or nothing), never half a folder.
    """
    import shutil

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))
    try:
        write(partial)
        os.chmod(partial, 0o777 & ~_umask())  # mkdtemp makes 0700; give the usual folder mode
        if out.exists():
            shutil.rmtree(out)
        os.replace(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
