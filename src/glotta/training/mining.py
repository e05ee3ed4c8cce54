"""Hard-negative selection (NV-Retriever's strategies) over a miner's ranked candidates.

Given, per query, candidates ranked by a miner's score and the query's positive score (its lowest
positive, as sentence-transformers takes it), a strategy removes candidates that are too close
to the positive to be safe negatives (likely unlabelled positives), then a rank window picks
the negatives:

- ``topk``: no score filter.
- ``topk-abs``: drop candidates scoring above ``threshold`` (default 0.7).
- ``topk-marginpos``: drop candidates scoring above ``pos - threshold`` (default 0.05).
- ``topk-percpos``: drop candidates scoring above ``pos - |pos| * threshold`` (default 0.05, i.e.
  95% of the positive; ``|pos|`` keeps it right for negative scores, sentence-transformers #3819).
- ``topk-stdmarginpos``: glotta's reading of E5-NL (no public definition): drop candidates scoring
  above ``pos - threshold * std(scores of the query's candidates)`` (default alpha 1.0).

The window follows sentence-transformers' ``mine_hard_negatives``: after filtering, the remaining
candidates in score order, the first ``range_min`` skipped, up to ``range_max`` kept, then the
``num_negatives`` best (``sampling="top"``) or a seeded sample (``"random"``). Random negatives
from the rest of the corpus can be added (the Italian study's hard:random mix).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass

import numpy as np

from glotta.errors import GlottaError

STRATEGIES = ("topk", "topk-abs", "topk-marginpos", "topk-percpos", "topk-stdmarginpos")
DEFAULT_THRESHOLDS = {"topk-abs": 0.7, "topk-marginpos": 0.05, "topk-percpos": 0.05, "topk-stdmarginpos": 1.0}


@dataclass(frozen=True)
class MiningSettings:
    """Which candidates become hard negatives: filter strategy, rank window, sampling, random extras."""

    strategy: str = "topk-percpos"
    num_negatives: int = 4
    range_min: int = 0
    range_max: int = 10
    threshold: float | None = None  # None: the strategy's default
    sampling: str = "top"
    random_negatives: int = 0

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise GlottaError(f"--strategy: unknown mining strategy {self.strategy!r}",
                              fix=f"use one of {', '.join(STRATEGIES)}")
        if self.sampling not in {"top", "random"}:
            raise GlottaError(f"--sampling: unknown sampling {self.sampling!r}",
                              fix="use top (the best of the window) or random (a seeded sample of it)")
        if not 0 <= self.range_min < self.range_max:
            raise GlottaError(f"--range: rank window {self.range_min}:{self.range_max} is empty",
                              fix="give --range MIN:MAX with 0 <= MIN < MAX")
        if self.num_negatives > self.range_max - self.range_min:
            raise GlottaError(
                f"{self.num_negatives} negatives cannot come from ranks {self.range_min}:{self.range_max}",
                fix="lower --num-negatives or widen --range")
        if self.threshold is not None:
            self._check_threshold(self.threshold)

    def _check_threshold(self, value: float) -> None:
        """A NaN filters nothing and a negative margin keeps candidates above the positive: both silently."""
        if self.strategy == "topk":
            raise GlottaError("--threshold has no effect with --strategy topk",
                              fix="leave out --threshold, or choose a strategy that filters (e.g. topk-percpos)")
        if not math.isfinite(value):
            raise GlottaError(f"--threshold {value} is not a finite number", fix="give e.g. --threshold 0.05")
        if self.strategy == "topk-percpos" and not 0 <= value <= 1:
            raise GlottaError(f"--threshold {value} is not a fraction of the positive score",
                              fix="give a value from 0 to 1 (0.05 drops candidates above 95% of the positive)")
        if self.strategy in {"topk-marginpos", "topk-stdmarginpos"} and value < 0:
            raise GlottaError(f"--threshold {value} is a negative margin: candidates above the positive would be kept",
                              fix="give a margin >= 0 (e.g. 0.05; 1.0 standard deviations for topk-stdmarginpos)")

    @property
    def limit(self) -> float | None:
        return self.threshold if self.threshold is not None else DEFAULT_THRESHOLDS.get(self.strategy)


@dataclass
class Selection:
    negatives: list[list[int]]  # corpus rows per query, best first
    scores: list[list[float]]
    dropped: Counter  # candidates removed, by reason


def select_hard_negatives(
    candidates: np.ndarray, scores: np.ndarray, positives: list[set[int]], positive_scores: np.ndarray,
    settings: MiningSettings, rng: random.Random,
) -> Selection:
    """Pick negatives per query from ``candidates`` (corpus rows, any order) and their ``scores``."""
    dropped: Counter = Counter()
    negatives, kept_scores = [], []
    limit = settings.limit
    for row in range(len(candidates)):
        ids, values = candidates[row], scores[row].astype(np.float64)
        valid = ids >= 0
        is_positive = np.isin(ids, list(positives[row])) & valid
        dropped["positive"] += int(is_positive.sum())
        usable = valid & ~is_positive
        pos = float(positive_scores[row])
        if settings.strategy == "topk-abs":
            too_close = values > limit
        elif settings.strategy == "topk-marginpos":
            too_close = values > pos - limit
        elif settings.strategy == "topk-percpos":
            too_close = values > pos - abs(pos) * limit
        elif settings.strategy == "topk-stdmarginpos":
            spread = float(np.std(values[usable])) if usable.any() else 0.0
            too_close = values > pos - limit * spread
        else:
            too_close = np.zeros_like(usable)
        dropped[settings.strategy] += int((usable & too_close).sum())
        usable &= ~too_close
        order = [i for i in np.argsort(-values, kind="stable") if usable[i]]
        window = order[settings.range_min : settings.range_max]
        if settings.sampling == "top":
            chosen = window[: settings.num_negatives]
        else:
            chosen = sorted(rng.sample(window, k=min(len(window), settings.num_negatives)), key=lambda i: -values[i])
        negatives.append([int(ids[i]) for i in chosen])
        kept_scores.append([float(values[i]) for i in chosen])
    return Selection(negatives, kept_scores, dropped)


def random_negatives(corpus_size: int, exclude: set[int], count: int, rng: random.Random) -> list[int]:
    """``count`` distinct corpus rows outside ``exclude`` (fewer when the corpus is too small)."""
    available = corpus_size - len(exclude)
    chosen: list[int] = []
    while len(chosen) < min(count, available):
        row = rng.randrange(corpus_size)
        if row not in exclude and row not in chosen:
            chosen.append(row)
    return chosen
