"""Is a retrieval score, or the difference between two models, more than the luck of the queries?

Both answers resample the task's queries, the unit a benchmark samples:

- ``mean_interval``: a percentile bootstrap 95% interval of the mean per-query main score
  (``scipy.stats.bootstrap``);
- ``paired_test``: a paired randomisation (sign-flip) test of the mean per-query difference
  between two models on the same queries (``scipy.stats.permutation_test``, exact when the
  queries are few enough for every sign pattern to be enumerated), with the difference's
  paired bootstrap interval;
- ``compare_models``: every pair of models on one task, p-values adjusted with Holm's method:
  the pairs are read together ("which model is best?"), so the chance of any false "yes" among
  them is what is held at ``alpha``; Holm controls it under any dependence between the pairs
  (they share models and queries) and is never less powerful than Bonferroni.

Every resampling draws from ``numpy.random.default_rng(seed)``: the same scores and seed give
the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import stats

from glotta.errors import GlottaError

RESAMPLES = 10_000
SEED = 0
CONFIDENCE = 0.95
ALPHA = 0.05
_BATCH = 1_000  # resamples held in memory at once: 1,000 x queries floats


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    queries: int


@dataclass(frozen=True)
class PairedTest:
    """``better`` against ``worse`` (by their mean on the shared queries)."""

    better: str
    worse: str
    difference: Interval  # mean per-query difference better - worse, and its bootstrap interval
    p_value: float  # two-sided sign-flip test
    p_holm: float  # adjusted over the pairs compared together
    significant: bool  # p_holm < alpha


def mean_interval(values: Sequence[float], *, resamples: int = RESAMPLES, seed: int = SEED,
                  confidence: float = CONFIDENCE) -> Interval:
    """The mean of per-query scores and its percentile bootstrap interval over queries."""
    data = _at_least_two(values)
    found = stats.bootstrap((data,), np.mean, n_resamples=resamples, confidence_level=confidence,
                            method="percentile", vectorized=True, batch=_BATCH, rng=np.random.default_rng(seed))
    interval = found.confidence_interval
    return Interval(float(data.mean()), float(interval.low), float(interval.high), len(data))


def paired_test(first: Mapping[str, float], second: Mapping[str, float], *, resamples: int = RESAMPLES,
                seed: int = SEED, confidence: float = CONFIDENCE) -> tuple[Interval, float]:
    """Mean difference first - second over the queries both were scored on, its interval, and the p-value.

    Under the null hypothesis the two models are exchangeable on every query, so each query's
    difference is as likely negated: the p-value is the share of random sign patterns whose mean
    difference is at least as far from 0 as the observed one (two-sided).
    """
    shared = sorted(first.keys() & second.keys())
    differences = _at_least_two([first[q] - second[q] for q in shared])
    tested = stats.permutation_test((differences,), np.mean, permutation_type="samples", vectorized=True,
                                    n_resamples=resamples, batch=_BATCH, alternative="two-sided",
                                    rng=np.random.default_rng(seed))
    interval = mean_interval(differences, resamples=resamples, seed=seed, confidence=confidence)
    return interval, float(tested.pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def compare_models(per_query: Mapping[str, Mapping[str, float]], *, alpha: float = ALPHA, resamples: int = RESAMPLES,
                   seed: int = SEED) -> list[PairedTest]:
    """Every pair of models (name -> query id -> main score) on one task, in the given order, Holm-adjusted."""
    pairs = []
    for a, b in combinations(per_query, 2):
        difference, p_value = paired_test(per_query[a], per_query[b], resamples=resamples, seed=seed)
        if difference.mean < 0:  # the better model first, so every difference reads as a gain
            a, b = b, a
            difference = Interval(-difference.mean, -difference.high, -difference.low, difference.queries)
        pairs.append((a, b, difference, p_value))
    adjusted = holm([p for *_, p in pairs])
    return [PairedTest(a, b, difference, p, p_holm, p_holm < alpha)
            for (a, b, difference, p), p_holm in zip(pairs, adjusted, strict=True)]


def stored_per_query(entry: Mapping) -> dict[str, float] | None:
    """Query id -> main score from a retrieval or reranking result entry; None when the entry has
    none (a file written before glotta kept per-query scores, or one written by mteb)."""
    block = entry.get("per_query")
    if not isinstance(block, Mapping):
        return None
    ids, values = block.get("query_ids"), block.get(block.get("main_score"))
    if not isinstance(ids, list) or not isinstance(values, list) or len(ids) != len(values):
        return None
    return dict(zip(map(str, ids), map(float, values), strict=True))


def _at_least_two(values: Sequence[float]) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    if len(data) < 2:
        raise GlottaError(f"{len(data)} queries to resample: an interval or a paired test needs at least two",
                          fix="score the models on a task with two or more queries (the same ones, to compare two)")
    return data
