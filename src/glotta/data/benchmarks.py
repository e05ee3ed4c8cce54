"""Benchmarks: named lists of tasks in YAML, shipped in ``glotta/benchmarks`` or given as a file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from glotta.data.hf_tasks import materialise_hf_task
from glotta.data.local_tasks import load_task_folder
from glotta.data.records import parse_yaml, read_text
from glotta.data.task_spec import TaskSpec, parse_task_spec
from glotta.data.tasks import Task
from glotta.errors import GlottaError


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    specs: tuple[TaskSpec, ...]

    def load_tasks(self) -> list[Task]:
        """Read and validate every task; raises before any evaluation starts."""
        return [load_task(spec) for spec in self.specs]


def load_task(spec: TaskSpec) -> Task:
    if spec.hf is not None:
        spec = materialise_hf_task(spec)
    return load_task_folder(spec)


def shipped_benchmarks() -> list[str]:
    folder = resources.files("glotta") / "benchmarks"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def resolve_data_root(explicit: Path | None = None) -> Path | None:
    """``--data-root``, else ``$GLOTTA_DATA``, else ``../shared/data`` when it exists."""
    if explicit is not None:
        return explicit
    if os.environ.get("GLOTTA_DATA"):
        return Path(os.environ["GLOTTA_DATA"])
    default = Path("..") / "shared" / "data"
    return default.resolve() if default.is_dir() else None


def load_benchmark(name_or_path: str, data_root: Path | None = None) -> Benchmark:
    """A shipped benchmark by name, or a YAML file by path.

    Task paths are relative to the data root when the file says ``root: data`` (the shipped
    benchmarks do), otherwise to the YAML file's own folder.
    """
    path = Path(name_or_path)
    if name_or_path in shipped_benchmarks():
        source = resources.files("glotta") / "benchmarks" / f"{name_or_path}.yaml"
        text, where, own_folder = source.read_text(encoding="utf-8"), f"benchmark {name_or_path}", None
    elif path.suffix in {".yaml", ".yml"} and (path.exists() or path.is_symlink()):
        text, where, own_folder = read_text(path), str(path), path.parent
    else:
        raise GlottaError(
            f"unknown benchmark {name_or_path!r}",
            fix=f"use one of {', '.join(shipped_benchmarks())} or a path to a benchmark YAML file",
        )
    raw = parse_yaml(text, where)
    if not isinstance(raw, dict) or not isinstance(raw.get("tasks"), list) or not raw["tasks"]:
        raise GlottaError("a benchmark needs a non-empty 'tasks:' list",
                          fix="write 'tasks:' and below it one '- path: <task folder>' line per task", path=where)
    if raw.get("root") == "data":
        base = resolve_data_root(data_root)
        if base is None:
            raise GlottaError(
                f"benchmark {raw.get('name', name_or_path)!r} reads the shared data, "
                "but no data root was found",
                fix="pass --data-root DIR or set GLOTTA_DATA to the folder that holds 'tasks/'",
            )
    else:
        base = own_folder
    specs = tuple(
        parse_task_spec(entry, where=f"{where} (task {number})", base=base)
        for number, entry in enumerate(raw["tasks"], start=1)
    )
    for number, spec in enumerate(specs, start=1):
        if (spec.path is None) == (spec.hf is None):
            raise GlottaError("a task entry needs exactly one of 'path:' (a task folder) and 'hf:' (a dataset id)",
                              fix="write '- path: tasks/it/retrieval_squad_it' or '- hf: <dataset id>'",
                              path=f"{where} (task {number})")
    return Benchmark(str(raw.get("name", name_or_path)), str(raw.get("description", "")), specs)
