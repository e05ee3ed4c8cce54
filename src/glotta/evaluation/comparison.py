"""Base vs fine-tuned on the same task groups, and a sweep of merged models: forgetting, measured.

``glotta compare``, ``glotta merge --sweep`` and ``glotta adapt`` all call these; the CLI only prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from glotta.analysis.tables import TableData
from glotta.errors import GlottaError


@dataclass(frozen=True)
class Comparison:
    base: str  # the names results carry
    tuned: str
    changes: list  # TaskChange per task
    summaries: list  # BenchmarkChange per group
    tables: list[TableData]
    figures: list[Path]
    outcomes: dict  # group label -> (base outcomes, tuned outcomes), task by task

    def record(self, base: str, tuned: str, drop_points: float) -> dict:
        return {
            "base": base, "tuned": tuned, "drop_points": drop_points,
            "benchmarks": [{"benchmark": s.benchmark, "tasks": s.tasks, "base": s.base, "tuned": s.tuned,
                            "change_points": s.delta, "relative_percent": s.relative, "tasks_dropped": s.dropped}
                           for s in self.summaries],
            "tasks": [{"benchmark": c.benchmark, "task": c.task, "type": c.task_type, "base": c.base,
                       "tuned": c.tuned, "change_points": c.delta, "relative_percent": c.relative}
                      for c in self.changes],
        }


def _scores(outcomes) -> dict[str, tuple[str, float | None]]:
    return {o.record().task: (o.task.type.value, o.main_score) for o in outcomes}


def compare(base: str, tuned: str, groups: list[tuple[str, list]], results: Path, options, overwrite: bool,
            drop_points: float, figures: Path, progress=None) -> Comparison:
    """Both models on each (label, tasks) group; per-task and per-group changes, tables, Figure 2."""
    from glotta.analysis.figures import forgetting_figure
    from glotta.analysis.forgetting import benchmark_change, benchmark_change_table, task_change_table, task_changes
    from glotta.evaluation.runner import run_evaluation

    changes, names, by_group = [], None, {}
    for label, tasks in groups:
        # Both models in one run: both load (and a bad one is refused) before any result is written.
        outcomes = run_evaluation(tasks, [base, tuned], results, options, overwrite, progress)
        before, after = outcomes[:len(tasks)], outcomes[len(tasks):]
        by_group[label] = (before, after)
        names = (before[0].model, after[0].model)
        if (before[0].model, before[0].revision) == (after[0].model, after[0].revision):
            raise GlottaError("base and tuned are the same model (same name and weights)",
                              fix="pass the model before fine-tuning first, then the fine-tuned one")
        changes += task_changes(label, _scores(before), _scores(after))
    if not changes:
        raise GlottaError("no task has a score for both models", fix="use embedding models (BM25 has only retrieval)")
    summaries = [benchmark_change(label, changes, drop_points) for label, _ in groups]
    base_name, tuned_name = names
    tables = [benchmark_change_table(summaries, drop_points),
              task_change_table(changes, base_name, tuned_name, drop_points)]
    return Comparison(base_name, tuned_name, changes, summaries, tables,
                      forgetting_figure(changes, base_name, tuned_name, figures), by_group)


def mean_main_score(outcomes) -> float:
    scores = [o.main_score for o in outcomes if o.main_score is not None]
    if not scores:
        raise GlottaError("no task of the sweep could be scored", fix="use embedding tasks (retrieval, STS, ...)")
    return sum(scores) / len(scores)


@dataclass(frozen=True)
class Sweep:
    rows: list[dict]  # alpha, model, target, general (mean main scores, 0-1)
    table: TableData
    figures: list[Path]


def score_sweep(models: dict[float, str], target: list, general: list, out: Path, overwrite: bool, options,
                progress=None) -> Sweep:
    """Each merge weight's model (0: base, 1: fine-tuned) on the target and general tasks."""
    from glotta.analysis.figures import merge_sweep_figure
    from glotta.evaluation.runner import run_evaluation

    rows = []
    for value, model in models.items():
        scores = [mean_main_score(run_evaluation(tasks, [model], out / "results", options, overwrite, progress))
                  for tasks in (target, general)]
        rows.append({"alpha": value, "model": model, "target": scores[0], "general": scores[1]})
    base = rows[0]
    table = TableData(
        f"weight interpolation: mean main score x 100 over {len(target)} target and {len(general)} general task(s)",
        ["alpha", "target", "general", "target vs base", "general vs base"],
        [[f"{r['alpha']:g}", f"{100 * r['target']:.2f}", f"{100 * r['general']:.2f}",
          f"{100 * (r['target'] - base['target']):+.2f}", f"{100 * (r['general'] - base['general']):+.2f}"]
         for r in rows], {1, 2, 3, 4},
        ["alpha 0 is the base model, 1 the fine-tuned one; in between: (1 - alpha) * base + alpha * tuned"])
    figures = merge_sweep_figure([r["alpha"] for r in rows], [r["target"] for r in rows],
                                 [r["general"] for r in rows], out)
    return Sweep(rows, table, figures)
