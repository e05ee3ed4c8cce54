"""The interfaces models offer to evaluation and mining: an Encoder (texts to vectors) and a
Retriever (a retrieval task's ranking), which BM25 and every encoder with exact search provide."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

from glotta.data.tasks import RetrievalTask
from glotta.progress import ProgressReporter

Progress = Callable[[int], None]
Ranking = dict[str, dict[str, float]]  # query id -> {document id: score}


def ranking_from_rows(query_ids: Sequence[str], doc_ids: Sequence[str], indices: np.ndarray,
                      scores: np.ndarray) -> Ranking:
    """The Ranking of a search's (queries x k) index and score rows.

    Through Python lists, not numpy scalars: building 7.6M entries one numpy float at a time took seconds.
    """
    return {
        query_id: dict(zip(map(doc_ids.__getitem__, row_indices), row_scores, strict=True))
        for query_id, row_indices, row_scores in zip(query_ids, indices.tolist(), scores.tolist(), strict=True)
    }


class Role(StrEnum):
    """Asymmetric models (E5) encode a query and a document differently."""

    QUERY = "query"
    DOCUMENT = "document"


class Encoder(ABC):
    """Texts in, float32 L2-normalised rows out.

    Subclasses set ``name``, ``revision``, ``dimension`` and ``max_length`` and implement
    ``_encode``; ``identity`` must change whenever the vectors for the same text could.
    """

    name: str
    revision: str
    dimension: int
    max_length: int

    @abstractmethod
    def _encode(self, texts: list[str], role: Role, progress: Progress | None) -> np.ndarray:
        """Raw embeddings in input order."""

    @abstractmethod
    def _identity_fields(self, role: Role) -> dict:
        """Everything, besides the text, that determines a vector (weights, prompt, length)."""

    def description_key(self) -> str | None:
        """A key for ``description`` known without loading the model, or None (always load)."""
        return None

    @property
    def description(self) -> dict:
        """What the identity is computed from besides name and revision (see ``adopt``)."""
        return {}

    def adopt(self, description: dict) -> None:
        """Take a ``description`` stored by an earlier run instead of loading the model."""
        raise NotImplementedError(f"{type(self).__name__} has no description_key, so nothing is adopted")

    def identity(self, role: Role) -> str:
        """The cache key of this encoder's vectors in ``role``: a hash of name, revision and fields."""
        fields = {"name": self.name, "revision": self.revision, **self._identity_fields(role)}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]

    def encode(self, texts: Sequence[str], role: Role, progress: Progress | None = None) -> np.ndarray:
        """One L2-normalised float32 row per text, in input order; ``progress`` gets texts done."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = np.asarray(self._encode(texts, role, progress), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def encode_queries(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.encode(texts, Role.QUERY, progress)

    def encode_documents(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.encode(texts, Role.DOCUMENT, progress)


@runtime_checkable
class Retriever(Protocol):
    """Ranks a retrieval task's corpus for each query: BM25Retriever, DenseRetriever, or your own.

    ``name`` and ``revision`` identify its results, so the revision must change whenever the
    ranking could.
    """

    name: str
    revision: str

    def retrieve(self, task: RetrievalTask, top_k: int, progress: ProgressReporter) -> Ranking:
        """The best ``top_k`` documents of the corpus per query, with their scores."""
        ...


def length_sorted_batches(texts: list[str], batch_size: int) -> list[list[int]]:
    """Index batches of similar length, longest first, so padding is small and OOM shows early."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
