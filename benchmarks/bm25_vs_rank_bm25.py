"""glotta's BM25 (bm25s, Lucene scoring) vs rank_bm25's BM25Okapi on retrieval_squad_it (issue 16).

The Italian study's baseline is plain BM25; rank_bm25 is the package most such studies use. Both
rank the same corpus for the same queries; each side gets the same tokens (bm25s' tokenizer with
Italian stopwords and the Snowball stemmer, as glotta indexes), and rank_bm25 also gets plain
lower-cased whitespace tokens, the way it is usually called. Reported: index seconds, queries per
second of the search (top 100; glotta's includes tokenising the queries, rank_bm25's is given
tokens), and nDCG@10 / Recall@100 from glotta's metrics (pytrec_eval).

    .venv/bin/pip install 'glotta[bench]'; .venv/bin/python benchmarks/bm25_vs_rank_bm25.py
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from glotta import load_task
from glotta.data.atomic import write_json_atomic
from glotta.encoders.bm25 import BM25Retriever
from glotta.evaluation.retrieval_metrics import retrieval_metrics

DATA = Path(os.environ.get("GLOTTA_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
TOP_K = 100


def scores_of(qrels, run) -> dict[str, float]:
    metrics = retrieval_metrics(qrels, run, k_values=(10, 100))
    return {"ndcg_at_10": round(metrics["ndcg_at_10"], 5), "recall_at_100": round(metrics["recall_at_100"], 5)}


def glotta_side(retriever: BM25Retriever, task, queries: list[str], doc_ids: list[str], texts: list[str]) -> dict:
    started = time.perf_counter()
    index = retriever.index(texts, task.metadata.languages[0])
    indexed = time.perf_counter()
    hits, scores = index.search(queries, TOP_K)
    searched = time.perf_counter()
    run = {q: {doc_ids[d]: float(s) for d, s in zip(hits[row], scores[row], strict=True)}
           for row, q in enumerate(task.queries)}
    return {"index_s": round(indexed - started, 3), "queries_per_s": round(len(queries) / (searched - indexed), 1),
            **scores_of(task.qrels, run)}


def rank_bm25_side(task, query_tokens: list[list[str]], doc_ids: list[str], doc_tokens: list[list[str]]) -> dict:
    from rank_bm25 import BM25Okapi

    started = time.perf_counter()
    index = BM25Okapi(doc_tokens, k1=1.5, b=0.75)
    indexed = time.perf_counter()
    run = {}
    for query_id, tokens in zip(task.queries, query_tokens, strict=True):
        scores = index.get_scores(tokens)
        top = np.argsort(-scores, kind="stable")[:TOP_K]
        run[query_id] = {doc_ids[d]: float(scores[d]) for d in top}
    searched = time.perf_counter()
    return {"index_s": round(indexed - started, 3),
            "queries_per_s": round(len(query_tokens) / (searched - indexed), 1), **scores_of(task.qrels, run)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", type=Path, default=DATA / "tasks/it/retrieval_squad_it")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    import bm25s
    import Stemmer

    task = load_task(args.task)
    retriever = BM25Retriever()
    stopwords, algorithm = retriever.settings_for(task.metadata.languages[0])
    doc_ids = list(task.corpus)
    texts = [f"{d.title}\n{d.text}" for d in task.corpus.values()]
    queries = list(task.queries.values())
    stemmer = Stemmer.Stemmer(algorithm) if algorithm else None

    def same_tokens(strings):
        return bm25s.tokenize(strings, stopwords=stopwords, stemmer=stemmer, return_ids=False, show_progress=False)

    report = {"task": task.metadata.name, "documents": len(texts), "queries": len(queries), "top_k": TOP_K,
              "glotta_bm25s": glotta_side(retriever, task, queries, doc_ids, texts),
              "rank_bm25_same_tokens": rank_bm25_side(task, same_tokens(queries), doc_ids, same_tokens(texts)),
              "rank_bm25_whitespace": rank_bm25_side(task, [q.lower().split() for q in queries], doc_ids,
                                                     [t.lower().split() for t in texts])}
    report["search_speedup_vs_rank_bm25"] = round(report["glotta_bm25s"]["queries_per_s"]
                                                  / report["rank_bm25_same_tokens"]["queries_per_s"], 1)
    write_json_atomic(args.output / "bm25_vs_rank_bm25.json", report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
