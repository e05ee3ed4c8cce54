"""Results as MTEB-format JSON: ``<output>/<org>__<model>/<revision>/<Task>.json``.

The layout and fields are MTEB's, so ``mteb``'s own loaders (and glotta's leaderboard) read
glotta runs beside published ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import glotta
from glotta.data.atomic import write_json_atomic
from glotta.data.safe_names import inside, safe_component
from glotta.data.tasks import TaskMetadata
from glotta.errors import GlottaError


def model_folder_name(model_name: str) -> str:
    return safe_component(model_name.replace("/", "__").replace(" ", "_"), "model name")


@dataclass(frozen=True)
class ResultStore:
    root: Path

    def path(self, model_name: str, revision: str, task_name: str) -> Path:
        folder = self.root / model_folder_name(model_name) / safe_component(revision, "model revision")
        return inside(self.root, folder / f"{safe_component(task_name, 'task name')}.json")

    def write(
        self,
        model_name: str,
        revision: str,
        metadata: TaskMetadata,
        scores: dict,
        main_score: str,
        evaluation_time: float,
    ) -> Path:
        """Store one (split, subset) entry in the task's file, as MTEB keeps several subsets of a task.

        A file of the same task (name, dataset revision, type) gets the entry merged in: the entry
        of the same split and subset is replaced, others are kept, and times add up as mteb's
        merge adds them. A file of other data is replaced. Evaluator settings are kept once per
        file, or per entry when the entries were scored with different ones.
        """
        entry = {
            "hf_subset": metadata.hf_subset,
            "languages": list(metadata.languages),
            "main_score": scores[main_score],
            **scores,
        }
        settings = asdict(metadata.settings) if metadata.settings is not None else None
        path = self.path(model_name, revision, metadata.name)
        previous = self._same_task_document(path, metadata)
        # (split, subset) -> (entry, its settings), the stored ones first
        merged: dict[tuple[str, str], tuple[dict, dict | None]] = {}
        if previous is not None:
            for split, entries in previous["scores"].items():
                for stored in entries:
                    stored = dict(stored)
                    own = stored.pop("evaluator_settings", previous.get("evaluator_settings"))
                    merged[(split, stored.get("hf_subset"))] = (stored, own)
        merged[(metadata.split, metadata.hf_subset)] = (entry, settings)
        distinct = {json.dumps(own, sort_keys=True) for _, own in merged.values()}
        shared = len(distinct) == 1
        by_split: dict[str, list[dict]] = {}
        for (split, _), (stored, own) in merged.items():
            by_split.setdefault(split, []).append(stored if shared else {**stored, "evaluator_settings": own})
        document = {
            "dataset_revision": metadata.revision,
            "task_name": metadata.name,
            "mteb_version": None,  # written by glotta, not mteb; see glotta_version
            "glotta_version": glotta.__version__,
            "task_type": metadata.type.value,  # MTEB keeps this in its task registry, glotta here
            "evaluator_settings": settings if shared else None,
            "evaluation_time": evaluation_time + (_number(previous.get("evaluation_time")) if previous else 0.0),
            "kg_co2_emissions": None,
            "scores": by_split,
        }
        self._write_model_meta(path.parent, model_name, revision)
        write_json_atomic(path, document)
        return path

    @staticmethod
    def _same_task_document(path: Path, metadata: TaskMetadata) -> dict | None:
        """The stored glotta document of this very task, to merge into; None when there is none to keep.

        An unreadable file or one of other data is replaced (the run was asked to overwrite it:
        without ``overwrite``, ``read_entry`` has refused the unreadable one before any work).
        """
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(document, dict) or "glotta_version" not in document or not _same_task(document, metadata):
            return None
        entries = document.get("scores")
        if not isinstance(entries, dict) or not all(
                isinstance(listed, list) and all(isinstance(e, dict) for e in listed) for listed in entries.values()):
            return None
        return document

    @staticmethod
    def _write_model_meta(folder: Path, model_name: str, revision: str) -> None:
        meta = folder / "model_meta.json"
        if not meta.exists():
            write_json_atomic(meta, {"name": model_name, "revision": revision, "framework": ["glotta"]})

    def read_entry(self, model_name: str, revision: str, metadata: TaskMetadata) -> dict | None:
        """The stored score entry for this task's split and subset, or None if absent.

        An entry of other data (another dataset revision or task type) is absent: the task is
        scored again and its file replaced.
        """
        path = self.path(model_name, revision, metadata.name)
        if not path.exists():
            return None
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if not _same_task(document, metadata):
                return None
            entries = document["scores"].get(metadata.split, [])
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise TypeError(f"scores of split {metadata.split!r} are not a list of entries")
        except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:  # ValueError: bad JSON, not UTF-8
            raise GlottaError(
                f"existing result file is unreadable ({type(exc).__name__}: {exc})",
                fix="delete it or run again with `overwrite`",
                path=path,
            ) from None
        return next((e for e in entries if e.get("hf_subset") == metadata.hf_subset), None)



def _same_task(document: dict, metadata: TaskMetadata) -> bool:
    """Whether a stored document holds results of this task's data (a file without a type, written by mteb, may)."""
    return (document.get("task_name") == metadata.name and document.get("dataset_revision") == metadata.revision
            and document.get("task_type", metadata.type.value) == metadata.type.value)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
