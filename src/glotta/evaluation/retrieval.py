"""Retrieval over the whole corpus, and reranking of each query's candidate list."""

from __future__ import annotations

import numpy as np

from glotta.data.tasks import UNLABELLED_SOURCE, RerankingTask, RetrievalTask
from glotta.encoders.base import Encoder, Retriever
from glotta.evaluation.retrieval_metrics import (
    MAIN_SCORE,
    STUDY_K_VALUES,
    mean_metrics,
    mteb_rounded,
    per_query_metrics,
)
from glotta.progress import ProgressReporter

RERANKING_MAIN_SCORE = "map_at_1000"
# kept query by query in the result entry, beside the task's main score: what significance tests read
PER_QUERY_METRICS = ("ndcg_at_10", "recall_at_10", "mrr_at_10")
PER_QUERY_DECIMALS = 6  # as mteb rounds the scores it writes
# the Italian study's table, averaged per query source beside the main score
STUDY_METRICS = tuple(f"{measure}_at_{k}" for measure in ("recall", "ndcg", "mrr") for k in STUDY_K_VALUES)


def evaluate_retrieval(task: RetrievalTask, retriever: Retriever, progress: ProgressReporter) -> dict:
    run = retriever.retrieve(task, task.metadata.settings.top_k, progress)
    return _scored(task, run, MAIN_SCORE)


def evaluate_reranking(task: RerankingTask, encoder: Encoder, progress: ProgressReporter) -> dict:
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
    return _scored(task, run, RERANKING_MAIN_SCORE)


def _scored(task: RetrievalTask, run: dict[str, dict[str, float]], main_score: str) -> dict:
    """MTEB's metrics of a run, and under ``per_query`` the main score and ``PER_QUERY_METRICS`` of each query.

    With ``ignore_identical_ids`` a query's own id is first dropped from its top k, as mteb drops
    it (after the search, so that ranking holds one document fewer). The per-query scores sit
    inside the MTEB score entry (as mteb keeps ``scores_per_experiment`` there), so they travel
    with the entry when it is reused and mteb still reads the file. A task whose queries name their
    source also gets ``per_source``: see ``_per_source``.
    """
    if task.metadata.settings.ignore_identical_ids:
        run = {query_id: {d: s for d, s in ranked.items() if d != query_id} for query_id, ranked in run.items()}
    per_query = per_query_metrics(task.qrels, run)
    scores = mteb_rounded(mean_metrics(per_query))
    main_score = task.metadata.main_score or main_score
    kept = list(dict.fromkeys((main_score, *PER_QUERY_METRICS)))
    query_ids = sorted(set.intersection(*(set(per_query[name]) for name in kept)))
    entry = {**scores, "per_query": {
        "main_score": main_score,
        "query_ids": query_ids,
        **{name: [round(per_query[name][q], PER_QUERY_DECIMALS) for q in query_ids] for name in kept},
    }}
    if task.query_sources:
        entry["per_source"] = _per_source(task.query_sources, per_query, main_score)
    return entry


def _per_source(
    query_sources: dict[str, str], per_query: dict[str, dict[str, float]], main_score: str
) -> dict[str, dict]:
    """Source -> its query count, main score and ``STUDY_METRICS``, each the mean over that source's
    scored queries, rounded as the overall scores: a benchmark of several query generators shows
    which kind of query is hard. The counts weight the means back to the overall ones."""
    names = list(dict.fromkeys((main_score, *STUDY_METRICS)))
    scored = set.intersection(*(set(per_query[name]) for name in names))
    by_source: dict[str, set[str]] = {}
    for query_id in scored:
        by_source.setdefault(query_sources.get(query_id, UNLABELLED_SOURCE), set()).add(query_id)
    out = {}
    for source, query_ids in sorted(by_source.items()):
        means = mteb_rounded(mean_metrics({name: {q: per_query[name][q] for q in query_ids} for name in names}))
        out[source] = {"queries": len(query_ids), "main_score": means[main_score], **means}
    return out
