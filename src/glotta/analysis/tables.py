"""Tables as plain data (title, columns, rows of text), rendered by the CLI (rich) and reports.

One builder per table, so the terminal, the HTML page and the Markdown file show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from glotta.analysis.leaderboard import Leaderboard, language_runs, language_subsets
from glotta.analysis.results_reader import LoadedResults
from glotta.data.languages import language_name
from glotta.evaluation.aggregate import ScoreRecord, language_groups, summarise
from glotta.evaluation.evaluators import EVALUATORS
from glotta.evaluation.retrieval import STUDY_METRICS
from glotta.evaluation.retrieval_metrics import STUDY_K_VALUES
from glotta.evaluation.significance import (
    ALPHA,
    RESAMPLES,
    SEED,
    Interval,
    compare_models,
    mean_interval,
    stored_per_query,
)


@dataclass(frozen=True)
class TableData:
    title: str
    columns: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)  # right-aligned column indexes
    notes: list[str] = field(default_factory=list)


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _points(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def main_score_table(records: list[ScoreRecord]) -> TableData:
    models = list(dict.fromkeys(r.model for r in records))
    tasks = list(dict.fromkeys((r.task, r.task_type, " ".join(r.languages)) for r in records))
    score = {(r.model, r.task): r.main_score for r in records}
    main_names = {t.value: e.main_score for t, e in EVALUATORS.items()}
    rows = [[task, task_type, languages, main_names.get(task_type, "main_score"),
             *(_score(score[m, task]) if (m, task) in score else "-" for m in models)]
            for task, task_type, languages in tasks]
    return TableData("main score per task (n/a: the model cannot serve this task type)",
                     ["task", "type", "languages", "metric", *models], rows, set(range(4, 4 + len(models))))


def summary_tables(records: list[ScoreRecord]) -> list[TableData]:
    """One table per language (monolingual scores only), then one per cross-lingual pair."""
    monolingual, cross_lingual = language_groups(records)
    tables = []
    for group in monolingual:
        summaries = summarise(records, group)
        types = list(summaries[0].by_type)
        rows = [[s.model, *(_score(s.by_type[t]) for t in types), _score(s.mean_task_type),
                 _score(s.mean_task), f"{s.scored}/{s.tasks}"] for s in summaries]
        tables.append(TableData(
            f"{language_name(group)} ({group}): monolingual tasks only, mean main score "
            "(n/a: a task of the set has no score)",
            ["model", *types, "Mean(TaskType)", "Mean(Task)", "tasks scored"], rows, set(range(1, len(types) + 4))))
    for group in cross_lingual:
        in_group = [r for r in records if r.language_group == group]
        models = list(dict.fromkeys(r.model for r in in_group))
        score = {(r.model, r.task): r.main_score for r in in_group}
        rows = [[task, task_type, *(_score(score.get((m, task))) for m in models)]
                for task, task_type in dict.fromkeys((r.task, r.task_type) for r in in_group)]
        tables.append(TableData(f"cross-lingual {group}: reported apart, never averaged into a language",
                                ["task", "type", *models], rows, set(range(2, 2 + len(models)))))
    return tables


def leaderboard_table(board: Leaderboard) -> TableData:
    name = language_name(board.language)
    rows = []
    for row in board.rows:
        overall, target = board.overall.of(row.model), board.target.of(row.model)
        rows.append([
            row.model,
            _points(overall.score if overall else None),
            _points(overall.mean_task_type if overall else None),
            f"{overall.tasks}/{len(board.overall.considered_tasks)}" if overall else "0",
            "-" if row.rank_overall is None else str(row.rank_overall),
            _points(target.score if target else None),
            f"{target.tasks}/{len(board.target.considered_tasks)}" if target else "0",
            "-" if row.rank_language is None else str(row.rank_language),
            "-" if row.gap is None else f"{100 * row.gap:+.2f}",
            "-" if row.shift is None else f"{row.shift:+d}" + (" !" if row.flagged else ""),
        ])
    tau = "n/a" if board.kendall_tau is None else f"{board.kendall_tau:.3f}"
    rho = "n/a" if board.spearman is None else f"{board.spearman:.3f}"
    notes = [
        f"overall: {board.overall.name} Mean(Task) (ranked, and gap) and Mean(TaskType) over the "
        f"{len(board.overall.compared_tasks)} of "
        f"{len(board.overall.considered_tasks)} tasks that 80% of the models have"
        + _missing(board.overall.considered_tasks, board.overall.compared_tasks),
        f"{name}: mean {board.target.name.split()[-1]} over monolingual {board.language} subsets of "
        f"{len(board.target.compared_tasks)} tasks: {', '.join(board.target.compared_tasks)}",
        f"rank correlation overall vs {name} (models ranked on both): Kendall tau {tau}, Spearman {rho}; "
        "'!' marks a rank move of 3 or more",
        "models without every compared task are scored on their own tasks and not ranked "
        "(--partial ranks everyone on what they have)",
    ]
    return TableData(
        f"{name}: overall MTEB score vs {name} score (x 100)",
        ["model", "overall", "Mean(TaskType)", "tasks", "rank", name, "tasks", "rank", "gap", "shift"],
        rows, set(range(1, 10)), notes)


def _missing(considered: list[str], compared: list[str]) -> str:
    left_out = [t for t in considered if t not in compared]
    if not left_out:
        return ""
    shown = ", ".join(left_out[:5]) + (f" and {len(left_out) - 5} more" if len(left_out) > 5 else "")
    return f" (left out: {shown})"


def language_task_table(board: Leaderboard, results: LoadedResults, metric: str) -> TableData:
    """Every compared language task per model, each subset's value exactly as stored in its file."""
    runs = {(r.model, r.task): r for r in language_runs(results, board.language)}
    tasks = board.target.compared_tasks
    rows, fallbacks = [], []
    for model in dict.fromkeys(r.model for r in board.rows):
        cells = []
        for task in tasks:
            run = runs.get((model, task))
            if run is None:
                cells.append("-")
                continue
            stored = [f"{s.subset}: {s.metrics.get(metric)}" for s in language_subsets(run, board.language)]
            cells.append("; ".join(stored))
            if run is not results.candidates[(model, task)][0]:
                fallbacks.append(f"{model} {task}: revision {run.revision} (the preferred revision's file "
                                 f"has no {board.language} subset)")
        rows.append([model, *cells])
    return TableData(f"{language_name(board.language)} {metric} per task and subset, as stored in the result files",
                     ["model", *tasks], rows, set(), fallbacks)


def triplet_stats_table(stats: dict, title: str) -> TableData:
    """The Italian study's Table 1 layout: one statistic per row."""
    def mean_std(entry: dict) -> str:
        return "-" if entry["mean"] is None else f"{entry['mean']:.1f} ± {entry['std']:.1f}"

    rows = [[name, f"{stats[name]:,}"] for name in ("rows (query, positive)", "triplets", "hard negatives",
                                                   "random negatives", "exact duplicate triplets",
                                                   "leakage (query inside positive)")]
    for unit in ("whitespace tokens", "tokenizer tokens"):
        for part, entry in stats.get(unit, {}).items():
            rows.append([f"{part} length ({unit}, mean ± std)", mean_std(entry)])
    for name, entry in [("positive", stats["positive scores"]), *stats["negative scores"].items()]:
        if entry.get("count"):
            rows.append([f"{name} scores (mean ± std; p5 / p50 / p95)",
                         f"{entry['mean']:.3f} ± {entry['std']:.3f}; "
                         f"{entry['p5']:.3f} / {entry['p50']:.3f} / {entry['p95']:.3f}"])
    return TableData(title, ["statistic", "value"], rows, {1})


@dataclass(frozen=True)
class ScoredEntry:
    """One model's stored score entry on one task (named as the tables name tasks)."""

    task: str
    task_type: str
    model: str
    entry: dict


RANKED_TYPES = ("retrieval", "reranking")  # the types scored query by query
_MEASURE_LABELS = {"recall": "R", "ndcg": "nDCG", "mrr": "MRR"}


def _study_label(key: str) -> str:
    measure, k = key.split("_at_")
    return f"{_MEASURE_LABELS[measure]}@{k}"


_STUDY_METRICS = [(key, _study_label(key)) for key in STUDY_METRICS]
_NO_PER_QUERY = "its result file has no per-query scores (an older glotta's, or mteb's); --overwrite scores it again"


def study_table(scored: list[ScoredEntry]) -> TableData | None:
    """The Italian study's view: Recall, nDCG and MRR at k = 1, 10, 100, one row per model and task,
    with the main score's bootstrap 95% interval over queries, then one row per query source when
    the task's queries name theirs (the stored per-query scores carry no source, so no interval)."""
    ranked = [s for s in scored if s.task_type in RANKED_TYPES]
    if not ranked:
        return None
    rows = []
    for s in ranked:
        per_query = stored_per_query(s.entry)
        interval = None if per_query is None or len(per_query) < 2 else mean_interval(list(per_query.values()))
        main = _score(s.entry.get("main_score")) + ("" if interval is None else f" {_interval(interval)}")
        rows.append([s.task, s.model, *(_score(s.entry.get(key)) for key, _ in _STUDY_METRICS), main,
                     "-" if per_query is None else str(len(per_query))])
        for source, scores in s.entry.get("per_source", {}).items():
            rows.append([f"  {s.task} [{source}]", s.model, *(_score(scores.get(key)) for key, _ in _STUDY_METRICS),
                         _score(scores.get("main_score")), str(scores.get("queries", "n/a"))])
    notes = [f"main: the main score (nDCG@10 for retrieval, MAP@1000 for reranking, or the task's own) [95% CI: "
             f"percentile bootstrap over the queries, {RESAMPLES:,} resamples, seed {SEED}]"]
    if any("per_source" in s.entry for s in ranked):
        notes.append("task [source]: the same scores over the queries one generator wrote (the 'source' of "
                     "queries.jsonl; 'unlabelled': queries without one), without an interval")
    if any(row[-1] == "-" for row in rows):
        notes.append(f"no interval, queries '-': {_NO_PER_QUERY}")
    return TableData("retrieval and reranking at k = " + ", ".join(map(str, STUDY_K_VALUES)),
                     ["task", "model", *(label for _, label in _STUDY_METRICS), "main [95% CI]", "queries"], rows,
                     set(range(2, len(_STUDY_METRICS) + 4)), notes)


def paired_tests_tables(scored: list[ScoredEntry], alpha: float = ALPHA) -> list[TableData]:
    """Per retrieval or reranking task with two or more models: every pair's paired test on the main score."""
    by_task: dict[str, list[ScoredEntry]] = {}
    for s in scored:
        if s.task_type in RANKED_TYPES:
            by_task.setdefault(s.task, []).append(s)
    tables = []
    for task, entries in by_task.items():
        if len(entries) < 2:
            continue
        per_query = {s.model: stored_per_query(s.entry) for s in entries}
        missing = [model for model, values in per_query.items() if values is None]
        usable = {model: values for model, values in per_query.items() if values is not None}
        rows = [[t.better, t.worse, str(t.difference.queries), f"{t.difference.mean:+.4f}", _interval(t.difference),
                 _p(t.p_value), _p(t.p_holm), "yes" if t.significant else "no"]
                for t in (compare_models(usable, alpha=alpha) if len(usable) >= 2 else [])]
        notes = [f"difference of the mean per-query main score, better model first; 95% CI: paired bootstrap; p: "
                 f"two-sided paired sign-flip test, {RESAMPLES:,} resamples, seed {SEED}; significant: Holm-adjusted "
                 f"p < {alpha} over this task's {len(rows)} pair{'' if len(rows) == 1 else 's'}"]
        if missing:
            notes.append(f"not compared: {', '.join(missing)}: {_NO_PER_QUERY}")
        tables.append(TableData(f"{task}: paired tests between models", [
            "model", "vs", "queries", "difference", "95% CI", "p", "p (Holm)", f"significant at {alpha}"],
            rows, {2, 3, 4, 5, 6}, notes))
    return tables


def _interval(interval: Interval) -> str:
    return f"[{interval.low:.4f}, {interval.high:.4f}]"


def _p(value: float) -> str:
    return f"{value:.4f}" if value >= 1e-4 else "<0.0001"
