"""Typed evaluation tasks: the data of one split plus the metadata MTEB keeps beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from glotta.errors import GlottaError


class TaskType(StrEnum):
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
    main_score: str | None = None  # the metric reported as main_score (MTEB's choice); None: the evaluator's

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


UNLABELLED_SOURCE = "unlabelled"  # the source of a query without one, in a task whose other queries name theirs


@dataclass
class RetrievalTask:
    metadata: TaskMetadata
    corpus: dict[str, Document]
    queries: dict[str, str]  # only queries with at least one judgement
    qrels: dict[str, dict[str, int]]
    unjudged_queries: int = 0
    # query id -> the generator that wrote it (queries.jsonl's 'source'), for scores per source; empty: none named
    query_sources: dict[str, str] = field(default_factory=dict)


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


def check_unique_tasks(tasks: Sequence[Task]) -> None:
    """Refuse, before any work, tasks whose results would land on each other.

    A result file holds one task (its name, dataset revision and type) with one entry per
    (split, subset): two tasks with the same name, subset and split would overwrite one entry,
    and two of one name with other data or another type would replace each other's file.
    """
    entries: dict[tuple[str, str, str], int] = {}
    first: dict[str, TaskMetadata] = {}
    for task in tasks:
        md = task.metadata
        key = (md.name, md.hf_subset, md.split)
        entries[key] = entries.get(key, 0) + 1
        other = first.setdefault(md.name, md)
        if (other.revision, other.type) != (md.revision, md.type):
            what = (f"dataset revisions {other.revision!r} and {md.revision!r}" if other.revision != md.revision
                    else f"types {other.type.value} and {md.type.value}")
            raise GlottaError(f"two tasks named {md.name} differ ({what}); one result file holds one task",
                              fix="give one a different 'name:' in its task.yaml or benchmark entry")
    repeated = [key for key, count in entries.items() if count > 1]
    if repeated:
        shown = ", ".join(name if subset == "default" else f"{name} (subset {subset})" for name, subset, _ in repeated)
        raise GlottaError(
            f"tasks listed twice (same name, subset and split): {shown}; their results would overwrite each other",
            fix="list each task once, or give one a different 'name:' in its task.yaml or benchmark entry",
        )
