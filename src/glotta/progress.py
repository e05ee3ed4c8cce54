"""Progress reporting that library code can call and the CLI renders with rich."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

Advance = Callable[[int], None]


class ProgressReporter(Protocol):
    def track(self, description: str, total: int) -> contextmanager: ...


class SilentProgress:
    """For library use and tests: counts nothing, prints nothing."""

    @contextmanager
    def track(self, description: str, total: int) -> Iterator[Advance]:
        yield lambda n: None


class RichProgress:
    """One rich progress bar per tracked step, inside a shared live display."""

    def __init__(self, progress):
        self.progress = progress

    @contextmanager
    def track(self, description: str, total: int) -> Iterator[Advance]:
        task_id = self.progress.add_task(description, total=max(total, 1))
        try:
            yield lambda n: self.progress.advance(task_id, n)
        finally:
            self.progress.update(task_id, completed=max(total, 1))
