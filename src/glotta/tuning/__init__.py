"""Forgetting-aware hyper-parameter search with Optuna: ``glotta tune``."""
