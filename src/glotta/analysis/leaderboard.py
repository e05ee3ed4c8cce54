"""Does a model's overall MTEB score predict its score on one language? (the Italian study's question)

Overall: Mean(Task) and Mean(TaskType) on a reference benchmark (MTEB(Multilingual, v2) by
default), each task scored as MTEB scores it (main score averaged over the benchmark's subsets
and evaluation splits). Language: the mean of a metric over the tasks of chosen types, counting
only subsets whose every language is the target language. Models are ranked only on equal task
sets: the tasks that at least ``min_coverage`` of the models have, and only the models that have
all of them; the others are shown, unranked, unless ``partial`` ranks everyone on what they have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import kendalltau, rankdata, spearmanr

from glotta.analysis.results_reader import LoadedResults, TaskRun, mteb_task_metadata
from glotta.data.languages import iso639_3, normalise_language
from glotta.errors import GlottaError

DEFAULT_BENCHMARK = "MTEB(Multilingual, v2)"
DEFAULT_COVERAGE = 0.8  # a task is compared when 80% of the models have it
SHIFT_FLAG = 3  # rank moves of this size or more are flagged


@dataclass(frozen=True)
class ModelScore:
    model: str
    score: float | None  # Mean(Task) over the compared tasks; over its own tasks when not ranked or partial
    by_type: dict[str, float]
    mean_task_type: float | None
    tasks: int  # tasks the model has among those considered
    ranked: bool


@dataclass(frozen=True)
class ScoreSet:
    """Scores of every model on one task selection, and the task set they were compared on."""

    name: str
    scores: list[ModelScore]
    compared_tasks: list[str]
    considered_tasks: list[str]  # all tasks of the selection (the benchmark's, or the language's)
    per_task: dict[str, dict[str, float]]  # model -> task -> score

    def of(self, model: str) -> ModelScore | None:
        return next((s for s in self.scores if s.model == model), None)


@dataclass(frozen=True)
class Row:
    model: str
    overall: float | None  # None when the model is not ranked on the overall task set
    language: float | None  # None when the model is not ranked on the language task set
    gap: float | None  # language - overall
    rank_overall: int | None
    rank_language: int | None

    @property
    def shift(self) -> int | None:
        """Places gained on the language ranking (positive: better on the language than overall)."""
        if self.rank_overall is None or self.rank_language is None:
            return None
        return self.rank_overall - self.rank_language

    @property
    def flagged(self) -> bool:
        return self.shift is not None and abs(self.shift) >= SHIFT_FLAG


@dataclass(frozen=True)
class Leaderboard:
    language: str
    overall: ScoreSet
    target: ScoreSet
    rows: list[Row]
    kendall_tau: float | None
    spearman: float | None


def _mean(values) -> float | None:
    values = list(values)
    return float(np.mean(values)) if values else None


def _score_set(name: str, per_task: dict[str, dict[str, float]], task_types: dict[str, str],
               considered: list[str], min_coverage: float, partial: bool, extra: set[str]) -> ScoreSet:
    """Compare on the tasks that at least ``min_coverage`` of the reference models have.

    ``extra`` models (glotta runs placed beside published results) do not shape the task set. A
    model is ranked when it has every compared task; with ``partial`` every model is ranked on
    the considered tasks it has (unequal sets, flagged by its task count).
    """
    reference = [tasks for model, tasks in per_task.items() if model not in extra]
    holders = {t: sum(t in tasks for tasks in reference) for t in considered}
    compared = [t for t in considered if reference and holders[t] / len(reference) >= min_coverage]
    scores = []
    for model, tasks in per_task.items():
        complete = bool(compared) and all(t in tasks for t in compared)
        # complete models are scored on the compared set; the others on what they have (shown, unranked)
        use = compared if complete and not partial else [t for t in considered if t in tasks]
        by_type: dict[str, list[float]] = {}
        for task in use:
            by_type.setdefault(task_types[task], []).append(tasks[task])
        type_means = {t: float(np.mean(v)) for t, v in by_type.items()}
        scores.append(ModelScore(model, _mean(tasks[t] for t in use), type_means, _mean(type_means.values()),
                                 sum(t in tasks for t in considered), complete or partial))
    return ScoreSet(name, scores, compared, considered, per_task)


def overall_scores(results: LoadedResults, benchmark: str = DEFAULT_BENCHMARK,
                   min_coverage: float = DEFAULT_COVERAGE, partial: bool = False) -> ScoreSet:
    """Mean(Task) and Mean(TaskType) per model over the tasks of an MTEB benchmark."""
    import mteb

    try:
        tasks = mteb.get_benchmark(benchmark).tasks
    except (KeyError, ValueError):
        raise GlottaError(f"unknown benchmark {benchmark!r}", fix="use an MTEB benchmark name such as "
                          "'MTEB(Multilingual, v2)' or 'MTEB(Europe, v1)'") from None
    spec = {t.metadata.name: (t.metadata.type, set(t.metadata.eval_splits), set(t.hf_subsets)) for t in tasks}
    per_task: dict[str, dict[str, float]] = {}
    for run in results.runs:
        if run.task not in spec:
            continue
        _, splits, subsets = spec[run.task]
        values = [s.metric("main_score") for s in run.subsets if s.split in splits and s.subset in subsets]
        values = [v for v in values if v is not None]
        if values:
            per_task.setdefault(run.model, {})[run.task] = float(np.mean(values))
    types = {name: task_type for name, (task_type, _, _) in spec.items()}
    return _score_set(benchmark, per_task, types, list(spec), min_coverage, partial, _extra_models(results))


def language_subsets(run: TaskRun, language: str):
    """The subsets of ``run`` whose every language is ``language`` (ISO 639-3), in its eval splits."""
    metadata = mteb_task_metadata(run.task)
    splits = set(metadata.eval_splits) if metadata is not None else None  # glotta task: every split
    return [s for s in run.subsets
            if (splits is None or s.split in splits) and s.languages
            and all(iso639_3(lang.replace("_", "-")) == language for lang in s.languages)]


def language_runs(results: LoadedResults, language: str, task_types: set[str] | None = None) -> list[TaskRun]:
    """Per (model, task), the best-ranked revision whose file has a subset in ``language``.

    MTEB's choice can be a file that lacks the language (a main-revision run over some languages
    only); the next revision that has it is used then, and reported by the caller.
    """
    chosen = []
    for runs in results.candidates.values():
        if runs[0].task_type is None or (task_types is not None and runs[0].task_type not in task_types):
            continue
        found = next((run for run in runs if language_subsets(run, language)), None)
        if found is not None:
            chosen.append(found)
    return chosen


def language_scores(results: LoadedResults, language: str, task_types: set[str] | None = None,
                    metric: str = "ndcg_at_10", min_coverage: float = DEFAULT_COVERAGE,
                    partial: bool = False) -> ScoreSet:
    """Per model the mean ``metric`` over the subsets entirely in ``language``, per task and overall."""
    per_task: dict[str, dict[str, float]] = {}
    types: dict[str, str] = {}
    for run in language_runs(results, language, task_types):
        values = [s.metric(metric) for s in language_subsets(run, language)]
        values = [v for v in values if v is not None]
        if values:
            per_task.setdefault(run.model, {})[run.task] = float(np.mean(values))
            types[run.task] = run.task_type
    considered = sorted(types)
    return _score_set(f"{language} {metric}", per_task, types, considered, min_coverage, partial,
                      _extra_models(results))


def _extra_models(results: LoadedResults) -> set[str]:
    return {run.model for run in results.runs if run.glotta_type}


def _ranks(scores: dict[str, float]) -> dict[str, int]:
    models = list(scores)
    ranks = rankdata([-scores[m] for m in models], method="min")
    return {m: int(r) for m, r in zip(models, ranks, strict=True)}


def build_leaderboard(results: LoadedResults, language: str, *, task_types: set[str] | None = None,
                      metric: str = "ndcg_at_10", benchmark: str = DEFAULT_BENCHMARK,
                      min_coverage: float = DEFAULT_COVERAGE, partial: bool = False) -> Leaderboard:
    """Per model the overall score on ``benchmark`` and the ``language`` score, both ranks and their
    rank correlation (``glotta leaderboard``)."""
    language = iso639_3(normalise_language(language))
    overall = overall_scores(results, benchmark, min_coverage, partial)
    target = language_scores(results, language, task_types, metric, min_coverage, partial)
    if not target.per_task:
        raise GlottaError(f"no result has a {language} subset of the chosen task types",
                          fix="check --lang and --type, or add result folders with --results")
    both = {}
    for model in results.models():
        o, t = overall.of(model), target.of(model)
        if o and t and o.ranked and t.ranked:
            both[model] = (o.score, t.score)
    rank_o = _ranks({m: v[0] for m, v in both.items()})
    rank_t = _ranks({m: v[1] for m, v in both.items()})
    rows = []
    for model in results.models():
        o, t = overall.of(model), target.of(model)
        if t is None and o is None:
            continue
        # the row compares like with like: unranked scores (other task sets) stay in the ScoreSets
        o_score = o.score if o and o.ranked else None
        t_score = t.score if t and t.ranked else None
        rows.append(Row(model, o_score, t_score,
                        None if o_score is None or t_score is None else t_score - o_score,
                        rank_o.get(model), rank_t.get(model)))
    rows.sort(key=lambda r: (r.rank_language is None, r.rank_language or 0, -(r.language or 0)))
    tau = rho = None
    if len(both) >= 3:
        models = list(both)
        tau = float(kendalltau([rank_o[m] for m in models], [rank_t[m] for m in models]).statistic)
        rho = float(spearmanr([rank_o[m] for m in models], [rank_t[m] for m in models]).statistic)
    return Leaderboard(language, overall, target, rows, tau, rho)
