"""Language-pure means: only monolingual scores of one language, complete sets only."""

from __future__ import annotations

import pytest

from glotta.evaluation.aggregate import ScoreRecord, language_groups, summarise


def _records():
    return [
        ScoreRecord("e5", "sts_it", "sts", ("ita-Latn",), 0.8),
        ScoreRecord("e5", "sib_it", "classification", ("ita-Latn",), 0.6),
        ScoreRecord("e5", "xed_it", "classification", ("ita-Latn",), 0.2),
        ScoreRecord("e5", "tatoeba", "bitext", ("eng-Latn", "ita-Latn"), 0.9),
        ScoreRecord("e5", "stsb_nl", "sts", ("nld-Latn",), 0.7),
        ScoreRecord("bm25", "sts_it", "sts", ("ita-Latn",), None),
        ScoreRecord("bm25", "sib_it", "classification", ("ita-Latn",), None),
        ScoreRecord("bm25", "xed_it", "classification", ("ita-Latn",), None),
    ]


def test_mean_task_type_and_mean_task_use_only_the_language():
    (e5, bm25) = summarise(_records(), "ita")
    assert e5.by_type == {"sts": pytest.approx(0.8), "classification": pytest.approx(0.4)}
    assert e5.mean_task_type == pytest.approx(0.6)  # (0.8 + 0.4) / 2: bitext and Dutch left out
    assert e5.mean_task == pytest.approx((0.8 + 0.6 + 0.2) / 3)
    assert (e5.scored, e5.tasks) == (3, 3)
    assert bm25.mean_task is None and bm25.by_type == {"sts": None, "classification": None}


def test_cross_lingual_subsets_form_their_own_group():
    assert language_groups(_records()) == (["ita", "nld"], ["eng-ita"])
    (e5,) = summarise(_records(), "eng-ita")
    assert e5.mean_task == pytest.approx(0.9)
