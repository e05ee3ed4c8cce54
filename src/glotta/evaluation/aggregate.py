"""Language-pure summaries: a score counts for a language only if every language of it is that one.

MTEB averages every subset that *contains* a language, so cross-lingual subsets leak into a
"language" score. Here monolingual scores are grouped by their language, and cross-lingual ones
(bitext eng-ita) form groups of their own that are listed, never averaged into a language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glotta.data.languages import iso639_3


def task_label(name: str, subset: str, split: str | None = None) -> str:
    """A score's task as tables name it: the task, with the subset (and split) that tell apart
    scores of one task, e.g. ``BelebeleRetrieval (ita_Latn-ita_Latn)``; ``default`` is left out."""
    qualifiers = [q for q in (None if subset == "default" else subset, split) if q]
    return f"{name} ({', '.join(qualifiers)})" if qualifiers else name


@dataclass(frozen=True)
class ScoreRecord:
    """One model's main score on one task (one subset of it, see ``task_label``);
    ``main_score`` None means not applicable."""

    model: str
    task: str
    task_type: str
    languages: tuple[str, ...]
    main_score: float | None

    @property
    def language_group(self) -> str:
        """``ita`` for Italian-only scores; ``eng-ita`` for a cross-lingual pair."""
        return "-".join(dict.fromkeys(sorted(iso639_3(lang) for lang in self.languages)))

    @property
    def monolingual(self) -> bool:
        return "-" not in self.language_group


@dataclass(frozen=True)
class ModelSummary:
    model: str
    by_type: dict[str, float | None]  # None: some task of the type has no score for this model
    mean_task_type: float | None  # MTEB's Mean(TaskType): mean of the per-type means
    mean_task: float | None  # MTEB's Mean(Task): mean over tasks
    scored: int
    tasks: int


def summarise(records: list[ScoreRecord], group: str) -> list[ModelSummary]:
    """Per-model means over the tasks of one language group.

    Means are given only over complete sets: a model missing a task of a type (BM25 has no
    STS score) gets no mean for that type, and no overall mean.
    """
    in_group = [r for r in records if r.language_group == group]
    tasks_by_type: dict[str, list[str]] = {}
    for record in in_group:
        tasks_by_type.setdefault(record.task_type, [])
        if record.task not in tasks_by_type[record.task_type]:
            tasks_by_type[record.task_type].append(record.task)
    all_tasks = [task for tasks in tasks_by_type.values() for task in tasks]
    summaries = []
    for model in dict.fromkeys(r.model for r in in_group):
        score = {r.task: r.main_score for r in in_group if r.model == model and r.main_score is not None}
        by_type = {
            task_type: float(np.mean([score[t] for t in tasks])) if all(t in score for t in tasks) else None
            for task_type, tasks in tasks_by_type.items()
        }
        complete = all(t in score for t in all_tasks)
        summaries.append(ModelSummary(
            model=model,
            by_type=by_type,
            mean_task_type=float(np.mean(list(by_type.values()))) if complete else None,
            mean_task=float(np.mean([score[t] for t in all_tasks])) if complete else None,
            scored=len(score),
            tasks=len(all_tasks),
        ))
    return summaries


def language_groups(records: list[ScoreRecord]) -> tuple[list[str], list[str]]:
    """(monolingual groups, cross-lingual groups), in order of first appearance."""
    groups = list(dict.fromkeys(r.language_group for r in records))
    return [g for g in groups if "-" not in g], [g for g in groups if "-" in g]
