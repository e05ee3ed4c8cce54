"""Semantic textual similarity: correlation of embedding similarity with gold scores (MTEB v2)."""

from __future__ import annotations

from scipy.stats import pearsonr, spearmanr

from glotta.data.tasks import STSTask
from glotta.encoders.base import Encoder
from glotta.evaluation.embedding import embed_texts
from glotta.evaluation.pairs import paired_similarities
from glotta.progress import ProgressReporter

MAIN_SCORE = "cosine_spearman"


def evaluate_sts(task: STSTask, encoder: Encoder, progress: ProgressReporter) -> dict[str, float]:
    name = task.metadata.name
    first = embed_texts(encoder, task.sentence1, progress, f"encode {name} (1/2)")
    second = embed_texts(encoder, task.sentence2, progress, f"encode {name} (2/2)")
    low, high = task.scale
    gold = [(score - low) / (high - low) for score in task.scores]
    scores: dict[str, float] = {}
    for function, similarity in paired_similarities(first, second).items():
        if function == "dot":
            continue  # MTEB's STS reports cosine, Manhattan and Euclidean only
        scores[f"{function}_pearson"] = float(pearsonr(gold, similarity)[0])
        scores[f"{function}_spearman"] = float(spearmanr(gold, similarity)[0])
    # the model's own similarity function: glotta's vectors are normalised, so cosine
    scores["pearson"], scores["spearman"] = scores["cosine_pearson"], scores["cosine_spearman"]
    return scores
