"""Names that become file names (task names, model names, revisions, ids) stay inside their folder.

A task ``name: ../../x`` or a revision ``../x`` would otherwise make ``output / name`` point
outside the output folder; such names are refused with the setting that holds them.
"""

from __future__ import annotations

from pathlib import Path

from glotta.errors import GlottaError

_FORBIDDEN = ("/", "\\", "\x00")


def safe_component(value: str, what: str, *, path: str | Path | None = None, fix: str | None = None,
                   parameter: str | None = None) -> str:
    """``value`` unchanged if it is usable as one path component, else one GlottaError."""
    if not value.strip() or value in {".", ".."} or any(c in value for c in _FORBIDDEN):
        raise GlottaError(
            f"{what} {value!r} cannot be used as a file name (it is empty, '.' or '..', or has '/', '\\\\' or NUL)",
            fix=fix or f"give the {what} letters, digits, '-', '_' or '.' only",
            path=path,
            parameter=parameter,
        )
    return value


def inside(root: Path, path: Path) -> Path:
    """``path`` if it lies inside ``root`` (after resolving links), else one GlottaError."""
    if not path.resolve().is_relative_to(root.resolve()):
        raise GlottaError(f"{path} would be written outside the output folder {root}",
                          fix="rename the task, model or revision so that it holds no path segments")
    return path
