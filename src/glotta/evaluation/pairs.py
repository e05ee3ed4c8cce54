"""Similarity of aligned embedding pairs under the functions MTEB scores STS and pairs with."""

from __future__ import annotations

import numpy as np
from sklearn.metrics.pairwise import paired_cosine_distances, paired_euclidean_distances, paired_manhattan_distances


def paired_similarities(first: np.ndarray, second: np.ndarray) -> dict[str, np.ndarray]:
    """Name -> one score per pair, higher meaning more similar (distances are negated)."""
    first, second = first.astype(np.float64), second.astype(np.float64)
    return {
        "cosine": 1 - paired_cosine_distances(first, second),
        "manhattan": -paired_manhattan_distances(first, second),
        "euclidean": -paired_euclidean_distances(first, second),
        "dot": np.einsum("ij,ij->i", first, second),
    }
