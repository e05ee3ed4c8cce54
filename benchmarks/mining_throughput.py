"""Mining throughput: queries per second for exact numpy search, FAISS, and BM25 (one run, ratios).

Pairs come from the real Italian corpus (``sentence`` strategy). The dense miner's embeddings are
computed once into glotta's cache (a warm-up run, timed apart), so the dense timings measure search
and negative selection, the part that grows with the corpus; encoding cost is reported separately.

    python benchmarks/mining_throughput.py [--documents 3000] [--output benchmarks/out]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import tempfile
import time
from pathlib import Path

from glotta.data.corpus import CorpusReader
from glotta.data.pairs import PairBuilder, PairSettings
from glotta.encoders.cache import EmbeddingCache
from glotta.encoders.registry import EncoderOptions, resolve_model
from glotta.progress import SilentProgress
from glotta.training.miners import BM25Miner, DenseMiner
from glotta.training.mining import MiningSettings
from glotta.training.triplets import mine_rows

CORPUS = Path(__file__).resolve().parents[1].parent / "shared/data/corpora/it"


def timed(pairs, miner, settings) -> float:
    started = time.perf_counter()
    mine_rows(pairs, miner, settings, random.Random(0), SilentProgress())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=3000)
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--output", "--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    documents = itertools.islice(CorpusReader(sorted(CORPUS.glob("*/docs.jsonl"))), args.documents)
    pairs = list(PairBuilder(PairSettings(), 42, "ita").pairs(documents))
    queries = len({p.query for p in pairs})
    settings = MiningSettings(strategy="topk-percpos", num_negatives=4, range_max=30)
    with tempfile.TemporaryDirectory() as scratch:
        encoder = resolve_model(args.model, EncoderOptions(cache=EmbeddingCache(Path(scratch)))).encoder
        cold = timed(pairs, DenseMiner(encoder, "numpy"), settings)  # encodes everything once
        exact = timed(pairs, DenseMiner(encoder, "numpy"), settings)
        faiss = timed(pairs, DenseMiner(encoder, "faiss"), settings)
    bm25 = timed(pairs, BM25Miner("ita"), MiningSettings(strategy="topk", num_negatives=4, range_max=30))
    report = {
        "documents": args.documents, "pairs": len(pairs), "queries": queries,
        "corpus": len({p.positive for p in pairs}), "model": args.model,
        "queries_per_s": {"dense_with_encoding": round(queries / cold, 1),
                          "dense_exact_numpy": round(queries / exact, 1),
                          "dense_faiss_flat": round(queries / faiss, 1), "bm25": round(queries / bm25, 1)},
        "faiss_over_numpy": round(exact / faiss, 2),
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "mining_throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
