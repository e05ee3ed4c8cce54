"""Rich tables for the terminal."""

from __future__ import annotations

from rich.table import Table

from glotta.data.languages import language_name
from glotta.data.local_tasks import describe
from glotta.evaluation.aggregate import ScoreRecord, language_groups, summarise
from glotta.evaluation.evaluators import EVALUATORS
from glotta.evaluation.retrieval_metrics import STUDY_K_VALUES


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def main_score_table(records: list[ScoreRecord]) -> Table:
    models = list(dict.fromkeys(r.model for r in records))
    tasks = list(dict.fromkeys((r.task, r.task_type, " ".join(r.languages)) for r in records))
    score = {(r.model, r.task): r.main_score for r in records}
    main_names = {t.value: e.main_score for t, e in EVALUATORS.items()}
    table = Table(title="main score per task (n/a: the model cannot serve this task type)")
    for column in ("task", "type", "languages", "metric"):
        table.add_column(column, no_wrap=True)
    for model in models:
        table.add_column(model, justify="right")
    for task, task_type, languages in tasks:
        table.add_row(task, task_type, languages, main_names.get(task_type, "main_score"),
                      *(_score(score[m, task]) if (m, task) in score else "-" for m in models))
    return table


def summary_tables(records: list[ScoreRecord]) -> list[Table]:
    """One table per language (monolingual scores only), then one per cross-lingual pair."""
    monolingual, cross_lingual = language_groups(records)
    tables = []
    for group in monolingual:
        summaries = summarise(records, group)
        types = list(summaries[0].by_type)
        table = Table(title=f"{language_name(group)} ({group}): monolingual tasks only, "
                            "mean main score (n/a: a task of the set has no score)")
        table.add_column("model", no_wrap=True)
        for task_type in types:
            table.add_column(task_type, justify="right")
        table.add_column("Mean(TaskType)", justify="right")
        table.add_column("Mean(Task)", justify="right")
        table.add_column("tasks scored", justify="right")
        for s in summaries:
            table.add_row(s.model, *(_score(s.by_type[t]) for t in types), _score(s.mean_task_type),
                          _score(s.mean_task), f"{s.scored}/{s.tasks}")
        tables.append(table)
    for group in cross_lingual:
        in_group = [r for r in records if r.language_group == group]
        table = Table(title=f"cross-lingual {group}: reported apart, never averaged into a language")
        table.add_column("task", no_wrap=True)
        table.add_column("type")
        models = list(dict.fromkeys(r.model for r in in_group))
        for model in models:
            table.add_column(model, justify="right")
        score = {(r.model, r.task): r.main_score for r in in_group}
        for task, task_type in dict.fromkeys((r.task, r.task_type) for r in in_group):
            table.add_row(task, task_type, *(_score(score.get((m, task))) for m in models))
        tables.append(table)
    return tables


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
