"""Build a retrieval benchmark from a user's own documents: the folder ``glotta eval --task`` scores.

ingest -> chunk -> queries from each source -> relevance judgements -> dev/test split by
document -> a BEIR folder (``corpus.jsonl`` with each chunk's document and offsets,
``queries.jsonl`` with each query's source, ``qrels/<split>.tsv``), ``task.yaml``,
``manifest.json`` (inputs and their hashes, settings, versions, counts, every filter's drops)
and ``build_report.md``. The folder is written beside its destination and renamed onto it, so
it is whole or absent; with an LLM, an interrupted build asks again only what is not cached.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata as package_metadata
from pathlib import Path

from glotta.data.atomic import write_folder_atomic
from glotta.data.digests import file_sha256
from glotta.errors import GlottaError
from glotta.rag.chunking import chunk_documents, load_tokenizer
from glotta.rag.ingest import Ingested, ingest
from glotta.rag.llm_queries import LLMQuerySettings, LLMQueryWriter, prompt_hash
from glotta.rag.queries import Query, Sampling, cloze_queries, heading_queries
from glotta.rag.questions import read_questions
from glotta.rag.relevance import judge

SOURCES = ("heading", "cloze", "llm")
DEFAULT_TOKENIZER = "sentence-transformers/all-MiniLM-L6-v2"  # offline everywhere; its window is the smallest
VERSIONED = ("glotta", "pypdf", "python-docx", "trafilatura", "semchunk", "datasketch", "pysbd", "transformers",
             "langid")


@dataclass(frozen=True)
class BuildSettings:
    language: str  # ISO 639-3
    name: str
    sources: tuple[str, ...] = ("heading", "cloze")
    tokenizer: str = DEFAULT_TOKENIZER
    chunk_tokens: int = 200
    overlap: int = 32
    sampling: Sampling = field(default_factory=Sampling)
    answer_share: float = 0.3
    dev_share: float = 0.0  # documents holding queries that go to the dev split
    max_documents: int | None = None
    license: str = "not stated"
    llm: LLMQuerySettings | None = None

    def check(self) -> None:
        unknown = sorted(set(self.sources) - set(SOURCES))
        if unknown:
            raise GlottaError(f"unknown query source {unknown[0]!r}", parameter="sources",
                              fix=f"choose from {', '.join(SOURCES)} (questions come from --questions)")
        if not 0 < self.answer_share <= 1:
            raise GlottaError(f"`answer_share` must be in (0, 1], not {self.answer_share}", parameter="answer_share",
                              fix="e.g. 0.3: a chunk holding 30% of an answer is relevant")
        if not 0 <= self.dev_share < 1:
            raise GlottaError(f"the dev share must be in [0, 1), not {self.dev_share}", parameter="split",
                              fix="e.g. --split dev=0.2 (a fifth of the documents with queries)")
        if self.sampling.min_words > self.sampling.max_words:
            raise GlottaError("the shortest query allowed is longer than the longest", parameter="min_words",
                              fix="lower the minimum or raise the maximum")


def _versions() -> dict[str, str | None]:
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def split_documents(queries: list[Query], dev_share: float, seed: int) -> dict[str, str]:
    """Document id -> "dev" or "test", for the documents that hold queries; no document is in both."""
    owners = sorted({query.document_id for query in queries})
    random.Random(f"{seed}:split").shuffle(owners)
    dev = round(dev_share * len(owners))
    if dev_share and not 0 < dev < len(owners):
        raise GlottaError(f"{len(owners)} documents hold queries: too few to give both splits some",
                          parameter="split", fix="add documents or queries, or build without --split")
    return {owner: "dev" if number < dev else "test" for number, owner in enumerate(owners)}


def build_benchmark(paths: list[str | Path], out: str | Path, settings: BuildSettings, *,
                    questions: str | Path | None = None, client=None, overwrite: bool = False,
                    say: Callable[[str], None] = lambda _: None, read: Ingested | None = None) -> dict:
    """Write the benchmark folder ``out``; returns its manifest.

    ``client`` is a ``training.llm_client.ChatClient`` when ``settings.sources`` holds ``llm``;
    ``read`` is ``ingest(paths)`` when the caller needs the documents too (they are read once).
    """
    from glotta.data.atomic import refuse_existing

    paths, out = [Path(p) for p in paths], Path(out)
    questions = None if questions is None else Path(questions)
    settings.check()
    refuse_existing(out, overwrite)
    if "llm" in settings.sources and (client is None or settings.llm is None):
        raise GlottaError("the llm query source needs an OpenAI-compatible endpoint", parameter="sources",
                          fix="pass --llm-base-url and --llm-model, or leave llm out of --queries")
    if not settings.sources and questions is None:
        raise GlottaError("no query source", parameter="sources",
                          fix="give --queries (heading, cloze, llm) and/or --questions FILE")
    tokenizer = load_tokenizer(settings.tokenizer)
    read = read if read is not None else ingest(paths)
    documents = read.documents[: settings.max_documents]
    say(f"read {len(documents):,} documents ({len(read.skipped)} files skipped)")
    chunked = chunk_documents(documents, tokenizer, settings.chunk_tokens, settings.overlap)
    say(f"{len(chunked.chunks):,} chunks ({chunked.merged} identical merged, "
        f"{len(chunked.near_duplicates)} near-duplicate groups)")

    drops: Counter = Counter()
    queries: list[Query] = []
    not_found: list[tuple[int, str]] = []
    if questions is not None:
        asked = read_questions(questions, documents)
        queries += asked.queries
        not_found = asked.not_found
        if not_found:
            drops[("human", "answer found in no document")] = len(not_found)
    for source in settings.sources:
        counted: Counter = Counter()
        if source == "heading":
            made = heading_queries(documents, settings.sampling, counted)
        elif source == "cloze":
            made = cloze_queries(documents, chunked.chunks, settings.language, settings.sampling, counted)
        else:
            made = LLMQueryWriter(settings.llm, client, settings.sampling).queries(chunked.chunks, counted)
        drops.update({(source, reason): count for reason, count in counted.items()})
        queries += made
        say(f"{source}: {len(made):,} queries")
    judged = judge(queries, chunked, documents, settings.answer_share)
    drops.update(judged.drops)
    if not judged.queries:
        raise GlottaError("no query survived its filters: the benchmark would be empty "
                          f"({_drops_text(drops)})", fix="add documents or sources, or relax --min-words/--max-words")
    splits = split_documents(judged.queries, settings.dev_share, settings.sampling.seed)
    ids = _query_ids(judged.queries)

    manifest = {
        "name": settings.name,
        "language": settings.language,
        "inputs": _inputs(paths, documents, read.skipped),
        "settings": _settings_record(settings, questions),
        "versions": _versions(),
        "counts": {
            "documents": len(documents),
            "pages": sum(len(d.pages) for d in documents),
            "files skipped": dict(read.skipped_by_reason),
            "chunks": len(judged.chunks),
            "chunk tokens": sum(c.tokens for c in chunked.chunks),
            "identical chunks merged": chunked.merged,
            "near-duplicate groups": len(chunked.near_duplicates),
            "chunks in near-duplicate groups": sum(map(len, chunked.near_duplicates)),
            "chunks with query words hidden": judged.hidden_chunks,
            "chunks removed (nothing left once hidden)": len(chunked.chunks) - len(judged.chunks),
            "queries": dict(sorted(Counter(_split_source(q, splits) for q in judged.queries).items())),
            "judgements": sum(map(len, judged.qrels)),
        },
        "dropped": _nested(drops),
        "answers not found": [{"line": line, "answer": answer} for line, answer in not_found],
        "skipped files": [{"path": path, "reason": reason} for path, reason in read.skipped],
        "documents by split": {name: sorted(d for d, s in splits.items() if s == name)
                               for name in sorted(set(splits.values()))},
    }
    if settings.llm is not None and "llm" in settings.sources:
        manifest["prompt hash"] = prompt_hash(settings.language, settings.llm.styles)

    def write(folder: Path) -> None:
        _write_corpus(folder / "corpus.jsonl", judged.chunks)
        _write_jsonl(folder / "queries.jsonl", [{"_id": ids[n], "text": q.text, "source": q.source,
                                                 "document": q.document_id} for n, q in enumerate(judged.queries)])
        (folder / "qrels").mkdir()
        for split in sorted(set(splits.values())):
            lines = ["query-id\tcorpus-id\tscore"]
            for number, (query, relevant) in enumerate(zip(judged.queries, judged.qrels, strict=True)):
                if splits[query.document_id] == split:
                    lines += [f"{ids[number]}\t{chunk_id}\t1" for chunk_id in sorted(relevant)]
            (folder / "qrels" / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / "task.yaml").write_text(_task_yaml(settings), encoding="utf-8")
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
        (folder / "build_report.md").write_text(build_report(manifest), encoding="utf-8")

    write_folder_atomic(out, write)
    return manifest


def _query_ids(queries: list[Query]) -> list[str]:
    """``<source>-<n>``, numbered per source; a person's question is numbered by its line in --questions."""
    numbers: Counter = Counter()
    ids = []
    for query in queries:
        numbers[query.source] += 1
        ids.append(f"{query.source}-{numbers[query.source] if query.line is None else query.line:05d}")
    return ids


def _split_source(query: Query, splits: dict[str, str]) -> str:
    return f"{splits[query.document_id]} {query.source}"


def _nested(drops: Counter) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (source, reason), count in sorted(drops.items()):
        nested.setdefault(source, {})[reason] = count
    return nested


def _drops_text(drops: Counter) -> str:
    return "; ".join(f"{source}: {count} {reason}" for (source, reason), count in drops.most_common(6)) or "none"


def _inputs(paths: list[Path], documents, skipped) -> list[dict]:
    files = sorted({d.source for d in documents} | {path for path, _ in skipped})
    return [{"path": path, "bytes": Path(path).stat().st_size, "sha256": file_sha256(Path(path))} for path in files]


def _settings_record(settings: BuildSettings, questions: Path | None) -> dict:
    record = asdict(settings)
    record["questions"] = None if questions is None else str(questions)
    return record


def _task_yaml(settings: BuildSettings) -> str:
    import yaml

    spec = {"name": settings.name, "type": "retrieval", "language": settings.language, "license": settings.license,
            "source": "glotta rag build (manifest.json says from what)"}
    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)


def _write_jsonl(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as stream:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def _write_corpus(path: Path, chunks) -> None:
    _write_jsonl(path, [{"_id": c.id, "title": c.title, "text": c.text, "document": c.document_id, "start": c.start,
                         "end": c.end, "tokens": c.tokens, "pages": list(c.pages), "aliases": list(c.aliases)}
                        for c in chunks])


def build_report(manifest: dict) -> str:
    """A page a person reads: what went in, what came out, what was left out and why."""
    counts = manifest["counts"]
    lines = [f"# {manifest['name']}: a retrieval benchmark built from your documents", "",
             f"Language {manifest['language']}; {counts['documents']:,} documents"
             + (f" ({counts['pages']:,} PDF pages)" if counts["pages"] else "")
             + f", {counts['chunks']:,} chunks ({counts['chunk tokens']:,} tokens), "
             f"{counts['judgements']:,} relevance judgements.", "",
             "## Queries", "", "| split and source | queries |", "|---|---:|"]
    lines += [f"| {name} | {count:,} |" for name, count in sorted(counts["queries"].items())]
    lines += ["", "## Left out, and why", ""]
    if manifest["dropped"]:
        lines += ["| source | reason | count |", "|---|---|---:|"]
        lines += [f"| {source} | {reason} | {count:,} |" for source, reasons in manifest["dropped"].items()
                  for reason, count in reasons.items()]
    else:
        lines.append("Nothing.")
    for row in manifest["answers not found"]:
        lines.append(f"- --questions line {row['line']}: answer not found in any document: {row['answer'][:80]!r}")
    skipped = counts["files skipped"]
    if skipped:
        lines += ["", "Files skipped: " + ", ".join(f"{n} {reason}" for reason, n in skipped.items())
                  + " (each listed in manifest.json)."]
    lines += ["", "## Duplicates", "",
              f"{counts['identical chunks merged']:,} identical chunks merged into one id each; "
              f"{counts['chunks in near-duplicate groups']:,} chunks in {counts['near-duplicate groups']:,} "
              "near-duplicate groups, judged equally relevant. "
              f"{counts['chunks with query words hidden']:,} chunks had a query's words (an inverse-cloze sentence "
              "or a heading asked as a query) taken out.", "",
              "Score it with `glotta eval --task <this folder> --model ...`"
              + (" (`--split dev` for the dev split)." if "dev" in manifest["documents by split"] else ".")]
    return "\n".join(lines) + "\n"
