"""Exact top-k inner-product search over a corpus that arrives in chunks.

Memory stays bounded by (query block x corpus chunk) scores plus the running top k, so a
corpus larger than memory can be streamed through. FAISS (optional) replaces the numpy
scoring of one chunk with its flat inner-product index; results are the same exact search.
"""

from __future__ import annotations

import numpy as np

from glotta.errors import GlottaError

QUERY_BLOCK = 1024


class TopK:
    """Running best ``k`` (score, corpus index) per query over successive corpus chunks."""

    def __init__(self, queries: np.ndarray, k: int, backend: str = "numpy"):
        if backend not in {"numpy", "faiss"}:
            raise GlottaError(f"unknown search backend {backend!r}", fix="use 'numpy' or 'faiss'")
        if backend == "faiss":
            try:
                import faiss  # noqa: F401
            except ImportError:
                raise GlottaError("the faiss backend needs faiss", fix="pip install 'glotta[faiss]'") from None
        self.queries = np.ascontiguousarray(queries, dtype=np.float32)
        self.k = k
        self.backend = backend
        self.scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
        self.indices = np.zeros((len(queries), 0), dtype=np.int64)
        self.seen = 0

    def add(self, documents: np.ndarray) -> None:
        documents = np.ascontiguousarray(documents, dtype=np.float32)
        k = min(self.k, len(documents))
        chunk_scores, chunk_indices = (
            self._faiss_chunk(documents, k) if self.backend == "faiss" else self._numpy_chunk(documents, k)
        )
        scores = np.concatenate([self.scores, chunk_scores], axis=1)
        indices = np.concatenate([self.indices, chunk_indices + self.seen], axis=1)
        if scores.shape[1] > self.k:
            keep = np.argpartition(-scores, self.k - 1, axis=1)[:, : self.k]
            scores = np.take_along_axis(scores, keep, axis=1)
            indices = np.take_along_axis(indices, keep, axis=1)
        self.scores, self.indices = scores, indices
        self.seen += len(documents)

    def _numpy_chunk(self, documents: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        all_scores, all_indices = [], []
        for start in range(0, len(self.queries), QUERY_BLOCK):
            scores = self.queries[start : start + QUERY_BLOCK] @ documents.T
            if k < scores.shape[1]:
                top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            else:
                top = np.broadcast_to(np.arange(scores.shape[1]), scores.shape).copy()
            all_scores.append(np.take_along_axis(scores, top, axis=1))
            all_indices.append(top)
        return np.concatenate(all_scores), np.concatenate(all_indices).astype(np.int64)

    def _faiss_chunk(self, documents: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        index = faiss.IndexFlatIP(documents.shape[1])
        index.add(documents)
        scores, indices = index.search(self.queries, k)
        return scores, indices.astype(np.int64)

    def ranked(self) -> tuple[np.ndarray, np.ndarray]:
        """Scores and corpus indices, best first, per query."""
        order = np.argsort(-self.scores, axis=1, kind="stable")
        return np.take_along_axis(self.scores, order, axis=1), np.take_along_axis(self.indices, order, axis=1)
