"""``glotta trim``: cut a model's vocabulary down to one language, and show what it costs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from glotta.cli.common import (
    DataRoot,
    Lang,
    OutputAlias,
    console,
    errors,
    output_option,
    progress_bars,
    quiet_libraries,
)
from glotta.data.atomic import check_writable
from glotta.encoders.backends import DEFAULT_BACKEND, Runtime


def trim_command(
    model: Annotated[str, typer.Argument(help="A sentence-transformers folder or hub id (fast tokenizer: Unigram, WordPiece or BPE).")],
    corpus: Annotated[list[Path], typer.Option("--corpus", help="Target-language corpus: docs.jsonl, .txt or .parquet; repeatable.")],
    lang: Lang,
    size: Annotated[int, typer.Option(min=1, help="Tokens in the trimmed vocabulary, special and kept tokens included.")],
    output: Annotated[Path | None, output_option("Output folder (a sentence-transformers model, written atomically).", required=True)] = None,
    output_alias: OutputAlias = None,
    min_count: Annotated[int, typer.Option(min=1, help="Keep a corpus token only if seen this often.")] = 2,
    keep_corpus: Annotated[list[Path] | None, typer.Option("--keep-corpus", help="Base-vocabulary corpus (e.g. English) whose tokens are always kept; repeatable.")] = None,
    word_frequencies: Annotated[list[str] | None, typer.Option("--word-frequencies", help="Word-frequency list whose tokens fill the size after the corpus: a 'word<TAB>count' file, 'wordfreq' (the wordfreq package's list for --lang) or 'wordfreq:LANG' (another language's, e.g. eng); repeatable.")] = None,
    max_documents: Annotated[int | None, typer.Option(min=1, help="Read at most this many corpus documents (all files together).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output folder.")] = False,
    eval_benchmark: Annotated[list[str] | None, typer.Option("--eval-benchmark", help="Evaluate original and trimmed on this benchmark; repeatable.")] = None,
    eval_task: Annotated[list[Path] | None, typer.Option("--eval-task", help="... or on this task folder; repeatable.")] = None,
    eval_output: Annotated[Path, typer.Option(help="Results folder for the evaluation (MTEB layout).")] = Path("results"),
    data_root: DataRoot = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    backend: Annotated[str, typer.Option(help="Backend for --eval-*: torch, openvino or onnx.")] = DEFAULT_BACKEND,
    precision: Annotated[str, typer.Option(help="Precision for --eval-*: fp32 (exact), fp16, bf16 or int8.")] = "fp32",
) -> None:
    """Keep the tokens a corpus uses, slice the embedding matrix, save a smaller model; report coverage."""
    from glotta.cli.evaluate import collect_tasks, encoder_options
    from glotta.cli.tables import rich_table
    from glotta.progress import RichProgress
    from glotta.trimming.tables import coverage_table
    from glotta.trimming.trim import TrimSettings, trim_model

    evaluate = bool(eval_benchmark or eval_task)
    if evaluate:
        check_writable(eval_output, "--eval-output")
    tasks = collect_tasks(eval_benchmark or [], eval_task or [], data_root, None) if evaluate else []  # fail before trimming
    Runtime(backend, precision)  # a bad --backend / --precision is refused with or without --eval-*
    # the evaluation's options (they open the embedding cache) only when there is an evaluation
    options = encoder_options(None, False, batch_size, None, backend=backend, precision=precision) if evaluate else None
    quiet_libraries()
    settings = TrimSettings(model, corpus, lang, size, output, min_count, keep_corpus or [], max_documents, overwrite,
                            word_frequencies or [])
    with progress_bars() as bars:
        result = trim_model(settings, RichProgress(bars))
    console.print(rich_table(coverage_table(result.report)))
    for warning in result.report["warnings"]:
        errors.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)
    console.print(f"trimmed model in {output} (report: {output / 'trim_report.json'})")
    if evaluate:
        _evaluate(result, model, output, tasks, eval_output, options)


def _evaluate(result, model: str, out: Path, tasks, eval_output: Path, options) -> None:
    from glotta.cli.tables import rich_table
    from glotta.data.atomic import write_json_atomic
    from glotta.progress import RichProgress
    from glotta.trimming.comparison import compare
    from glotta.trimming.tables import footprint_table, score_table
    from glotta.trimming.trim import REPORT_NAME

    with progress_bars() as bars:
        evaluation = compare(result.original_folder, out, model, result.sample, tasks, eval_output, options,
                             RichProgress(bars))
    report = {**result.report, "evaluation": evaluation}
    write_json_atomic(out / REPORT_NAME, report)
    console.print(rich_table(footprint_table(evaluation)))
    if evaluation["scores"]:
        console.print(rich_table(score_table(evaluation)))
    console.print(f"results in {eval_output}")
