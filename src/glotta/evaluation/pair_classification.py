"""Pair classification: how well one similarity threshold separates positive from negative pairs."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score

from glotta.data.tasks import PairClassificationTask
from glotta.encoders.base import Encoder
from glotta.evaluation.embedding import embed_texts
from glotta.evaluation.pairs import paired_similarities
from glotta.progress import ProgressReporter

MAIN_SCORE = "max_ap"


def evaluate_pair_classification(
    task: PairClassificationTask, encoder: Encoder, progress: ProgressReporter
) -> dict[str, float]:
    name = task.metadata.name
    first = embed_texts(encoder, task.sentence1, progress, f"encode {name} (1/2)")
    second = embed_texts(encoder, task.sentence2, progress, f"encode {name} (2/2)")
    labels = np.asarray(task.labels, dtype=np.int64)
    scores: dict[str, float] = {}
    for function, similarity in paired_similarities(first, second).items():
        for metric, value in threshold_metrics(similarity, labels).items():
            scores[f"{function}_{metric}"] = value
    for metric in ("accuracy", "f1", "precision", "recall", "ap"):
        scores[f"max_{metric}"] = max(scores[f"{f}_{metric}"] for f in ("cosine", "manhattan", "euclidean", "dot"))
    return scores


def threshold_metrics(similarity: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Best-threshold accuracy and F1 (with its precision/recall), and average precision.

    Written here because scikit-learn has no best-threshold accuracy; it follows MTEB's rule
    exactly: thresholds lie between consecutive distinct scores (ties are never split) and
    "every pair positive" is not a candidate.
    """
    order = np.argsort(-similarity, kind="stable")
    ranked, ranked_labels = similarity[order], labels[order]
    positives_so_far = np.cumsum(ranked_labels)[:-1]  # predicted positive: rows 0..i
    taken = np.arange(1, len(ranked))
    cut = ranked[:-1] != ranked[1:]
    total_positive, total = int(labels.sum()), len(labels)
    negatives_below = (total - total_positive) - (taken - positives_so_far)
    accuracy = (positives_so_far + negatives_below) / total
    precision = positives_so_far / taken
    recall = positives_so_far / max(total_positive, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(positives_so_far > 0, 2 * precision * recall / (precision + recall), 0.0)
    best_accuracy = float(accuracy[cut].max()) if cut.any() else 0.0
    if cut.any() and f1[cut].max() > 0:
        best = np.flatnonzero(cut)[np.argmax(f1[cut])]
        best_f1, best_precision, best_recall = float(f1[best]), float(precision[best]), float(recall[best])
    else:
        best_f1 = best_precision = best_recall = 0.0
    return {
        "accuracy": best_accuracy,
        "f1": best_f1,
        "precision": best_precision,
        "recall": best_recall,
        "ap": float(average_precision_score(labels, similarity)),
    }
