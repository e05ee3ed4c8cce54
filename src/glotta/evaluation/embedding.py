"""Embed the texts of a non-retrieval task once each, with a progress bar."""

from __future__ import annotations

import numpy as np

from glotta.encoders.base import Encoder, Role
from glotta.progress import ProgressReporter


def embed_texts(encoder: Encoder, texts: list[str], progress: ProgressReporter, description: str) -> np.ndarray:
    """Rows for ``texts`` in order; a text repeated in the task is encoded once.

    Symmetric tasks (STS, classification, clustering, pairs, bitext) use the query role: E5's
    authors prescribe ``query: `` for them, and models without prompts are unaffected.
    """
    unique = list(dict.fromkeys(texts))
    with progress.track(description, len(unique)) as advance:
        vectors = encoder.encode(unique, Role.QUERY, advance)
    row_of = {text: row for row, text in enumerate(unique)}
    return vectors[[row_of[text] for text in texts]]
