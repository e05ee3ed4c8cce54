"""Tasks stored as Hugging Face datasets, written once into glotta's local layout.

Materialising the dataset as the same files a local task folder has means one reader and one
set of validation rules serve both; the copy lives in glotta's cache, keyed by dataset id,
revision and subset, so a second run reads it without the network.
"""

from __future__ import annotations

import json
from pathlib import Path

from glotta.config import default_cache_root
from glotta.data.atomic import write_text_atomic
from glotta.data.safe_names import safe_component
from glotta.data.task_spec import TaskSpec
from glotta.data.tasks import TaskType
from glotta.errors import GlottaError


def materialise_hf_task(spec: TaskSpec, cache_root: Path | None = None) -> TaskSpec:
    """Download ``spec.hf`` (once) and return a spec that points at the local copy."""
    if spec.type is None:
        raise GlottaError(
            f"Hugging Face task {spec.hf!r} needs a 'type:'",
            fix="add e.g. 'type: retrieval' to the benchmark entry",
        )
    revision = spec.revision or "main"
    dataset = safe_component(spec.hf.replace("/", "__"), "Hugging Face dataset id", path=spec.where)
    folder = (cache_root or default_cache_root()) / "hf" / dataset / revision
    folder = folder / (spec.subset or "default")
    if not (folder / ".complete").exists():
        _download(spec, revision, folder)
    name = spec.name or f"{spec.hf.split('/')[-1]}{'_' + spec.subset if spec.subset else ''}"
    return TaskSpec(path=folder, revision=revision, name=name).updated(
        TaskSpec(type=spec.type, languages=spec.languages, split=spec.split,
                 license=spec.license, origin=spec.origin or f"hf:{spec.hf}", subset=spec.subset)
    )


def _load(dataset_id: str, config: str | None, revision: str, split: str | None = None):
    try:
        import datasets
    except ImportError:
        raise GlottaError(
            "loading tasks from the Hugging Face Hub needs the 'datasets' package",
            fix="pip install 'glotta[hf]'",
        ) from None
    try:
        return datasets.load_dataset(dataset_id, config, revision=revision, split=split)
    except Exception as exc:  # datasets raises many types for "not reachable / not found"
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise GlottaError(
            f"cannot load Hugging Face dataset {dataset_id!r} (config {config!r}, revision "
            f"{revision!r}): {reason}",
            fix="check the id and revision; when offline, run once online so it is cached, or "
            "point 'path:' at a local copy in glotta's task layout",
        ) from None


def _download(spec: TaskSpec, revision: str, folder: Path) -> None:
    split = spec.split or "test"
    prefix = f"{spec.subset}-" if spec.subset else ""
    if spec.type is TaskType.RETRIEVAL:
        corpus = _load(spec.hf, f"{prefix}corpus", revision)
        queries = _load(spec.hf, f"{prefix}queries", revision)
        qrels = _load(spec.hf, f"{prefix}qrels" if spec.subset else "default", revision, split)
        _write_jsonl(folder / "corpus.jsonl", _rows(corpus),
                     lambda r: {"_id": str(r.get("_id", r.get("id"))), "title": r.get("title") or "",
                                "text": r.get("text") or ""})
        _write_jsonl(folder / "queries.jsonl", _rows(queries),
                     lambda r: {"_id": str(r.get("_id", r.get("id"))), "text": r.get("text") or ""})
        lines = ["query-id\tcorpus-id\tscore"] + [
            f"{r['query-id']}\t{r['corpus-id']}\t{int(r['score'])}" for r in qrels
        ]
        write_text_atomic(folder / "qrels" / f"{split}.tsv", "\n".join(lines) + "\n")
    else:
        splits = [split, "train"] if spec.type is TaskType.CLASSIFICATION else [split]
        for name in splits:
            rows = _load(spec.hf, spec.subset, revision, name)
            _write_jsonl(folder / f"{name}.jsonl", rows, dict)
    write_text_atomic(folder / ".complete", revision + "\n")


def _rows(dataset):
    """A config loaded without a split is a DatasetDict with one split; take it."""
    if hasattr(dataset, "keys"):
        return dataset[next(iter(dataset.keys()))]
    return dataset


def _write_jsonl(path: Path, rows, convert) -> None:
    text = "".join(json.dumps(convert(row), ensure_ascii=False) + "\n" for row in rows)
    write_text_atomic(path, text)
