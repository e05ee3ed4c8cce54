"""Retrieval checks during training: a target-language dev task and a general (English) one.

Watching both curves is how forgetting shows up while it happens, not after. The checks use
sentence-transformers' ``InformationRetrievalEvaluator`` (the trainer calls it every
``eval_steps``) with the model's own query/document prompts; queries are subsampled with the
run's seed so a check costs seconds, not minutes.
"""

from __future__ import annotations

import random
from pathlib import Path

from sentence_transformers.sentence_transformer.evaluation import SequentialEvaluator

from glotta.data.tasks import RetrievalTask
from glotta.errors import GlottaError


def load_retrieval_task(path: Path, option: str = "--dev-task", split: str | None = None) -> RetrievalTask:
    """The retrieval task ``option`` names (its ``split``, default the task's own); any other task type
    is refused with the option."""
    from glotta.data.benchmarks import load_task
    from glotta.data.task_spec import TaskSpec

    task = load_task(TaskSpec(path=path, split=split))
    if not isinstance(task, RetrievalTask):
        raise GlottaError(f"{option}: a {task.metadata.type.value} task cannot be a dev task during training",
                          fix=f"give {option} a retrieval task folder (BEIR layout)", path=path)
    return task


def retrieval_evaluator(task: RetrievalTask, prompts: tuple[str, str], max_queries: int | None, seed: int,
                        batch_size: int, name: str):
    """sentence-transformers' retrieval evaluator over (a seeded sample of) the task's queries,
    with the prompts the model is trained with: the dev score during training."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    query_ids = sorted(task.queries)
    if max_queries is not None and len(query_ids) > max_queries:
        query_ids = sorted(random.Random(seed).sample(query_ids, max_queries))
    relevant = {q: {d for d, score in task.qrels[q].items() if score > 0} for q in query_ids}
    query_prompt, document_prompt = prompts
    return InformationRetrievalEvaluator(
        queries={q: task.queries[q] for q in query_ids},
        corpus={d: doc.full_text for d, doc in task.corpus.items()},
        relevant_docs=relevant, name=name, batch_size=batch_size, write_csv=False,
        mrr_at_k=[10], ndcg_at_k=[10], accuracy_at_k=[1], precision_recall_at_k=[1, 10], map_at_k=[100],
        query_prompt=query_prompt or None, corpus_prompt=document_prompt or None,
    )


class FullLengthEvaluator(SequentialEvaluator):
    """Runs the checks with the model's own ``max_seq_length``.

    ``--max-seq-length`` cuts texts during training only (speed, memory); dev scores on documents
    cut to 64 tokens would sit far below what ``glotta eval`` reports for the same model
    (multilingual-e5-small on XQuAD-it: 0.83 instead of 0.95), so the cut is lifted while checking.
    """

    def __init__(self, evaluators, max_seq_length: int | None):
        super().__init__(evaluators)
        self.max_seq_length = max_seq_length

    def __call__(self, model, *args, **kwargs):
        cut = model.max_seq_length
        model.max_seq_length = self.max_seq_length or cut
        try:
            return super().__call__(model, *args, **kwargs)
        finally:
            model.max_seq_length = cut
