"""Commands that measure and repair forgetting: compare (base vs fine-tuned) and merge."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from glotta.cli.common import (
    Backend,
    BatchSize,
    Benchmarks,
    CacheDir,
    DataRoot,
    Device,
    NoCache,
    OutputAlias,
    Precision,
    TaskFolders,
    TrustRemoteCode,
    console,
    output_option,
    progress_bars,
    quiet_libraries,
)
from glotta.data.atomic import check_writable
from glotta.encoders.backends import DEFAULT_BACKEND
from glotta.errors import GlottaError

Overwrite = Annotated[bool, typer.Option(help="Re-evaluate (and re-merge) what exists.")]


def _task_groups(benchmarks: list[str] | None, task_paths: list[Path] | None, data_root: Path | None, what: str):
    """(label, tasks) per benchmark, plus one group for loose --task folders."""
    from glotta.cli.evaluate import collect_tasks

    benchmarks, task_paths = benchmarks or [], task_paths or []
    if not benchmarks and not task_paths:
        raise GlottaError(f"no {what} tasks", fix=f"add --{what}benchmark NAME or --{what}task PATH")
    groups = [(name, collect_tasks([name], [], data_root, None)) for name in benchmarks]
    return groups + ([("tasks", collect_tasks([], task_paths, data_root, None))] if task_paths else [])


def _scores(outcomes) -> dict[str, tuple[str, float | None]]:
    return {o.record().task: (o.task.type.value, o.main_score) for o in outcomes}


def compare_command(
    base: Annotated[str, typer.Argument(help="The model before fine-tuning.")],
    tuned: Annotated[str, typer.Argument(help="The fine-tuned (or merged) model.")],
    benchmark: Benchmarks = None,
    task: TaskFolders = None,
    output: Annotated[Path, output_option("Folder for results, tables and the figure.")] = Path("compare"),
    output_alias: OutputAlias = None,
    drop_points: Annotated[float, typer.Option(min=0.0, help="Flag a task when the tuned model loses this many points.")] = 1.0,
    overwrite: Overwrite = False,
    data_root: DataRoot = None,
    batch_size: BatchSize = 32,
    device: Device = None,
    backend: Backend = DEFAULT_BACKEND,
    precision: Precision = "fp32",
    trust_remote_code: TrustRemoteCode = False,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
) -> None:
    """Evaluate base and fine-tuned models on the same benchmarks and report what changed (forgetting)."""
    from glotta.analysis.figures import forgetting_figure
    from glotta.analysis.forgetting import benchmark_change, benchmark_change_table, task_change_table, task_changes
    from glotta.analysis.report import Section, write_report
    from glotta.cli.evaluate import encoder_options
    from glotta.cli.tables import rich_table
    from glotta.data.atomic import write_json_atomic
    from glotta.evaluation.runner import run_evaluation
    from glotta.progress import RichProgress

    if not math.isfinite(drop_points):  # typer's min lets NaN and infinity through
        raise GlottaError(f"--drop-points {drop_points:g} is not a finite number", fix="e.g. --drop-points 1")
    check_writable(output, "--output")
    options = encoder_options(cache_dir, no_cache, batch_size, device, trust_remote_code=trust_remote_code,
                              backend=backend, precision=precision)
    groups = _task_groups(benchmark, task, data_root, "")
    quiet_libraries()
    changes, names = [], None
    with progress_bars() as bars:
        for label, tasks in groups:
            # Both models in one run: both load (and a bad one is refused) before any result is written.
            outcomes = run_evaluation(tasks, [base, tuned], output / "results", options, overwrite,
                                      RichProgress(bars))
            before, after = outcomes[:len(tasks)], outcomes[len(tasks):]
            names = (before[0].model, after[0].model)
            if (before[0].model, before[0].revision) == (after[0].model, after[0].revision):
                raise GlottaError("base and tuned are the same model (same name and weights)",
                                  fix="pass the model before fine-tuning first, then the fine-tuned one")
            changes += task_changes(label, _scores(before), _scores(after))
    if not changes:
        raise GlottaError("no task has a score for both models", fix="use embedding models (BM25 has only retrieval)")
    summaries = [benchmark_change(label, changes, drop_points) for label, _ in groups]
    base_name, tuned_name = names
    tables = [benchmark_change_table(summaries, drop_points), task_change_table(changes, base_name, tuned_name, drop_points)]
    for table in tables:
        console.print(rich_table(table))
    figures = forgetting_figure(changes, base_name, tuned_name, output)
    write_json_atomic(output / "compare.json", {
        "base": base, "tuned": tuned, "drop_points": drop_points,
        "benchmarks": [{"benchmark": s.benchmark, "tasks": s.tasks, "base": s.base, "tuned": s.tuned,
                        "change_points": s.delta, "relative_percent": s.relative, "tasks_dropped": s.dropped}
                       for s in summaries],
        "tasks": [{"benchmark": c.benchmark, "task": c.task, "type": c.task_type, "base": c.base, "tuned": c.tuned,
                   "change_points": c.delta, "relative_percent": c.relative} for c in changes],
    })
    html, _ = write_report([Section("Forgetting: base vs fine-tuned", tables=tables, figures=[figures[0]])],
                           output, f"{tuned_name} vs {base_name}")
    console.print(f"tables, figure and report in {output} ({html.name})", highlight=False)


def merge_command(
    base: Annotated[str, typer.Argument(help="The model before fine-tuning.")],
    tuned: Annotated[str, typer.Argument(help="The fine-tuned model (same architecture and vocabulary).")],
    output: Annotated[Path | None, output_option("Merged model folder; with --sweep, a folder of merged models and the sweep report.", required=True)] = None,
    output_alias: OutputAlias = None,
    alpha: Annotated[float, typer.Option(help="Weight of the fine-tuned model: 0 = base, 1 = fine-tuned.")] = 0.5,
    sweep: Annotated[str | None, typer.Option(help="Comma-separated alphas to merge and score, e.g. 0.25,0.5,0.75.")] = None,
    target_benchmark: Annotated[list[str] | None, typer.Option("--target-benchmark", help="Target-language benchmark for the sweep.")] = None,
    target_task: Annotated[list[Path] | None, typer.Option("--target-task", help="Target-language task folder for the sweep.")] = None,
    general_benchmark: Annotated[list[str] | None, typer.Option("--general-benchmark", help="General (English) benchmark for the sweep.")] = None,
    general_task: Annotated[list[Path] | None, typer.Option("--general-task", help="General (English) task folder for the sweep.")] = None,
    overwrite: Overwrite = False,
    data_root: DataRoot = None,
    batch_size: BatchSize = 32,
    device: Device = None,
    backend: Backend = DEFAULT_BACKEND,
    precision: Precision = "fp32",
    trust_remote_code: TrustRemoteCode = False,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
) -> None:
    """Interpolate base and fine-tuned weights (WiSE-FT / LM-Cocktail); --sweep scores several alphas."""
    from glotta.cli.evaluate import encoder_options
    from glotta.training.merging import load_pair, merge_models, parse_sweep, write_merge

    check_writable(output, "--output")
    if sweep is None:
        quiet_libraries()
        merge_models(base, tuned, alpha, output, overwrite, trust_remote_code)
        console.print(f"merged model (alpha {alpha:g}) in {output}", highlight=False)
        return
    alphas = parse_sweep(sweep)
    options = encoder_options(cache_dir, no_cache, batch_size, device, trust_remote_code=trust_remote_code,
                              backend=backend, precision=precision)
    target = [t for _, tasks in _task_groups(target_benchmark, target_task, data_root, "target-") for t in tasks]
    general = [t for _, tasks in _task_groups(general_benchmark, general_task, data_root, "general-") for t in tasks]
    shared = sorted({t.metadata.name for t in target} & {t.metadata.name for t in general})
    if shared:
        raise GlottaError(f"task(s) {', '.join(shared)} are both target and general",
                          fix="a task measures either the target language or general ability; name them apart")
    quiet_libraries()
    merges = {value: output / f"alpha-{value:g}" for value in alphas if 0.0 < value < 1.0}
    missing = [value for value, folder in merges.items() if overwrite or not folder.exists()]
    pair = load_pair(base, tuned, trust_remote_code) if missing else None  # refused before output/ is made
    output.mkdir(parents=True, exist_ok=True)
    for value in missing:
        write_merge(pair, value, merges[value])
    models = {0.0: base, **{value: str(folder) for value, folder in merges.items()}, 1.0: tuned}
    _score_sweep(models, target, general, output, overwrite, options)


def _score_sweep(models: dict[float, str], target, general, out: Path, overwrite: bool, options) -> None:
    from glotta.analysis.figures import merge_sweep_figure
    from glotta.analysis.report import Section, write_report
    from glotta.analysis.tables import TableData
    from glotta.cli.tables import rich_table
    from glotta.data.atomic import write_json_atomic
    from glotta.evaluation.runner import run_evaluation
    from glotta.progress import RichProgress

    def mean_score(outcomes) -> float:
        scores = [o.main_score for o in outcomes if o.main_score is not None]
        if not scores:
            raise GlottaError("no task of the sweep could be scored", fix="use embedding tasks (retrieval, STS, ...)")
        return sum(scores) / len(scores)

    rows = []
    with progress_bars() as bars:
        for value, model in models.items():
            scores = [mean_score(run_evaluation(tasks, [model], out / "results", options, overwrite, RichProgress(bars)))
                      for tasks in (target, general)]
            rows.append({"alpha": value, "model": model, "target": scores[0], "general": scores[1]})
    base = rows[0]
    table = TableData(
        f"weight interpolation: mean main score x 100 over {len(target)} target and {len(general)} general task(s)",
        ["alpha", "target", "general", "target vs base", "general vs base"],
        [[f"{r['alpha']:g}", f"{100 * r['target']:.2f}", f"{100 * r['general']:.2f}",
          f"{100 * (r['target'] - base['target']):+.2f}", f"{100 * (r['general'] - base['general']):+.2f}"]
         for r in rows], {1, 2, 3, 4},
        ["alpha 0 is the base model, 1 the fine-tuned one; in between: (1 - alpha) * base + alpha * tuned"])
    console.print(rich_table(table))
    figures = merge_sweep_figure([r["alpha"] for r in rows], [r["target"] for r in rows],
                                 [r["general"] for r in rows], out)
    write_json_atomic(out / "merge_sweep.json", {"target_tasks": [t.metadata.name for t in target],
                                                  "general_tasks": [t.metadata.name for t in general], "rows": rows})
    write_report([Section("Merge sweep", tables=[table], figures=[figures[0]])], out, "Weight interpolation sweep")
    console.print(f"merged models, sweep table and figure in {out}", highlight=False)
