"""Result folders in MTEB's layout: the public results repository, an mteb cache, glotta runs.

Files are parsed by mteb's own ``TaskResult.from_disk`` (it upgrades every historical file
format). A file that cannot be read is reported by path and skipped, never fatal. When a model
has results at several revisions, each task's result is chosen as MTEB's leaderboard chooses it:
the model's main revision first, then results written by an mteb version (newest first), then
results with a real revision hash.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from glotta.errors import GlottaError
from glotta.evaluation.aggregate import ScoreRecord, task_label

# glotta's task types under the names MTEB uses for them
MTEB_TYPE_NAMES = {
    "retrieval": "Retrieval", "reranking": "Reranking", "sts": "STS", "classification": "Classification",
    "clustering": "Clustering", "pair_classification": "PairClassification", "bitext": "BitextMining",
}
NO_REVISION = {"no_revision_available", "external", "", None}


@dataclass(frozen=True)
class SubsetScore:
    split: str
    subset: str
    languages: tuple[str, ...]
    metrics: dict  # every stored metric of the subset, values as stored

    def metric(self, name: str) -> float | None:
        value = self.metrics.get(name)
        return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class TaskRun:
    """One model's stored result for one task at one revision."""

    model: str  # the row label: the model name, with "(glotta: <folder>)" for glotta runs
    model_name: str
    revision: str
    task: str
    task_type: str | None  # MTEB's type name; None when neither mteb nor the file knows it
    mteb_version: str | None
    subsets: tuple[SubsetScore, ...]
    path: Path
    glotta_type: str | None = None  # glotta's own task type, for files written by glotta eval


@dataclass
class LoadedResults:
    # every (model, task)'s runs, best revision first (MTEB's choice is the first)
    candidates: dict[tuple[str, str], list[TaskRun]]
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)

    @property
    def runs(self) -> list[TaskRun]:
        """One run per (model, task): the revision MTEB's leaderboard would use."""
        return [runs[0] for runs in self.candidates.values()]

    def models(self) -> list[str]:
        return list(dict.fromkeys(model for model, _ in self.candidates))

    def revisions(self, runs: list[TaskRun] | None = None) -> dict[str, Counter]:
        """Model -> how many of ``runs`` (default: MTEB's choices) come from each revision."""
        counts: dict[str, Counter] = {}
        for run in self.runs if runs is None else runs:
            counts.setdefault(run.model, Counter())[run.revision] += 1
        return counts


def results_root(folder: Path) -> Path:
    """A clone of the results repository holds ``results/``; an mteb cache or glotta run does not."""
    if not folder.is_dir():
        raise GlottaError("is a file, not a results folder" if folder.exists() else "results folder not found",
                          fix=_RESULT_FOLDERS, path=folder)
    return folder / "results" if (folder / "results").is_dir() else folder


_RESULT_FOLDERS = "pass a clone of embeddings-benchmark/results, an mteb cache or a glotta --output folder"
_SHOWN = 3  # unreadable files named in the error of a folder that has nothing else


def load_results(folders: list[Path]) -> LoadedResults:
    """Every result file of ``folders``; unreadable ones are skipped and named.

    A folder with no readable result at all is a mistake (the wrong folder, an unfinished
    copy), not a partial result: it is one error naming the folder and its unreadable files.
    """
    candidates: list[TaskRun] = []
    skipped: list[tuple[Path, str]] = []
    for folder in folders:
        found, unreadable = [], []
        for path in sorted(results_root(folder).glob("*/*/*.json")):
            if path.name == "model_meta.json":
                continue
            try:
                found.append(_read(path))
            except Exception as exc:  # any unreadable file is skipped and named, whatever broke
                unreadable.append((path, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"))
        if not found:
            raise _nothing_readable(folder, unreadable)
        candidates += found
        skipped += unreadable
    return LoadedResults(_rank_revisions(candidates), skipped)


def _nothing_readable(folder: Path, unreadable: list[tuple[Path, str]]) -> GlottaError:
    if not unreadable:
        return GlottaError("no result files in MTEB's layout (<model>/<revision>/<task>.json)",
                           fix=_RESULT_FOLDERS, path=folder)
    named = "; ".join(f"{path.relative_to(folder)} ({why})" for path, why in unreadable[:_SHOWN])
    more = f"; and {len(unreadable) - _SHOWN} more" if len(unreadable) > _SHOWN else ""
    return GlottaError(f"none of the {len(unreadable)} result files in it can be read: {named}{more}",
                       fix="repair or remove the unreadable files, or pass another folder", path=folder)


def _read(path: Path) -> TaskRun:
    raw = json.loads(path.read_text(encoding="utf-8"))  # before importing mteb: a broken file fails fast
    from mteb.results import TaskResult

    result = TaskResult.from_disk(path)
    subsets = tuple(
        SubsetScore(split, str(entry["hf_subset"]), tuple(entry["languages"]), dict(entry))
        for split, entries in result.scores.items()
        for entry in entries
    )
    if not subsets:
        raise ValueError("the file holds no scores")
    model_folder, revision = path.parent.parent, path.parent.name
    model_name = model = _model_name(model_folder)
    glotta_type = raw.get("task_type") if "glotta_version" in raw else None
    if glotta_type:  # a glotta run: its own row, apart from the model's MTEB results
        model = f"{model_name} (glotta: {model_folder.parent.name})"
    metadata = mteb_task_metadata(result.task_name)
    task_type = metadata.type if metadata is not None else MTEB_TYPE_NAMES.get(glotta_type)
    return TaskRun(model, model_name, revision, result.task_name, task_type, result.mteb_version, subsets, path,
                   glotta_type)


def glotta_records(results: LoadedResults) -> list[ScoreRecord]:
    """Main scores of the glotta runs among ``results``, for the language-pure summary.

    One record per stored entry, named as ``glotta eval`` names it (``task_label``: the subset,
    and the split when the file holds the subset for several). A model evaluated at several
    revisions appears once per revision, as ``name@revision``.
    """
    runs = [run for run in results.runs if run.glotta_type]
    revisions: dict[str, set[str]] = {}
    for run in runs:
        revisions.setdefault(run.model_name, set()).add(run.revision)
    records = []
    for run in runs:
        model = f"{run.model_name}@{run.revision}" if len(revisions[run.model_name]) > 1 else run.model_name
        splits = Counter(subset.subset for subset in run.subsets)  # a subset scored on several splits
        for subset in run.subsets:
            task = task_label(run.task, subset.subset, subset.split if splits[subset.subset] > 1 else None)
            records.append(ScoreRecord(model, task, run.glotta_type, subset.languages, subset.metric("main_score")))
    return records


def _model_name(folder: Path) -> str:
    for meta in sorted(folder.glob("*/model_meta.json")):
        try:
            return str(json.loads(meta.read_text(encoding="utf-8"))["name"])
        except (json.JSONDecodeError, KeyError, TypeError, OSError):
            continue
    return folder.name.replace("__", "/", 1)


@functools.cache
def mteb_task_metadata(task_name: str):
    """mteb's metadata for a task name (looked up once per name), or None for a non-MTEB task."""
    import mteb

    try:
        return mteb.get_task(task_name).metadata
    except (KeyError, ValueError):
        return None


def main_revision(model: str) -> str | None:
    """The revision mteb's model registry names for ``model`` (None if mteb does not know it)."""
    import mteb

    try:
        return mteb.get_model_meta(model).revision
    except (KeyError, ValueError):
        return None


def _rank_revisions(runs: list[TaskRun]) -> dict[tuple[str, str], list[TaskRun]]:
    from packaging.version import InvalidVersion, Version

    def version(run: TaskRun) -> Version:
        try:
            return Version(run.mteb_version or "0")
        except InvalidVersion:
            return Version("0")

    main = {model: main_revision(model) for model in {r.model for r in runs}}

    def priority(run: TaskRun) -> tuple:
        return (run.revision == main[run.model], run.mteb_version is not None,
                run.revision not in NO_REVISION, version(run))

    grouped: dict[tuple[str, str], list[TaskRun]] = {}
    for run in sorted(runs, key=lambda r: (r.model, r.task)):
        grouped.setdefault((run.model, run.task), []).append(run)
    return {key: sorted(group, key=priority, reverse=True) for key, group in grouped.items()}
