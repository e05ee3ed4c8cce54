"""The one interface every dense encoder offers to evaluation and mining."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from enum import Enum

import numpy as np

Progress = Callable[[int], None]


class Role(str, Enum):
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

    def identity(self, role: Role) -> str:
        fields = {"name": self.name, "revision": self.revision, **self._identity_fields(role)}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]

    def encode(self, texts: Sequence[str], role: Role, progress: Progress | None = None) -> np.ndarray:
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


def length_sorted_batches(texts: list[str], batch_size: int) -> list[list[int]]:
    """Index batches of similar length, longest first, so padding is small and OOM shows early."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
