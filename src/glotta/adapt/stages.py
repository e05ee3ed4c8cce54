"""Stages that are skipped when nothing they depend on changed, and resume when they were cut short.

A stage's fingerprint is a sha256 over its settings, the contents of the files it reads, the
fingerprints of the stages it follows and glotta's own source, so a changed setting re-runs that
stage and every stage after it, and nothing before, and changed code re-runs everything. A stage
works in ``<out>/<name>.partial/``: a run killed there keeps what the stage's own resumable engine
wrote (Optuna's journal, triplet shards, the embedding cache) and the next run with the same
fingerprint continues in it. When the stage ends, ``stage.json`` (fingerprint, summary, wall time)
is written into it and the folder is renamed onto ``<out>/<name>/``, so a finished stage is whole or
absent.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import glotta
from glotta.data.atomic import write_json_atomic, write_text_atomic
from glotta.data.digests import files_digest, path_digest

STAGE_FILE = "stage.json"
FINGERPRINT_FILE = "fingerprint"


@dataclass(frozen=True)
class StageContext:
    """What a running stage sees: its work folder and the finished folders of the stages before it."""

    work: Path
    done: dict[str, Path]  # stage name -> its finished folder
    summaries: dict[str, dict]  # stage name -> its summary


@dataclass(frozen=True)
class Stage:
    name: str
    settings: dict  # JSON: everything the stage's outcome depends on besides its files and upstream stages
    inputs: tuple[Path, ...]  # files or folders the stage reads; their contents are hashed
    after: tuple[str, ...]  # stages whose outputs it reads
    run: Callable[[StageContext], dict]  # fills the work folder, returns a JSON summary


@dataclass(frozen=True)
class StageResult:
    name: str
    folder: Path
    summary: dict
    wall_s: float  # of the run that made it (not of a skipped re-run)
    skipped: bool


@functools.cache
def code_digest() -> str:
    """sha256 over glotta's Python source. A version number changes only at a release: a stage made
    by code edited since (a changed pair splitter) must not be reused as if it were this code's."""
    package = Path(glotta.__file__).parent
    return files_digest(package, package.rglob("*.py"))


def fingerprint(stage: Stage, upstream: dict[str, str]) -> str:
    """The stage's identity: settings, inputs, upstream stages and the code that runs it."""
    identity = {"stage": stage.name, "glotta": code_digest(), "settings": stage.settings,
                "inputs": {str(p): path_digest(p) for p in stage.inputs},
                "after": {name: upstream[name] for name in stage.after}}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def finished(folder: Path) -> dict | None:
    path = folder / STAGE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def run_stages(stages: Sequence[Stage], out: Path, say: Callable[[str], None] = lambda _: None) -> list[StageResult]:
    """Each stage in order: skipped when its finished folder has its fingerprint, else (re)run."""
    out.mkdir(parents=True, exist_ok=True)
    prints: dict[str, str] = {}
    done: dict[str, Path] = {}
    summaries: dict[str, dict] = {}
    results = []
    for stage in stages:
        prints[stage.name] = fingerprint(stage, prints)
        folder = out / stage.name
        record = finished(folder)
        if record is not None and record["fingerprint"] == prints[stage.name]:
            say(f"{stage.name}: unchanged, skipped (ran in {record['wall_s']:.0f} s)")
            results.append(StageResult(stage.name, folder, record["summary"], record["wall_s"], True))
        else:
            say(f"{stage.name}: running")
            results.append(_run(stage, prints[stage.name], folder, StageContext(_work(out, stage, prints), done,
                                                                                summaries)))
            say(f"{stage.name}: done in {results[-1].wall_s:.0f} s")
        done[stage.name], summaries[stage.name] = folder, results[-1].summary
    return results


def _work(out: Path, stage: Stage, prints: dict[str, str]) -> Path:
    """The stage's work folder: kept when it was started with the same fingerprint, else made anew."""
    work = out / f"{stage.name}.partial"
    marker = work / FINGERPRINT_FILE
    if work.is_dir() and marker.is_file() and marker.read_text().strip() == prints[stage.name]:
        return work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    write_text_atomic(marker, prints[stage.name] + "\n")
    return work


def _run(stage: Stage, print_: str, folder: Path, context: StageContext) -> StageResult:
    start = time.perf_counter()
    summary = stage.run(context)
    wall = round(time.perf_counter() - start, 1)
    write_json_atomic(context.work / STAGE_FILE, {"fingerprint": print_, "summary": summary, "wall_s": wall})
    (context.work / FINGERPRINT_FILE).unlink()
    if folder.exists():
        old = folder.with_name(f"{folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(folder, old)
        os.replace(context.work, folder)
        shutil.rmtree(old)
    else:
        os.replace(context.work, folder)
    return StageResult(stage.name, folder, summary, wall, False)
