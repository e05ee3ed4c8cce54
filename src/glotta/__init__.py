"""glotta: choose, evaluate and adapt text-embedding models for one language."""

__version__ = "0.1.0"
