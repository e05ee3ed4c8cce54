"""From queries and chunks to relevance judgements and the corpus a retriever sees.

A chunk is judged by where it lies in its document, not by its text: an answer span makes
relevant every chunk (or merged duplicate of it) that holds ``answer_share`` of the span or lies
mostly inside it; a section makes relevant every chunk lying mostly inside it or holding most
of it. Near-duplicates of a relevant chunk are relevant too: a retriever cannot tell them apart,
and scoring one as a miss would punish the right answer. Then the queries' hidden spans and
headings are taken out of the corpus.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from glotta.rag.chunking import Chunk, Chunked, chunk_title
from glotta.rag.ingest import Document, Heading
from glotta.rag.queries import Query, Span

SECTION_SHARE = 0.5


@dataclass(frozen=True)
class Placement:
    """Where a chunk's text lies: its own span, or the span of an identical chunk merged into it."""

    chunk_id: str
    start: int
    end: int


def placements(chunks: list[Chunk]) -> dict[str, list[Placement]]:
    """Document id -> every place a chunk's text occupies in it (aliases included)."""
    by_document: dict[str, list[Placement]] = {}
    for chunk in chunks:
        by_document.setdefault(chunk.document_id, []).append(Placement(chunk.id, chunk.start, chunk.end))
        for alias in chunk.aliases:
            document_id, _, span = alias.rpartition("#")
            start, _, end = span.partition("-")
            by_document.setdefault(document_id, []).append(Placement(chunk.id, int(start), int(end)))
    return by_document


def _covers(span: Span, place: Placement, share: float) -> bool:
    overlap = max(0, min(span.end, place.end) - max(span.start, place.start))
    return overlap > 0 and (overlap >= share * (span.end - span.start) or overlap >= 0.5 * (place.end - place.start))


def relevant_chunks(query: Query, by_document: dict[str, list[Placement]], groups: dict[str, list[str]],
                    answer_share: float) -> set[str]:
    found = set()
    for spans, share in ((query.answers, answer_share), (query.sections, SECTION_SHARE)):
        for span in spans:
            found |= {p.chunk_id for p in by_document.get(span.document_id, ()) if _covers(span, p, share)}
    return found | {member for chunk_id in found for member in groups.get(chunk_id, ())}


@dataclass
class Judged:
    """The corpus as the retriever sees it, and each kept query's relevant chunk ids."""

    chunks: list[Chunk]
    queries: list[Query]
    qrels: list[set[str]]
    drops: Counter
    hidden_chunks: int  # chunks whose text or title lost a query's words


def judge(queries: list[Query], chunked: Chunked, documents: list[Document], answer_share: float) -> Judged:
    by_document = placements(chunked.chunks)
    groups = {chunk_id: group for group in chunked.near_duplicates for chunk_id in group}
    drops: Counter = Counter()
    kept, qrels = [], []
    for query in queries:
        relevant = relevant_chunks(query, by_document, groups, answer_share)
        if not relevant:  # an answer shorter than the share of any chunk's overlap cannot happen; a lost span can
            drops[(query.source, "no chunk holds the answer")] += 1
            continue
        kept.append(query)
        qrels.append(relevant)
    chunks, changed = _hide(kept, chunked.chunks, by_document, {d.id: d for d in documents})
    present = {chunk.id for chunk in chunks}
    final_queries, final_qrels = [], []
    for query, relevant in zip(kept, qrels, strict=True):
        relevant &= present
        if relevant:
            final_queries.append(query)
            final_qrels.append(relevant)
        else:
            drops[(query.source, "every relevant chunk emptied by hiding")] += 1
    return Judged(chunks, final_queries, final_qrels, drops, changed)


def _hide(queries: list[Query], chunks: list[Chunk], by_document: dict[str, list[Placement]],
          documents: dict[str, Document]) -> tuple[list[Chunk], int]:
    """The chunks with every query's hidden text cut out and hidden headings out of their titles.

    A chunk left with no text is removed: what is left of it is the query it would give away.
    """
    cuts: dict[str, list[str]] = {}
    for query in queries:
        for span in query.hidden_text:
            document = documents[span.document_id]
            for place in by_document.get(span.document_id, ()):
                start, end = max(span.start, place.start), min(span.end, place.end)
                if start < end:
                    cuts.setdefault(place.chunk_id, []).append(document.text[start:end])
    hidden: dict[str, set[Heading]] = {}
    for query in queries:
        if query.hidden_heading is not None:
            hidden.setdefault(query.document_id, set()).add(query.hidden_heading)
    result, changed = [], 0
    for chunk in chunks:
        text, title = chunk.text, chunk.title
        for part in cuts.get(chunk.id, ()):
            text = text.replace(part, " ", 1)
        if chunk.id in cuts:
            text = "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())
        if chunk.document_id in hidden:
            title = chunk_title(documents[chunk.document_id], chunk.start, frozenset(hidden[chunk.document_id]))
        if (text, title) != (chunk.text, chunk.title):
            changed += 1
        if text.strip():
            result.append(replace(chunk, text=text, title=title))
    return result, changed
