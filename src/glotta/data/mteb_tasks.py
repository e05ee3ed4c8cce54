"""MTEB's tasks and benchmarks by name (``mteb:SICK-NL-STS``, ``mteb:MTEB(nld, v1)``), scored by glotta.

mteb's registry says what a task is (type, languages per Hugging Face subset, splits, dataset
revision, evaluator settings on its class) and its ``load_data()`` fetches the data; glotta
then scores the converted tasks with its own evaluators, so the embedding cache, the result
files and the language-pure summary work as for any other task.

* :func:`describe_mteb` reads metadata only (never downloads): one :class:`MtebTaskInfo` per
  task, with whether glotta can score it and, if not, why.
* :func:`load_mteb_tasks` loads and converts named tasks; :func:`from_mteb_task` converts an
  mteb task object a user already holds (e.g. a custom ``AbsTaskSTS`` subclass).

Conversion takes every setting from the task class (``samples_per_label``, ``n_experiments``,
clustering sample sizes, ``ignore_identical_ids``, STS ``min_score``/``max_score``, ...) so
scores equal ``mteb.evaluate``.

Result names are MTEB's: every subset of a task is a glotta task named as the MTEB task
(``BelebeleRetrieval``, ``hf_subset`` telling them apart), and glotta's ResultStore merges their
entries into one ``<TaskName>.json``, as MTEB keeps them; the main score is the task's own.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from glotta.data.languages import normalise_language
from glotta.data.task_settings import (
    BitextSettings,
    ClassificationSettings,
    ClusteringSettings,
    PairClassificationSettings,
    RetrievalSettings,
    STSSettings,
)
from glotta.data.tasks import (
    BitextTask,
    ClassificationTask,
    ClusteringTask,
    Document,
    PairClassificationTask,
    RerankingTask,
    RetrievalTask,
    STSTask,
    Task,
    TaskMetadata,
    TaskType,
)
from glotta.errors import GlottaError
from glotta.evaluation.retrieval_metrics import K_VALUES

PREFIX = "mteb:"
_DEFAULT_SPLIT = "test"
_LANGSCRIPT = re.compile(r"^[a-z]{3}-[A-Z][a-z]{3}$")

# Metrics each glotta evaluator returns, to tell whether an mteb task's main score is among them.
_RETRIEVAL_METRICS = frozenset(f"{name}_at_{k}" for name in ("ndcg", "map", "recall", "precision", "hit_rate", "mrr")
                               for k in K_VALUES)
_METRICS = {
    TaskType.RETRIEVAL: _RETRIEVAL_METRICS,
    TaskType.RERANKING: _RETRIEVAL_METRICS,
    TaskType.STS: frozenset({"pearson", "spearman"} | {f"{f}_{c}" for f in ("cosine", "manhattan", "euclidean")
                                                        for c in ("pearson", "spearman")}),
    TaskType.CLASSIFICATION: frozenset({"accuracy", "f1", "f1_weighted", "precision", "precision_weighted", "recall",
                                        "recall_weighted", "ap", "ap_weighted"}),
    TaskType.CLUSTERING: frozenset({"v_measure", "ami"}),
    TaskType.PAIR_CLASSIFICATION: frozenset(f"{f}_{m}" for f in ("cosine", "manhattan", "euclidean", "dot", "max")
                                            for m in ("accuracy", "f1", "precision", "recall", "ap")),
    TaskType.BITEXT: frozenset({"precision", "recall", "f1", "accuracy"}),
}

# mteb task types glotta has no evaluator for, with the reason shown by ``glotta tasks``.
_UNSCORED_TYPES = {
    "MultilabelClassification": "multilabel classification is not scored by glotta yet",
    "Regression": "regression is not scored by glotta yet",
    "Summarization": "summarization is not scored by glotta yet",
    "InstructionRetrieval": "instruction retrieval is not scored by glotta yet",
    "InstructionReranking": "instruction reranking is not scored by glotta yet",
    "ZeroShotClassification": "zero-shot classification is not scored by glotta yet",
}


@dataclass(frozen=True)
class MtebTaskInfo:
    """What glotta knows about one mteb task before loading any data (``glotta tasks`` shows it)."""

    name: str
    mteb_type: str  # mteb's metadata.type, e.g. "Retrieval"
    type: TaskType | None  # glotta's type; None when glotta has no evaluator for it
    subsets: tuple[str, ...]  # the selected Hugging Face subsets (a benchmark's selection)
    subset_languages: dict[str, tuple[str, ...]]  # subset -> languages, ISO 639-3 + script
    splits: tuple[str, ...]  # mteb's eval splits
    split: str  # the split glotta scores unless told otherwise
    main_score: str  # mteb's main score
    dataset: str  # Hugging Face dataset id
    revision: str
    scorable: bool
    reason: str | None = None  # why glotta skips it, when not scorable
    notes: tuple[str, ...] = field(default=())  # what to know when it is scored

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language of the selected subsets, sorted."""
        return tuple(sorted({lang for langs in self.subset_languages.values() for lang in langs}))


# --------------------------------------------------------------------------------------------
# registry look-up (metadata only)


def _mteb():
    try:
        import mteb
    except ImportError:
        raise GlottaError("MTEB tasks need the 'mteb' package", fix="pip install 'mteb>=2'") from None
    return mteb


def _strip(name: str) -> str:
    name = name.strip()
    return name[len(PREFIX):].strip() if name.lower().startswith(PREFIX) else name


def is_mteb_name(name: str) -> bool:
    """True for ``mteb:<name>``: the spelling the CLI and benchmark files dispatch on."""
    return name.strip().lower().startswith(PREFIX)


def _names() -> list[str]:
    """Every task and benchmark name (and alias) mteb knows, for suggestions."""
    mteb = _mteb()
    from mteb.get_tasks import TASK_LIST

    benchmarks = mteb.get_benchmarks()
    return [*(cls.metadata.name for cls in TASK_LIST), *(b.name for b in benchmarks),
            *(alias for b in benchmarks for alias in (b.aliases or ()))]


def _resolve(name: str, *, fresh: bool = False) -> tuple[str, list]:
    """("task" | "benchmark", mteb task objects) for a task or benchmark name.

    With ``fresh``, benchmark tasks are re-created with the benchmark's subset and split
    selection, so loading them never fills mteb's shared benchmark objects with data.
    """
    mteb = _mteb()
    bare = _strip(name)
    try:
        return "task", [mteb.get_task(bare)]
    except (KeyError, ValueError):
        pass
    benchmark = _benchmark(bare)
    if benchmark is not None:
        if not fresh:
            return "benchmark", list(benchmark.tasks)
        copies = []
        for task in benchmark.tasks:
            if task.is_aggregate:
                copies.append(task)  # listed as skipped, never loaded
                continue
            copy = type(task)()
            copy.filter_languages(None, hf_subsets=list(task.hf_subsets))
            copy.filter_eval_splits(list(task.eval_splits))
            copies.append(copy)
        return "benchmark", copies
    raise _unknown(bare)


def _benchmark(bare: str):
    try:
        return _mteb().get_benchmark(bare)
    except (KeyError, ValueError):
        return None


def _unknown(bare: str) -> GlottaError:
    """Neither a task nor a benchmark: the error, with close names as the fix."""
    mteb = _mteb()
    names = _names()
    same_but_case = [n for n in names if n.lower() == bare.lower()]
    close = list(dict.fromkeys(same_but_case + difflib.get_close_matches(bare, names, n=3, cutoff=0.6)))[:3]
    return GlottaError(
        f"{PREFIX}{bare} is neither an MTEB task nor an MTEB benchmark (mteb {mteb.__version__})",
        fix=(f"did you mean {', '.join(PREFIX + c for c in close)}?" if close
             else "use a task or benchmark name as mteb spells it (case matters): see mteb.get_tasks() "
             "and mteb.get_benchmarks()"),
    )


def mteb_benchmark(name: str) -> tuple[str, str]:
    """(mteb's own spelling, description) of an MTEB benchmark name; a task name is refused."""
    bare = _strip(name)
    benchmark = _benchmark(bare)
    if benchmark is not None:
        return benchmark.name, " ".join(str(benchmark.description or "").split())
    _resolve(bare)  # raises for a name mteb does not know, with close names
    raise GlottaError(f"{PREFIX}{bare} is an MTEB task, not a benchmark",
                      fix=f"evaluate it as a task: {PREFIX}{bare} (glotta eval --task, glotta.load_task)")


def _languages(codes: Sequence[str]) -> tuple[str, ...]:
    """mteb's ``xxx-Scrp`` codes as glotta writes languages (they already agree; others normalised)."""
    out = []
    for code in codes:
        if _LANGSCRIPT.match(code):
            out.append(code)
        else:
            try:
                out.append(normalise_language(code))
            except GlottaError:
                out.append(code)
    return tuple(dict.fromkeys(out))


def _glotta_type(task) -> tuple[TaskType | None, str | None]:
    """glotta's type for an mteb task class, or (None, why it is not scored)."""
    from mteb.abstasks import (
        AbsTaskBitextMining,
        AbsTaskClassification,
        AbsTaskClustering,
        AbsTaskClusteringLegacy,
        AbsTaskMultilabelClassification,
        AbsTaskPairClassification,
        AbsTaskRegression,
        AbsTaskRetrieval,
        AbsTaskSTS,
        AbsTaskZeroShotClassification,
    )

    mteb_type = task.metadata.type
    if getattr(task, "is_aggregate", False):
        names = [t.metadata.name for t in getattr(task.metadata, "tasks", [])]
        listed = f" ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})" if names else ""
        return None, f"an aggregate of other tasks{listed}; name those tasks instead"
    if list(task.metadata.modalities) != ["text"]:
        return None, f"{'+'.join(task.metadata.modalities)} task: glotta scores text only"
    if mteb_type in _UNSCORED_TYPES:
        return None, _UNSCORED_TYPES[mteb_type]
    if isinstance(task, AbsTaskMultilabelClassification):
        return None, _UNSCORED_TYPES["MultilabelClassification"]
    if isinstance(task, AbsTaskRegression):
        return None, _UNSCORED_TYPES["Regression"]
    if isinstance(task, AbsTaskZeroShotClassification):
        return None, _UNSCORED_TYPES["ZeroShotClassification"]
    if isinstance(task, AbsTaskRetrieval):
        if mteb_type == "Retrieval":
            return TaskType.RETRIEVAL, None
        if mteb_type == "Reranking":
            return TaskType.RERANKING, None
        return None, f"{mteb_type} tasks are not scored by glotta yet"
    if isinstance(task, AbsTaskSTS):
        return TaskType.STS, None
    if isinstance(task, AbsTaskClassification):
        return TaskType.CLASSIFICATION, None
    if isinstance(task, AbsTaskClusteringLegacy):
        return None, "legacy clustering (one k-means per set of texts) is not scored by glotta; its successor may be"
    if isinstance(task, AbsTaskClustering):
        return TaskType.CLUSTERING, None
    if isinstance(task, AbsTaskPairClassification):
        return TaskType.PAIR_CLASSIFICATION, None
    if isinstance(task, AbsTaskBitextMining):
        return TaskType.BITEXT, None
    return None, f"{mteb_type} tasks are not scored by glotta yet"


def _unsupported_setting(task, task_type: TaskType) -> str | None:
    """A setting of the task class glotta's evaluator cannot reproduce, said as a reason."""
    if task_type in {TaskType.RETRIEVAL, TaskType.RERANKING} and task.skip_first_result:
        return "it skips each query's first result (skip_first_result); glotta's retrieval evaluator cannot"
    if task_type is TaskType.CLASSIFICATION:
        from mteb._evaluators.sklearn_evaluator import SklearnEvaluator
        from sklearn.linear_model import LogisticRegression

        if task.is_cross_validation:
            return "it is scored by cross-validation, which glotta's classification evaluator does not do"
        if not isinstance(task.input_column_name, str):
            return "its input is several columns; glotta classifies one text column"
        model = task.evaluator_model
        if task.evaluator is not SklearnEvaluator or type(model) is not LogisticRegression:
            return f"it fits {type(model).__name__}; glotta fits logistic regression only"
        own = {k: v for k, v in model.get_params().items() if k not in {"max_iter", "random_state"}}
        default = {k: v for k, v in LogisticRegression().get_params().items() if k not in {"max_iter", "random_state"}}
        if own != default:
            changed = sorted(k for k in own if own[k] != default.get(k))
            return f"its logistic regression sets {', '.join(changed)}; glotta's uses the defaults"
    if task_type is TaskType.CLUSTERING and not isinstance(task.input_column_name, str):
        return "its input is several columns; glotta clusters one text column"
    if task_type is TaskType.STS and not all(isinstance(c, str) for c in task.column_names):
        return "its columns are not plain text columns"
    if task_type is TaskType.PAIR_CLASSIFICATION and not (
            isinstance(task.input1_column_name, str) and isinstance(task.input2_column_name, str)):
        return "its columns are not plain text columns"
    return None


def _notes(task, task_type: TaskType) -> tuple[str, ...]:
    notes = []
    if task_type in {TaskType.RETRIEVAL, TaskType.RERANKING} and \
            type(task).task_specific_scores is not _abstask_retrieval().task_specific_scores:
        notes.append("its task-specific extra scores are not computed")
    if not task.metadata.is_public:
        notes.append("a private dataset: loading it needs a Hugging Face token with access")
    if task.superseded_by:
        notes.append(f"superseded by {task.superseded_by}")
    return tuple(notes)


def _abstask_retrieval():
    from mteb.abstasks import AbsTaskRetrieval

    return AbsTaskRetrieval


def default_split(splits: Sequence[str]) -> str:
    """``test`` when mteb evaluates it, else mteb's first eval split.

    mteb evaluates every eval split; glotta scores one per task. Its first eval split is not
    always the headline one (SIB200Classification lists train first, STSBenchmarkMultilingualSTS
    dev), while ``test`` is the split published comparisons use.
    """
    splits = list(splits)
    return _DEFAULT_SPLIT if _DEFAULT_SPLIT in splits or not splits else splits[0]


def task_info(task) -> MtebTaskInfo:
    """Describe one mteb task object (with its own subset and split selection), from metadata only."""
    md = task.metadata
    task_type, reason = _glotta_type(task)
    if task_type is not None:
        reason = _unsupported_setting(task, task_type)
        if reason is None and md.main_score not in _METRICS[task_type]:
            reason = f"its main score {md.main_score} is not computed by glotta's {task_type.value} evaluator"
    subsets = tuple(task.hf_subsets or md.hf_subsets)
    langs = md.hf_subsets_to_langscripts
    splits = tuple(task.eval_splits)
    return MtebTaskInfo(
        name=md.name,
        mteb_type=str(md.type),
        type=task_type,
        subsets=subsets,
        subset_languages={s: _languages(langs.get(s, [])) for s in subsets},
        splits=splits,
        split=default_split(splits),
        main_score=md.main_score,
        dataset=str(md.dataset.get("path", "")),
        revision=str(md.dataset.get("revision", "")),
        scorable=reason is None,
        reason=reason,
        notes=_notes(task, task_type) if task_type is not None and reason is None else (),
    )


def describe_mteb(name: str, subsets: Sequence[str] | None = None, split: str | None = None) -> list[MtebTaskInfo]:
    """Every task of an mteb task or benchmark name, scorable or not, without downloading anything.

    For a benchmark only the subsets and splits it selects are given (MTEB(nld, v1) keeps the
    Dutch subsets of multilingual tasks), as mteb's benchmark objects hold them. ``subsets`` and
    ``split`` select as in :func:`load_mteb_tasks`, and are checked the same way, so a listing
    (``glotta tasks``, ``--dry-run``) refuses what loading would.
    """
    kind, tasks = _resolve(name)
    subsets = _chosen_subsets(name, kind, subsets)
    infos = []
    for task in tasks:
        info = task_info(task)
        if info.scorable and subsets:
            _check_subsets(task, subsets, allowed=info.subsets)
            languages = {s: info.subset_languages[s] for s in subsets}
            info = replace(info, subsets=tuple(subsets), subset_languages=languages)
        if info.scorable and split is not None:
            info = replace(info, split=_check_split(task, split))
        infos.append(info)
    return infos


# --------------------------------------------------------------------------------------------
# loading and conversion


def load_mteb_tasks(name: str, subsets: list[str] | None = None, split: str | None = None) -> list[Task]:
    """Load an mteb task or benchmark through mteb's own loaders and convert it for glotta.

    A named task that glotta cannot score is refused with the reason; a benchmark's unscorable
    tasks are left out (``describe_mteb`` lists them). ``subsets`` selects Hugging Face subsets of
    one task; ``split`` replaces the default split (:func:`default_split`).
    """
    kind, tasks = _resolve(name, fresh=True)
    subsets = _chosen_subsets(name, kind, subsets)
    converted: list[Task] = []
    for task in tasks:
        info = task_info(task)
        if not info.scorable:
            if kind == "task":
                raise GlottaError(f"{PREFIX}{info.name} cannot be scored by glotta: {info.reason}",
                                  fix="choose another task (glotta tasks -b mteb:<benchmark> marks the scorable ones)")
            continue
        if subsets:
            _check_subsets(task, subsets)
            task.filter_languages(None, hf_subsets=list(subsets))
        chosen = _check_split(task, split)
        task.filter_eval_splits([chosen])  # retrieval loaders then read only this split
        converted += from_mteb_task(task, subsets=subsets, split=chosen)
        task.unload_data()
    if not converted:
        raise GlottaError(f"none of the tasks of {PREFIX}{_strip(name)} can be scored by glotta",
                          fix="describe_mteb (glotta tasks -b) gives each task's reason; choose another benchmark")
    return converted


def _chosen_subsets(name: str, kind: str, subsets: Sequence[str] | None) -> list[str] | None:
    """The subsets asked for, once each; they select within one task, never a benchmark."""
    if subsets and kind == "benchmark":
        raise GlottaError(f"subsets select within one task, and {_strip(name)!r} is a benchmark",
                          fix="leave the subsets out, or name one task (mteb:<TaskName>) with its subset")
    return list(dict.fromkeys(subsets)) if subsets else None


def from_mteb_task(task, subsets: list[str] | None = None, split: str | None = None) -> list[Task]:
    """glotta tasks for one mteb task object: one per selected subset, of one split.

    The task's data is loaded with its own ``load_data()`` when it is not loaded yet (a custom
    mteb task reads local files there); any failure becomes one GlottaError naming the task.
    """
    info = task_info(task)
    if not info.scorable:
        raise GlottaError(f"{PREFIX}{info.name} cannot be scored by glotta: {info.reason}",
                          fix="choose another task")
    chosen_subsets = list(subsets) if subsets else list(info.subsets)
    _check_subsets(task, chosen_subsets, allowed=info.subsets)
    chosen_split = _check_split(task, split)
    if not task.data_loaded:
        _load(task)
    if info.type in {TaskType.RETRIEVAL, TaskType.RERANKING}:
        task.convert_v1_dataset_format_to_v2(num_proc=None)
    return [_convert(task, info, subset, chosen_split) for subset in chosen_subsets]


def _check_subsets(task, subsets: Sequence[str], allowed: Sequence[str] | None = None) -> None:
    allowed = list(allowed if allowed is not None else task.metadata.hf_subsets)
    unknown = [s for s in subsets if s not in allowed]
    if unknown:
        close = difflib.get_close_matches(unknown[0], allowed, n=3)
        shown = ", ".join(allowed[:20]) + (f" ... ({len(allowed)} in all)" if len(allowed) > 20 else "")
        raise GlottaError(
            f"{PREFIX}{task.metadata.name} has no subset {unknown[0]!r}",
            fix=f"did you mean {', '.join(close)}?" if close else f"choose among: {shown}",
        )


def _check_split(task, split: str | None) -> str:
    splits = list(task.eval_splits)
    if split is None:
        return default_split(splits)
    if split not in splits:
        raise GlottaError(f"{PREFIX}{task.metadata.name} is not evaluated on split {split!r}",
                          fix=f"choose one of its eval splits: {', '.join(splits)}")
    return split


def _load(task) -> None:
    """``task.load_data()``, with download and format failures as one GlottaError."""
    md = task.metadata
    where = f"{md.dataset.get('path', '?')} at revision {md.dataset.get('revision', '?')}"
    try:
        task.load_data()
    except GlottaError:
        raise
    except Exception as exc:  # datasets and huggingface_hub raise many types
        text = str(exc).strip()
        reason = f"{type(exc).__name__}: {text.splitlines()[0][:300]}" if text else type(exc).__name__
        local = "or define the task locally (an mteb task class whose load_data reads your files)"
        if _unreachable(exc):
            fix = ("run once online so the dataset is cached (then set HF_HUB_OFFLINE=1 to read it offline "
                   f"without network retries), {local}")
        else:
            fix = ("check that the dataset and revision exist and that you may read them (private datasets need "
                   f"'huggingface-cli login'); when offline, run once online so it is cached, {local}")
        raise GlottaError(f"cannot load the data of {PREFIX}{md.name} ({where}): {reason}", fix=fix) from None


def _unreachable(exc: BaseException) -> bool:
    """Whether a loading failure means "no network, and nothing cached" (vs a wrong or private dataset)."""
    names = " ".join(type(e).__name__ for e in (exc, exc.__cause__, exc.__context__) if e is not None)
    return isinstance(exc, ConnectionError | TimeoutError) or any(
        word in names for word in ("Offline", "LocalEntryNotFound", "Connection", "Timeout"))


def _bad(task, subset: str, split: str, problem: str, fix: str | None = None) -> GlottaError:
    return GlottaError(f"{PREFIX}{task.metadata.name} (subset {subset!r}, split {split!r}): {problem}",
                       fix=fix or "check the task's load_data / dataset_transform")


def _subset_data(task, subset: str):
    """The data of one subset as mteb's own evaluate() finds it."""
    dataset = task.dataset
    if dataset is None:
        raise GlottaError(f"{PREFIX}{task.metadata.name}: load_data() left task.dataset empty",
                          fix="set self.dataset (and self.data_loaded = True) in load_data")
    if subset not in dataset and subset == "default":
        return dataset
    if subset not in dataset:
        raise GlottaError(f"{PREFIX}{task.metadata.name}: the loaded data has no subset {subset!r}",
                          fix=f"subsets present: {', '.join(map(str, dataset.keys()))}")
    return dataset[subset]


def _split_data(task, subset: str, split: str):
    data = _subset_data(task, subset)
    if split not in data:
        raise _bad(task, subset, split, "the loaded data has no such split",
                   fix=f"splits present: {', '.join(map(str, data.keys()))}")
    return data[split]


def _column(data, name: str, task, subset: str, split: str) -> list:
    columns = list(getattr(data, "column_names", None) or data.keys())
    if name not in columns:
        raise _bad(task, subset, split, f"no column {name!r} (columns: {', '.join(map(str, columns))})")
    return list(data[name])


def _texts(values: list, what: str, task, subset: str, split: str) -> list[str]:
    for row, value in enumerate(values):
        if not isinstance(value, str):
            raise _bad(task, subset, split, f"{what} of row {row} is {type(value).__name__}, not text")
    return values


def _convert(task, info: MtebTaskInfo, subset: str, split: str) -> Task:
    md = task.metadata
    task_type = info.type
    settings = _settings(task, task_type)

    def metadata(task_type: TaskType, settings) -> TaskMetadata:
        return TaskMetadata(
            name=md.name,
            type=task_type,
            languages=info.subset_languages.get(subset) or _languages(md.hf_subsets_to_langscripts.get(subset, [])),
            split=split,
            source=f"{PREFIX}{md.name}",
            revision=info.revision,
            license=md.license,
            origin=str(md.reference) if md.reference else None,
            hf_subset=subset,
            settings=settings,
            main_score=md.main_score,
        )

    args = (task, subset, split)
    if task_type in {TaskType.RETRIEVAL, TaskType.RERANKING}:
        return _retrieval(*args, metadata)
    if task_type is TaskType.STS:
        return _sts(*args, metadata(task_type, settings))
    if task_type is TaskType.CLASSIFICATION:
        return _classification(*args, metadata, settings)
    if task_type is TaskType.CLUSTERING:
        return _clustering(*args, metadata, settings)
    if task_type is TaskType.PAIR_CLASSIFICATION:
        return _pairs(*args, metadata(task_type, settings))
    return _bitext(*args, metadata(task_type, settings))


def _settings(task, task_type: TaskType):
    """The evaluator settings the task class implies (data-dependent ones are filled in later)."""
    if task_type in {TaskType.RETRIEVAL, TaskType.RERANKING}:
        return RetrievalSettings(top_k=int(getattr(task, "_top_k", max(task.k_values))),
                                 ignore_identical_ids=bool(task.ignore_identical_ids))
    if task_type is TaskType.STS:
        return STSSettings(scale=(float(task.min_score), float(task.max_score)))
    if task_type is TaskType.CLASSIFICATION:
        return ClassificationSettings(
            n_experiments=int(task.n_experiments), samples_per_label=int(task.samples_per_label),
            max_iter=int(task.evaluator_model.get_params().get("max_iter", 100)),
            train_split=str(task.train_split), seed=int(task.seed),
        )
    if task_type is TaskType.CLUSTERING:
        return ClusteringSettings(
            label_field=str(task.label_column_name), n_runs=int(task.n_clusters),
            documents_per_run=int(task.max_documents_per_cluster), batch_size=int(task.k_mean_batch_size),
            seed=int(task.seed),
        )
    if task_type is TaskType.PAIR_CLASSIFICATION:
        return PairClassificationSettings(positive="1", negative=("0",))
    return BitextSettings(query_side="sentence1")


def _retrieval(task, subset: str, split: str, metadata) -> RetrievalTask:
    data = _split_data(task, subset, split)
    for part in ("corpus", "queries", "relevant_docs"):
        if part not in data:
            raise _bad(task, subset, split, f"the retrieval data has no {part!r}")
    corpus: dict[str, Document] = {}
    rows = data["corpus"]
    ids = _column(rows, "id", task, subset, split)
    texts = _column(rows, "text", task, subset, split)
    titles = list(rows["title"]) if "title" in getattr(rows, "column_names", rows) else [""] * len(ids)
    for doc_id, title, text in zip(ids, titles, texts, strict=True):
        corpus[str(doc_id)] = Document(title=title or "", text=text or "")
    queries_rows = data["queries"]
    query_ids = [str(q) for q in _column(queries_rows, "id", task, subset, split)]
    query_texts = _column(queries_rows, "text", task, subset, split)
    if any(not isinstance(t, str) for t in query_texts):
        raise _bad(task, subset, split, "its queries are conversations; glotta scores text queries only",
                   fix="choose a task with text queries")
    columns = getattr(queries_rows, "column_names", queries_rows)
    if "instruction" in columns:  # joined as mteb joins them for encoders
        query_texts = [t + " " + i if i is not None else t
                       for t, i in zip(query_texts, queries_rows["instruction"], strict=True)]
    qrels_all = {str(q): {str(d): int(s) for d, s in docs.items()} for q, docs in data["relevant_docs"].items()}
    # mteb drops queries without judgements; pytrec_eval scores the rest
    qrels = {q: qrels_all[q] for q in query_ids if qrels_all.get(q)}
    queries = {q: t for q, t in zip(query_ids, query_texts, strict=True) if q in qrels}
    if not queries:
        raise _bad(task, subset, split, "no query has relevance judgements")
    unjudged = len(set(query_ids)) - len(queries)
    top_ranked = data.get("top_ranked") if hasattr(data, "get") else None
    if not top_ranked:
        return RetrievalTask(metadata(TaskType.RETRIEVAL, _settings(task, TaskType.RETRIEVAL)), corpus, queries,
                             qrels, unjudged_queries=unjudged)
    candidates = {}
    for query_id in queries:
        listed = top_ranked.get(query_id)
        if listed is None:
            raise _bad(task, subset, split, f"query {query_id!r} has no candidate list (top_ranked)")
        candidates[query_id] = [d for d in dict.fromkeys(map(str, listed)) if d in corpus]
    return RerankingTask(metadata(TaskType.RERANKING, _settings(task, TaskType.RERANKING)), corpus, queries, qrels,
                         unjudged, candidates=candidates)


def _sts(task, subset: str, split: str, metadata: TaskMetadata) -> STSTask:
    data = _split_data(task, subset, split)
    first_column, second_column = task.column_names
    first = _texts(_column(data, first_column, task, subset, split), first_column, task, subset, split)
    second = _texts(_column(data, second_column, task, subset, split), second_column, task, subset, split)
    scores = [float(s) for s in _column(data, "score", task, subset, split)]
    if not scores or not all(math.isfinite(s) for s in scores):
        raise _bad(task, subset, split, "STS needs a finite gold score for every pair")
    return STSTask(metadata, first, second, scores, scale=metadata.settings.scale)


def _labels_as_text(labels: list) -> list[str]:
    """Labels as text that sort as mteb's label values sort.

    glotta numbers classes in sorted order of their text, sklearn in sorted order of their
    values; zero-padding whole numbers keeps the two orders equal (so the same classifier is fit).
    """
    if labels and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in labels):
        width = len(str(max(labels)))
        return [str(x).zfill(width) for x in labels]
    return [str(x) for x in labels]


def _classification(task, subset: str, split: str, metadata, settings: ClassificationSettings):
    data = _subset_data(task, subset)
    for needed in (settings.train_split, split):
        if needed not in data:
            raise _bad(task, subset, split, f"the loaded data has no {needed!r} split",
                       fix=f"splits present: {', '.join(map(str, data.keys()))}")
    train, test = data[settings.train_split], data[split]
    column, label = task.input_column_name, task.label_column_name
    train_texts = _texts(_column(train, column, task, subset, split), column, task, subset, split)
    test_texts = _texts(_column(test, column, task, subset, split), column, task, subset, split)
    raw_train, raw_test = _column(train, label, task, subset, split), _column(test, label, task, subset, split)
    if any(isinstance(x, list | tuple | dict) for x in raw_train + raw_test):
        raise _bad(task, subset, split, "its labels are lists: multilabel classification is not scored by glotta yet")
    encoded = _labels_as_text(raw_train + raw_test)
    train_labels, test_labels = encoded[: len(raw_train)], encoded[len(raw_train):]
    if len(set(train_labels)) < 2:
        raise _bad(task, subset, split, "classification needs at least two labels in the training split")
    if task.metadata.main_score.startswith("ap") and len(set(test_labels)) != 2:
        raise _bad(task, subset, split, f"its main score {task.metadata.main_score} is defined for two labels, "
                   f"and {split} has {len(set(test_labels))}", fix="choose another task or subset")
    # mteb already subsampled the test split in dataset_transform; glotta must not cut it again
    settings = replace(settings, max_test=max(len(test_texts), 1))
    return ClassificationTask(metadata(TaskType.CLASSIFICATION, settings), train_texts, train_labels, test_texts,
                              test_labels)


def _clustering(task, subset: str, split: str, metadata, settings: ClusteringSettings) -> ClusteringTask:
    data = _split_data(task, subset, split)
    column, label = task.input_column_name, task.label_column_name
    texts = _texts(_column(data, column, task, subset, split), column, task, subset, split)
    labels = []
    for row, value in enumerate(_column(data, label, task, subset, split)):
        levels = list(value) if isinstance(value, list | tuple) else [value]
        if not levels:
            raise _bad(task, subset, split, f"row {row} has no label")
        labels.append(levels)
    depth = max(len(levels) for levels in labels)
    if task.max_depth is not None:
        depth = min(depth, int(task.max_depth))
    if depth > 1:
        raise _bad(task, subset, split, f"its labels are hierarchical ({depth} levels); glotta clusters one level",
                   fix="choose another task")
    n = len(texts)
    if task.max_fraction_of_documents_to_embed is not None:
        to_embed = min(n, int(task.max_fraction_of_documents_to_embed * n))
    elif task.max_document_to_embed is not None:
        to_embed = min(n, int(task.max_document_to_embed))
    else:
        to_embed = None  # mteb embeds every document, in order, without drawing a sample
    if to_embed is not None and to_embed < 1:
        raise _bad(task, subset, split, f"its settings embed no documents of {n}")
    settings = replace(settings, max_documents=to_embed)
    flat = [str(levels[0]) for levels in labels]
    if len(set(flat)) < 2:
        raise _bad(task, subset, split, "clustering needs at least two labels")
    return ClusteringTask(metadata(TaskType.CLUSTERING, settings), texts, flat)


def _pairs(task, subset: str, split: str, metadata: TaskMetadata) -> PairClassificationTask:
    from datasets import Dataset

    data = _split_data(task, subset, split)
    if isinstance(data, Dataset) and len(data) == 1:  # mteb v1 layout: one row holding lists
        data = Dataset.from_dict(data[0])
    first_column, second_column = task.input1_column_name, task.input2_column_name
    first = _texts(_column(data, first_column, task, subset, split), first_column, task, subset, split)
    second = _texts(_column(data, second_column, task, subset, split), second_column, task, subset, split)
    raw = _column(data, task.label_column_name, task, subset, split)
    try:
        labels = [int(x) for x in raw]
    except (TypeError, ValueError):
        labels = []
    if len(labels) != len(raw) or not set(labels) <= {0, 1} or len(set(labels)) < 2:
        raise _bad(task, subset, split, "pair labels must be 0 and 1, both present")
    return PairClassificationTask(metadata, first, second, labels)


def _bitext(task, subset: str, split: str, metadata: TaskMetadata) -> BitextTask:
    if task.parallel_subsets:
        data = task.dataset[split] if split in task.dataset else _split_data(task, subset, split)
        first_column, second_column = subset.split("-", 1)
    else:
        data = _split_data(task, subset, split)
        first_column, second_column = task._DEFAULT_PAIR[0]
    if "gold" in getattr(data, "column_names", data):
        raise _bad(task, subset, split, "its gold alignment is not one-to-one by row (a 'gold' column); "
                   "glotta's bitext evaluator aligns rows", fix="choose another bitext task")
    first = _texts(_column(data, first_column, task, subset, split), first_column, task, subset, split)
    second = _texts(_column(data, second_column, task, subset, split), second_column, task, subset, split)
    return BitextTask(metadata, first, second, [str(i) for i in range(len(first))])
