"""Reranking: a retrieval task restricted to each query's candidates (MTEB's top_ranked)."""

from __future__ import annotations

import json

import pytest

from glotta.data.local_tasks import load_task_folder
from glotta.data.task_spec import TaskSpec
from glotta.data.tasks import RerankingTask, TaskType
from glotta.encoders.registry import resolve_model
from glotta.errors import GlottaError
from glotta.evaluation.retrieval import evaluate_reranking, evaluate_retrieval
from glotta.progress import SilentProgress


def _write_candidates(folder, pairs):
    (folder / "candidates").mkdir(exist_ok=True)
    rows = "".join(f"{q}\t{d}\n" for q, d in pairs)
    (folder / "candidates" / "test.tsv").write_text("query-id\tcorpus-id\n" + rows, encoding="utf-8")


def test_reranking_all_documents_equals_retrieval_and_short_lists_are_respected(small_task):
    queries = [json.loads(line)["_id"] for line in (small_task / "queries.jsonl").read_text().splitlines()]
    docs = [json.loads(line)["_id"] for line in (small_task / "corpus.jsonl").read_text().splitlines()]
    model = resolve_model("sentence-transformers/all-MiniLM-L6-v2")
    retrieval = evaluate_retrieval(load_task_folder(TaskSpec(path=small_task)), model.retriever, SilentProgress())

    _write_candidates(small_task, [(q, d) for q in queries for d in docs])
    task = load_task_folder(TaskSpec(path=small_task))
    assert isinstance(task, RerankingTask) and task.metadata.type is TaskType.RERANKING
    full = evaluate_reranking(task, model.encoder, SilentProgress())
    assert full["map_at_1000"] == pytest.approx(retrieval["map_at_1000"], abs=1e-5)

    qrels = [line.split("\t") for line in (small_task / "qrels/test.tsv").read_text().splitlines()[1:]]
    relevant = {q: d for q, d, _ in qrels}
    distractors = [d for d in docs if d not in relevant.values()][:3]
    _write_candidates(small_task, [(q, d) for q in queries for d in [*distractors, relevant[q]]])
    short = evaluate_reranking(load_task_folder(TaskSpec(path=small_task)), model.encoder, SilentProgress())
    assert short["recall_at_5"] == 1.0  # four candidates, one relevant: always within the top 5
    assert short["map_at_1000"] > full["map_at_1000"]


def test_candidate_outside_the_corpus_is_reported(small_task):
    _write_candidates(small_task, [("q-unknown", "no-such-doc")])
    with pytest.raises(GlottaError) as caught:
        load_task_folder(TaskSpec(path=small_task))
    assert caught.value.line == 2 and "corpus id 'no-such-doc' is not in corpus.jsonl" in caught.value.message
