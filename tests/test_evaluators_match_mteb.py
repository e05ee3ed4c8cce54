"""glotta's evaluators against mteb's own code on the same real embeddings.

Each comparison feeds identical vectors (all-MiniLM-L6-v2 on shared data) to glotta and to the
installed mteb's functions, so any difference is in the protocol, not in the model.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from glotta.data.local_tasks import load_task_folder
from glotta.data.task_settings import ClassificationSettings
from glotta.data.task_spec import TaskSpec
from glotta.data.tasks import TaskType
from glotta.encoders.registry import resolve_model
from glotta.evaluation.classification import evaluate_classification, undersampled_indices
from glotta.evaluation.clustering import evaluate_clustering
from glotta.evaluation.embedding import embed_texts
from glotta.evaluation.pair_classification import evaluate_pair_classification, threshold_metrics
from glotta.evaluation.sts import evaluate_sts
from glotta.progress import SilentProgress

mteb = pytest.importorskip("mteb")
QUIET = SilentProgress()


@pytest.fixture(scope="module")
def encoder():
    return resolve_model("sentence-transformers/all-MiniLM-L6-v2").encoder


def _cut(task, rows: int):
    for name in ("sentence1", "sentence2", "scores", "labels"):
        if hasattr(task, name):
            setattr(task, name, getattr(task, name)[:rows])
    return task


def test_sts_matches_mteb(encoder, data_root):
    task = _cut(load_task_folder(TaskSpec(path=data_root / "tasks/nl/sts_sick_nl")), 300)
    ours = evaluate_sts(task, encoder, QUIET)
    first, second = (embed_texts(encoder, side, QUIET, "") for side in (task.sentence1, task.sentence2))
    mteb_task = mteb.get_task("SICK-NL-STS")
    from mteb._evaluators.any_sts_evaluator import STSEvaluatorScores
    from sklearn.metrics.pairwise import paired_cosine_distances, paired_euclidean_distances, paired_manhattan_distances

    distances = STSEvaluatorScores(
        cosine_scores=(1 - paired_cosine_distances(first, second)).tolist(),
        manhattan_distances=(-paired_manhattan_distances(first, second)).tolist(),
        euclidean_distances=(-paired_euclidean_distances(first, second)).tolist(),
        similarity_scores=None,
    )
    theirs = mteb_task._calculate_scores(distances, [mteb_task._normalize(s) for s in task.scores])
    for metric in ("cosine_spearman", "cosine_pearson", "manhattan_spearman", "euclidean_pearson"):
        assert ours[metric] == pytest.approx(theirs[metric], abs=1e-6), metric


def test_pair_thresholds_match_mteb_including_ties(encoder, data_root):
    spec = TaskSpec(path=data_root / "tasks/nl/pairs_sick_nl_nli",
                    evaluator={"positive": "entailment", "negative": ["contradiction"]})
    task = _cut(load_task_folder(spec), 400)
    mteb_task = mteb.get_task("SICKNLPairClassification")
    first, second = (embed_texts(encoder, side, QUIET, "") for side in (task.sentence1, task.sentence2))
    cosine = np.einsum("ij,ij->i", first.astype(np.float64), second.astype(np.float64))
    labels = np.asarray(task.labels)
    for scores in (cosine, np.round(cosine, 2)):  # rounding makes many ties
        ours = threshold_metrics(scores, labels)
        theirs = mteb_task._compute_metrics_values(scores.tolist(), labels, True)
        assert ours == pytest.approx(theirs, abs=1e-9)
    assert evaluate_pair_classification(task, encoder, QUIET)["cosine_ap"] == pytest.approx(
        mteb_task._compute_metrics_values(cosine.tolist(), labels, True)["ap"], abs=1e-6)


def test_classification_draws_mteb_training_samples_and_scores(encoder, data_root):
    from datasets import Dataset

    task = load_task_folder(TaskSpec(path=data_root / "tasks/it/classification_sib200_it"))
    label_ids = {label: i for i, label in enumerate(sorted(set(task.train_labels)))}
    train = Dataset.from_dict({"text": task.train_texts, "label": [label_ids[x] for x in task.train_labels]})
    mteb_task = mteb.get_task("SIB200Classification")
    expected, order = [], None
    for experiment in range(10):
        _, order, chosen = mteb_task._undersample_data(train, experiment, order)
        expected.append(chosen)
    assert undersampled_indices(train["label"], ClassificationSettings()) == expected

    ours = evaluate_classification(task, encoder, QUIET)
    train_vectors = embed_texts(encoder, task.train_texts, QUIET, "")
    test_vectors = embed_texts(encoder, task.test_texts, QUIET, "")
    test_labels = [label_ids[x] for x in task.test_labels]
    from sklearn.linear_model import LogisticRegression

    accuracies = []
    for rows in expected:
        model = LogisticRegression(max_iter=100, random_state=42).fit(train_vectors[rows], np.asarray(train["label"])[rows])
        accuracies.append(mteb_task._calculate_scores(test_labels, model.predict(test_vectors))["accuracy"])
    assert ours["accuracy"] == pytest.approx(np.mean(accuracies), abs=1e-9)


def test_clustering_bootstrap_matches_mteb(encoder, data_root):
    from mteb.abstasks.clustering import _evaluate_clustering_bootstrapped

    spec = TaskSpec(path=data_root / "tasks/nl/classification_sib200_nl", type=TaskType.CLUSTERING,
                    evaluator={"splits": ["train", "dev", "test"], "documents_per_run": 2000})
    task = load_task_folder(spec)
    ours = evaluate_clustering(task, encoder, QUIET)
    rng = random.Random(42)
    chosen = rng.sample(range(len(task.texts)), k=len(task.texts))
    vectors = embed_texts(encoder, [task.texts[i] for i in chosen], QUIET, "")
    scores, _ = _evaluate_clustering_bootstrapped(
        vectors, [[task.labels[i]] for i in chosen], n_clusters=10, cluster_size=2000,
        kmean_batch_size=512, max_depth=None, rng_state=rng, seed=42)
    assert ours["v_measures"]["Level 0"] == pytest.approx(scores["v_measure"]["Level 0"], abs=1e-9)
