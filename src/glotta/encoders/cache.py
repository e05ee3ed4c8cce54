"""On-disk embedding cache: a text is encoded once per model identity, across runs and tasks.

SQLite (standard library) gives atomic, concurrent-safe writes and fast keyed look-ups; rows
are (encoder identity, sha256 of the text) -> float32 bytes. A second table holds what an
encoder's identity is computed from (dimension, max length, prompts), so a warm run knows the
identity without loading the model.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from glotta.encoders.base import Encoder, Progress, Role

_LOOKUP_CHUNK = 500
# Texts encoded between two cache writes: a run killed after an hour resumes from its last chunk.
WRITE_CHUNK = 2048


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
        self._db.execute("CREATE TABLE IF NOT EXISTS encoders (key TEXT PRIMARY KEY, description TEXT NOT NULL)")
        self._db.commit()

    def description(self, key: str) -> dict | None:
        row = self._db.execute("SELECT description FROM encoders WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else None

    def put_description(self, key: str, description: dict) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO encoders VALUES (?, ?)", [key, json.dumps(description)])

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
    """Any Encoder, with vectors read from and written to an EmbeddingCache.

    An inner encoder that can name its description before loading (``description_key``) has it
    adopted from the cache, so it loads its model only when a text misses the cache.
    """

    def __init__(self, inner: Encoder, cache: EmbeddingCache):
        self.inner = inner
        self.cache = cache
        self.name, self.revision = inner.name, inner.revision
        self.encoded = 0  # texts that missed the cache, for reports and tests
        self._key = inner.description_key()
        stored = self.cache.description(self._key) if self._key else None
        if stored is not None:
            inner.adopt(stored)
        self._remembered = stored is not None

    @property
    def description(self) -> dict:
        return self.inner.description

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def max_length(self) -> int:
        return self.inner.max_length

    def identity(self, role: Role) -> str:
        identity = self.inner.identity(role)
        if self._key and not self._remembered:
            self.cache.put_description(self._key, self.description)
            self._remembered = True
        return identity

    def _identity_fields(self, role: Role) -> dict:
        return self.inner._identity_fields(role)

    def _encode(self, texts: list[str], role: Role, progress: Progress | None) -> np.ndarray:
        identity = self.identity(role)
        hashes = [text_hash(text) for text in texts]
        text_of = dict(zip(hashes, texts, strict=True))
        known = self.cache.get(identity, list(text_of))
        missing = sorted((h for h in text_of if h not in known), key=lambda h: -len(text_of[h]))
        if progress:
            # cached texts and repeats of a missing text count as done at once
            progress(len(texts) - len(missing))
        for start in range(0, len(missing), WRITE_CHUNK):
            chunk = missing[start : start + WRITE_CHUNK]
            new = self.inner.encode([text_of[h] for h in chunk], role, progress)
            self.cache.put(identity, chunk, new)
            known.update(zip(chunk, new, strict=True))
            self.encoded += len(chunk)
        return np.stack([known[h] for h in hashes])
