"""Retrieval metrics exactly as MTEB v2 computes them.

NDCG, MAP, Recall, Precision and hit rate come from pytrec_eval; MRR is computed here
because pytrec_eval has no MRR@k: ties are broken by (score, doc id) descending, matching
pytrec_eval's own ordering (mteb issue #5092, PR #5136).
"""

from __future__ import annotations

import numpy as np
import pytrec_eval

K_VALUES = (1, 3, 5, 10, 20, 100, 1000)
STUDY_K_VALUES = (1, 10, 100)  # the Italian study's Recall/NDCG/MRR@k table
MAIN_SCORE = "ndcg_at_10"

PYTREC_MEASURES = {"ndcg_cut": "ndcg_at", "map_cut": "map_at", "recall": "recall_at", "P": "precision_at",
           "success": "hit_rate_at"}


def per_query_metrics(
    qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], k_values=K_VALUES
) -> dict[str, dict[str, float]]:
    """Every metric at every k, query by query (metric -> query id -> value), unrounded.

    pytrec_eval's metrics cover the judged queries of the run, MRR every query of the run, as
    mteb averages them.
    """
    measures = {f"{measure}.{','.join(map(str, k_values))}" for measure in PYTREC_MEASURES}
    evaluated = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    metrics = {f"{name}_{k}": {q: values[f"{measure}_{k}"] for q, values in evaluated.items()}
               for measure, name in PYTREC_MEASURES.items() for k in k_values}
    for k, reciprocal_ranks in mrr_at_k(qrels, run, k_values).items():
        metrics[f"mrr_at_{k}"] = dict(zip(run, reciprocal_ranks, strict=True))
    return metrics


def retrieval_metrics(
    qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], k_values=K_VALUES
) -> dict[str, float]:
    """Mean over queries of every metric at every k, unrounded."""
    return mean_metrics(per_query_metrics(qrels, run, k_values))


def mean_metrics(per_query: dict[str, dict[str, float]]) -> dict[str, float]:
    return {name: sum(values.values()) / len(values) for name, values in per_query.items()}


def mrr_at_k(
    qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], k_values=K_VALUES
) -> dict[int, list[float]]:
    """Per-query reciprocal rank of the first relevant document within the top k, in the run's query order."""
    out: dict[int, list[float]] = {k: [] for k in k_values}
    for query_id, doc_scores in run.items():
        first = _first_relevant_rank(doc_scores, qrels.get(query_id, {}))
        for k in k_values:
            out[k].append(1.0 / first if first is not None and first <= k else 0.0)
    return out


def _first_relevant_rank(doc_scores: dict[str, float], judged: dict[str, int]) -> int | None:
    """1 + the documents ranked above the best relevant one under (score, doc id) descending.

    Counting instead of sorting the whole ranking: a warm evaluation of 7.6k queries x 1000
    documents spent most of its time in that sort.
    """
    relevant = [(doc_scores[d], d) for d, grade in judged.items() if grade > 0 and d in doc_scores]
    if not relevant:
        return None
    best_score, best_id = max(relevant)
    scores = np.fromiter(doc_scores.values(), dtype=np.float64, count=len(doc_scores))
    above = int(np.count_nonzero(scores > best_score))
    if np.count_nonzero(scores == best_score) > 1:  # ties: a larger id ranks first
        above += sum(1 for d, s in doc_scores.items() if s == best_score and d > best_id)
    return above + 1


def mteb_rounded(metrics: dict[str, float]) -> dict[str, float]:
    """MTEB rounds the pytrec_eval means to 5 decimals and keeps MRR unrounded."""
    return {k: (v if k.startswith("mrr_at_") else round(v, 5)) for k, v in metrics.items()}
