"""Retrieval over the whole corpus, and reranking of each query's candidate list."""

from __future__ import annotations

import numpy as np

from glotta.data.tasks import RerankingTask, RetrievalTask
from glotta.encoders.base import Encoder, Retriever
from glotta.evaluation.retrieval_metrics import mteb_rounded, retrieval_metrics
from glotta.progress import ProgressReporter

RERANKING_MAIN_SCORE = "map_at_1000"


def evaluate_retrieval(task: RetrievalTask, retriever: Retriever, progress: ProgressReporter) -> dict[str, float]:
    run = retriever.retrieve(task, task.metadata.settings.top_k, progress)
    return _scored(task, run)


def evaluate_reranking(task: RerankingTask, encoder: Encoder, progress: ProgressReporter) -> dict[str, float]:
    """Score only the candidates of each query; documents outside its list are never ranked."""
    name = task.metadata.name
    query_ids = list(task.queries)
    doc_ids = list(dict.fromkeys(d for q in query_ids for d in task.candidates[q]))
    with progress.track(f"encode queries {name}", len(query_ids)) as advance:
        queries = encoder.encode_queries([task.queries[q] for q in query_ids], advance)
    with progress.track(f"encode candidates {name}", len(doc_ids)) as advance:
        documents = encoder.encode_documents([task.corpus[d].full_text for d in doc_ids], advance)
    row_of = {doc_id: row for row, doc_id in enumerate(doc_ids)}
    run = {}
    for query_row, query_id in enumerate(query_ids):
        candidates = task.candidates[query_id]
        scores = documents[[row_of[d] for d in candidates]] @ queries[query_row]
        top = np.argsort(-scores, kind="stable")[: task.metadata.settings.top_k]
        run[query_id] = {candidates[i]: float(scores[i]) for i in top}
    return _scored(task, run)


def _scored(task: RetrievalTask, run: dict[str, dict[str, float]]) -> dict[str, float]:
    """MTEB's metrics of a run; with ``ignore_identical_ids`` a query's own id is first dropped
    from its top k, as mteb drops it (after the search, so that ranking holds one document fewer)."""
    if task.metadata.settings.ignore_identical_ids:
        run = {query_id: {d: s for d, s in ranked.items() if d != query_id} for query_id, ranked in run.items()}
    return mteb_rounded(retrieval_metrics(task.qrels, run))
