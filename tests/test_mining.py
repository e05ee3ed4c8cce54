"""Negative selection on hand-computed scores, and agreement with sentence-transformers' miner."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict

import numpy as np
import pytest

from glotta.data.corpus import CorpusReader
from glotta.data.pairs import PairBuilder, PairSettings
from glotta.errors import GlottaError
from glotta.progress import SilentProgress
from glotta.training.miners import DenseMiner
from glotta.training.mining import MiningSettings, random_negatives, select_hard_negatives
from glotta.training.triplets import mine_rows

# one query, positive score 0.80, candidate corpus rows 1..6 (row 9 is the positive, also retrieved)
CANDIDATES = np.array([[9, 1, 2, 3, 4, 5, 6]])
SCORES = np.array([[0.80, 0.85, 0.78, 0.72, 0.65, 0.40, 0.10]])


def _pick(strategy, threshold=None, **window):
    settings = MiningSettings(strategy=strategy, threshold=threshold, num_negatives=window.pop("n", 3), **window)
    chosen = select_hard_negatives(CANDIDATES, SCORES, [{9}], np.array([0.80]), settings, random.Random(0))
    return chosen.negatives[0], dict(chosen.dropped)


def test_each_strategy_drops_what_its_rule_says():
    # topk: only the positive itself is removed
    assert _pick("topk") == ([1, 2, 3], {"positive": 1, "topk": 0})
    # abs 0.7: 0.85, 0.78, 0.72 are too similar to be safe negatives
    assert _pick("topk-abs", 0.7) == ([4, 5, 6], {"positive": 1, "topk-abs": 3})
    # marginpos 0.1: above 0.80 - 0.1 = 0.70 goes
    assert _pick("topk-marginpos", 0.1) == ([4, 5, 6], {"positive": 1, "topk-marginpos": 3})
    # percpos 0.05: above 0.80 - 0.04 = 0.76 goes (0.85, 0.78), 0.72 stays
    assert _pick("topk-percpos", 0.05) == ([3, 4, 5], {"positive": 1, "topk-percpos": 2})
    # stdmarginpos alpha 0.5: std of the six non-positive scores
    std = np.std([0.85, 0.78, 0.72, 0.65, 0.40, 0.10])
    kept = [row for row, s in zip([1, 2, 3, 4, 5, 6], [0.85, 0.78, 0.72, 0.65, 0.40, 0.10], strict=True) if s <= 0.80 - 0.5 * std]
    assert _pick("topk-stdmarginpos", 0.5)[0] == kept[:3] == [4, 5, 6]


def test_rank_window_applies_after_filtering():
    assert _pick("topk-percpos", 0.05, range_min=1, range_max=3, n=2)[0] == [4, 5]
    assert _pick("topk", range_min=4, range_max=10, n=3)[0] == [5, 6]  # fewer left than asked


def test_percpos_is_right_for_negative_positive_scores():
    """sentence-transformers #3819: pos * 0.95 raises the bar when pos < 0; pos - |pos| * 0.05 does not."""
    candidates = np.array([[1, 2, 3, 4]])
    scores = np.array([[-0.10, -0.205, -0.30, -0.50]])
    settings = MiningSettings(strategy="topk-percpos", threshold=0.05, num_negatives=4)
    chosen = select_hard_negatives(candidates, scores, [set()], np.array([-0.20]), settings, random.Random(0))
    assert chosen.negatives[0] == [3, 4]  # -0.205 > -0.21 is dropped; the buggy rule (-0.19) would keep it


def test_random_sampling_is_seeded_and_random_negatives_avoid_positives():
    settings = MiningSettings(strategy="topk", num_negatives=2, range_max=6, sampling="random")
    runs = [select_hard_negatives(CANDIDATES, SCORES, [{9}], np.array([0.8]), settings, random.Random(7)).negatives
            for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0][0]) == 2 and 9 not in runs[0][0]
    extra = random_negatives(10, {9, 1, 2}, 5, random.Random(3))
    assert len(set(extra)) == 5 and not set(extra) & {9, 1, 2}


def test_bad_settings_are_refused():
    with pytest.raises(GlottaError, match="unknown mining strategy 'topk-magic'"):
        MiningSettings(strategy="topk-magic")
    with pytest.raises(GlottaError, match="5 negatives cannot come from ranks 0:3"):
        MiningSettings(num_negatives=5, range_max=3)


@pytest.mark.parametrize(("strategy", "threshold", "st_kwargs"), [
    ("topk", None, {}),
    ("topk-abs", 0.6, {"max_score": 0.6}),
    ("topk-marginpos", 0.05, {"absolute_margin": 0.05}),
    ("topk-percpos", 0.05, {"relative_margin": 0.05}),
])
def test_same_negatives_as_sentence_transformers(strategy, threshold, st_kwargs, data_root, minilm):
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    documents = itertools.islice(CorpusReader([data_root / "corpora/nl/ud_alpino/docs.jsonl"]), 40)
    pairs = list(PairBuilder(PairSettings(), 1, "nld").pairs(documents))
    settings = MiningSettings(strategy=strategy, threshold=threshold, num_negatives=3, range_min=1, range_max=12)
    rows, _ = mine_rows(pairs, DenseMiner(minilm), settings, random.Random(0), SilentProgress())
    ours = {(r["query"], r["positive"]): r["negatives"] for r in rows}

    dataset = Dataset.from_dict({"anchor": [p.query for p in pairs], "positive": [p.positive for p in pairs]})
    mined = mine_hard_negatives(dataset, minilm.model, range_min=1, range_max=12, num_negatives=3,
                                sampling_strategy="top", output_format="triplet", verbose=False, **st_kwargs)
    theirs = defaultdict(list)
    for row in mined:
        theirs[(row["anchor"], row["positive"])].append(row["negative"])
    assert len(theirs) >= 15  # the filters leave enough queries with negatives to compare
    assert {k: v for k, v in ours.items() if v} == dict(theirs)


@pytest.fixture(scope="module")
def minilm():
    from glotta.encoders.registry import resolve_model

    return resolve_model("sentence-transformers/all-MiniLM-L6-v2").encoder
