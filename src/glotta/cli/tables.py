"""Rich tables for the terminal."""

from __future__ import annotations

from rich.table import Table

from glotta.analysis.tables import TableData
from glotta.data.local_tasks import describe
from glotta.evaluation.retrieval_metrics import STUDY_K_VALUES


def rich_table(data: TableData) -> Table:
    """Render a plain table (glotta.analysis.tables) for the terminal, notes as a caption."""
    table = Table(title=data.title, caption="\n".join(data.notes) or None, caption_justify="left")
    for index, column in enumerate(data.columns):
        table.add_column(column, justify="right" if index in data.numeric else "left", no_wrap=index == 0)
    for row in data.rows:
        table.add_row(*row)
    return table


def study_table(outcomes) -> Table | None:
    """The Italian study's view: Recall, nDCG and MRR at k = 1, 10, 100, one row per model."""
    scored = [o for o in outcomes if o.task.type.value == "retrieval" and o.scores is not None]
    if not scored:
        return None
    table = Table(title="retrieval at k = " + ", ".join(map(str, STUDY_K_VALUES)))
    table.add_column("task", no_wrap=True)
    table.add_column("model")
    metrics = [(f"{name}_at_{k}", f"{label}@{k}") for name, label in
               (("recall", "R"), ("ndcg", "nDCG"), ("mrr", "MRR")) for k in STUDY_K_VALUES]
    for _, label in metrics:
        table.add_column(label, justify="right", no_wrap=True)
    for o in scored:
        table.add_row(o.record().task, o.model, *(f"{o.scores[key]:.4f}" for key, _ in metrics))
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
