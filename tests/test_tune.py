"""``glotta tune`` on a tiny real model and real data: workers sharing a journal study, a worker
killed mid-trial, pruning and the forgetting stop, the "keep the base" verdict, seeded sampling,
bad input, and two workers on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import DATA, ROOT, assert_refused, build_tiny_model, cut_retrieval_task, write_jsonl

optuna = pytest.importorskip("optuna")

from glotta.tuning.space import load_space, study_configs, study_space  # noqa: E402
from glotta.tuning.study import open_storage  # noqa: E402

TINY_STEPS = "0.0002"  # the study's 10k-50k steps -> 2-10


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict:
    """A tiny model, 800 real Italian triplets, Italian target and English general tasks (40 queries each)."""
    root = tmp_path_factory.mktemp("tune")
    texts = []
    with (DATA / "corpora/it/gutenberg_it/docs.jsonl").open(encoding="utf-8") as stream:
        for line in stream:
            texts += [p for p in json.loads(line)["text"].split("\n\n") if len(p.split()) > 12]
            if len(texts) >= 1600:
                break
    rows = [{"query": " ".join(texts[i].split()[:8]), "positive": " ".join(texts[i].split()[8:]),
             "negatives": [texts[800 + i]]} for i in range(800)]
    write_jsonl(root / "triplets.jsonl", rows)
    return {
        "model": build_tiny_model(root / "tiny"),
        "data": root / "triplets.jsonl",
        "target": cut_retrieval_task(DATA / "tasks/it/retrieval_xquad_it", root / "it" / "target", 40, 30),
        "general": cut_retrieval_task(DATA / "tasks/en/retrieval_xquad_en", root / "en" / "general", 40, 30),
        "root": root,
    }


def space_file(folder: Path, text: str) -> Path:
    path = folder / "space.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def tune_args(setup: dict, out: Path, *extra) -> list[str]:
    return ["tune", "run", str(setup["model"]), "--data", str(setup["data"]), "--target-task", str(setup["target"]),
            "--general-task", str(setup["general"]), "--output", str(out), "--eval-steps", "2",
            "--eval-queries", "20", "--batch-size", "16", *map(str, extra)]


def trials(out: Path, url: str | None = None, name: str | None = None):
    return optuna.load_study(study_name=name or out.name, storage=open_storage(out, url)).trials


def test_the_study_space_is_the_italian_grid_with_scaled_steps():
    space = {p.name: p.choices for p in study_space(0.001).parameters}
    assert space == {"learning_rate": (5e-6, 7.5e-6, 1e-5, 1.5e-5), "batch_size": (64, 128, 192, 384),
                     "temperature": (0.05, 0.07, 0.09), "warmup_ratio": (0.0, 0.1), "steps": (10, 20, 30, 40, 50)}
    configs = study_configs(0.001)
    assert len(configs) == 8 and len({tuple(c.values()) for c in configs}) == 8
    assert all(c[name] in space[name] for c in configs for name in space)


def test_two_workers_share_one_journal_budget_and_run_each_enqueued_configuration_once(setup, tmp_path, glotta):
    out = tmp_path / "grid"
    args = tune_args(setup, out, "--space", "study", "--steps-scale", TINY_STEPS, "--enqueue-study", "--trials", "4",
                     "--loss", "cached-infonce", "--mini-batch-size", "64", "--max-seq-length", "16",
                     "--max-general-drop", "100", "--eval-steps", "5")
    result = glotta(*args, "--workers", "2")
    assert result.returncode == 0, result.stderr
    done = [t for t in trials(out) if t.state.is_finished()]
    # MaxTrialsCallback stops each worker after its trial once 4 are done: the other may be one trial into it
    assert 4 <= len(done) <= 5 and len({t.number for t in done}) == len(done)
    assert len({t.user_attrs["worker"] for t in done}) == 2  # both processes ran trials
    enqueued = [tuple(sorted(t.system_attrs["fixed_params"].items())) for t in done if "fixed_params" in t.system_attrs]
    wanted = {tuple(sorted(c.items())) for c in study_configs(float(TINY_STEPS))}
    assert len(enqueued) == len(set(enqueued)) >= 4 and set(enqueued) <= wanted
    # a second run with the same settings: the budget is spent, nothing is enqueued again
    again = glotta(*args)
    assert again.returncode == 0, again.stderr
    assert len(trials(out)) == 8 and "verdict:" in again.stdout  # the 8 enqueued, each once
    shown = glotta("tune", "show", out, "--export-best", tmp_path / "best")
    assert shown.returncode == 0, shown.stderr
    assert (tmp_path / "best" / "modules.json").is_file()  # the chosen model, loadable as any model folder
    assert {p.name for p in (out / "report").iterdir()} >= {"report.html", "report.md", "verdict.json", "history.png"}
    assert " *" in shown.stdout  # the chosen trial is marked
    # a worker started with other settings is refused
    other = glotta(*tune_args(setup, out, "--space", "study", "--steps-scale", TINY_STEPS, "--enqueue-study",
                              "--trials", "4", "--max-general-drop", "0.2"))
    assert_refused(other, "other settings", "max_general_drop")


def test_a_worker_killed_mid_trial_leaves_a_failed_trial_that_the_resumed_study_runs_again(setup, tmp_path):
    out = tmp_path / "killed"
    space = space_file(tmp_path, "learning_rate: {low: 1e-4, high: 1e-3, log: true}\nsteps: 40\n")
    command = [sys.executable, "-m", "glotta.cli", *tune_args(setup, out, "--space", space, "--trials", "2")]
    worker = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and worker.poll() is None:  # until the first trial is training
        if list((out / "trials").glob("*/tuned-checkpoints")):
            break
        time.sleep(0.5)
    assert worker.poll() is None, "the worker ended before training"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    assert [t.state.name for t in trials(out)] == ["RUNNING"]
    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    states = {t.number: t for t in trials(out)}
    assert states[0].state.name == "FAIL"
    rerun = [t for t in states.values() if t.system_attrs.get("failed_trial") == 0]
    assert len(rerun) == 1 and rerun[0].state.is_finished() and rerun[0].params == states[0].params
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in states.values()) == 2


def _study(setup: dict, out: Path, rates: list[float], **changes):
    """A study over the learning rate alone, with ``rates`` enqueued, run in this process."""
    from glotta.tuning.settings import TuneSettings
    from glotta.tuning.space import Parameter, SearchSpace
    from glotta.tuning.study import prepare, run_worker

    space = SearchSpace("rates", (Parameter("learning_rate", choices=tuple(sorted(set(rates)))),), (("steps", 8),))
    options = {"eval_steps": 2, "eval_queries": 20, "batch_size": 16, "trials": len(rates), **changes}
    settings = TuneSettings(model=str(setup["model"]), data=(str(setup["data"]),), target_task=str(setup["target"]),
                            general_task=str(setup["general"]), space=space, **options)
    study = prepare(settings, out, None, out.name)
    for rate in rates:
        study.enqueue_trial({"learning_rate": rate})
    run_worker(settings, out, None, out.name, 0)
    return settings, optuna.load_study(study_name=out.name, storage=open_storage(out, None))


def test_the_pruner_stops_a_trial_below_the_median_and_records_why(setup, tmp_path):
    _, study = _study(setup, tmp_path / "pruned", [2e-4, 3e-4, 0.2], stop_drop=100.0)
    states = [(t.state.name, t.user_attrs["reason"].split(":")[0]) for t in study.trials]
    assert states == [("COMPLETE", "completed"), ("COMPLETE", "completed"), ("PRUNED", "pruner")]
    assert "below the median" in study.trials[2].user_attrs["reason"]
    assert not (tmp_path / "pruned" / "trials" / "0002").exists()  # a stopped trial leaves no model


def test_the_forgetting_stop_ends_a_trial_at_once_and_nothing_feasible_keeps_the_base(setup, tmp_path):
    from glotta.tuning.results import verdict

    settings, study = _study(setup, tmp_path / "forgot", [0.2], stop_drop=1.0)
    (trial,) = study.trials
    assert trial.state.name == "PRUNED" and trial.user_attrs["reason"].startswith("forgetting: general drop")
    assert int(trial.user_attrs["reason"].split("at step ")[1].split()[0]) == 2  # the first check after step 0
    result = verdict(study, settings)
    assert not result.use_tuned and result.text.startswith("keep the base: no trial keeps the general drop")


def test_a_study_without_feasible_trials_names_the_closest(setup, tmp_path):
    from glotta.tuning.results import verdict

    settings, study = _study(setup, tmp_path / "strict", [3e-4, 1e-3], max_general_drop=0.0, stop_drop=100.0)
    drops = {t.number: t.user_attrs["drop"] for t in study.trials}
    assert all(t.state.name == "COMPLETE" for t in study.trials)
    if any(drop <= 0 for drop in drops.values()):
        pytest.skip(f"a trial kept the general score on this machine ({drops})")
    result = verdict(study, settings)
    closest = min(drops, key=drops.get)
    assert not result.use_tuned and f"the closest is trial {closest}" in result.text
    with pytest.raises(ValueError, match="No feasible trials"):
        _ = study.best_trial  # what glotta must not call: Optuna raises when nothing is feasible


def test_pareto_mode_has_two_objectives_and_a_pareto_set(setup, tmp_path):
    from glotta.tuning.results import figures
    from glotta.tuning.study import chosen

    _, study = _study(setup, tmp_path / "pareto", [1e-4, 5e-4], mode="pareto", stop_drop=100.0)
    assert [len(t.values) for t in study.trials] == [2, 2]
    assert all(t.values == pytest.approx([t.user_attrs["gain"], t.user_attrs["drop"]], abs=1e-4) for t in study.trials)
    assert {t.number for t in chosen(study, 1)} == {t.number for t in study.best_trials}
    assert {p.name for p in figures(study, tmp_path / "figures")} >= {"history.png", "pareto.png"}


def test_errors_in_every_trial_stop_the_study(setup, tmp_path):
    from glotta.errors import GlottaError

    with pytest.raises(GlottaError, match="trials failed with an error"):
        _study(setup, tmp_path / "broken", [1e-4, 2e-4], batch_size=4000)  # more rows per batch than there are


def test_a_fixed_seed_proposes_the_same_parameters(setup, tmp_path, glotta):
    space = space_file(tmp_path, "learning_rate: {low: 1e-5, high: 1e-3, log: true}\n"
                                 "temperature: {low: 0.02, high: 0.1}\nsteps: 2\n")
    runs = []
    for name in ("a", "b"):
        result = glotta(*tune_args(setup, tmp_path / name, "--space", space, "--trials", "3", "--seed", "7",
                                   "--max-general-drop", "100"))
        assert result.returncode == 0, result.stderr
        runs.append([t.params for t in trials(tmp_path / name)])
    assert runs[0] == runs[1] and len({json.dumps(p, sort_keys=True) for p in runs[0]}) == 3


@pytest.mark.parametrize(("space", "extra", "mentions"), [
    ("learning_rate: {low: 1e-5, high: 1e-3}\nwarmup_steps: 10\n", [], ["unknown parameter 'warmup_steps'"]),
    ("learning_rate: {low: 1e-3, high: 1e-5}\n", [], ["learning_rate", "empty"]),
    ("merge_alpha: {choices: [0.5, 1.5]}\n", [], ["merge_alpha", "outside"]),
    ("steps: 2\n", ["--max-general-drop", "-1"], ["--max-general-drop"]),
    ("steps: 2\n", ["--mode", "both"], ["--mode"]),
    ("steps: 2\n", ["--storage", "postgresql://glotta:secret@127.0.0.1:9/none"], ["cannot be used", "127.0.0.1:9"]),
])
def test_bad_input_is_one_message(setup, tmp_path, glotta, space, extra, mentions):
    path = space_file(tmp_path, space)
    result = glotta(*tune_args(setup, tmp_path / "out", "--space", path, *extra))
    stderr = assert_refused(result, *mentions)
    assert "secret" not in stderr  # a password never reaches a message
    assert not (tmp_path / "out" / "trials").exists()


def test_a_space_file_scales_steps_and_pins_values(tmp_path):
    space = load_space(space_file(tmp_path, "steps: {low: 10000, high: 20000}\nwarmup_ratio: 0\n"
                                            "negatives: {low: 0, high: 1}\n"), 0.001)
    assert [(p.name, p.low, p.high) for p in space.parameters] == [("steps", 10, 20), ("negatives", 0, 1)]
    assert dict(space.fixed) == {"warmup_ratio": 0.0}


@pytest.fixture(scope="module")
def postgres():
    """A real PostgreSQL server on 127.0.0.1 in a temporary data directory (Debian's postgresql package)."""
    import shutil
    import socket

    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not binaries:
        if os.environ.get("GLOTTA_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is not installed, and CI requires it (Debian's postgresql)")
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
    bin_dir = binaries[-1]
    # under /tmp itself: pytest's own temporary folders are private to this user, and the server's user
    # must reach its data directory
    folder = Path(tempfile.mkdtemp(prefix="glotta-postgres-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    as_root = os.geteuid() == 0  # postgres refuses to run as root: run it as the postgres user

    def run(*command):
        text = " ".join(map(str, command))
        argv = ["su", "postgres", "-c", text] if as_root else ["bash", "-c", text]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    if as_root:
        shutil.chown(folder, "postgres", "postgres")
    run(bin_dir / "initdb", "-D", folder / "data", "-A", "trust", "-U", "postgres")
    run(bin_dir / "pg_ctl", "-D", folder / "data", "-l", folder / "server.log", "-o",
        f"'-h 127.0.0.1 -p {port} -k {folder}'", "-w", "start")
    try:
        run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "glotta")
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/glotta"
    finally:
        run(bin_dir / "pg_ctl", "-D", folder / "data", "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_two_workers_on_a_real_postgresql_server(setup, tmp_path, glotta, postgres):
    space = space_file(tmp_path, "learning_rate: {low: 1e-5, high: 1e-3, log: true}\nsteps: 2\n")
    out = tmp_path / "pg"
    result = glotta(*tune_args(setup, out, "--space", space, "--workers", "2", "--trials", "4", "--storage", postgres,
                               "--study-name", "pg-study", "--max-general-drop", "100"))
    assert result.returncode == 0, result.stderr
    done = [t for t in trials(out, postgres, "pg-study") if t.state.is_finished()]
    assert 4 <= len(done) <= 5 and len({t.user_attrs["worker"] for t in done}) == 2  # see the journal test
    assert not (out / "study.journal").exists()  # the database holds the study
    shown = glotta("tune", "show", out, "--storage", postgres, "--study-name", "pg-study", "--no-verdict")
    assert shown.returncode == 0, shown.stderr
    assert "pg-study" in shown.stdout
