"""Classification by logistic regression on frozen embeddings, MTEB v2's few-shot protocol.

Each of ``n_experiments`` draws ``samples_per_label`` training texts per label (MTEB's seeded
undersampling, reproduced step for step so the same texts are drawn), fits a classifier and
scores the test split; the scores are averaged.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split

from glotta.data.task_settings import ClassificationSettings
from glotta.data.tasks import ClassificationTask
from glotta.encoders.base import Encoder
from glotta.evaluation.embedding import embed_texts
from glotta.progress import ProgressReporter

MAIN_SCORE = "accuracy"


def undersampled_indices(labels: list[int], settings: ClassificationSettings) -> list[list[int]]:
    """Training rows of each experiment, as MTEB draws them.

    MTEB shuffles one index list in place with a fresh ``RandomState(seed)`` per experiment, so
    experiment i sees the list shuffled i + 1 times; the first ``samples_per_label`` rows of each
    label in that order are taken.
    """
    order = list(range(len(labels)))
    drawn = []
    for _ in range(settings.n_experiments):
        np.random.RandomState(settings.seed).shuffle(order)
        per_label: dict[int, int] = defaultdict(int)
        chosen = []
        for row in order:
            if per_label[labels[row]] < settings.samples_per_label:
                chosen.append(row)
                per_label[labels[row]] += 1
        drawn.append(chosen)
    return drawn


def capped_test_rows(labels: list[int], settings: ClassificationSettings) -> list[int]:
    """All test rows, or a label-stratified seeded sample of ``max_test`` of them."""
    rows = list(range(len(labels)))
    if len(rows) <= settings.max_test:
        return rows
    kept, _ = train_test_split(rows, train_size=settings.max_test, stratify=labels, random_state=settings.seed)
    return sorted(kept)


def evaluate_classification(
    task: ClassificationTask, encoder: Encoder, progress: ProgressReporter
) -> dict[str, float]:
    settings: ClassificationSettings = task.metadata.settings
    # Labels as integers in sorted order over both splits, as MTEB's class encoding numbers them: a
    # test label never trained on is then a class the classifier never predicts (counted wrong).
    label_ids = {label: number for number, label in enumerate(sorted(set(task.train_labels) | set(task.test_labels)))}
    train_labels = [label_ids[label] for label in task.train_labels]
    test_rows = capped_test_rows([label_ids[label] for label in task.test_labels], settings)
    test_labels = np.asarray([label_ids[task.test_labels[row]] for row in test_rows])
    experiments = undersampled_indices(train_labels, settings)
    needed = sorted(set().union(*experiments))
    name = task.metadata.name
    train_vectors = embed_texts(encoder, [task.train_texts[row] for row in needed], progress, f"encode {name} (train)")
    test_vectors = embed_texts(encoder, [task.test_texts[row] for row in test_rows], progress, f"encode {name} (test)")
    position = {row: position for position, row in enumerate(needed)}
    runs = []
    with progress.track(f"classify {name}", settings.n_experiments) as advance:
        for rows in experiments:
            classifier = LogisticRegression(max_iter=settings.max_iter, random_state=settings.seed)
            classifier.fit(train_vectors[[position[row] for row in rows]], [train_labels[row] for row in rows])
            runs.append(_scores(test_labels, classifier.predict(test_vectors)))
            advance(1)
    averaged = {metric: float(np.mean([run[metric] for run in runs])) for metric in runs[0]}
    return {**averaged, "scores_per_experiment": runs}


def _scores(gold: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    scores = {
        "accuracy": accuracy_score(gold, predicted),
        "f1": f1_score(gold, predicted, average="macro"),
        "f1_weighted": f1_score(gold, predicted, average="weighted"),
        "precision": precision_score(gold, predicted, average="macro", zero_division=0),
        "precision_weighted": precision_score(gold, predicted, average="weighted", zero_division=0),
        "recall": recall_score(gold, predicted, average="macro"),
        "recall_weighted": recall_score(gold, predicted, average="weighted"),
    }
    if len(np.unique(gold)) == 2:  # MTEB adds AP (of the hard predictions) for binary tasks
        scores["ap"] = average_precision_score(gold, predicted, average="macro")
        scores["ap_weighted"] = average_precision_score(gold, predicted, average="weighted")
    return {metric: float(value) for metric, value in scores.items()}
