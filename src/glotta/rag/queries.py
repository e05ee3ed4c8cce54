"""Queries for a custom benchmark without an LLM: section headings, and sentences cut out of chunks.

Both come from the user's documents, so they cost nothing and need no endpoint; both would be
trivial if the answer still held the query's words verbatim, so each query says what must be
hidden from the corpus: a heading asked as a query leaves its section's chunk titles (and its
line in the text), an inverse-cloze sentence is removed from every chunk that holds it.
Every candidate left out is counted under its reason.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from glotta.data.sentences import sentence_splitter
from glotta.rag.chunking import Chunk
from glotta.rag.ingest import Document, Heading

MIN_CLOZE_SENTENCES = 3  # the chunk keeps at least two sentences of context once one is cut out


@dataclass(frozen=True)
class Span:
    """A character span of one document."""

    document_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Query:
    """A query, where its answer lies, and what the corpus must not show it.

    ``answers`` are spans a relevant chunk must *hold* (at least the answer share of one);
    ``sections`` are spans a relevant chunk must lie *within* (most of the chunk inside one).
    """

    text: str
    source: str
    document_id: str
    answers: tuple[Span, ...] = ()
    sections: tuple[Span, ...] = ()
    hidden_text: tuple[Span, ...] = ()  # removed from every chunk text that overlaps them
    hidden_heading: Heading | None = None  # left out of the titles of its document's chunks
    line: int | None = None  # the line of a person's question in the --questions file


@dataclass(frozen=True)
class Sampling:
    """How many queries a source yields, and how they spread over documents."""

    num_queries: int = 500
    per_document: int = 3
    min_words: int = 3
    max_words: int = 40
    seed: int = 13


def words(text: str) -> int:
    return len(text.split())


def normalised(text: str) -> str:
    """Case- and whitespace-insensitive form, for duplicates and matching."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def take(candidates: Iterable[Query], sampling: Sampling, drops: Counter) -> list[Query]:
    """The first ``num_queries`` candidates, at most ``per_document`` per document, no repeated text."""
    chosen, per_document, seen = [], Counter(), set()
    for query in candidates:
        if len(chosen) == sampling.num_queries:
            break
        if per_document[query.document_id] >= sampling.per_document:
            drops["document's cap reached"] += 1
            continue
        if normalised(query.text) in seen:
            drops["duplicate query"] += 1
            continue
        seen.add(normalised(query.text))
        per_document[query.document_id] += 1
        chosen.append(query)
    return chosen


def heading_queries(documents: list[Document], sampling: Sampling, drops: Counter) -> list[Query]:
    """Each heading asks for its section (up to the next heading of the same or a higher level).

    A heading that several sections share ("Begripsbepalingen", "Slotbepalingen") names none of
    them, and one that is the document's title is in every chunk's title: both are left out.
    """
    shared = Counter(normalised(h.text) for d in documents for h in d.headings)
    candidates = []
    for document in documents:
        for position, heading in enumerate(document.headings):
            in_text = document.text.startswith(heading.text, heading.offset)
            body = heading.offset + len(heading.text) if in_text else heading.offset
            end = next((h.offset for h in document.headings[position + 1:] if h.level <= heading.level),
                       len(document.text))
            reason = None
            if not sampling.min_words <= words(heading.text) <= sampling.max_words:
                reason = "heading length out of bounds"
            elif normalised(heading.text) == normalised(document.title):
                reason = "heading is the document's title"
            elif shared[normalised(heading.text)] > 1:
                reason = "heading shared by several sections"
            elif not document.text[body:end].strip():
                reason = "section without text"
            if reason:
                drops[reason] += 1
                continue
            hidden = (Span(document.id, heading.offset, body),) if in_text else ()
            candidates.append(Query(heading.text, "heading", document.id, sections=(Span(document.id, body, end),),
                                    hidden_text=hidden, hidden_heading=heading))
    random.Random(f"{sampling.seed}:heading").shuffle(candidates)
    return take(candidates, sampling, drops)


def cloze_queries(documents: list[Document], chunks: list[Chunk], language: str, sampling: Sampling,
                  drops: Counter) -> list[Query]:
    """Inverse cloze (ICT, Lee et al. 2019): one sentence of a chunk is the query, cut out of the corpus.

    The sentence must occur once in all the documents (a boilerplate sentence repeated elsewhere
    would match those places verbatim), and its chunk must keep two sentences of context.
    """
    rng = random.Random(f"{sampling.seed}:cloze")
    split = sentence_splitter(language)
    everything = "\x00".join(document.text for document in documents)
    order = list(range(len(chunks)))
    rng.shuffle(order)

    def candidates() -> Iterator[Query]:
        for number in order:
            chunk = chunks[number]
            sentences = split(chunk.text)
            if len(sentences) < MIN_CLOZE_SENTENCES:
                drops["chunk of fewer than 3 sentences"] += 1
                continue
            eligible = [(s, e) for s, e in sentences
                        if sampling.min_words <= words(chunk.text[s:e]) <= sampling.max_words]
            if not eligible:
                drops["no sentence of a usable length"] += 1
                continue
            start, end = rng.choice(eligible)
            sentence = chunk.text[start:end]
            if everything.count(sentence) > 1:
                drops["sentence repeated elsewhere in the documents"] += 1
                continue
            span = Span(chunk.document_id, chunk.start + start, chunk.start + end)
            yield Query(sentence, "cloze", chunk.document_id, answers=(span,), hidden_text=(span,))
    return take(candidates(), sampling, drops)

