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
        entry = {
            "hf_subset": metadata.hf_subset,
            "languages": list(metadata.languages),
            "main_score": scores[main_score],
            **scores,
        }
        document = {
            "dataset_revision": metadata.revision,
            "task_name": metadata.name,
            "mteb_version": None,  # written by glotta, not mteb; see glotta_version
            "glotta_version": glotta.__version__,
            "task_type": metadata.type.value,  # MTEB keeps this in its task registry, glotta here
            "evaluator_settings": asdict(metadata.settings) if metadata.settings is not None else None,
            "evaluation_time": evaluation_time,
            "kg_co2_emissions": None,
            "scores": {metadata.split: [entry]},
        }
        path = self.path(model_name, revision, metadata.name)
        self._write_model_meta(path.parent, model_name, revision)
        write_json_atomic(path, document)
        return path

    @staticmethod
    def _write_model_meta(folder: Path, model_name: str, revision: str) -> None:
        meta = folder / "model_meta.json"
        if not meta.exists():
            write_json_atomic(meta, {"name": model_name, "revision": revision, "framework": ["glotta"]})

    def read_entry(self, model_name: str, revision: str, metadata: TaskMetadata) -> dict | None:
        """The stored score entry for this task's split and subset, or None if absent."""
        path = self.path(model_name, revision, metadata.name)
        if not path.exists():
            return None
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))["scores"][metadata.split]
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise TypeError(f"scores of split {metadata.split!r} are not a list of entries")
        except (ValueError, KeyError, TypeError, OSError) as exc:  # ValueError: bad JSON or not UTF-8
            raise GlottaError(
                f"existing result file is unreadable ({type(exc).__name__}: {exc})",
                fix="delete it or run again with --overwrite",
                path=path,
            ) from None
        return next((e for e in entries if e.get("hf_subset") == metadata.hf_subset), None)

