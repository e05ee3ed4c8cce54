"""Should this model be fine-tuned at all? A check before training.

The Italian study fine-tuned models that already scored above 0.90 nDCG@10 on its Italian
retrieval set and lost ground everywhere: near the ceiling there is little to gain and a
lot to forget. glotta scores the base on the target dev task first and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from glotta.data.tasks import Task
from glotta.errors import GlottaError

DEFAULT_THRESHOLD = 0.90  # the study's nDCG@10 ceiling

REMEDIES = (
    "keep the base model: it may already be good enough for this language",
    "train briefly with a low learning rate and watch the general (English) dev score during training",
    "mix general-language pairs into training as an extra source (glotta train --general FILE)",
    "interpolate the weights afterwards (glotta merge BASE TUNED --sweep 0.25,0.5,0.75) and pick the alpha "
    "that keeps the general score",
)


@dataclass(frozen=True)
class Advice:
    model: str
    task: str
    metric: str
    score: float
    threshold: float

    @property
    def saturated(self) -> bool:
        return self.score >= self.threshold

    def lines(self) -> list[str]:
        head = f"{self.model} scores {self.metric} {self.score:.4f} on {self.task} (threshold {self.threshold:.2f})"
        if not self.saturated:
            return [f"{head}: room to improve, fine-tuning is reasonable."]
        return [f"{head}: already near the ceiling.",
                "Risk: little left to gain on this task, while fine-tuning can erase what the model knows "
                "elsewhere (catastrophic forgetting; the Italian study lost 11% and 49% this way).",
                "Remedies:", *[f"  - {remedy}" for remedy in REMEDIES]]


def advise(model: str, task: Task, results: Path, options, threshold: float = DEFAULT_THRESHOLD,
           progress=None) -> Advice:
    """Score ``model`` on ``task`` (results are saved and reused) and compare with the threshold."""
    from glotta.evaluation.evaluators import EVALUATORS
    from glotta.evaluation.runner import run_evaluation

    [outcome] = run_evaluation([task], [model], results, options, progress=progress)
    metric = EVALUATORS[task.metadata.type].main_score
    if outcome.main_score is None:
        raise GlottaError(f"{model} cannot be scored on {task.metadata.name}: {outcome.reason}",
                          fix="use an embedding model and a retrieval dev task")
    return Advice(outcome.model, task.metadata.name, metric, float(outcome.main_score), threshold)
