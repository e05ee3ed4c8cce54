"""Rich tables for the terminal."""

from __future__ import annotations

from rich.table import Table

from glotta.data.local_tasks import describe
from glotta.evaluation.retrieval_metrics import STUDY_K_VALUES


def main_score_table(outcomes) -> Table:
    models = list(dict.fromkeys(o.model for o in outcomes))
    tasks = list(dict.fromkeys(o.task.name for o in outcomes))
    score = {(o.model, o.task.name): o.main_score for o in outcomes}
    table = Table(title="main score (nDCG@10 for retrieval)")
    table.add_column("task", no_wrap=True)
    for model in models:
        table.add_column(model, justify="right")
    for task in tasks:
        table.add_row(task, *(f"{score[m, task]:.4f}" if (m, task) in score else "-" for m in models))
    return table


def study_table(outcomes) -> Table:
    """The Italian study's view: Recall, nDCG and MRR at k = 1, 10, 100, one row per model."""
    table = Table(title="retrieval at k = " + ", ".join(map(str, STUDY_K_VALUES)))
    table.add_column("task", no_wrap=True)
    table.add_column("model")
    metrics = [(f"{name}_at_{k}", f"{label}@{k}") for name, label in
               (("recall", "R"), ("ndcg", "nDCG"), ("mrr", "MRR")) for k in STUDY_K_VALUES]
    for _, label in metrics:
        table.add_column(label, justify="right", no_wrap=True)
    for o in outcomes:
        table.add_row(o.task.name, o.model, *(f"{o.scores[key]:.4f}" for key, _ in metrics))
    return table


def task_table(tasks) -> Table:
    table = Table(title="tasks")
    for column in ("task", "type", "languages", "split", "size"):
        table.add_column(column, no_wrap=True)
    table.add_column("licence", max_width=24)
    table.add_column("inferred")
    for task in tasks:
        m = task.metadata
        size = ", ".join(f"{v} {k}" for k, v in describe(task).items())
        table.add_row(m.name, m.type.value, " ".join(m.languages), m.split, size, m.license or "-",
                      ", ".join(m.inferred) or "-")
    return table
