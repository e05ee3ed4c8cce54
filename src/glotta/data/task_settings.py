"""Evaluator settings per task type, as a benchmark entry or ``task.yaml`` gives them.

Defaults are MTEB v2's protocol (REFERENCE.md), so a task without an ``evaluator:`` block is
scored the way MTEB scores it; a block changes only what it names, e.g.::

    evaluator: {samples_per_label: 32}          # a Dutch MTEB classification task
    evaluator: {positive: entailment, negative: [contradiction]}   # SICK-NL pairs
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from glotta.data.tasks import TaskType
from glotta.errors import GlottaError


@dataclass(frozen=True)
class RetrievalSettings:
    top_k: int = 1000
    # A document whose id is the query's id is dropped from its ranking before scoring, as mteb
    # does for corpora that hold the queries themselves (ArguAna: a query is one of the arguments).
    ignore_identical_ids: bool = False


@dataclass(frozen=True)
class STSSettings:
    # Gold scale (low, high) used to normalise gold scores; None: 0-5, or 1-5 when no score < 1.
    scale: tuple[float, float] | None = None


@dataclass(frozen=True)
class ClassificationSettings:
    n_experiments: int = 10
    samples_per_label: int = 8
    max_test: int = 2048  # larger test sets are cut to this size, stratified by label
    max_iter: int = 100
    train_split: str = "train"
    seed: int = 42


@dataclass(frozen=True)
class ClusteringSettings:
    # Splits pooled into one set of documents (SIB-200 clustering pools train, dev and test);
    # None means the task's own split.
    splits: tuple[str, ...] | None = None
    label_field: str = "label"
    n_runs: int = 10
    documents_per_run: int = 16_384  # drawn with replacement, as MTEB's bootstrap does
    # Documents embedded at most (a seeded sample of them, drawn even when all fit, as MTEB draws
    # it); None embeds every document in order without drawing, as MTEB does when a task sets no maximum.
    max_documents: int | None = 100_000
    batch_size: int = 512
    seed: int = 42


@dataclass(frozen=True)
class PairClassificationSettings:
    # The label that counts as "similar"; None only when the labels are already 0/1.
    positive: str | None = None
    # Labels scored as the negative class; None: every label but the positive one. Pairs with
    # other labels are left out (MTEB's SICK-NL task keeps entailment vs contradiction).
    negative: tuple[str, ...] | None = None


@dataclass(frozen=True)
class BitextSettings:
    # The side whose sentences look for their translation among the other side's.
    query_side: str = "sentence1"


SETTINGS_BY_TYPE = {
    TaskType.RETRIEVAL: RetrievalSettings,
    TaskType.RERANKING: RetrievalSettings,
    TaskType.STS: STSSettings,
    TaskType.CLASSIFICATION: ClassificationSettings,
    TaskType.CLUSTERING: ClusteringSettings,
    TaskType.PAIR_CLASSIFICATION: PairClassificationSettings,
    TaskType.BITEXT: BitextSettings,
}


def parse_settings(task_type: TaskType, raw: dict | None, where: str):
    """The settings dataclass for ``task_type`` with ``raw``'s values checked and applied."""
    cls = SETTINGS_BY_TYPE[task_type]
    raw = raw or {}
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise GlottaError(
            f"unknown {task_type.value} evaluator setting(s) {', '.join(map(repr, unknown))}",
            fix=f"allowed: {', '.join(known) or 'none'}",
            path=where,
        )
    values = {name: _coerce(name, known[name].type, value, where) for name, value in raw.items()}
    settings = cls(**values)
    if isinstance(settings, BitextSettings) and settings.query_side not in {"sentence1", "sentence2"}:
        raise GlottaError(f"query_side {settings.query_side!r} is not a column",
                          fix="use sentence1 or sentence2", path=where)
    if isinstance(settings, STSSettings) and settings.scale and settings.scale[0] >= settings.scale[1]:
        raise GlottaError(f"scale {list(settings.scale)} is empty", fix="write scale: [low, high]", path=where)
    return settings


def _coerce(name: str, annotation: str, value: object, where: str):
    def fail(expected: str):
        return GlottaError(f"evaluator setting {name!r} must be {expected}, got {value!r}", path=where)

    if annotation == "int | None" and value is None:
        return None
    if annotation in {"int", "int | None"}:
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "seed" else 1):
            raise fail("a positive whole number")
        return value
    if annotation == "bool":
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if annotation in {"str", "str | None"}:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise fail("text")
        return str(value)
    if annotation == "tuple[str, ...] | None":
        items = [value] if isinstance(value, str | int) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str | int) for i in items):
            raise fail("a list of names")
        return tuple(str(i) for i in items)
    if annotation == "tuple[float, float] | None":
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
            raise fail("[low, high]")
        return (float(value[0]), float(value[1]))
    raise AssertionError(f"no coercion for {annotation}")  # a settings field of a new type
