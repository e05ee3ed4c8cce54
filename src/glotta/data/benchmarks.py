"""Benchmarks: named lists of tasks in YAML (shipped in ``glotta/benchmarks`` or given as a file),
or MTEB's benchmarks by name (``mteb:MTEB(nld, v1)``)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from glotta.config import resolve_data_root
from glotta.data.hf_tasks import materialise_hf_task
from glotta.data.local_tasks import load_task_folder
from glotta.data.records import parse_yaml, read_text
from glotta.data.task_spec import ENTRY_FIX, TaskSpec, parse_task_spec
from glotta.data.tasks import Task
from glotta.errors import GlottaError


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    specs: tuple[TaskSpec, ...]

    def load_tasks(self) -> list[Task]:
        """Read and validate every task; raises before any evaluation starts."""
        return [task for spec in self.specs for task in load_tasks(spec)]


def load_tasks(spec: TaskSpec) -> list[Task]:
    """The tasks of one entry: a folder or a Hugging Face dataset is one task; an ``mteb:`` name
    is one task per subset (all of the task's, or ``spec.subset``), or a benchmark's tasks."""
    if spec.mteb is not None:
        from glotta.data.mteb_tasks import load_mteb_tasks

        return load_mteb_tasks(spec.mteb, [spec.subset] if spec.subset else None, spec.split)
    if spec.hf is not None:
        spec = materialise_hf_task(spec)
    return [load_task_folder(spec)]


def load_task(spec: TaskSpec) -> Task:
    """The one task of an entry, for callers that take one (a dev task during training)."""
    tasks = load_tasks(spec)
    if len(tasks) != 1:
        subsets = ", ".join(t.metadata.hf_subset for t in tasks)
        raise GlottaError(f"{spec.mteb} gives {len(tasks)} tasks (subsets {subsets}), where one is needed",
                          fix="name one subset")
    return tasks[0]


def shipped_benchmarks() -> list[str]:
    folder = resources.files("glotta") / "benchmarks"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_benchmark(name_or_path: str, data_root: Path | None = None) -> Benchmark:
    """A shipped benchmark by name, a YAML file by path, or an MTEB benchmark (``mteb:NAME``).

    Task paths are relative to the data root when the file says ``root: data`` (the shipped
    benchmarks do), to the folder ``root:`` names (absolute, or relative to the YAML file's folder),
    or else to the YAML file's own folder. An MTEB benchmark is one entry
    naming it: its tasks come from mteb's registry when loaded (``describe_mteb`` lists them
    without loading).
    """
    from glotta.data.mteb_tasks import PREFIX, is_mteb_name, mteb_benchmark

    if is_mteb_name(name_or_path):
        name, description = mteb_benchmark(name_or_path)
        return Benchmark(PREFIX + name, description, (TaskSpec(mteb=name),))
    path = Path(name_or_path)
    if name_or_path in shipped_benchmarks():
        source = resources.files("glotta") / "benchmarks" / f"{name_or_path}.yaml"
        text, where, own_folder = source.read_text(encoding="utf-8"), f"benchmark {name_or_path}", None
    elif path.suffix in {".yaml", ".yml"} and (path.exists() or path.is_symlink()):
        text, where, own_folder = read_text(path), str(path), path.parent
    else:
        raise GlottaError(
            f"unknown benchmark {name_or_path!r}",
            fix=f"use one of {', '.join(shipped_benchmarks())}, a path to a benchmark YAML file or "
            "mteb:<MTEB benchmark name>",
        )
    raw = parse_yaml(text, where)
    if not isinstance(raw, dict) or not isinstance(raw.get("tasks"), list) or not raw["tasks"]:
        raise GlottaError("a benchmark needs a non-empty 'tasks:' list",
                          fix="write 'tasks:' and below it one '- path: <task folder>' line per task", path=where)
    base = _task_root(raw.get("root"), own_folder, data_root, where, str(raw.get("name", name_or_path)))
    specs = tuple(
        parse_task_spec(entry, where=f"{where} (task {number})", base=base)
        for number, entry in enumerate(raw["tasks"], start=1)
    )
    for number, spec in enumerate(specs, start=1):
        if sum(source is not None for source in (spec.path, spec.hf, spec.mteb)) != 1:
            raise GlottaError("a task entry needs exactly one of 'path:' (a task folder), 'hf:' (a dataset id) "
                              "and 'mteb:' (an MTEB task name)", fix=ENTRY_FIX, path=f"{where} (task {number})")
    return Benchmark(str(raw.get("name", name_or_path)), str(raw.get("description", "")), specs)


def _task_root(root: object, own_folder: Path | None, data_root: Path | None, where: str, name: str) -> Path | None:
    """The folder a benchmark's task paths are relative to (see ``load_benchmark``)."""
    if root is None:
        return own_folder
    if root == "data":
        base = resolve_data_root(data_root)
        if base is None:
            raise GlottaError(f"benchmark {name!r} reads the shared data, but no data root was found",
                              fix="pass `data_root` or set GLOTTA_DATA to the folder that holds 'tasks/'")
        return base
    folder = (own_folder or Path()) / root if isinstance(root, str) and root.strip() else None
    if folder is None or not folder.is_dir():
        raise GlottaError(f"root: {root!r} is not a folder", path=where,
                          fix="write 'root: data' (the shared data), a folder that holds the task folders "
                              "(absolute or relative to this file), or leave root: out (this file's folder)")
    return folder.resolve()
