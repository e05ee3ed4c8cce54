"""Bitext mining: each sentence's nearest neighbour on the other side should be its translation."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from glotta.data.tasks import BitextTask
from glotta.encoders.base import Encoder
from glotta.encoders.search import TopK
from glotta.evaluation.embedding import embed_texts
from glotta.progress import ProgressReporter

MAIN_SCORE = "f1"


def evaluate_bitext(task: BitextTask, encoder: Encoder, progress: ProgressReporter) -> dict[str, float]:
    name = task.metadata.name
    sides = {"sentence1": task.sentence1, "sentence2": task.sentence2}
    query_side = task.metadata.settings.query_side
    target_side = "sentence2" if query_side == "sentence1" else "sentence1"
    queries = embed_texts(encoder, sides[query_side], progress, f"encode {name} ({query_side})")
    targets = embed_texts(encoder, sides[target_side], progress, f"encode {name} ({target_side})")
    search = TopK(queries, 1)
    search.add(targets)
    _, nearest = search.ranked()
    predicted, gold = nearest[:, 0], np.arange(len(queries))
    # MTEB's metrics: the row index is the class, weighted over rows
    return {
        "precision": float(precision_score(gold, predicted, zero_division=0, average="weighted")),
        "recall": float(recall_score(gold, predicted, zero_division=0, average="weighted")),
        "f1": float(f1_score(gold, predicted, zero_division=0, average="weighted")),
        "accuracy": float(accuracy_score(gold, predicted)),
    }
