"""Did fine-tuning help the target language, and what did it cost elsewhere?

The Italian study's fine-tuned models lost 11% and 49% of their RAG score: catastrophic
forgetting that a single target-language number hides. Here every task of every benchmark
is compared base vs tuned, in points and relative to the base, and drops larger than a
threshold are flagged; per benchmark the mean over the tasks both models were scored on.
"""

from __future__ import annotations

from dataclasses import dataclass

from glotta.analysis.tables import TableData


@dataclass(frozen=True)
class Change:
    """Base and tuned main scores (0-1) of one task, or their means over a benchmark."""

    benchmark: str
    base: float
    tuned: float

    @property
    def delta(self) -> float:
        """In points (scores x 100)."""
        return 100 * (self.tuned - self.base)

    @property
    def relative(self) -> float | None:
        """Percent of the base score; None when the base is 0."""
        return None if self.base == 0 else 100 * (self.tuned - self.base) / self.base


@dataclass(frozen=True)
class TaskChange(Change):
    task: str = ""
    task_type: str = ""


@dataclass(frozen=True)
class BenchmarkChange(Change):
    tasks: int = 0
    dropped: int = 0


def task_changes(benchmark: str, base: dict[str, tuple[str, float | None]],
                 tuned: dict[str, tuple[str, float | None]]) -> list[TaskChange]:
    """``base``/``tuned``: task name -> (task type, main score or None when not applicable)."""
    return [TaskChange(benchmark, score, tuned[task][1], task, task_type)
            for task, (task_type, score) in base.items()
            if score is not None and task in tuned and tuned[task][1] is not None]


def benchmark_change(benchmark: str, changes: list[TaskChange], drop_points: float) -> BenchmarkChange:
    mine = [c for c in changes if c.benchmark == benchmark]
    count = max(len(mine), 1)
    return BenchmarkChange(benchmark, sum(c.base for c in mine) / count, sum(c.tuned for c in mine) / count,
                           len(mine), sum(is_drop(c, drop_points) for c in mine))


def is_drop(change: Change, drop_points: float) -> bool:
    return change.delta <= -drop_points


def _signed(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:+.2f}{unit}"


def task_change_table(changes: list[TaskChange], base_name: str, tuned_name: str, drop_points: float) -> TableData:
    rows = [[c.benchmark, c.task, c.task_type, f"{100 * c.base:.2f}", f"{100 * c.tuned:.2f}", _signed(c.delta),
             _signed(c.relative, "%"), "DROP" if is_drop(c, drop_points) else ""] for c in changes]
    return TableData(f"per task: {base_name} (base) vs {tuned_name} (tuned), main scores x 100",
                     ["benchmark", "task", "type", "base", "tuned", "change", "relative", "flag"], rows, {3, 4, 5, 6},
                     [f"DROP: the tuned model lost {drop_points:g} points or more on the task"])


def benchmark_change_table(summaries: list[BenchmarkChange], drop_points: float) -> TableData:
    rows = [[s.benchmark, str(s.tasks), f"{100 * s.base:.2f}", f"{100 * s.tuned:.2f}", _signed(s.delta),
             _signed(s.relative, "%"), str(s.dropped), "DROP" if is_drop(s, drop_points) else ""] for s in summaries]
    return TableData("per benchmark: mean main score over the tasks both models have (x 100)",
                     ["benchmark", "tasks", "base", "tuned", "change", "relative", "tasks dropped", "flag"], rows,
                     {1, 2, 3, 4, 5, 6})
