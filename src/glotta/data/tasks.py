"""Typed evaluation tasks: the data of one split plus the metadata MTEB keeps beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class TaskType(str, Enum):
    RETRIEVAL = "retrieval"
    STS = "sts"
    CLASSIFICATION = "classification"
    PAIR_CLASSIFICATION = "pair_classification"
    BITEXT = "bitext"


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
class STSTask:
    metadata: TaskMetadata
    sentence1: list[str]
    sentence2: list[str]
    scores: list[float]


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
    labels: list[str]


@dataclass
class BitextTask:
    metadata: TaskMetadata
    sentence1: list[str]
    sentence2: list[str]
    ids: list[str] = field(default_factory=list)


Task = RetrievalTask | STSTask | ClassificationTask | PairClassificationTask | BitextTask
