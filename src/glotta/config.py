"""Where glotta keeps its caches and finds the shared data: the environment first, then defaults.

One place, so the CLI, the Python API and the benchmark scripts agree on both folders.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_root() -> Path:
    """``$GLOTTA_CACHE``, else ``~/.cache/glotta``: embeddings, LLM replies, Hugging Face copies."""
    return Path(os.environ.get("GLOTTA_CACHE", Path.home() / ".cache" / "glotta"))


def resolve_data_root(explicit: Path | None = None) -> Path | None:
    """``--data-root``, else ``$GLOTTA_DATA``, else ``../shared/data`` when it exists."""
    if explicit is not None:
        return explicit
    if os.environ.get("GLOTTA_DATA"):
        return Path(os.environ["GLOTTA_DATA"])
    default = Path("..") / "shared" / "data"
    return default.resolve() if default.is_dir() else None
