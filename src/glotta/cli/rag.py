"""``glotta rag build``: a retrieval benchmark from the user's own documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from glotta.cli.common import (
    Lang,
    LLMApiKey,
    LLMBaseUrl,
    LLMConcurrency,
    LLMModel,
    OutputAlias,
    chat_client,
    console,
    errors,
    output_option,
    quiet_libraries,
)
from glotta.errors import GlottaError

rag_app = typer.Typer(no_args_is_help=True, help="Build retrieval benchmarks from your own documents.")

# Parameters of glotta.rag.build's settings -> the flags that set them, for error messages.
FLAGS = {"sources": "--queries", "answer_share": "--answer-share", "split": "--split", "min_words": "--min-words",
         "chunk_tokens": "--chunk-tokens", "overlap": "--overlap", "tokenizer": "--tokenizer"}


def _split(text: str | None) -> float:
    if text is None:
        return 0.0
    name, _, share = text.partition("=")
    try:
        value = float(share)
    except ValueError:
        value = -1.0
    if name != "dev" or not 0 < value < 1:
        raise GlottaError(f"--split {text!r} is not dev=SHARE with a share between 0 and 1",
                          fix="e.g. --split dev=0.2: a fifth of the documents (and all their queries) for dev")
    return value


@rag_app.command("build")
def rag_build_command(
    documents: Annotated[list[Path], typer.Argument(help="Folders (searched recursively) and files: PDF, DOCX, HTML, Markdown, text, docs.jsonl/.parquet corpora.", show_default=False)],
    lang: Lang,
    output: Annotated[Path | None, output_option("Benchmark folder to write (BEIR layout).", required=True)] = None,
    output_alias: OutputAlias = None,
    queries: Annotated[str | None, typer.Option("--queries", help="Query sources, comma-separated: heading (section headings), cloze (a sentence cut out of its chunk), llm (--llm-*). Default: heading,cloze, or none beside --questions.", show_default=False)] = None,
    questions: Annotated[Path | None, typer.Option(help="Questions a person wrote: JSONL or CSV with question, document and/or answer.")] = None,
    num_queries: Annotated[int, typer.Option(min=1, help="Queries per source (at most).")] = 500,
    per_document: Annotated[int, typer.Option(min=1, help="Queries per document and source (at most).")] = 3,
    min_words: Annotated[int, typer.Option(min=1, help="Shortest query, in words.")] = 3,
    max_words: Annotated[int, typer.Option(min=1, help="Longest query, in words.")] = 40,
    split: Annotated[str | None, typer.Option(help="dev=SHARE: that share of the documents with queries forms a dev split (qrels/dev.tsv); the rest is test.")] = None,
    tokenizer: Annotated[str, typer.Option(help="Model whose tokenizer sizes the chunks (use the smallest window you will compare).")] = "sentence-transformers/all-MiniLM-L6-v2",
    chunk_tokens: Annotated[int, typer.Option(min=1, help="Tokens per chunk (at most).")] = 200,
    overlap: Annotated[int, typer.Option(min=0, help="Tokens shared by neighbouring chunks.")] = 32,
    answer_share: Annotated[float, typer.Option(help="A chunk holding this share of a question's answer is relevant.")] = 0.3,
    max_documents: Annotated[int | None, typer.Option(min=1, help="Use only the first N documents (path order).")] = None,
    name: Annotated[str | None, typer.Option(help="Task name (default: the output folder's name).")] = None,
    license: Annotated[str, typer.Option("--license", help="Licence of your documents, written into task.yaml.")] = "not stated",
    seed: int = 13,
    llm_base_url: LLMBaseUrl = None,
    llm_model: LLMModel = None,
    llm_api_key: LLMApiKey = None,
    concurrency: LLMConcurrency = 4,
    styles: Annotated[str, typer.Option(help="LLM query styles, comma-separated: question, keywords, paraphrase.")] = "question,keywords,paraphrase",
    round_trip: Annotated[bool, typer.Option("--round-trip", help="Keep an LLM query only if BM25 ranks its chunk in the top --round-trip-k (BM25 is then not a fair candidate).")] = False,
    round_trip_k: Annotated[int, typer.Option(min=1)] = 10,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output folder.")] = False,
) -> None:
    """Chunks, queries and relevance judgements from your documents, as a task glotta eval scores."""
    from glotta.data.atomic import check_writable, refuse_existing
    from glotta.data.languages import iso639_3, normalise_language
    from glotta.data.safe_names import safe_component
    from glotta.rag.build import BuildSettings, build_benchmark
    from glotta.rag.llm_queries import STYLES, LLMQuerySettings
    from glotta.rag.queries import Sampling

    check_writable(output, "--output")
    refuse_existing(output, overwrite)
    language = iso639_3(normalise_language(lang))
    if queries is None:
        queries = "" if questions is not None else "heading,cloze"
    sources = tuple(part.strip() for part in queries.split(",") if part.strip())
    style_list = tuple(part.strip() for part in styles.split(",") if part.strip())
    unknown = sorted(set(style_list) - set(STYLES)) or ([] if style_list else ["(none)"])
    if unknown:
        raise GlottaError(f"--styles: unknown style {unknown[0]!r}", fix=f"choose from {', '.join(STYLES)}")
    sampling = Sampling(num_queries, per_document, min_words, max_words, seed)
    llm_settings = LLMQuerySettings(language, style_list, round_trip="bm25" if round_trip else None,
                                    round_trip_k=round_trip_k)
    settings = BuildSettings(language, safe_component(name or output.name, "--name"), sources, tokenizer,
                             chunk_tokens, overlap, sampling, answer_share, _split(split), max_documents, license,
                             llm_settings if "llm" in sources else None)
    settings.check()
    client = chat_client(llm_base_url, llm_model, llm_api_key, concurrency) if "llm" in sources else None
    quiet_libraries()
    manifest = build_benchmark(documents, output, settings, questions=questions, client=client, overwrite=overwrite,
                               say=lambda text: errors.print(text, highlight=False, soft_wrap=True))
    for row in manifest["answers not found"]:
        errors.print(f"[yellow]warning:[/yellow] {questions}:{row['line']}: answer found in no document: "
                     f"{row['answer'][:80]!r} (left out)", highlight=False, soft_wrap=True)
    counts = manifest["counts"]
    console.print(f"{counts['chunks']:,} chunks, " + ", ".join(f"{n:,} {what}" for what, n in
                                                              sorted(counts["queries"].items()))
                  + f" queries; report in {output / 'build_report.md'}", highlight=False)
    console.print(f"score it: glotta eval --task {output} --model bm25 --model ...", highlight=False)
