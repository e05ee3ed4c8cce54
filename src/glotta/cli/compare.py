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
    from glotta.analysis.report import Section, write_report
    from glotta.cli.evaluate import encoder_options
    from glotta.cli.tables import rich_table
    from glotta.data.atomic import write_json_atomic
    from glotta.evaluation.comparison import compare
    from glotta.progress import RichProgress

    if not math.isfinite(drop_points):  # typer's min lets NaN and infinity through
        raise GlottaError(f"--drop-points {drop_points:g} is not a finite number", fix="e.g. --drop-points 1")
    check_writable(output, "--output")
    options = encoder_options(cache_dir, no_cache, batch_size, device, trust_remote_code=trust_remote_code,
                              backend=backend, precision=precision)
    groups = _task_groups(benchmark, task, data_root, "")
    quiet_libraries()
    with progress_bars() as bars:
        result = compare(base, tuned, groups, output / "results", options, overwrite, drop_points, output,
                         RichProgress(bars))
    for table in result.tables:
        console.print(rich_table(table))
    write_json_atomic(output / "compare.json", result.record(base, tuned, drop_points))
    html, _ = write_report([Section("Forgetting: base vs fine-tuned", tables=result.tables,
                                    figures=[result.figures[0]])], output, f"{result.tuned} vs {result.base}")
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
    from glotta.analysis.report import Section, write_report
    from glotta.cli.tables import rich_table
    from glotta.data.atomic import write_json_atomic
    from glotta.evaluation.comparison import score_sweep
    from glotta.progress import RichProgress

    with progress_bars() as bars:
        sweep = score_sweep(models, target, general, out, overwrite, options, RichProgress(bars))
    console.print(rich_table(sweep.table))
    write_json_atomic(out / "merge_sweep.json", {"target_tasks": [t.metadata.name for t in target],
                                                  "general_tasks": [t.metadata.name for t in general],
                                                  "rows": sweep.rows})
    write_report([Section("Merge sweep", tables=[sweep.table], figures=[sweep.figures[0]])], out,
                 "Weight interpolation sweep")
    console.print(f"merged models, sweep table and figure in {out}", highlight=False)
