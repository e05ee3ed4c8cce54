"""One error type for everything a user can get wrong.

The CLI turns a ``GlottaError`` into a one-paragraph message and exit code 2, never a
traceback; library users catch it like any other exception.
"""

from __future__ import annotations

import errno
from pathlib import Path


class GlottaError(Exception):
    """A problem with the user's input: what is wrong, where, and how to fix it."""

    def __init__(
        self,
        problem: str,
        *,
        fix: str | None = None,
        path: str | Path | None = None,
        line: int | None = None,
        parameter: str | None = None,
    ):
        self.problem = problem
        self.fix = fix
        self.path = str(path) if path is not None else None
        self.line = line
        self.parameter = parameter  # the Python parameter at fault; the CLI shows its flag instead
        super().__init__(self.message)

    @property
    def location(self) -> str | None:
        if self.path is None:
            return self.parameter
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def for_flags(self, flags: dict[str, str]) -> GlottaError:
        """The same error in the CLI's words: its parameter, and every parameter the text names in
        backticks (```device```), become their flags (``--device``)."""
        def words(text: str | None) -> str | None:
            for name, flag in flags.items():
                text = text.replace(f"`{name}`", flag) if text else text
            return text

        return GlottaError(words(self.problem), fix=words(self.fix), path=self.path, line=self.line,
                           parameter=flags.get(self.parameter, self.parameter))

    @property
    def message(self) -> str:
        text = f"{self.location}: {self.problem}" if self.location else self.problem
        return f"{text}\n  fix: {self.fix}" if self.fix else text


_OS_FIXES = {
    errno.ENOENT: "check the path",
    errno.EISDIR: "give a file, not a folder",
    errno.ENOTDIR: "a part of the path is a file; give a path whose parents are folders",
    errno.EACCES: "choose a location you may read and write, or change its permissions",
    errno.EPERM: "choose a location you may read and write, or change its permissions",
    errno.ELOOP: "the path is a loop of symbolic links; point it at a real file or folder",
    errno.ENOSPC: "free disk space, or choose another location",
    errno.EROFS: "choose a location on a writable file system",
    errno.EEXIST: "remove it, or choose another name",
}


def os_error(exc: OSError) -> GlottaError:
    """An operating-system error as a user error: what failed, on which path, and a fix."""
    path = exc.filename if exc.filename is not None else None
    return GlottaError(exc.strerror or str(exc), fix=_OS_FIXES.get(exc.errno, "check the path and its permissions"),
                       path=path)
