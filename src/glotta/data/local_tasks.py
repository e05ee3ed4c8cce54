"""Load a task folder (BEIR retrieval layout, or JSONL for the other types) into a typed task.

A folder may carry a ``task.yaml``; whatever neither it nor the benchmark entry says (type,
language, name) is inferred from the files and the folder names, and reported as inferred.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from glotta.data.languages import normalise_language
from glotta.data.records import parse_yaml, read_jsonl, read_text, read_tsv
from glotta.data.task_settings import ClassificationSettings, ClusteringSettings, parse_settings
from glotta.data.task_spec import TaskSpec, parse_task_spec
from glotta.data.tasks import (
    UNLABELLED_SOURCE,
    BitextTask,
    ClassificationTask,
    ClusteringTask,
    Document,
    PairClassificationTask,
    RerankingTask,
    RetrievalTask,
    STSTask,
    Task,
    TaskMetadata,
    TaskType,
)
from glotta.errors import GlottaError

DEFAULT_SPLIT = "test"
_STR = str
_LABEL = (str, int)
_NUMBER = (int, float)


def load_task_folder(spec: TaskSpec) -> Task:
    """Read and validate the task at ``spec.path``; ``spec`` overrides ``task.yaml``."""
    folder = spec.path
    assert folder is not None
    if not folder.is_dir():
        raise GlottaError(
            "not a task folder (it is a file)" if folder.exists() else "task folder not found",
            fix="check the path, or set `data_root` / GLOTTA_DATA to the folder that holds 'tasks/'",
            path=folder,
        )
    spec = _read_task_yaml(folder).updated(spec)
    inferred: list[str] = []
    task_type = spec.type
    if task_type is None:
        task_type = _infer_type(folder, spec.split or DEFAULT_SPLIT)
        inferred.append("type")
    languages = spec.languages
    if languages is None:
        languages = _infer_languages(folder, task_type)
        inferred.append("language")
    split = spec.split or DEFAULT_SPLIT
    metadata = TaskMetadata(
        name=spec.name or folder.name,
        type=task_type,
        languages=languages,
        split=split,
        source=str(folder),
        revision=spec.revision or "",
        license=spec.license,
        origin=spec.origin,
        hf_subset=spec.subset or "default",
        inferred=tuple(inferred),
        settings=parse_settings(task_type, spec.evaluator, spec.where or str(folder)),
    )
    reader = _READERS[task_type]
    task, files = reader(folder, metadata)
    if not spec.revision:
        task.metadata = _with_revision(metadata, files)
    return task


def _read_task_yaml(folder: Path) -> TaskSpec:
    path = folder / "task.yaml"
    if _absent(path):
        return TaskSpec()
    raw = parse_yaml(read_text(path), path)
    if raw is None:
        return TaskSpec()
    if not isinstance(raw, dict):
        raise GlottaError(f"task.yaml holds {type(raw).__name__}, not settings",
                          fix="write one setting per line, e.g. 'type: retrieval' and 'language: ita'", path=path)
    if {"path", "hf", "mteb"} & set(raw):
        raise GlottaError("task.yaml describes its own folder, so it takes no 'path', 'hf' or 'mteb'",
                          fix="remove 'path:'/'hf:'/'mteb:', or move the entry into a benchmark YAML file", path=path)
    return parse_task_spec(raw, where=str(path), base=folder)


def _absent(path: Path) -> bool:
    """Neither a file nor a link: a broken link or a link loop is read, and reported as what it is."""
    return not path.exists() and not path.is_symlink()


def _split_file(folder: Path, split: str, *, layout: str) -> Path:
    path = folder / f"{split}.jsonl"
    if _absent(path):
        available = sorted(p.stem for p in folder.glob("*.jsonl"))
        raise GlottaError(
            f"split {split!r} not found ({layout} tasks keep it in {split}.jsonl)",
            fix=f"choose one of the splits present: {', '.join(available) or 'none'}",
            path=folder,
        )
    return path


def _infer_type(folder: Path, split: str) -> TaskType:
    if (folder / "candidates").is_dir():
        return TaskType.RERANKING
    if not all(_absent(folder / name) for name in ("corpus.jsonl", "queries.jsonl", "qrels")):
        return TaskType.RETRIEVAL
    path = _split_file(folder, split, layout="non-retrieval")
    first = next(read_jsonl(path, {}), None)
    if first is None:
        raise GlottaError("no records", fix="the file needs at least one JSON line", path=path)
    keys = set(first[1])
    if {"sentence1", "sentence2", "score"} <= keys:
        return TaskType.STS
    if {"sentence1", "sentence2", "label"} <= keys:
        return TaskType.PAIR_CLASSIFICATION
    if {"sentence1", "sentence2"} <= keys:
        return TaskType.BITEXT
    if {"text", "label"} <= keys:
        return TaskType.CLASSIFICATION
    raise GlottaError(
        f"cannot tell the task type from the fields {sorted(keys)}",
        fix=f"add a task.yaml with 'type:' ({', '.join(t.value for t in TaskType)}) "
        "or use the layouts of the data README",
        path=path,
        line=first[0],
    )


def _infer_languages(folder: Path, task_type: TaskType) -> tuple[str, ...]:
    """Bitext folders end in ``_<src>_<tgt>``; others sit in a language folder or end in ``_<lang>``."""
    parts = folder.name.split("_")
    if task_type is TaskType.BITEXT and len(parts) >= 3:
        pair = _codes_or_none(parts[-2:])
        if pair:
            return pair
    for candidate in (folder.parent.name, parts[-1]):
        found = _codes_or_none([candidate])
        if found:
            return found
    raise GlottaError(
        "cannot infer the task language from the folder names",
        fix="add a task.yaml with 'language: ita' (or name the folder after the language)",
        path=folder,
    )


def _codes_or_none(codes: list[str]) -> tuple[str, ...] | None:
    if not all(2 <= len(code) <= 3 and code.isalpha() for code in codes):
        return None
    try:
        return tuple(normalise_language(code) for code in codes)
    except GlottaError:
        return None


def _with_revision(metadata: TaskMetadata, files: list[Path]) -> TaskMetadata:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return TaskMetadata(**{**metadata.__dict__, "revision": digest.hexdigest()[:40]})


def _unique(seen: dict[str, object], key: str, path: Path, line: int, what: str) -> None:
    if key in seen:
        raise GlottaError(
            f"duplicate {what} {key!r}",
            fix=f"every {what} must appear once; remove or rename the repeat",
            path=path,
            line=line,
        )


_BEIR_FILES = "corpus.jsonl, queries.jsonl and qrels/<split>.tsv (BEIR layout, see the data README)"
_QRELS = ("query-id", "corpus-id", "score")
_QRELS_FIX = ("write one 'query-id<TAB>corpus-id<TAB>score' row per line (BEIR layout); convert TREC qrels "
              "('qid 0 docid rel') with: awk 'BEGIN{OFS=\"\\t\"; print \"query-id\",\"corpus-id\",\"score\"} "
              "{print $1,$3,($4<0?0:$4)}' FILE")


def _qrels_header(row: list[str]) -> bool:
    """The first row names the columns when its score is a word ('score'), not a grade."""
    try:
        float(row[2])
    except ValueError:
        return bool(row[2].strip())
    return False


def _read_beir(folder: Path, metadata: TaskMetadata) -> tuple[RetrievalTask, set[str], list[Path]]:
    """The retrieval task of a BEIR folder, the ids of all its queries (judged or not), its files.

    The qrels header line is detected, not assumed: a first row whose score is a number is a
    judgement (TREC-style files have no header), anything else names the columns, as in BEIR.
    Grades are MTEB's: whole numbers, 0 for judged non-relevant; negative grades (TREC's -1
    "unjudged", -2 "junk") are refused, since MTEB and pytrec_eval would score them as 0 silently.
    A query may name the generator that wrote it (``"source"``), so its scores are also reported per source.
    """
    corpus_path, queries_path = folder / "corpus.jsonl", folder / "queries.jsonl"
    qrels_path = folder / "qrels" / f"{metadata.split}.tsv"
    for path in (corpus_path, queries_path):
        if _absent(path):
            raise GlottaError(f"retrieval task has no {path.name}", fix=f"a retrieval folder holds {_BEIR_FILES}",
                              path=folder)
    if _absent(qrels_path):
        available = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        raise GlottaError(
            f"split {metadata.split!r} has no relevance judgements (qrels/{metadata.split}.tsv)",
            fix=f"choose one of the splits present: {', '.join(available)}" if available
            else f"a retrieval folder holds {_BEIR_FILES}",
            path=folder,
        )
    corpus: dict[str, Document] = {}
    for line, record in read_jsonl(corpus_path, {"_id": _STR, "text": _STR}):
        _unique(corpus, record["_id"], corpus_path, line, "document id")
        title = record.get("title") or ""
        if not isinstance(title, str):
            raise GlottaError("field 'title' must be a string", path=corpus_path, line=line)
        if not (title.strip() or record["text"].strip()):
            raise GlottaError(
                f"document {record['_id']!r} has no text",
                fix="remove the document or give it a title or text",
                path=corpus_path,
                line=line,
            )
        corpus[record["_id"]] = Document(title=title, text=record["text"])
    queries: dict[str, str] = {}
    sources: dict[str, str] = {}
    for line, record in read_jsonl(queries_path, {"_id": _STR, "text": _STR}, ("text",)):
        _unique(queries, record["_id"], queries_path, line, "query id")
        queries[record["_id"]] = record["text"]
        if "source" in record:
            sources[record["_id"]] = _query_source(record["source"], queries_path, line)
    qrels: dict[str, dict[str, int]] = {}
    rows = read_tsv(qrels_path, _QRELS, is_header=_qrels_header, fix=_QRELS_FIX)
    for line, (query_id, doc_id, score) in rows:
        where = {"path": qrels_path, "line": line}
        if query_id not in queries:
            raise GlottaError(f"query id {query_id!r} is not in queries.jsonl",
                              fix="remove the judgement or add the query", **where)
        if doc_id not in corpus:
            raise GlottaError(f"corpus id {doc_id!r} is not in corpus.jsonl",
                              fix="remove the judgement or add the document", **where)
        try:
            relevance = int(score)
        except ValueError:
            raise GlottaError(f"relevance score {score!r} is not a whole number",
                              fix="grade relevance 0 (not relevant), 1 or more (relevant), as MTEB reads "
                              "them; write 1, not 1.0", **where) from None
        if relevance < 0:
            raise GlottaError(f"relevance score {relevance} is negative",
                              fix="write 0 for a judged non-relevant document (MTEB and pytrec_eval score "
                              "negative grades as 0), or remove the judgement", **where)
        if doc_id in qrels.get(query_id, {}):
            raise GlottaError(f"duplicate judgement for ({query_id!r}, {doc_id!r})",
                              fix="judge each (query, document) pair once; remove the repeat", **where)
        qrels.setdefault(query_id, {})[doc_id] = relevance
    if not qrels:
        raise GlottaError("no relevance judgements", fix=_QRELS_FIX, path=qrels_path)
    judged = {query_id: queries[query_id] for query_id in queries if query_id in qrels}
    labelled = any(query_id in sources for query_id in judged)
    query_sources = {query_id: sources.get(query_id, UNLABELLED_SOURCE) for query_id in judged} if labelled else {}
    task = RetrievalTask(metadata, corpus, judged, qrels, unjudged_queries=len(queries) - len(judged),
                         query_sources=query_sources)
    return task, set(queries), [corpus_path, queries_path, qrels_path]


def _query_source(source: object, path: Path, line: int) -> str:
    """The generator a query names; a number or a blank is a builder's mistake, refused rather than
    grouped under a made-up name."""
    if not isinstance(source, str) or not source.strip():
        raise GlottaError(f"field 'source' must be a non-empty string, not {source!r}",
                          fix="name the generator of the query as text (e.g. 'heading', 'human'), or leave "
                          "'source' out", path=path, line=line)
    return source


def _read_retrieval(folder: Path, metadata: TaskMetadata) -> tuple[RetrievalTask, list[Path]]:
    task, _, files = _read_beir(folder, metadata)
    return task, files


def _read_sts(folder: Path, metadata: TaskMetadata) -> tuple[STSTask, list[Path]]:
    path = _split_file(folder, metadata.split, layout="sts")
    first, second, scores, lines = [], [], [], []
    fields = {"sentence1": _STR, "sentence2": _STR, "score": _NUMBER}
    for line, record in read_jsonl(path, fields, ("sentence1", "sentence2")):
        if not math.isfinite(record["score"]):
            raise GlottaError(f"score {record['score']!r} is not a number",
                              fix="give every pair a finite gold score", path=path, line=line)
        first.append(record["sentence1"])
        second.append(record["sentence2"])
        scores.append(float(record["score"]))
        lines.append(line)
    if not scores:
        raise GlottaError("no pairs", path=path)
    low, high = metadata.settings.scale or (1.0 if min(scores) >= 1 else 0.0, 5.0)
    for line, score in zip(lines, scores, strict=True):
        if not low <= score <= high:
            raise GlottaError(
                f"score {score:g} is outside the gold scale {low:g}-{high:g}",
                fix="correct the score, or declare the scale: 'evaluator: {scale: [low, high]}'",
                path=path,
                line=line,
            )
    return STSTask(metadata, first, second, scores, scale=(low, high)), [path]


def _read_labelled(path: Path, label_field: str) -> tuple[list[str], list[str], list[int]]:
    """Texts, labels (as text) and line numbers of a ``{"text", <label_field>}`` file."""
    texts, labels, lines = [], [], []
    for line, record in read_jsonl(path, {"text": _STR, label_field: _LABEL}, ("text",)):
        texts.append(record["text"])
        labels.append(str(record[label_field]))
        lines.append(line)
    return texts, labels, lines


def _require_labels(labels: list[str], at_least: int, path: Path, what: str) -> None:
    found = sorted(set(labels))
    if len(found) < at_least:
        raise GlottaError(
            f"{what} needs at least {at_least} different labels, found {len(found)} ({', '.join(found) or 'none'})",
            fix="add examples of the missing labels, or drop the task",
            path=path,
        )


def _read_classification(folder: Path, metadata: TaskMetadata) -> tuple[ClassificationTask, list[Path]]:
    settings: ClassificationSettings = metadata.settings
    test_path = _split_file(folder, metadata.split, layout="classification")
    train_path = _split_file(folder, settings.train_split, layout="classification")
    train_texts, train_labels, _ = _read_labelled(train_path, "label")
    test_texts, test_labels, test_lines = _read_labelled(test_path, "label")
    _require_labels(train_labels, 2, train_path, "classification")
    known = set(train_labels)
    for line, label in zip(test_lines, test_labels, strict=True):
        if label not in known:
            raise GlottaError(
                f"label {label!r} appears in {test_path.name} but never in {train_path.name}; "
                "a classifier cannot predict it",
                fix="add training examples of this label, or remove it from the test split",
                path=test_path,
                line=line,
            )
    task = ClassificationTask(metadata, train_texts, train_labels, test_texts, test_labels)
    return task, [train_path, test_path]


def _read_clustering(folder: Path, metadata: TaskMetadata) -> tuple[ClusteringTask, list[Path]]:
    settings: ClusteringSettings = metadata.settings
    paths = [_split_file(folder, split, layout="clustering")
             for split in (settings.splits or (metadata.split,))]
    texts, labels = [], []
    for path in paths:
        split_texts, split_labels, _ = _read_labelled(path, settings.label_field)
        texts += split_texts
        labels += split_labels
    _require_labels(labels, 2, paths[-1], "clustering")
    return ClusteringTask(metadata, texts, labels), paths


def _read_pairs(folder: Path, metadata: TaskMetadata) -> tuple[PairClassificationTask, list[Path]]:
    path = _split_file(folder, metadata.split, layout="pair classification")
    rows = []
    fields = {"sentence1": _STR, "sentence2": _STR, "label": _LABEL}
    for _, record in read_jsonl(path, fields, ("sentence1", "sentence2")):
        rows.append((record["sentence1"], record["sentence2"], str(record["label"])))
    found = sorted({label for *_, label in rows})
    positive, negative = metadata.settings.positive, metadata.settings.negative
    if positive is None:
        if set(found) - {"0", "1"}:
            raise GlottaError(
                f"pair labels are {', '.join(found)}; glotta cannot tell which means 'similar'",
                fix="name it in task.yaml or the benchmark entry: 'evaluator: {positive: <label>}'",
                path=path,
            )
        positive = "1"
    negative = set(negative) if negative is not None else set(found) - {positive}
    for label in (positive, *sorted(negative)):
        if label not in found:
            raise GlottaError(f"label {label!r} named in the evaluator settings never occurs",
                              fix=f"labels present: {', '.join(found)}", path=path)
    kept = [(a, b, int(label == positive)) for a, b, label in rows if label == positive or label in negative]
    if len({label for *_, label in kept}) < 2:
        raise GlottaError("pair classification needs positive and negative pairs",
                          fix=f"labels present: {', '.join(found)}", path=path)
    first, second, labels = (list(column) for column in zip(*kept, strict=True))
    return PairClassificationTask(metadata, first, second, labels), [path]


def _read_bitext(folder: Path, metadata: TaskMetadata) -> tuple[BitextTask, list[Path]]:
    path = _split_file(folder, metadata.split, layout="bitext")
    first, second, ids = [], [], []
    for line, record in read_jsonl(path, {"sentence1": _STR, "sentence2": _STR},
                                   ("sentence1", "sentence2")):
        first.append(record["sentence1"])
        second.append(record["sentence2"])
        ids.append(str(record.get("id", line)))
    if not ids:
        raise GlottaError("no sentence pairs", path=path)
    return BitextTask(metadata, first, second, ids), [path]


def _read_reranking(folder: Path, metadata: TaskMetadata) -> tuple[RerankingTask, list[Path]]:
    """BEIR layout plus ``candidates/<split>.tsv`` (query-id, corpus-id): the lists to rerank.

    The first row is the header when neither of its ids is known (no query of queries.jsonl,
    no document of corpus.jsonl), so a file without a header keeps its first candidate.
    """
    retrieval, query_ids, files = _read_beir(folder, metadata)
    path = folder / "candidates" / f"{metadata.split}.tsv"
    if _absent(path):
        raise GlottaError(f"reranking split {metadata.split!r} has no candidates/{metadata.split}.tsv",
                          fix="add the file: one query-id<TAB>corpus-id row per candidate (a header line is optional)",
                          path=folder)
    candidates: dict[str, list[str]] = {}
    rows = read_tsv(path, ("query-id", "corpus-id"),
                    is_header=lambda row: row[0] not in query_ids and row[1] not in retrieval.corpus)
    for line, (query_id, doc_id) in rows:
        where = {"path": path, "line": line}
        if doc_id not in retrieval.corpus:
            raise GlottaError(f"corpus id {doc_id!r} is not in corpus.jsonl",
                              fix="remove the candidate or add the document", **where)
        if query_id not in query_ids:
            raise GlottaError(f"query id {query_id!r} is not in queries.jsonl",
                              fix="remove the candidate or add the query", **where)
        if query_id not in retrieval.queries:
            continue  # candidates of unjudged queries: MTEB drops these queries too
        if doc_id in candidates.get(query_id, []):
            raise GlottaError(f"duplicate candidate ({query_id!r}, {doc_id!r})",
                              fix="list each candidate of a query once; remove the repeat", **where)
        candidates.setdefault(query_id, []).append(doc_id)
    missing = sorted(set(retrieval.queries) - set(candidates))
    if missing:
        raise GlottaError(f"{len(missing)} judged queries have no candidates (first: {missing[0]!r})",
                          fix="give every judged query its candidate list", path=path)
    task = RerankingTask(metadata, retrieval.corpus, retrieval.queries, retrieval.qrels,
                         retrieval.unjudged_queries, retrieval.query_sources, candidates=candidates)
    return task, [*files, path]


_READERS = {
    TaskType.RETRIEVAL: _read_retrieval,
    TaskType.STS: _read_sts,
    TaskType.CLASSIFICATION: _read_classification,
    TaskType.PAIR_CLASSIFICATION: _read_pairs,
    TaskType.BITEXT: _read_bitext,
    TaskType.CLUSTERING: _read_clustering,
    TaskType.RERANKING: _read_reranking,
}


def describe(task: Task) -> dict[str, int]:
    """Counts shown by ``glotta tasks``."""
    if isinstance(task, RerankingTask):
        return {"queries": len(task.queries), "documents": len(task.corpus),
                "candidates": sum(len(v) for v in task.candidates.values())}
    if isinstance(task, RetrievalTask):
        return {"queries": len(task.queries), "documents": len(task.corpus),
                "judgements": sum(len(v) for v in task.qrels.values())}
    if isinstance(task, ClusteringTask):
        return {"documents": len(task.texts), "clusters": len(set(task.labels))}
    if isinstance(task, ClassificationTask):
        return {"train": len(task.train_texts), "test": len(task.test_texts),
                "labels": len(set(task.train_labels) | set(task.test_labels))}
    return {"pairs": len(task.sentence1)}


