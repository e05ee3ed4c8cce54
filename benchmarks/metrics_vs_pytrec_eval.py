"""glotta's retrieval metrics vs pytrec_eval called directly, on a real run (issue 16).

The run is glotta's BM25 ranking of retrieval_squad_it (7,609 queries, top 1,000). pytrec_eval is
called here as its own documentation shows, one measure at a time; MRR@k, which pytrec_eval has
not, is its ``recip_rank`` over each query's run cut to the top k (pytrec_eval's order: score,
then document id, descending). Reported: the largest absolute difference per metric family.

    .venv/bin/python benchmarks/metrics_vs_pytrec_eval.py
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pytrec_eval

from glotta import load_task
from glotta.data.atomic import write_json_atomic
from glotta.encoders.bm25 import BM25Retriever
from glotta.evaluation.retrieval_metrics import K_VALUES, PYTREC_MEASURES, per_query_metrics
from glotta.progress import SilentProgress

DATA = Path(os.environ.get("GLOTTA_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def top(scores: dict[str, float], k: int) -> dict[str, float]:
    return dict(sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)[:k])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", type=Path, default=DATA / "tasks/it/retrieval_squad_it")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    task = load_task(args.task)
    run = BM25Retriever().retrieve(task, max(K_VALUES), SilentProgress())
    started = time.perf_counter()
    ours = per_query_metrics(task.qrels, run)
    ours_s = time.perf_counter() - started
    diffs: dict[str, float] = {}
    for measure, name in PYTREC_MEASURES.items():
        for k in K_VALUES:
            theirs = pytrec_eval.RelevanceEvaluator(task.qrels, {f"{measure}.{k}"}).evaluate(run)
            diffs[f"{name}_{k}"] = max(abs(ours[f"{name}_{k}"][q] - theirs[q][f"{measure}_{k}"]) for q in theirs)
    for k in K_VALUES:
        cut = {q: top(scores, k) for q, scores in run.items()}
        theirs = pytrec_eval.RelevanceEvaluator(task.qrels, {"recip_rank"}).evaluate(cut)
        diffs[f"mrr_at_{k}"] = max(abs(ours[f"mrr_at_{k}"][q] - theirs[q]["recip_rank"]) for q in theirs)
    report = {"task": task.metadata.name, "queries": len(run), "run_depth": max(K_VALUES),
              "metrics_compared": len(diffs), "max_abs_diff": max(diffs.values()),
              "glotta_metrics_s": round(ours_s, 2), "max_abs_diff_per_metric": diffs}
    write_json_atomic(args.output / "metrics_vs_pytrec_eval.json", report)
    print(json.dumps({k: v for k, v in report.items() if k != "max_abs_diff_per_metric"}, indent=2))


if __name__ == "__main__":
    main()
