"""Evaluate models on tasks, writing MTEB-format result files: one per (model, task), one entry
per subset and split in it.

Everything that can be wrong with the input (tasks, models) is checked before the first
evaluation, so a bad run writes nothing; results that exist are reused unless overwritten.
A model that cannot serve a task type (BM25 has no embeddings for STS, classification, ...)
gets a "not applicable" outcome and no file: a missing score, never a fake one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from glotta.data.tasks import Task, TaskMetadata, check_unique_tasks
from glotta.encoders.registry import EncoderOptions, Model, resolve_model
from glotta.errors import GlottaError
from glotta.evaluation.aggregate import ScoreRecord, task_label
from glotta.evaluation.evaluators import EVALUATORS
from glotta.evaluation.results import ResultStore
from glotta.progress import ProgressReporter, SilentProgress


@dataclass(frozen=True)
class Outcome:
    model: str
    revision: str
    task: TaskMetadata
    scores: dict | None  # None: not applicable (see ``reason``)
    path: Path | None
    reused: bool = False
    reason: str | None = None

    @property
    def main_score(self) -> float | None:
        return None if self.scores is None else self.scores["main_score"]

    def record(self) -> ScoreRecord:
        return ScoreRecord(self.model, task_label(self.task.name, self.task.hf_subset), self.task.type.value,
                           self.task.languages, self.main_score)


def not_applicable(model: Model, task: Task) -> str | None:
    """Why ``model`` cannot be scored on ``task``, or None when it can."""
    if EVALUATORS[task.metadata.type].needs_encoder and model.encoder is None:
        return f"{model.name} ranks documents but has no embeddings for {task.metadata.type.value} tasks"
    return None


def run_evaluation(
    tasks: list[Task],
    model_names: list[str],
    output: Path,
    options: EncoderOptions | None = None,
    overwrite: bool = False,
    progress: ProgressReporter | None = None,
) -> list[Outcome]:
    """Score every model on every task (one result entry each), reusing stored entries unless ``overwrite``."""
    progress = progress or SilentProgress()
    check_unique_tasks(tasks)
    if not model_names:
        raise GlottaError("no model given", fix="pass a model name (e.g. 'bm25')", parameter="models")
    options = options or EncoderOptions()
    models = [resolve_model(name, options) for name in model_names]
    store = ResultStore(output)
    # stored results are read first, so an unreadable one stops the run before any evaluation
    plan = [(model, task, None if overwrite or not_applicable(model, task)
             else store.read_entry(model.name, model.revision, task.metadata))
            for model in models for task in tasks]
    return [_evaluate_one(model, task, store, existing, progress) for model, task, existing in plan]


def _evaluate_one(model: Model, task: Task, store: ResultStore, existing: dict | None, progress) -> Outcome:
    metadata = task.metadata
    reason = not_applicable(model, task)
    if reason:
        return Outcome(model.name, model.revision, metadata, None, None, reason=reason)
    path = store.path(model.name, model.revision, metadata.name)
    if existing is not None:
        return Outcome(model.name, model.revision, metadata, existing, path, reused=True)
    evaluator = EVALUATORS[metadata.type]
    started = time.perf_counter()
    scores = evaluator.run(task, model.encoder if evaluator.needs_encoder else model.retriever, progress)
    elapsed = time.perf_counter() - started
    main_score = metadata.main_score or evaluator.main_score
    store.write(model.name, model.revision, metadata, scores, main_score, elapsed)
    entry = {"main_score": scores[main_score], **scores}
    return Outcome(model.name, model.revision, metadata, entry, path)
