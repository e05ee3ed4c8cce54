"""One error type for everything a user can get wrong.

The CLI turns a ``GlottaError`` into a one-paragraph message and exit code 2, never a
traceback; library users catch it like any other exception.
"""

from __future__ import annotations

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
    ):
        self.problem = problem
        self.fix = fix
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(self.message)

    @property
    def location(self) -> str | None:
        if self.path is None:
            return None
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    @property
    def message(self) -> str:
        text = f"{self.location}: {self.problem}" if self.location else self.problem
        return f"{text}\n  fix: {self.fix}" if self.fix else text
