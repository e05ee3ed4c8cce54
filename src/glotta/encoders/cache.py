"""On-disk embedding cache: a text is encoded once per model identity, across runs and tasks.

SQLite (standard library) gives atomic, concurrent-safe writes and fast keyed look-ups; rows
are (encoder identity, sha256 of the text) -> float32 bytes.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from glotta.encoders.base import Encoder, Progress, Role

_LOOKUP_CHUNK = 500


class EmbeddingCache:
    """``<folder>/embeddings.sqlite``: vectors keyed by (encoder identity, text hash)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "embeddings.sqlite"
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (identity TEXT NOT NULL, text_hash BLOB NOT NULL, "
            "vector BLOB NOT NULL, PRIMARY KEY (identity, text_hash)) WITHOUT ROWID"
        )
        self._db.commit()

    def get(self, identity: str, hashes: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(hashes), _LOOKUP_CHUNK):
            chunk = list(hashes[start : start + _LOOKUP_CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE identity = ? AND text_hash IN ({marks})",
                [identity, *chunk],
            )
            for text_hash, vector in rows:
                found[text_hash] = np.frombuffer(vector, dtype=np.float32)
        return found

    def put(self, identity: str, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                [(identity, h, v.astype(np.float32).tobytes()) for h, v in zip(hashes, vectors, strict=True)],
            )

    def close(self) -> None:
        self._db.close()


def text_hash(text: str) -> bytes:
    """The key of a text in the cache: sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).digest()


class CachedEncoder(Encoder):
    """Any Encoder, with vectors read from and written to an EmbeddingCache."""

    def __init__(self, inner: Encoder, cache: EmbeddingCache):
        self.inner = inner
        self.cache = cache
        self.name, self.revision = inner.name, inner.revision
        self.dimension, self.max_length = inner.dimension, inner.max_length
        self.encoded = 0  # texts that missed the cache, for reports and tests

    def identity(self, role: Role) -> str:
        return self.inner.identity(role)

    def _identity_fields(self, role: Role) -> dict:
        return self.inner._identity_fields(role)

    def _encode(self, texts: list[str], role: Role, progress: Progress | None) -> np.ndarray:
        identity = self.inner.identity(role)
        hashes = [text_hash(text) for text in texts]
        text_of = dict(zip(hashes, texts, strict=True))
        known = self.cache.get(identity, list(text_of))
        missing = [h for h in text_of if h not in known]
        if progress:
            # cached texts and repeats of a missing text count as done at once
            progress(len(texts) - len(missing))
        if missing:
            new = self.inner.encode([text_of[h] for h in missing], role, progress)
            self.cache.put(identity, missing, new)
            known.update(zip(missing, new, strict=True))
            self.encoded += len(missing)
        return np.stack([known[h] for h in hashes])
