"""Retrieval metrics equal pytrec_eval's and mteb's own on the same run."""

from __future__ import annotations

import pytest
import pytrec_eval

from glotta.data.local_tasks import load_task_folder
from glotta.data.task_spec import TaskSpec
from glotta.encoders.bm25 import BM25Retriever
from glotta.evaluation.retrieval_metrics import K_VALUES, mrr_at_k, mteb_rounded, retrieval_metrics
from glotta.progress import SilentProgress


@pytest.fixture(scope="module")
def squad_it_bm25(data_root):
    task = load_task_folder(TaskSpec(path=data_root / "tasks/it/retrieval_squad_it"))
    run = BM25Retriever().retrieve(task, 1000, SilentProgress())
    return task, run


def test_bm25_run_keeps_top_1000_per_query(squad_it_bm25):
    task, run = squad_it_bm25
    assert set(run) == set(task.queries)
    assert all(len(docs) == 1000 for docs in run.values())


def test_metrics_equal_pytrec_eval_on_bm25_squad_it(squad_it_bm25):
    task, run = squad_it_bm25
    ours = retrieval_metrics(task.qrels, run)
    names = {"ndcg_cut": "ndcg_at", "map_cut": "map_at", "recall": "recall_at", "P": "precision_at"}
    measures = {f"{m}.{','.join(map(str, K_VALUES))}" for m in names}
    per_query = pytrec_eval.RelevanceEvaluator(task.qrels, measures).evaluate(run)
    for measure, name in names.items():
        for k in K_VALUES:
            reference = sum(q[f"{measure}_{k}"] for q in per_query.values()) / len(per_query)
            assert ours[f"{name}_{k}"] == pytest.approx(reference, abs=1e-6)
    # MRR: pytrec_eval's recip_rank over a run cut at k is MRR@k
    for k in (1, 10, 100):
        cut = {q: dict(sorted(d.items(), key=lambda x: (x[1], x[0]), reverse=True)[:k]) for q, d in run.items()}
        rr = pytrec_eval.RelevanceEvaluator(task.qrels, {"recip_rank"}).evaluate(cut)
        reference = sum(q["recip_rank"] for q in rr.values()) / len(rr)
        assert ours[f"mrr_at_{k}"] == pytest.approx(reference, abs=1e-6)
    assert 0.5 < ours["ndcg_at_10"] < 1.0


def test_metrics_equal_mteb_calculate_retrieval_scores(squad_it_bm25):
    from mteb._evaluators.retrieval_metrics import calculate_retrieval_scores, make_score_dict

    task, run = squad_it_bm25
    result = calculate_retrieval_scores(run, task.qrels, list(K_VALUES))
    reference = make_score_dict(
        ndcg=result.ndcg, _map=result.map, recall=result.recall, precision=result.precision,
        mrr=result.mrr, naucs={}, naucs_mrr={}, hit_rate=result.hit_rate, task_scores={},
    )
    ours = mteb_rounded(retrieval_metrics(task.qrels, run))
    shared = [k for k in ours if k in reference]
    assert len(shared) == len(ours) == 6 * len(K_VALUES)
    for key in shared:
        assert ours[key] == pytest.approx(reference[key], abs=1e-12), key


def test_mrr_breaks_ties_by_document_id_descending():
    qrels = {"q": {"b": 1}}
    run = {"q": {"a": 0.5, "b": 0.5, "c": 0.9}}
    # order: c (0.9), then the tie b > a by id descending -> b at rank 2
    assert mrr_at_k(qrels, run, (1, 10))[10] == [0.5]
    assert mrr_at_k(qrels, run, (1, 10))[1] == [0.0]
