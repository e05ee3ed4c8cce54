"""glotta: choose, evaluate and adapt text-embedding models for one language.

The public API (see README "Python"): ``evaluate``, ``load_task``, ``load_benchmark``,
``collect_tasks``, ``get_encoder`` and ``Results``; errors are ``GlottaError``.
"""

__version__ = "0.1.0"

from glotta.api import Results, collect_tasks, evaluate, get_encoder, load_benchmark, load_task
from glotta.errors import GlottaError

__all__ = ["GlottaError", "Results", "__version__", "collect_tasks", "evaluate", "get_encoder", "load_benchmark",
           "load_task"]
