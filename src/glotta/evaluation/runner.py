"""Evaluate models on tasks, writing one MTEB-format result file per (model, task).

Everything that can be wrong with the input (tasks, models) is checked before the first
evaluation, so a bad run writes nothing; results that exist are reused unless overwritten.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from glotta.data.tasks import RetrievalTask, Task, TaskMetadata, TaskType
from glotta.encoders.registry import EncoderOptions, resolve_retriever
from glotta.errors import GlottaError
from glotta.evaluation.results import ResultStore
from glotta.evaluation.retrieval_metrics import MAIN_SCORE, mteb_rounded, retrieval_metrics
from glotta.progress import ProgressReporter, SilentProgress

TOP_K = 1000
SUPPORTED_TYPES = {TaskType.RETRIEVAL}


@dataclass(frozen=True)
class Outcome:
    model: str
    revision: str
    task: TaskMetadata
    scores: dict
    path: Path
    reused: bool

    @property
    def main_score(self) -> float:
        return self.scores["main_score"]


def evaluate_retrieval(task: RetrievalTask, retriever, progress: ProgressReporter, top_k: int = TOP_K) -> dict:
    run = retriever.retrieve(task, top_k, progress)
    return mteb_rounded(retrieval_metrics(task.qrels, run))


def run_evaluation(
    tasks: list[Task],
    model_names: list[str],
    output: Path,
    options: EncoderOptions = EncoderOptions(),
    overwrite: bool = False,
    progress: ProgressReporter | None = None,
    top_k: int = TOP_K,
) -> list[Outcome]:
    progress = progress or SilentProgress()
    for task in tasks:
        if task.metadata.type not in SUPPORTED_TYPES:
            raise GlottaError(
                f"task {task.metadata.name!r} is of type {task.metadata.type.value!r}, which this "
                "version of glotta cannot evaluate yet",
                fix="evaluate retrieval tasks only",
                path=task.metadata.source,
            )
    if not model_names:
        raise GlottaError("no model given", fix="add --model NAME (e.g. --model bm25)")
    retrievers = [resolve_retriever(name, options) for name in model_names]
    store = ResultStore(output)
    outcomes = []
    for retriever in retrievers:
        for task in tasks:
            existing = None if overwrite else store.read_entry(retriever.name, retriever.revision, task.metadata)
            path = store.path(retriever.name, retriever.revision, task.metadata.name)
            if existing is not None:
                outcomes.append(Outcome(retriever.name, retriever.revision, task.metadata, existing, path, True))
                continue
            started = time.perf_counter()
            scores = evaluate_retrieval(task, retriever, progress, top_k)
            elapsed = time.perf_counter() - started
            store.write(retriever.name, retriever.revision, task.metadata, scores, MAIN_SCORE, elapsed)
            entry = {"main_score": scores[MAIN_SCORE], **scores}
            outcomes.append(Outcome(retriever.name, retriever.revision, task.metadata, entry, path, False))
    return outcomes
