"""Scores per query source: a task whose queries name the generator that wrote them (queries.jsonl's
'source') reports its metrics per source, on real Italian XQuAD questions scored by BM25."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import assert_refused, write_jsonl
from glotta import evaluate
from glotta.evaluation.retrieval import STUDY_METRICS

SOURCE = "tasks/it/retrieval_xquad_it"
QUERIES = 40
SOURCES = ("cloze", "heading")


def _labelled_task(data_root: Path, target: Path, sources: list | None) -> Path:
    """The first QUERIES questions over the whole corpus, each with ``sources[i % len(sources)]``
    as its source (none when ``sources`` is None)."""
    source = data_root / SOURCE
    lines = (source / "queries.jsonl").read_text(encoding="utf-8").splitlines()[:QUERIES]
    queries = [json.loads(line) for line in lines]
    if sources is not None:
        for i, query in enumerate(queries):
            query["source"] = sources[i % len(sources)]
    write_jsonl(target / "queries.jsonl", queries)
    shutil.copy(source / "corpus.jsonl", target / "corpus.jsonl")
    chosen = {query["_id"] for query in queries}
    header, *rows = (source / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    (target / "qrels").mkdir()
    (target / "qrels" / "test.tsv").write_text(
        "".join(f"{row}\n" for row in [header, *(r for r in rows if r.split("\t")[0] in chosen)]), encoding="utf-8")
    return target


@pytest.fixture
def labelled(tmp_path, data_root) -> Path:
    return _labelled_task(data_root, tmp_path / "it" / "xquad_sources", list(SOURCES))


def test_scores_per_source_weight_back_to_the_overall_scores(labelled):
    (outcome,) = evaluate("bm25", labelled).outcomes
    per_source = outcome.scores["per_source"]
    assert tuple(per_source) == SOURCES
    assert sum(scores["queries"] for scores in per_source.values()) == QUERIES
    for name in ("main_score", *STUDY_METRICS):
        weighted = sum(scores["queries"] * scores[name] for scores in per_source.values()) / QUERIES
        assert weighted == pytest.approx(outcome.scores[name], abs=1e-4), name
    assert outcome.scores["main_score"] == outcome.scores["ndcg_at_10"]


def test_queries_without_a_source_beside_labelled_ones_are_unlabelled(tmp_path, data_root):
    folder = _labelled_task(data_root, tmp_path / "it" / "xquad_partly", ["heading", None])
    queries = [json.loads(line) for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    write_jsonl(folder / "queries.jsonl", [{k: v for k, v in q.items() if v is not None} for q in queries])
    (outcome,) = evaluate("bm25", folder).outcomes
    assert {source: scores["queries"] for source, scores in outcome.scores["per_source"].items()} == {
        "heading": QUERIES // 2, "unlabelled": QUERIES // 2}


def test_cli_shows_a_row_per_source_also_from_the_stored_results(glotta, labelled, tmp_path):
    output = tmp_path / "results"
    done = glotta("eval", "--task", labelled, "--model", "bm25", "--output", output)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = glotta("results", "show", output)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    for printed in (done.stdout, shown.stdout):
        assert all(f"xquad_sources [{source}]" in printed for source in SOURCES), printed
        assert "task [source]:" in printed
    (stored,) = output.glob("*/*/xquad_sources.json")
    entry = json.loads(stored.read_text(encoding="utf-8"))["scores"]["test"][0]
    assert entry["per_source"]["cloze"]["queries"] == QUERIES // 2


def test_a_task_without_sources_has_no_per_source_scores(glotta, tmp_path, data_root):
    folder = _labelled_task(data_root, tmp_path / "it" / "xquad_plain", None)
    (outcome,) = evaluate("bm25", folder).outcomes
    assert "per_source" not in outcome.scores
    done = glotta("eval", "--task", folder, "--model", "bm25", "--output", tmp_path / "results")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "xquad_plain [" not in done.stdout and "task [source]:" not in done.stdout


@pytest.mark.parametrize("bad", [3, "  ", None])
def test_a_source_that_is_not_text_is_refused_with_its_line(glotta, tmp_path, data_root, bad):
    folder = _labelled_task(data_root, tmp_path / "it" / "xquad_bad", list(SOURCES))
    queries = (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries[2] = json.dumps({**json.loads(queries[2]), "source": bad})
    (folder / "queries.jsonl").write_text("\n".join(queries) + "\n", encoding="utf-8")
    done = glotta("eval", "--task", folder, "--model", "bm25", "--output", tmp_path / "results")
    assert_refused(done, f"{folder / 'queries.jsonl'}:3", "field 'source' must be a non-empty string")
    assert not list(tmp_path.glob("results/**/*.json"))
