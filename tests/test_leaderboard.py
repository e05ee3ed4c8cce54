"""The language leaderboard on MTEB's real published results (../shared/data/mteb-results)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from scipy.stats import kendalltau

from conftest import run_cli
from glotta.analysis.leaderboard import build_leaderboard
from glotta.analysis.results_reader import load_results

E5_SMALL = "intfloat/multilingual-e5-small"


@pytest.fixture(scope="module")
def published(data_root):
    return load_results([data_root / "mteb-results"])


def _stored(data_root, model, revision, task, subset, metric="ndcg_at_10"):
    path = data_root / "mteb-results/results" / model.replace("/", "__") / revision / f"{task}.json"
    entries = json.loads(path.read_text())["scores"]["test"]
    return next(e[metric] for e in entries if e["hf_subset"] == subset)


def test_every_published_file_reads_and_revisions_follow_mteb(published):
    assert published.skipped == []
    assert len(published.models()) == 16
    # MTEB's choice for e5-small is its main revision, even where that file lacks Italian ...
    (wiki, *older) = published.candidates[(E5_SMALL, "WikipediaRetrievalMultilingual")]
    assert wiki.revision == "fd1525a9fd15316a2d503bf26ab031a61d056e98" and older


def test_italian_view_uses_stored_values_and_reports_the_gap(published, data_root):
    board = build_leaderboard(published, "ita")
    assert board.target.compared_tasks == ["BelebeleRetrieval", "WikipediaRetrievalMultilingual"]
    # ... so the Italian score falls back to the older revision that has the 'it' subset
    belebele = _stored(data_root, E5_SMALL, "fd1525a9fd15316a2d503bf26ab031a61d056e98", "BelebeleRetrieval",
                       "ita_Latn-ita_Latn")
    wiki = _stored(data_root, E5_SMALL, "e4ce9877abf3edfe10b0d82785e83bdcb973e22e",
                   "WikipediaRetrievalMultilingual", "it")
    row = next(r for r in board.rows if r.model == E5_SMALL)
    assert row.language == pytest.approx((belebele + wiki) / 2, abs=1e-12)
    stored = board.target.per_task[E5_SMALL]
    assert (stored["BelebeleRetrieval"], stored["WikipediaRetrievalMultilingual"]) == (belebele, wiki)
    assert len(board.overall.compared_tasks) == 130  # FloresBitextMining (files over 4 MiB) is absent
    assert row.gap == pytest.approx(row.language - row.overall)
    ranked = [r for r in board.rows if r.rank_overall is not None]
    assert len(ranked) == 13  # the three Dutch clips models have no Italian results
    tau = kendalltau([r.rank_overall for r in ranked], [r.rank_language for r in ranked]).statistic
    assert board.kendall_tau == pytest.approx(tau)
    assert {r.model for r in board.rows if r.flagged} == {r.model for r in ranked if abs(r.shift) >= 3}


def test_unequal_task_sets_are_not_ranked_unless_asked(published):
    default = build_leaderboard(published, "nld")
    clips = [r for r in default.rows if r.model.startswith("clips/")]
    assert len(clips) == 3 and all(r.rank_overall is None and r.gap is None for r in clips)
    assert default.target.of("clips/e5-small-trm-nl").score is not None  # shown, on its own tasks
    partial = build_leaderboard(published, "nld", partial=True)
    assert all(r.rank_overall is not None for r in partial.rows if r.model.startswith("clips/"))


def test_all_task_types_use_main_scores(published):
    board = build_leaderboard(published, "nld", task_types=None, metric="main_score")
    assert {"SICK-NL-STS", "SIB200Classification"} <= set(board.target.compared_tasks)
    e5 = board.target.per_task[E5_SMALL]
    assert np.isfinite(list(e5.values())).all()


def test_cli_with_a_glotta_run_corrupt_files_and_figures(tmp_path, data_root, small_task):
    glotta_run = tmp_path / "run"
    assert run_cli("eval", "--task", str(small_task), "-m", "bm25", "-o", str(glotta_run)).returncode == 0
    results = tmp_path / "mteb"
    shutil.copytree(data_root / "mteb-results/results/sentence-transformers__all-MiniLM-L6-v2", results / "sentence-transformers__all-MiniLM-L6-v2")
    shutil.copytree(data_root / "mteb-results/results/intfloat__multilingual-e5-small", results / "intfloat__multilingual-e5-small")
    shutil.copytree(data_root / "mteb-results/results/BAAI__bge-m3", results / "BAAI__bge-m3")
    broken = next((results / "BAAI__bge-m3").glob("*/")) / "BelebeleRetrieval.json"
    broken.write_text('{"task_name": "BelebeleRetrieval", "scores": {"test": [{"hf_s')
    partial = broken.parent / "SIB200Classification.json"
    partial.write_text('{"task_name": "SIB200Classification", "mteb_version": "2.1.0", "scores": {}}')
    out = tmp_path / "figures"
    done = run_cli("leaderboard", "--lang", "it", "--mteb-results", str(results), "--results", str(glotta_run),
                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"skipped {broken}" in " ".join(done.stderr.split()) and f"skipped {partial}" in " ".join(done.stderr.split())
    assert "bm25s (glotta: run)" in done.stdout and "intfloat/multilingual-e5-small" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["overall_vs_ita.png", "overall_vs_ita.svg",
                                                      "rank_shift_ita.png", "rank_shift_ita.svg"]


def test_unknown_language_and_type_fail_cleanly(data_root):
    done = run_cli("leaderboard", "--lang", "i7")
    assert done.returncode == 2 and "unknown language code 'i7'" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("leaderboard", "--lang", "ita", "--type", "Regression")
    assert done.returncode == 2 and "unknown task type 'Regression'" in done.stderr
