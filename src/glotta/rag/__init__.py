"""Retrieval benchmarks from a user's own documents: ``build_benchmark(documents, output, BuildSettings(...))``."""

from glotta.rag.build import BuildSettings, build_benchmark
from glotta.rag.llm_queries import LLMQuerySettings
from glotta.rag.queries import Sampling

__all__ = ["BuildSettings", "LLMQuerySettings", "Sampling", "build_benchmark"]
