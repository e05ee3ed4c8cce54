"""``glotta adapt``: a tiny whole study on real Dutch statutes, re-runs that skip, a changed setting
that re-runs only what follows it, a run killed mid-stage that resumes to the same numbers, and
recipe errors that name the file and the key."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, ROOT, assert_refused, build_tiny_model, cut_retrieval_task, run_cli

pytest.importorskip("optuna")

from glotta.adapt.pipeline import adapt
from glotta.adapt.recipe import load_recipe

STAGES = ["shortlist", "benchmark", "choose", "data", "tune", "merge", "verdict"]
RECIPE = """\
language: nl
documents: [docs.jsonl]
candidates: [tiny-a, tiny-b]
output: {output}
protect: [nl/xquad_nl_small, en/xquad_en_small]
mteb_results: {mteb}
cache: cache
benchmark: {{queries: 30, max_documents: 50, per_document: 1}}
data: {{pairs_per_document: 2}}
budget: {{trials: 2, space: space.yaml, steps_scale: 1.0, batch_size: 8, eval_steps: 2, eval_queries: 10,
          max_seq_length: 64, constraint_task: en/xquad_en_small, merge: {merge}}}
trim: {trim}
"""


def write_recipe(folder: Path, output: str = "out", merge: str = "[0.5]", trim: str = "{}") -> Path:
    path = folder / f"recipe-{Path(output).name}.yaml"
    path.write_text(RECIPE.format(output=output, merge=merge, mteb=DATA / "mteb-results", trim=trim),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> dict:
    """80 real Dutch statutes, two tiny models, small Dutch and English protected tasks; one whole run."""
    root = tmp_path_factory.mktemp("adapt")
    lines = (DATA / "corpora/nl/wetten_laws_markdown/docs.jsonl").read_text(encoding="utf-8").splitlines()[:80]
    (root / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_tiny_model(root / "tiny-a")
    build_tiny_model(root / "tiny-b", seed=1)
    cut_retrieval_task(DATA / "tasks/nl/retrieval_xquad_nl", root / "nl" / "xquad_nl_small", 40, 30)
    cut_retrieval_task(DATA / "tasks/en/retrieval_xquad_en", root / "en" / "xquad_en_small", 40, 30)
    (root / "space.yaml").write_text("learning_rate: {low: 1e-4, high: 2e-3, log: true}\nsteps: 8\n"
                                     "merge_alpha: 1.0\n", encoding="utf-8")
    result = adapt(load_recipe(write_recipe(root)))
    return {"root": root, "result": result, "out": root / "out"}


def stage(out: Path, name: str) -> dict:
    return json.loads((out / name / "stage.json").read_text(encoding="utf-8"))


def test_every_stage_runs_and_the_report_holds_the_study(study):
    result, out = study["result"], study["out"]
    assert [r.name for r in result.stages] == STAGES and not any(r.skipped for r in result.stages)
    report = (out / "report.md").read_text(encoding="utf-8")
    for heading in ["Stages", "when MTEB scores mislead", "The benchmark from your documents",
                    "Candidates on your documents", "Training triplets (Table 1)", "Tuning (glotta tune)",
                    "Merge sweep", "Verdict"]:
        assert heading in report, heading
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "<img" in html  # Figure 1, trials, Figure 2: embedded
    verdict = result.verdict
    assert verdict["text"].startswith(("use the adapted model", "keep the base"))
    assert verdict["use_adapted"] == verdict["text"].startswith("use the adapted model")
    assert set(verdict["protected_points"]) == {"nl/xquad_nl_small", "en/xquad_en_small"}


def test_no_dev_or_test_document_is_trained_on_and_the_miner_is_not_the_adapted_model(study):
    out = study["out"]
    manifest = json.loads((out / "benchmark" / "custom" / "manifest.json").read_text(encoding="utf-8"))
    held = set(manifest["documents by split"]["dev"]) | set(manifest["documents by split"]["test"])
    assert held and set(manifest["documents by split"]) == {"dev", "test"}
    training = {json.loads(line)["id"] for line in (out / "benchmark" / "train_documents.jsonl").open()}
    assert training and not training & held
    rows = [json.loads(line) for line in (out / "data" / "train.jsonl").open()]
    assert rows and all(row["doc_id"] in training for row in rows)
    assert {row["miner"] for row in rows} == {"bm25s"} or all("bm25" in row["miner"] for row in rows)
    queries = [json.loads(line) for line in (out / "benchmark" / "custom" / "queries.jsonl").open()]
    assert {q["source"] for q in queries} == {"heading"}  # test queries: not the training pairs' generator
    assert {row["source"] for row in rows} != {"heading"}


def test_a_rerun_skips_every_stage_and_gives_the_same_report(study):
    before = (study["out"] / "report.md").read_text(encoding="utf-8")
    again = adapt(load_recipe(write_recipe(study["root"])))
    assert all(r.skipped for r in again.stages)
    assert again.verdict == study["result"].verdict
    assert (study["out"] / "report.md").read_text(encoding="utf-8").replace("| ran |", "| skipped |") == \
        before.replace("| ran |", "| skipped |")


def test_stages_made_by_other_code_run_again(tmp_path, monkeypatch):
    """glotta's source is part of every fingerprint: a stage made before the code changed is not reused."""
    from glotta.adapt import stages as staging

    runs = []

    def step(ctx):
        runs.append(ctx.work.name)
        return {"run": len(runs)}

    pipeline = [staging.Stage("one", {"k": 1}, (), (), step), staging.Stage("two", {}, (), ("one",), step)]
    staging.run_stages(pipeline, tmp_path)
    assert [r.skipped for r in staging.run_stages(pipeline, tmp_path)] == [True, True]
    monkeypatch.setattr(staging, "code_digest", lambda: "0" * 64)  # as if a source file had been edited since
    assert [r.skipped for r in staging.run_stages(pipeline, tmp_path)] == [False, False]
    assert runs == ["one.partial", "two.partial"] * 2


def test_a_changed_merge_setting_reruns_only_the_merge_and_the_verdict(study, tmp_path):
    out = tmp_path / "changed"
    shutil.copytree(study["out"], out)
    recipe = write_recipe(study["root"], output=str(out), merge="[0.25, 0.5]")
    tuned_before = stage(out, "tune")
    result = adapt(load_recipe(recipe))
    ran = [r.name for r in result.stages if not r.skipped]
    assert ran == ["merge", "verdict"]
    assert stage(out, "tune") == tuned_before
    assert [row["alpha"] for row in stage(out, "merge")["summary"]["sweep"]] == [0.0, 0.25, 0.5, 1.0]


def test_a_trim_stage_tunes_the_trimmed_model_and_the_verdict_keeps_the_untrimmed_base(study, tmp_path):
    out = tmp_path / "trimmed"
    shutil.copytree(study["out"], out)
    result = adapt(load_recipe(write_recipe(study["root"], output=str(out), trim="{size: 1500}")))
    assert [r.name for r in result.stages if not r.skipped] == ["trim", "tune", "merge", "verdict"]
    assert stage(out, "trim")["summary"]["vocabulary"] == 1500
    for folder in (out / "trim" / "trimmed", out / "tune" / "tuned"):
        config = json.loads(next(folder.rglob("config.json")).read_text(encoding="utf-8"))
        assert config["vocab_size"] == 1500, folder
    assert result.verdict["custom_test"]["base"] == study["result"].verdict["custom_test"]["base"]
    assert "Vocabulary trim (glotta trim)" in (out / "report.md").read_text(encoding="utf-8")


def test_a_run_killed_in_the_tune_stage_resumes_to_the_same_numbers(study, tmp_path):
    out = tmp_path / "killed"
    shutil.copytree(study["out"], out)
    for name in ("tune", "merge", "verdict"):
        shutil.rmtree(out / name)
    recipe = write_recipe(study["root"], output=str(out))
    command = [sys.executable, "-m", "glotta.cli", "adapt", str(recipe)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    journal = out / "tune.partial" / "study" / "study.journal"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and '"trial_id"' not in (journal.read_text() if journal.exists() else ""):
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert journal.exists() and not (out / "tune").exists()  # killed mid-stage: no finished tune folder
    result = adapt(load_recipe(recipe))
    assert [r.name for r in result.stages if not r.skipped] == ["tune", "merge", "verdict"]
    assert result.verdict == study["result"].verdict
    assert stage(out, "merge")["summary"] == stage(study["out"], "merge")["summary"]


@pytest.mark.parametrize(("text", "mentions"), [
    ("language: nl\ndocuments: [docs.jsonl]\ncandidates: [tiny-a]\n", ["output"]),
    ("language: nl\ndocuments: [docs.jsonl]\ncandidates: [tiny-a]\noutput: o\nbudget: {trails: 3}\n",
     ["budget.trails"]),
    ("language: nl\ndocuments: [docs.jsonl]\ncandidates: [tiny-a]\noutput: o\nbudget: {trials: many}\n",
     ["budget.trials"]),
    ("language: nl\ndocuments: [docs.jsonl]\ncandidates: [tiny-a]\noutput: o\nbenchmark: {dev_share: 1.5}\n",
     ["benchmark.dev_share"]),
    ("language: xx\ndocuments: [docs.jsonl]\ncandidates: [tiny-a]\noutput: o\n", ["xx"]),
    ("language: nl\ndocuments: [missing/]\ncandidates: [tiny-a]\noutput: o\n", ["missing/"]),
    ("language: nl\ndocuments: [docs.jsonl]\ncandidates: [tiny-a]\noutput: o\ndata: {miner: tiny-a}\n",
     ["circular"]),
    ("language: nl\ndocuments: [docs.jsonl]\ncandidates: [tiny-a]\noutput: o\ndata: {num_negatives: 3, range_max: 2}\n",
     ["data.range_max", "at least data.num_negatives (3)"]),
    ("language: nl\ndocuments: [docs.jsonl]\ncandidates: [tiny-a]\noutput: o\ndata: {random_negatives: -1}\n",
     ["data.random_negatives", "0 or more"]),
    ("language: nl\ndocuments: [docs.jsonl]\ncandidates: [tiny-a]\noutput: o\ntrim: {size: 0}\n", ["trim.size"]),
    ("language: nl\ndocuments: [docs.jsonl]\ncandidates: [tiny-a]\noutput: o\ntrim: {size: 9, keep: [en.txt]}\n",
     ["trim.keep", "en.txt"]),
])
def test_a_bad_recipe_is_one_message_naming_the_key(tmp_path, text, mentions):
    with (DATA / "corpora/nl/wetten_laws_markdown/docs.jsonl").open(encoding="utf-8") as stream:
        (tmp_path / "docs.jsonl").write_text("".join(itertools.islice(stream, 3)), encoding="utf-8")
    (tmp_path / "tiny-a").mkdir()
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_cli("adapt", str(path))
    assert_refused(result, str(path), *mentions)
    assert not (tmp_path / "o").exists()
