"""Typed evaluation tasks: the data of one split plus the metadata MTEB keeps beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from glotta.errors import GlottaError


class TaskType(str, Enum):
    RETRIEVAL = "retrieval"
    STS = "sts"
    CLASSIFICATION = "classification"
    PAIR_CLASSIFICATION = "pair_classification"
    BITEXT = "bitext"
    CLUSTERING = "clustering"
    RERANKING = "reranking"


@dataclass(frozen=True)
class TaskMetadata:
    """Who, what and where of a task; ``inferred`` names fields glotta guessed, for reporting."""

    name: str
    type: TaskType
    languages: tuple[str, ...]  # ISO 639-3 + script, e.g. ("ita-Latn",)
    split: str
    source: str  # folder path or "hf:<dataset id>"
    revision: str  # content hash of the files, or the HF dataset revision
    license: str | None = None
    origin: str | None = None  # where the data comes from (a URL or citation)
    hf_subset: str = "default"
    inferred: tuple[str, ...] = ()
    settings: object = None  # the evaluator's settings (glotta.data.task_settings), validated

    @property
    def is_monolingual(self) -> bool:
        return len({language.split("-")[0] for language in self.languages}) == 1


@dataclass(frozen=True)
class Document:
    title: str
    text: str

    @property
    def full_text(self) -> str:
        """Title and text joined as MTEB v2 joins them for dense models."""
        return f"{self.title} {self.text}".strip() if self.title else self.text.strip()


@dataclass
class RetrievalTask:
    metadata: TaskMetadata
    corpus: dict[str, Document]
    queries: dict[str, str]  # only queries with at least one judgement
    qrels: dict[str, dict[str, int]]
    unjudged_queries: int = 0


@dataclass
class RerankingTask(RetrievalTask):
    """Retrieval restricted to each query's candidate list (MTEB's ``top_ranked``)."""

    candidates: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class STSTask:
    metadata: TaskMetadata
    sentence1: list[str]
    sentence2: list[str]
    scores: list[float]
    scale: tuple[float, float] = (0.0, 5.0)  # gold scale, for normalising scores to 0-1


@dataclass
class ClassificationTask:
    metadata: TaskMetadata
    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]


@dataclass
class PairClassificationTask:
    metadata: TaskMetadata
    sentence1: list[str]
    sentence2: list[str]
    labels: list[int]  # 1 = the settings' positive label, 0 = a negative one


@dataclass
class BitextTask:
    metadata: TaskMetadata
    sentence1: list[str]
    sentence2: list[str]
    ids: list[str] = field(default_factory=list)

    def __post_init__(self):
        if len(self.sentence1) != len(self.sentence2):
            raise GlottaError(
                f"bitext sides differ in length ({len(self.sentence1)} vs {len(self.sentence2)} sentences)",
                fix="give every sentence its translation on the same row",
                path=self.metadata.source,
            )


@dataclass
class ClusteringTask:
    """Labelled texts; the labels are the gold clusters."""

    metadata: TaskMetadata
    texts: list[str]
    labels: list[str]


Task = (RetrievalTask | RerankingTask | STSTask | ClassificationTask | PairClassificationTask
        | BitextTask | ClusteringTask)
