"""The ``glotta`` command end to end: results on disk in MTEB's format, reuse, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli


def _result_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.json") if p.name != "model_meta.json") if folder.exists() else []


def test_eval_writes_mteb_results_that_mteb_reads(small_task, tmp_path):
    out = tmp_path / "results"
    done = run_cli("eval", "--task", str(small_task), "-m", "bm25", "-m",
                   "sentence-transformers/all-MiniLM-L6-v2", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "xquad_small" in done.stdout and "R@100" in done.stdout
    files = _result_files(out)
    assert [f.parent.parent.name for f in files] == ["bm25s", "sentence-transformers__all-MiniLM-L6-v2"]
    document = json.loads(files[1].read_text())
    entry = document["scores"]["test"][0]
    assert entry["languages"] == ["ita-Latn"] and entry["main_score"] == entry["ndcg_at_10"]
    assert {"recall_at_1", "mrr_at_100", "map_at_1000", "precision_at_20"} <= set(entry)

    from mteb.results import TaskResult

    loaded = TaskResult.from_disk(files[1])
    assert loaded.task_name == "xquad_small"
    assert loaded.get_score() == entry["main_score"]


def test_second_run_reuses_results_unless_overwrite(small_task, tmp_path):
    out = tmp_path / "results"
    assert run_cli("eval", "--task", str(small_task), "-m", "bm25", "-o", str(out)).returncode == 0
    (file,) = _result_files(out)
    stamp = file.stat().st_mtime_ns
    again = run_cli("eval", "--task", str(small_task), "-m", "bm25", "-o", str(out))
    assert again.returncode == 0 and "1 reused" in again.stdout
    assert file.stat().st_mtime_ns == stamp
    assert run_cli("eval", "--task", str(small_task), "-m", "bm25", "-o", str(out), "--overwrite").returncode == 0
    assert file.stat().st_mtime_ns != stamp


def _assert_clean_failure(done, *needles: str, out: Path) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr
    assert _result_files(out) == []


def test_unknown_model_writes_nothing(small_task, tmp_path):
    out = tmp_path / "results"
    done = run_cli("eval", "--task", str(small_task), "-m", "bm25", "-m", "acme/nope", "-o", str(out))
    _assert_clean_failure(done, "unknown model 'acme/nope'", out=out)


def test_bad_task_file_is_reported_by_file_and_line(small_task, tmp_path):
    out = tmp_path / "results"
    lines = (small_task / "corpus.jsonl").read_text().count("\n")
    with (small_task / "corpus.jsonl").open("a") as f:
        f.write("{not json}\n")
    done = run_cli("eval", "--task", str(small_task), "-m", "bm25", "-o", str(out))
    _assert_clean_failure(done, f"corpus.jsonl:{lines + 1}: malformed JSON", out=out)


def test_unknown_benchmark(tmp_path):
    out = tmp_path / "results"
    _assert_clean_failure(run_cli("eval", "-b", "klingon", "-m", "bm25", "-o", str(out)),
                          "unknown benchmark 'klingon'", out=out)


def test_tasks_lists_a_benchmark_with_counts():
    done = run_cli("tasks", "-b", "nld")
    assert done.returncode == 0, done.stderr
    assert "retrieval_policyqa_nl" in done.stdout and "1190 queries" in done.stdout


def test_hf_task_offline_fails_clearly(tmp_path):
    bench = tmp_path / "hf.yaml"
    bench.write_text("name: hf\ntasks:\n  - hf: mteb/belebele\n    subset: ita_Latn-ita_Latn\n"
                     "    type: retrieval\n    language: ita\n")
    done = run_cli("tasks", "-b", str(bench), env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot load Hugging Face dataset 'mteb/belebele'" in done.stderr
