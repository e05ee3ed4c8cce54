"""Retrieval metrics exactly as MTEB v2 computes them.

NDCG, MAP, Recall, Precision and hit rate come from pytrec_eval; MRR is computed here
because pytrec_eval has no MRR@k: ties are broken by (score, doc id) descending, matching
pytrec_eval's own ordering (mteb issue #5092, PR #5136).
"""

from __future__ import annotations

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
        relevant = {d for d, grade in qrels.get(query_id, {}).items() if grade > 0}
        ranked = sorted(doc_scores.items(), key=lambda item: (item[1], item[0]), reverse=True)
        first = next((rank for rank, (d, _) in enumerate(ranked, start=1) if d in relevant), None)
        for k in k_values:
            out[k].append(1.0 / first if first is not None and first <= k else 0.0)
    return out


def mteb_rounded(metrics: dict[str, float]) -> dict[str, float]:
    """MTEB rounds the pytrec_eval means to 5 decimals and keeps MRR unrounded."""
    return {k: (v if k.startswith("mrr_at_") else round(v, 5)) for k, v in metrics.items()}
