"""Which evaluator scores which task type, what it needs from a model, and its main score."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from glotta.data.tasks import TaskType
from glotta.encoders.base import Encoder, Retriever
from glotta.evaluation import bitext, classification, clustering, pair_classification, retrieval, sts
from glotta.evaluation.retrieval_metrics import MAIN_SCORE as RETRIEVAL_MAIN_SCORE
from glotta.progress import ProgressReporter

# (task of the evaluator's type, the model's encoder or retriever, progress) -> scores
ByEncoder = Callable[[Any, Encoder, ProgressReporter], dict[str, float]]
ByRetriever = Callable[[Any, Retriever, ProgressReporter], dict[str, float]]


@dataclass(frozen=True)
class Evaluator:
    """How one task type is scored, and whether a model without vectors can be scored on it."""

    run: ByEncoder | ByRetriever  # ByRetriever exactly when needs_encoder is False
    main_score: str
    needs_encoder: bool  # False: any Retriever (BM25 too) can serve it


EVALUATORS: dict[TaskType, Evaluator] = {
    TaskType.RETRIEVAL: Evaluator(retrieval.evaluate_retrieval, RETRIEVAL_MAIN_SCORE, False),
    TaskType.RERANKING: Evaluator(retrieval.evaluate_reranking, retrieval.RERANKING_MAIN_SCORE, True),
    TaskType.STS: Evaluator(sts.evaluate_sts, sts.MAIN_SCORE, True),
    TaskType.CLASSIFICATION: Evaluator(classification.evaluate_classification, classification.MAIN_SCORE, True),
    TaskType.CLUSTERING: Evaluator(clustering.evaluate_clustering, clustering.MAIN_SCORE, True),
    TaskType.PAIR_CLASSIFICATION: Evaluator(
        pair_classification.evaluate_pair_classification, pair_classification.MAIN_SCORE, True
    ),
    TaskType.BITEXT: Evaluator(bitext.evaluate_bitext, bitext.MAIN_SCORE, True),
}
