"""Build (query, positive, negatives) rows from a raw corpus, shard by shard, resumably.

Documents stream in shards of ``shard_size``; each shard's pairs are mined against the
positives of that shard (memory stays bounded by one shard) and written atomically to
``shards/shard-NNNNN.jsonl``. A rerun with the same settings keeps the shards that exist and
builds only the missing ones; every shard has its own seed (seed, shard number), so a resumed
build equals an uninterrupted one. At the end the shards are joined into ``triplets.jsonl`` and
``triplets.parquet`` (both load with ``datasets``), and ``summary.json`` counts what was skipped.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from glotta.data.atomic import write_json_atomic, write_text_atomic
from glotta.data.corpus import CorpusReader
from glotta.data.pairs import Pair, PairBuilder, PairSettings
from glotta.errors import GlottaError
from glotta.progress import ProgressReporter, SilentProgress
from glotta.training.llm_client import ChatClient
from glotta.training.mining import MiningSettings, random_negatives, select_hard_negatives
from glotta.training.synthetic import SyntheticPairBuilder, SyntheticSettings


@dataclass(frozen=True)
class BuildSettings:
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
            "miner": miner.name, "strategy": settings.strategy, "source": pair.source, "corpus": pair.corpus, "doc_id": pair.doc_id,
        })
    return rows, counts


def build_triplets(corpus: list[Path], out: Path, settings: BuildSettings, miner,
                   progress: ProgressReporter | None = None, llm: ChatClient | None = None) -> dict:
    """Build or resume; ``llm`` is required when the pairs are synthetic (its endpoint is recorded)."""
    progress = progress or SilentProgress()
    manifest = out / "manifest.json"
    wanted = json.loads(json.dumps(asdict(settings), default=str)) | {"corpus": [str(p) for p in corpus]}
    if isinstance(settings.pairs, SyntheticSettings):
        assert llm is not None, "synthetic pairs need an LLM client"
        wanted["llm"] = {"base_url": llm.settings.base_url, "model": llm.settings.model,
                         "temperature": llm.settings.temperature}
    if manifest.exists() and json.loads(manifest.read_text(encoding="utf-8")) != wanted:
        raise GlottaError("this folder holds triplets built with other settings",
                          fix="choose a new --out folder, or delete this one to rebuild", path=out)
    reader = CorpusReader(corpus, given_pairs=getattr(settings.pairs, "strategy", None) == "given")  # checks the files
    write_json_atomic(manifest, wanted)
    documents = iter(reader)
    if settings.max_documents is not None:
        documents = itertools.islice(documents, settings.max_documents)
    counts: Counter = Counter()
    shard_paths = []
    # (query, positive) of the rows already written: a repeat (the same article text in two laws)
    # is dropped. Built from rows, not pairs, so a resumed build sees exactly what a whole one saw.
    seen: set[int] = set()
    for number in itertools.count():
        shard = list(itertools.islice(documents, settings.shard_size))
        if not shard:
            break
        path = out / "shards" / f"shard-{number:05d}.jsonl"
        shard_paths.append(path)
        counts["documents"] += len(shard)
        if path.exists():
            counts["shards reused"] += 1
            seen.update(hash((r["query"], r["positive"])) for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()))
            continue
        shard_seed = settings.seed * 1_000_003 + number
        builder = (SyntheticPairBuilder(settings.pairs, llm, shard_seed)
                   if isinstance(settings.pairs, SyntheticSettings) else PairBuilder(settings.pairs, shard_seed))
        pairs, in_shard = [], set()
        for pair in builder.pairs(shard):
            key = hash((pair.query, pair.positive))
            if key in seen or key in in_shard:
                counts["duplicate pairs (same query and positive)"] += 1
                continue
            in_shard.add(key)
            pairs.append(pair)
        counts.update(builder.dropped)
        rows, mined = mine_rows(pairs, miner, settings.mining, random.Random(shard_seed), progress) if pairs else ([], Counter())
        counts.update({f"candidates dropped: {k}": v for k, v in mined.items() if not k.startswith("pairs")})
        counts.update({k: v for k, v in mined.items() if k.startswith("pairs")})
        write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        seen.update(hash((r["query"], r["positive"])) for r in rows)
    counts.update({f"documents skipped: {k}": v for k, v in reader.skipped.items()})
    total = _join(shard_paths, out)
    summary = {"rows": total, **{k: v for k, v in sorted(counts.items()) if v}}
    if llm is not None:
        summary |= {"LLM requests": llm.requests, "LLM failures": llm.failures}
    write_json_atomic(out / "summary.json", summary)
    return summary


def _schema():
    import pyarrow as pa

    text_list = pa.list_(pa.string())
    return pa.schema([("query", pa.string()), ("positive", pa.string()), ("negatives", text_list),
                      ("negative_kinds", text_list), ("negative_scores", pa.list_(pa.float64())),
                      ("positive_score", pa.float64()), ("miner", pa.string()), ("strategy", pa.string()),
                      ("source", pa.string()), ("corpus", pa.string()), ("doc_id", pa.string())])


def _join(shards: list[Path], out: Path) -> int:
    """Concatenate the shards into JSONL and Parquet, one shard in memory at a time."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    jsonl_tmp, parquet_tmp = out / ".triplets.jsonl.tmp", out / ".triplets.parquet.tmp"
    total = 0
    try:
        with jsonl_tmp.open("w", encoding="utf-8") as jsonl, pq.ParquetWriter(parquet_tmp, _schema()) as parquet:
            for path in shards:
                text = path.read_text(encoding="utf-8")
                rows = [json.loads(line) for line in text.splitlines()]
                jsonl.write(text)
                if rows:
                    parquet.write_table(pa.Table.from_pylist(rows, schema=_schema()))
                total += len(rows)
        os.replace(jsonl_tmp, out / "triplets.jsonl")
        os.replace(parquet_tmp, out / "triplets.parquet")
    finally:
        jsonl_tmp.unlink(missing_ok=True)
        parquet_tmp.unlink(missing_ok=True)
    return total
