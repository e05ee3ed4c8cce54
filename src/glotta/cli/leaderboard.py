"""Commands that compare models across languages: leaderboard and report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from glotta.cli.common import DataRoot, Lang, OutputAlias, console, errors, output_option
from glotta.errors import GlottaError


def _task_types(types: list[str] | None) -> set[str] | None:
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
    from glotta.config import resolve_data_root

    folders = list(results or [])
    root = resolve_data_root(data_root)
    default = mteb_results or (root / "mteb-results" if root else None)
    if default is not None and default.is_dir():
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


Results = Annotated[list[Path] | None, typer.Option("--results", help="More result folders (glotta --output folders, MTEB clones); repeatable.")]
MtebResults = Annotated[Path | None, typer.Option(help="MTEB results (default: <data root>/mteb-results).")]
TaskTypes = Annotated[list[str] | None, typer.Option("--type", help="Task types for the language score (default Retrieval; 'all').")]
Metric = Annotated[str | None, typer.Option(help="Metric for the language score (default ndcg_at_10 for retrieval, else main_score).")]
Benchmark = Annotated[str, typer.Option(help="Reference benchmark for the overall score.")]
Coverage = Annotated[float, typer.Option(min=0.0, max=1.0, help="Compare on tasks that this share of the models have.")]
Partial = Annotated[bool, typer.Option("--partial", help="Rank models on unequal task sets (flagged by task counts).")]


def leaderboard_command(
    lang: Lang,
    results: Results = None,
    mteb_results: MtebResults = None,
    task_type: TaskTypes = None,
    metric: Metric = None,
    benchmark: Benchmark = "MTEB(Multilingual, v2)",
    min_coverage: Coverage = 0.8,
    partial: Partial = False,
    output: Annotated[Path | None, output_option("Folder for the figures (default leaderboard-<lang>).")] = None,
    output_alias: OutputAlias = None,
    data_root: DataRoot = None,
) -> None:
    """Overall MTEB score vs one language's score: ranks, gaps, rank correlation, figures."""
    from glotta.analysis.sections import leaderboard_section
    from glotta.cli.tables import rich_table
    from glotta.data.atomic import check_writable
    from glotta.data.languages import iso639_3, normalise_language

    folder = output or Path(f"leaderboard-{iso639_3(normalise_language(lang))}")
    check_writable(folder, "--output")
    loaded, board, metric = _load_language_view(lang, results, mteb_results, task_type, metric, benchmark,
                                                min_coverage, partial, data_root)
    section = leaderboard_section(board, loaded, metric, folder)
    for line in section.text:
        errors.print(line, highlight=False, soft_wrap=True)
    for table in section.tables:
        console.print(rich_table(table))
    console.print(f"figures in {folder}: " + ", ".join(sorted(p.name for p in folder.iterdir())))


def report_command(
    output: Annotated[Path, output_option("Folder for report.html, report.md and the figures.")] = Path("report"),
    output_alias: OutputAlias = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Add the language leaderboard for this language.")] = None,
    results: Results = None,
    mteb_results: MtebResults = None,
    task_type: TaskTypes = None,
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
    from glotta.data.atomic import check_writable

    if lang is None and not results:
        raise GlottaError("nothing to report", fix="add --lang LANG (leaderboard) and/or --results DIR (glotta runs)")
    check_writable(output, "--output")
    sections = []
    if lang is not None:
        loaded, board, metric = _load_language_view(lang, results, mteb_results, task_type, metric, benchmark,
                                                    min_coverage, partial, data_root)
        sections.append(leaderboard_section(board, loaded, metric, output))
    records = glotta_records(load_results(results)) if results else []
    if records:
        sections.append(glotta_runs_section(records))
    elif lang is None:  # a report with no section at all
        raise GlottaError("no glotta result files in the --results folders",
                          fix="pass the --output folder of 'glotta eval', or add --lang LANG for the leaderboard")
    html_path, md_path = write_report(sections, output, "glotta report" + (f": {lang}" if lang else ""))
    console.print(f"wrote {html_path} and {md_path}")


