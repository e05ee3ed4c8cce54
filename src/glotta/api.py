"""glotta from Python: the calls the CLI makes, for notebooks and scripts.

    import glotta
    results = glotta.evaluate(["bm25", "sentence-transformers/all-MiniLM-L6-v2"], ["ita-quick"])
    results.summary()["ita"]

A model is a name (``bm25``, a hub id, a folder), an in-memory ``SentenceTransformer``, a glotta
``Encoder`` or a ``Retriever`` such as BM25; a task is a folder, an ``mteb:`` name, a shipped
benchmark name, a benchmark YAML file, or a loaded ``Task``. Errors are ``GlottaError`` and name
the parameter; the CLI maps parameters to its flags. Heavy libraries (torch, scikit-learn) are
imported by the calls that need them, so ``import glotta`` stays cheap.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from glotta.config import default_cache_root
from glotta.data.benchmarks import Benchmark, load_benchmark, shipped_benchmarks
from glotta.data.tasks import Task
from glotta.encoders.backends import DEFAULT_BACKEND
from glotta.errors import GlottaError
from glotta.evaluation.aggregate import ModelSummary, ScoreRecord, language_groups, summarise

__all__ = ["Results", "collect_tasks", "encoder_options", "evaluate", "get_encoder", "load_benchmark", "load_task"]


def encoder_options(*, batch_size: int = 32, device: str | None = None, cache: bool | str | Path = True,
                    faiss: bool = False, trust_remote_code: bool = False, backend: str = DEFAULT_BACKEND,
                    precision: str = "fp32"):
    """How every evaluating call loads models: batch, device, runtime, and the shared embedding cache.

    ``cache`` True uses ``$GLOTTA_CACHE`` (default ``~/.cache/glotta``), a path another folder,
    False none: a text is encoded once per model identity across runs and tasks. ``backend``
    (torch, openvino, onnx) and ``precision`` (fp32, fp16, bf16, int8) apply to named
    sentence-transformers models; their conversions are kept in ``<cache>/models``.
    """
    from glotta.encoders.backends import Runtime
    from glotta.encoders.cache import EmbeddingCache
    from glotta.encoders.registry import EncoderOptions

    if batch_size < 1:
        raise GlottaError(f"batch_size {batch_size} is below 1", fix="pass a batch size of 1 or more",
                          parameter="batch_size")
    runtime = Runtime(backend, precision)
    runtime.check(device)
    root = None if cache is False else default_cache_root() if cache is True else Path(cache)
    return EncoderOptions(batch_size=batch_size, device=device, trust_remote_code=trust_remote_code,
                          cache=EmbeddingCache(root / "embeddings") if root is not None else None,
                          search_backend="faiss" if faiss else "numpy", runtime=runtime,
                          conversions=(root or default_cache_root()) / "models")


def get_encoder(name: str, *, batch_size: int = 32, device: str | None = None, cache: bool | str | Path = True,
                trust_remote_code: bool = False, backend: str = DEFAULT_BACKEND, precision: str = "fp32"):
    """The glotta ``Encoder`` behind a model name: ``encode_queries`` / ``encode_documents`` give
    L2-normalised float32 rows with the model's own prompts (E5: ``query: `` / ``passage: ``)."""
    from glotta.encoders.registry import resolve_encoder

    options = encoder_options(batch_size=batch_size, device=device, cache=cache, trust_remote_code=trust_remote_code,
                              backend=backend, precision=precision)
    return resolve_encoder(name, options)


def load_task(path_or_name: str | Path, *, subset: str | None = None, split: str | None = None) -> Task:
    """One task: a task folder, or an ``mteb:`` task name (with ``subset`` when it has several)."""
    from glotta.data.benchmarks import load_task as load_one

    return load_one(task_spec(str(path_or_name), subset, split))


def collect_tasks(tasks: Iterable[str | Path | Task | Benchmark], *, subsets: Sequence[str] | None = None,
                  split: str | None = None, data_root: Path | None = None) -> list[Task]:
    """Every task of ``tasks``, read and validated before anything is evaluated.

    Two tasks with the same name, subset and split would write the same result entry, so that
    is refused here, before any work.
    """
    from glotta.data.tasks import check_unique_tasks

    items = [tasks] if isinstance(tasks, str | Path | Task | Benchmark) else list(tasks)
    if not items:
        raise GlottaError("no task given", fix="pass a task folder, an 'mteb:' name or a benchmark",
                          parameter="tasks")
    loaded = [task for item in items for task in _tasks_of(item, subsets, split, data_root)]
    check_unique_tasks(loaded)
    return loaded


def task_spec(text: str, subset: str | None = None, split: str | None = None):
    """The task entry for a folder path or an ``mteb:`` name, as a benchmark file would write it."""
    from glotta.data.mteb_tasks import is_mteb_name
    from glotta.data.safe_names import safe_component
    from glotta.data.task_spec import TaskSpec

    if split is not None:
        safe_component(split, "split", fix="give a split name such as test or dev", parameter="split")
    if is_mteb_name(text):
        return TaskSpec(mteb=text, subset=subset, split=split)
    if subset is not None:
        raise GlottaError(f"subsets apply to 'mteb:' tasks, and {text} is not one",
                          fix="leave subsets out for task folders and glotta benchmarks", parameter="subsets")
    return TaskSpec(path=Path(text).expanduser(), split=split)


def _tasks_of(item, subsets, split, data_root) -> list[Task]:
    """A task folder, an ``mteb:`` name, a benchmark (name, file or object) or a Task, as tasks."""
    from glotta.data.benchmarks import load_tasks

    if isinstance(item, Task):
        return [item]
    if isinstance(item, Benchmark):
        return item.load_tasks()
    text = str(item)
    path = Path(text).expanduser()
    if not path.is_dir() and (text in shipped_benchmarks() or path.suffix in {".yaml", ".yml"}):
        return load_benchmark(text, data_root).load_tasks()
    return [task for subset in subsets or [None] for task in load_tasks(task_spec(text, subset, split))]


@dataclass(frozen=True)
class Results:
    """What ``evaluate`` scored: one outcome per (model, task), and the language-pure view of them.

    ``output`` is the MTEB-layout results folder (None when nothing was kept on disk);
    ``aliases`` maps the model names as given (``bm25``) to the names results carry (``bm25s``).
    """

    outcomes: tuple
    output: Path | None
    aliases: dict = field(default_factory=dict)

    def records(self) -> list[ScoreRecord]:
        return [outcome.record() for outcome in self.outcomes]

    def scores(self) -> list[dict]:
        """One row per (model, task): the main score, None where the model cannot serve the task."""
        return [{"model": o.model, "revision": o.revision, "task": o.record().task, "subset": o.task.hf_subset,
                 "type": o.task.type.value, "languages": list(o.task.languages), "split": o.task.split,
                 "main_score": o.main_score, "reused": o.reused, "not_applicable": o.reason} for o in self.outcomes]

    def main_score(self, model: str, task: str) -> float | None:
        """The main score of ``model`` (its name as resolved) on ``task`` (as tables name it: with the
        subset when a task has several, ``BelebeleRetrieval (ita_Latn-ita_Latn)``), or a GlottaError."""
        model = self.aliases.get(model, model)
        for outcome in self.outcomes:
            if outcome.model == model and outcome.record().task == task:
                return outcome.main_score
        models = sorted({o.model for o in self.outcomes})
        raise GlottaError(f"no result for model {model!r} on task {task!r}",
                          fix=f"models here: {', '.join(models)}", parameter="model")

    def summary(self) -> dict[str, list[ModelSummary]]:
        """Per language group (``ita``, or ``eng-ita`` for a cross-lingual pair): each model's mean
        main score per task type, Mean(TaskType) and Mean(Task) over the tasks entirely in it."""
        records = self.records()
        monolingual, cross_lingual = language_groups(records)
        return {group: summarise(records, group) for group in [*monolingual, *cross_lingual]}

    def to_dict(self) -> dict:
        return {"output": str(self.output) if self.output else None, "scores": self.scores(),
                "summary": {group: [asdict(s) for s in summaries] for group, summaries in self.summary().items()}}

    def to_frame(self):
        """The scores as a pandas DataFrame (pandas comes with mteb)."""
        try:
            import pandas as pd
        except ImportError:
            raise GlottaError("to_frame needs pandas", fix="pip install pandas") from None
        return pd.DataFrame(self.scores())


def evaluate(models, tasks, output: str | Path | None = None, *, subsets: Sequence[str] | None = None,
             split: str | None = None, overwrite: bool = False, batch_size: int = 32, device: str | None = None,
             cache: bool | str | Path = True, faiss: bool = False, trust_remote_code: bool = False,
             backend: str = DEFAULT_BACKEND, precision: str = "fp32", data_root: Path | None = None,
             progress=None) -> Results:
    """Score every model on every task with MTEB's protocol, as ``glotta eval`` does.

    ``models``: one model or a list (names, folders, ``SentenceTransformer``, ``Encoder``, BM25);
    ``tasks``: see ``collect_tasks``. With ``output``, result files are written in MTEB's layout
    and reused on the next call unless ``overwrite``; without it nothing is kept on disk (the
    embedding cache still is, unless ``cache=False``).
    """
    from glotta.data.atomic import check_writable
    from glotta.evaluation.runner import run_evaluation

    listed = list(models) if isinstance(models, list | tuple) else [models]
    if not listed:
        raise GlottaError("no model given", fix="pass a model name, a folder, a SentenceTransformer or 'bm25'",
                          parameter="models")
    if output is not None:
        check_writable(Path(output), "output")
    loaded = collect_tasks(tasks, subsets=subsets, split=split, data_root=data_root)
    options = encoder_options(batch_size=batch_size, device=device, cache=cache, faiss=faiss,
                              trust_remote_code=trust_remote_code, backend=backend, precision=precision)
    if output is not None:
        outcomes = run_evaluation(loaded, listed, Path(output), options, overwrite, progress)
    else:
        with tempfile.TemporaryDirectory(prefix="glotta-results-") as folder:
            outcomes = run_evaluation(loaded, listed, Path(folder), options, True, progress)
    # outcomes come model by model, task by task: the first of each block names its model
    aliases = {given: outcomes[i * len(loaded)].model for i, given in enumerate(listed) if isinstance(given, str)}
    return Results(tuple(outcomes), Path(output).resolve() if output is not None else None, aliases)
