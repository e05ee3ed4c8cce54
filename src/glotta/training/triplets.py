"""Build (query, positive, negatives) rows from a raw corpus, shard by shard, resumably.

Documents stream in shards of ``shard_size``; each shard's pairs are mined against the
positives of that shard (memory stays bounded by one shard) and written atomically to
``shards/shard-NNNNN.jsonl``. A rerun with the same settings keeps the shards that exist and
builds only the missing ones; every shard has its own seed (seed, shard number), so a resumed
build equals an uninterrupted one. Each shard's counts (what it dropped and why) are kept in
``shard-counts/shard-NNNNN.json``, so a resumed build's summary equals an uninterrupted one's
too. At the end the shards are joined into ``triplets.jsonl`` and ``triplets.parquet`` (both
load with ``datasets``), and ``summary.json`` counts what was skipped.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from glotta.data.atomic import write_json_atomic, write_text_atomic
from glotta.data.corpus import CorpusDocument, CorpusReader
from glotta.data.pairs import Pair, PairBuilder, PairSettings
from glotta.errors import GlottaError
from glotta.progress import ProgressReporter, SilentProgress
from glotta.training.llm_client import ENDPOINT_FIX, ChatClient
from glotta.training.mining import MiningSettings, random_negatives, select_hard_negatives
from glotta.training.synthetic import SyntheticPairBuilder, SyntheticSettings


@dataclass(frozen=True)
class BuildSettings:
    """Everything a triplet build depends on besides its corpus: a resumed build must match it."""

    pairs: PairSettings | SyntheticSettings
    mining: MiningSettings
    miner: str
    language: str
    seed: int = 42
    shard_size: int = 2000
    max_documents: int | None = None


def mine_rows(pairs: list[Pair], miner, settings: MiningSettings, rng: random.Random,
              progress: ProgressReporter) -> tuple[list[dict], Counter]:
    """One row per pair: its hard negatives from the other positives, plus random ones."""
    corpus = list(dict.fromkeys(p.positive for p in pairs))
    row_of = {text: row for row, text in enumerate(corpus)}
    queries = list(dict.fromkeys(p.query for p in pairs))
    positives_of: dict[str, list[int]] = {}
    for pair in pairs:
        positives_of.setdefault(pair.query, []).append(row_of[pair.positive])
    positives = [sorted(set(positives_of[q])) for q in queries]
    depth = settings.range_max + max(len(p) for p in positives)
    candidates, scores, positive_scores = miner.rank(queries, corpus, positives, depth, progress)
    selection = select_hard_negatives(candidates, scores, [set(p) for p in positives], positive_scores, settings, rng)
    by_query = {q: i for i, q in enumerate(queries)}
    rows, counts = [], Counter(selection.dropped)
    for pair in pairs:
        q = by_query[pair.query]
        hard = selection.negatives[q]
        extra = random_negatives(len(corpus), set(positives[q]) | set(hard), settings.random_negatives, rng)
        if not hard and not extra:
            counts["pairs without any negative"] += 1
            continue
        rows.append({
            "query": pair.query, "positive": pair.positive,
            "negatives": [corpus[i] for i in hard + extra],
            "negative_kinds": ["hard"] * len(hard) + ["random"] * len(extra),
            "negative_scores": selection.scores[q] + [None] * len(extra),
            "positive_score": float(positive_scores[q]),
            "miner": miner.name, "strategy": settings.strategy, "source": pair.source, "corpus": pair.corpus,
            "doc_id": pair.doc_id,
        })
    return rows, counts


def build_triplets(corpus: list[Path], out: Path, settings: BuildSettings, miner,
                   progress: ProgressReporter | None = None, llm: ChatClient | None = None) -> dict:
    """Build or resume; ``llm`` is required when the pairs are synthetic (its endpoint is recorded).

    Returns the summary (as written to ``summary.json``) plus ``shards reused`` on a resume. A
    build that makes no row at all is an error that leaves nothing it wrote behind.
    """
    progress = progress or SilentProgress()
    manifest = out / "manifest.json"
    wanted = json.loads(json.dumps(asdict(settings), default=str)) | {"corpus": [str(p) for p in corpus]}
    if isinstance(settings.pairs, SyntheticSettings):
        assert llm is not None, "synthetic pairs need an LLM client"
        wanted["llm"] = {"base_url": llm.settings.base_url, "model": llm.settings.model,
                         "temperature": llm.settings.temperature}
    if manifest.exists() and _read_manifest(manifest) != wanted:
        raise GlottaError("this folder holds triplets built with other settings",
                          fix="choose a new --output folder, or delete this one to rebuild", path=out)
    reader = CorpusReader(corpus, given_pairs=getattr(settings.pairs, "strategy", None) == "given")  # checks the files
    folders = (out / "shards", out / "shard-counts", out, *out.parents)  # deepest first
    new_folders = [folder for folder in folders if not folder.exists()]
    written: list[Path] = []  # by this run: removed again when the build ends without a row
    counts: Counter = Counter()
    try:
        if not manifest.exists():
            write_json_atomic(manifest, wanted)
            written.append(manifest)
        shard_paths, reused = _build_shards(reader, out, settings, miner, progress, llm, counts, written)
        counts.update({f"documents skipped: {k}": v for k, v in reader.skipped.items()})
        if not counts["rows"]:
            raise _nothing_built(counts, reader, settings)
    except GlottaError:
        if not counts["rows"]:
            _remove(written, new_folders)
        raise
    _join(shard_paths, out)
    llm_keys = ("LLM requests", "LLM failures")
    summary = {"rows": counts["rows"]} | {k: v for k, v in sorted(counts.items()) if v and k not in {"rows", *llm_keys}}
    if llm is not None:
        summary |= {k: counts[k] for k in llm_keys}
    write_json_atomic(out / "summary.json", summary)
    return summary | ({"shards reused": reused} if reused else {})


def _build_shards(reader: CorpusReader, out: Path, settings: BuildSettings, miner, progress: ProgressReporter,
                  llm: ChatClient | None, counts: Counter, written: list[Path]) -> tuple[list[Path], int]:
    """Build the missing shards, adding every shard's counts (its own or, when reused, the saved ones) to ``counts``."""
    documents = iter(reader)
    if settings.max_documents is not None:
        documents = itertools.islice(documents, settings.max_documents)
    shard_paths, reused = [], 0
    # (query, positive) of the rows already written: a repeat (the same article text in two laws)
    # is dropped. Built from rows, not pairs, so a resumed build sees exactly what a whole one saw.
    seen: set[int] = set()
    for number in itertools.count():
        shard = list(itertools.islice(documents, settings.shard_size))
        if not shard:
            break
        path = out / "shards" / f"shard-{number:05d}.jsonl"
        shard_paths.append(path)
        saved = _saved_counts(path)
        if saved is not None:
            reused += 1
            counts.update(saved)
            seen.update(hash((r["query"], r["positive"])) for r in _read_shard(path)[1])
            continue
        rows, shard_counts = _build_shard(shard, number, seen, settings, miner, progress, llm)
        shard_counts.update({"documents": len(shard), "rows": len(rows)})
        # the counts first: a shard file without them is rebuilt, so a kill between the two loses nothing
        write_json_atomic(_counts_path(path), dict(shard_counts))
        write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        written += [_counts_path(path), path]
        counts.update(shard_counts)
        seen.update(hash((r["query"], r["positive"])) for r in rows)
    if not counts["documents"]:
        raise reader.nothing_usable()
    return shard_paths, reused


def _build_shard(shard: list[CorpusDocument], number: int, seen: set[int], settings: BuildSettings, miner,
                 progress: ProgressReporter, llm: ChatClient | None) -> tuple[list[dict], Counter]:
    """One shard's rows and counts; every shard has its own seed, so a resumed build equals a whole one."""
    shard_seed = settings.seed * 1_000_003 + number
    counts: Counter = Counter()
    asked = (llm.requests, llm.failures) if llm is not None else (0, 0)
    builder = (SyntheticPairBuilder(settings.pairs, llm, shard_seed)
               if isinstance(settings.pairs, SyntheticSettings)
               else PairBuilder(settings.pairs, shard_seed, settings.language))
    pairs, in_shard = [], set()
    for pair in builder.pairs(shard):
        key = hash((pair.query, pair.positive))
        if key in seen or key in in_shard:
            counts["duplicate pairs (same query and positive)"] += 1
            continue
        in_shard.add(key)
        pairs.append(pair)
    counts.update(builder.dropped)
    if llm is not None:
        requests, failures = llm.requests - asked[0], llm.failures - asked[1]
        if requests and failures == requests:  # the server went away: an empty shard would be kept as done
            raise GlottaError(f"every request of shard {number} to the LLM endpoint {llm.settings.base_url} failed "
                              f"({llm.last_error})", fix=f"{ENDPOINT_FIX}; rerun the same command to resume")
        counts.update({"LLM requests": requests, "LLM failures": failures})
    counts["pairs"] = len(pairs)
    rows, mined = ([], Counter()) if not pairs else mine_rows(pairs, miner, settings.mining, random.Random(shard_seed),
                                                               progress)
    counts.update({f"candidates dropped: {k}": v for k, v in mined.items() if not k.startswith("pairs")})
    counts.update({k: v for k, v in mined.items() if k.startswith("pairs")})
    return rows, counts


def _nothing_built(counts: Counter, reader: CorpusReader, settings: BuildSettings) -> GlottaError:
    """Why a build with documents made no row: no pair survived, or no pair got a negative."""
    reasons = ", ".join(f"{k}: {v}" for k, v in counts.most_common() if v and k not in {"documents", "rows", "pairs"})
    where = reader.paths[0] if len(reader.paths) == 1 else None
    if not counts["pairs"]:
        pairs = settings.pairs
        if isinstance(pairs, SyntheticSettings):
            fix = (f"give passages of at least {pairs.min_passage_words} words, and check that --llm-model replies "
                   'with JSON {"query": ...} in the target language')
        else:
            fix = {"sentence": f"give prose with paragraphs of several sentences ({pairs.min_positive_words}+ words "
                               "beside the query), or another --pairs strategy",
                   "title": f"give documents with a title and a first paragraph of {pairs.min_positive_words}+ words, "
                            "or --pairs sentence",
                   "given": "give {query, positive} pairs whose query is not inside its positive"}[pairs.strategy]
        return GlottaError(f"no (query, positive) pair from {counts['documents']} documents ({reasons})",
                           fix=fix, path=where)
    return GlottaError(f"none of the {counts['pairs']} pairs got a negative ({reasons})",
                       fix="give more documents (--max-documents, --shard-size), widen --range, loosen --strategy "
                           "or --threshold, or add --random-negatives", path=where)


def _read_manifest(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise GlottaError("manifest.json is not readable JSON: this is not a finished or resumable build",
                          fix="choose a new --output folder, or delete this one to rebuild", path=path) from None


def _counts_path(shard: Path) -> Path:
    return shard.parent.parent / "shard-counts" / f"{shard.stem}.json"


def _saved_counts(shard: Path) -> Counter | None:
    """The counts a finished shard was built with; None (build it again) when either file is missing."""
    if not shard.exists() or not _counts_path(shard).exists():
        return None
    try:
        return Counter(json.loads(_counts_path(shard).read_text(encoding="utf-8")))
    except ValueError:  # damaged by hand or by the disk: building the shard again is safe
        return None


def _read_shard(path: Path) -> tuple[str, list[dict]]:
    text = path.read_text(encoding="utf-8")
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            raise GlottaError("malformed shard row", fix="delete the shard: rerunning the build makes it again",
                              path=path, line=number) from None
    return text, rows


def _remove(written: list[Path], new_folders: list[Path]) -> None:
    """Undo a build that made nothing: its files, then the folders it created (deepest first) if empty."""
    for path in written:
        path.unlink(missing_ok=True)
    for folder in new_folders:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _schema():
    import pyarrow as pa

    text_list = pa.list_(pa.string())
    return pa.schema([("query", pa.string()), ("positive", pa.string()), ("negatives", text_list),
                      ("negative_kinds", text_list), ("negative_scores", pa.list_(pa.float64())),
                      ("positive_score", pa.float64()), ("miner", pa.string()), ("strategy", pa.string()),
                      ("source", pa.string()), ("corpus", pa.string()), ("doc_id", pa.string())])


def _join(shards: list[Path], out: Path) -> None:
    """Concatenate the shards into JSONL and Parquet, one shard in memory at a time."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    jsonl_tmp, parquet_tmp = out / ".triplets.jsonl.tmp", out / ".triplets.parquet.tmp"
    try:
        with jsonl_tmp.open("w", encoding="utf-8") as jsonl, pq.ParquetWriter(parquet_tmp, _schema()) as parquet:
            for path in shards:
                text, rows = _read_shard(path)
                jsonl.write(text)
                if rows:
                    parquet.write_table(pa.Table.from_pylist(rows, schema=_schema()))
        os.replace(jsonl_tmp, out / "triplets.jsonl")
        os.replace(parquet_tmp, out / "triplets.parquet")
    finally:
        jsonl_tmp.unlink(missing_ok=True)
        parquet_tmp.unlink(missing_ok=True)
