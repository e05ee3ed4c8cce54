"""Per-query scores in the result files, bootstrap intervals and paired tests, on real Italian XQuAD queries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import cut_retrieval_task
from glotta.encoders.cache import EmbeddingCache
from glotta.encoders.registry import EncoderOptions, resolve_model
from glotta.evaluation.runner import run_evaluation
from glotta.evaluation.significance import compare_models, holm, mean_interval, paired_test, stored_per_query

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
XQUAD = "tasks/it/retrieval_xquad_it"


@pytest.fixture(scope="module")
def scored(data_root, tmp_path_factory):
    """bm25 and all-MiniLM-L6-v2 on 40 real Italian XQuAD queries, as ``glotta eval`` stores them."""
    root = tmp_path_factory.mktemp("significance")
    task_folder = cut_retrieval_task(data_root / XQUAD, root / "it" / "xquad_small", 40, 60)
    options = EncoderOptions(cache=EmbeddingCache(root / "cache"))
    tasks = [_load(task_folder)]
    outcomes = run_evaluation(tasks, ["bm25", MINILM], root / "results", options)
    return task_folder, root / "results", {o.model: o for o in outcomes}, options


def _load(folder: Path):
    from glotta.data.local_tasks import load_task_folder
    from glotta.data.task_spec import TaskSpec

    return load_task_folder(TaskSpec(path=folder))


def test_stored_per_query_scores_average_to_the_stored_main_score(scored):
    from mteb.results import TaskResult

    _, _, outcomes, _ = scored
    for outcome in outcomes.values():
        entry = json.loads(outcome.path.read_text())["scores"]["test"][0]
        block = entry["per_query"]
        assert block["main_score"] == "ndcg_at_10" and len(block["query_ids"]) == 40
        for metric in ("ndcg_at_10", "recall_at_10", "mrr_at_10"):
            assert sum(block[metric]) / 40 == pytest.approx(entry[metric], abs=1e-5), metric
        assert stored_per_query(entry) == stored_per_query(outcome.scores)  # in memory as on disk
        assert TaskResult.from_disk(outcome.path).get_score() == entry["main_score"]


def test_reranking_entries_keep_their_main_score_per_query(scored):
    from glotta.evaluation.retrieval import evaluate_reranking
    from glotta.progress import SilentProgress

    task_folder, _, _, options = scored
    folder = task_folder.parent.parent / "rerank" / "it" / "xquad_small"
    shutil.copytree(task_folder, folder)
    queries = [json.loads(line)["_id"] for line in (folder / "queries.jsonl").read_text().splitlines()]
    docs = [json.loads(line)["_id"] for line in (folder / "corpus.jsonl").read_text().splitlines()][:30]
    (folder / "candidates").mkdir()
    (folder / "candidates" / "test.tsv").write_text(
        "query-id\tcorpus-id\n" + "".join(f"{q}\t{d}\n" for q in queries for d in docs), encoding="utf-8")
    scores = evaluate_reranking(_load(folder), resolve_model(MINILM, options).encoder, SilentProgress())
    per_query = stored_per_query(scores)
    assert scores["per_query"]["main_score"] == "map_at_1000" and len(per_query) == 40
    assert sum(per_query.values()) / 40 == pytest.approx(scores["map_at_1000"], abs=1e-5)


def test_interval_holds_the_mean_and_narrows_with_more_queries(scored):
    _, _, outcomes, _ = scored
    per_query = list(stored_per_query(outcomes[MINILM].scores).values())
    every = mean_interval(per_query)
    assert every.low <= every.mean <= every.high and every.queries == 40
    assert every.mean == pytest.approx(outcomes[MINILM].main_score, abs=1e-5)
    few = mean_interval(per_query[:10])
    assert few.low <= few.mean <= few.high
    # the width shrinks about as 1/sqrt(queries): 4 times the queries, about half the width
    assert every.high - every.low < 0.75 * (few.high - few.low)


def test_a_model_against_itself_differs_by_nothing(scored):
    _, _, outcomes, _ = scored
    per_query = stored_per_query(outcomes[MINILM].scores)
    difference, p_value = paired_test(per_query, dict(per_query))
    assert p_value == 1.0
    assert (difference.mean, difference.low, difference.high) == (0.0, 0.0, 0.0)


def test_bm25_beats_an_english_model_on_italian_and_the_test_says_so(scored):
    _, _, outcomes, _ = scored
    per_query = {name: stored_per_query(o.scores) for name, o in outcomes.items()}
    (test,) = compare_models(per_query)
    assert (test.better, test.worse) == ("bm25s", MINILM)
    expected = outcomes["bm25s"].main_score - outcomes[MINILM].main_score
    assert test.difference.mean == pytest.approx(expected, abs=1e-5)
    assert 0 < test.difference.low < test.difference.mean < test.difference.high
    assert test.p_value < 0.05 and test.p_holm == test.p_value and test.significant
    assert compare_models(per_query) == [test]  # the same seed, the same numbers
    assert compare_models(per_query, seed=1)[0].difference != test.difference


def test_holm_adjusts_step_down_in_the_given_order():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_eval_prints_intervals_and_paired_tests(scored, glotta):
    task_folder, results, _, _ = scored
    done = glotta("eval", "--task", task_folder, "-m", "bm25", "-m", MINILM, "-o", results)
    assert done.returncode == 0, done.stderr
    assert "2 reused" in done.stdout and "main [95% CI]" in done.stdout
    assert "xquad_small: paired tests between models" in done.stdout and "│ yes" in done.stdout


def test_results_without_per_query_scores_are_still_read(scored, glotta, tmp_path):
    """A result file of an older glotta (no per-query scores) is shown, and the comparison says what is missing."""
    _, results, outcomes, _ = scored
    old = tmp_path / "old-results"
    shutil.copytree(results, old)
    path = old / outcomes[MINILM].path.relative_to(results)
    document = json.loads(path.read_text())
    del document["scores"]["test"][0]["per_query"]
    path.write_text(json.dumps(document))
    shown = glotta("results", "show", old)
    assert shown.returncode == 0, shown.stderr
    assert f"{outcomes['bm25s'].main_score:.4f} [" in shown.stdout  # bm25's interval, from its file
    assert f"not compared: {MINILM}" in " ".join(shown.stdout.split())
