"""Chunked exact top-k equals a brute-force sort, with numpy and with FAISS."""

from __future__ import annotations

import numpy as np
import pytest

from glotta.encoders.search import TopK
from glotta.errors import GlottaError


def _unit(rows: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("backend", ["numpy", "faiss"])
@pytest.mark.parametrize("chunk", [7, 100, 1000])
def test_chunked_top_k_equals_brute_force(backend, chunk):
    queries, docs = _unit(50, 16, 0), _unit(530, 16, 1)
    search = TopK(queries, k=20, backend=backend)
    for start in range(0, len(docs), chunk):
        search.add(docs[start : start + chunk])
    scores, indices = search.ranked()
    full = queries @ docs.T
    expected = np.argsort(-full, axis=1)[:, :20]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(full, expected, axis=1), rtol=1e-5, atol=1e-6)


def test_k_larger_than_corpus_returns_every_document():
    search = TopK(_unit(3, 8, 0), k=1000)
    search.add(_unit(5, 8, 1))
    scores, indices = search.ranked()
    assert indices.shape == (3, 5) and sorted(indices[0]) == [0, 1, 2, 3, 4]
    assert np.all(np.diff(scores, axis=1) <= 0)


def test_unknown_backend():
    with pytest.raises(GlottaError, match="unknown search backend"):
        TopK(_unit(1, 4, 0), k=1, backend="annoy")
