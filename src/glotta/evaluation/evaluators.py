"""Which evaluator scores which task type, what it needs from a model, and its main score."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from glotta.data.tasks import TaskType
from glotta.evaluation import bitext, classification, clustering, pair_classification, retrieval, sts
from glotta.evaluation.retrieval_metrics import MAIN_SCORE as RETRIEVAL_MAIN_SCORE


@dataclass(frozen=True)
class Evaluator:
    run: Callable  # (task, retriever-or-encoder, progress) -> scores
    main_score: str
    needs_encoder: bool  # False: any retriever (BM25 too) can serve it


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
