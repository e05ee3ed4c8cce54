"""Clustering: MiniBatchKMeans with k = number of gold labels, V-measure over bootstrap runs.

The sampling repeats MTEB v2's (``random.Random(seed)``: one sample of the documents to embed,
none when ``max_documents`` is None, then each run draws ``documents_per_run`` of them with
replacement), so runs are comparable.
"""

from __future__ import annotations

import random

import numpy as np
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import adjusted_mutual_info_score, v_measure_score

from glotta.data.task_settings import ClusteringSettings
from glotta.data.tasks import ClusteringTask
from glotta.encoders.base import Encoder
from glotta.evaluation.embedding import embed_texts
from glotta.progress import ProgressReporter

MAIN_SCORE = "v_measure"


def evaluate_clustering(task: ClusteringTask, encoder: Encoder, progress: ProgressReporter) -> dict:
    settings: ClusteringSettings = task.metadata.settings
    rng = random.Random(settings.seed)
    everything = range(len(task.texts))
    chosen = everything if settings.max_documents is None else rng.sample(
        everything, k=min(len(task.texts), settings.max_documents))
    vectors = embed_texts(encoder, [task.texts[i] for i in chosen], progress, f"encode {task.metadata.name}")
    labels = np.asarray([task.labels[i] for i in chosen])
    kmeans = MiniBatchKMeans(n_clusters=len(np.unique(labels)), batch_size=settings.batch_size,
                             init="k-means++", n_init=1, random_state=settings.seed)
    v_measures, amis = [], []
    with progress.track(f"cluster {task.metadata.name}", settings.n_runs) as advance:
        for _ in range(settings.n_runs):
            rows = rng.choices(range(len(vectors)), k=settings.documents_per_run)
            assignment = kmeans.fit_predict(vectors[rows])
            v_measures.append(float(v_measure_score(labels[rows], assignment)))
            amis.append(float(adjusted_mutual_info_score(labels[rows], assignment)))
            advance(1)
    return {
        "v_measure": float(np.mean(v_measures)),
        "v_measure_std": float(np.std(v_measures)),
        "v_measures": {"Level 0": v_measures},
        "ami": float(np.mean(amis)),
        "ami_std": float(np.std(amis)),
    }
