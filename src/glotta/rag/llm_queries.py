"""Queries written by an LLM for sampled chunks, and the filters that keep only usable ones.

The complaints about today's test-set generators are what the filters are for: a preamble
("Here is a question:") kept as the query, queries in the wrong language, queries that copy the
chunk's words, "according to the text" references that no real user would type, near-duplicate
questions. Each filter counts what it drops, so a build that keeps little says why. The LLM
calls go through ``training.llm_client`` (retries, concurrency, on-disk cache: an interrupted
build resumes from the cache) and the language check is ``training.synthetic``'s.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass

from glotta.data.languages import language_name
from glotta.rag.chunking import Chunk
from glotta.rag.queries import Query, Sampling, Span, normalised, take, words
from glotta.training.llm_client import ChatClient
from glotta.training.synthetic import detected_language

STYLES = ("question", "keywords", "paraphrase")
_REPLY_FORMAT = {"ita": 'Rispondi solo con JSON: {{"query": "..."}}',
                 "nld": 'Antwoord alleen met JSON: {{"query": "..."}}',
                 None: 'Reply with JSON only: {{"query": "..."}}'}
_TASKS = {
    "ita": {"question": "Scrivi in italiano una domanda che una persona farebbe a un motore di ricerca e a cui "
                        "il testo seguente risponde.",
            "keywords": "Scrivi in italiano una ricerca di 2-6 parole chiave con cui una persona troverebbe "
                        "il testo seguente.",
            "paraphrase": "Riformula in italiano, con parole tue e in una sola frase, un'informazione del "
                          "testo seguente, come la cercherebbe una persona."},
    "nld": {"question": "Schrijf in het Nederlands een vraag die iemand aan een zoekmachine zou stellen en "
                        "die door de volgende tekst beantwoord wordt.",
            "keywords": "Schrijf in het Nederlands een zoekopdracht van 2-6 trefwoorden waarmee iemand de "
                        "volgende tekst zou vinden.",
            "paraphrase": "Herformuleer in het Nederlands, in eigen woorden en in één zin, een gegeven uit de "
                          "volgende tekst, zoals iemand het zou zoeken."},
    None: {"question": "Write, in {language}, a question a person would type into a search engine that the "
                       "following text answers.",
           "keywords": "Write, in {language}, a search of 2-6 keywords with which a person would find the "
                       "following text.",
           "paraphrase": "Restate in {language}, in your own words and one sentence, one fact of the following "
                         "text, as a person would search for it."},
}
_RULES = {"ita": "Non copiare frasi del testo e non nominare il testo.",
          "nld": "Neem geen zinnen uit de tekst over en verwijs niet naar de tekst.",
          None: "Do not copy its sentences and do not mention the text."}
_TEXT_LABEL = {"ita": "Testo", "nld": "Tekst", None: "Text"}
# What no user types into a search box: references to a text they cannot see.
CONTEXT_REFERENCES = {
    "ita": r"\b(secondo|in base a|nel|dal) (il |al )?(testo|brano|passaggio|paragrafo)\b|"
           r"\b(questo|quel|il presente) (testo|brano|passaggio)\b|\b(testo|brano|passaggio) (fornito|sopra)\b|"
           r"\bsopra (citat|menzionat)",
    "nld": r"\b(volgens|in|uit) (de|het|deze|dit) (tekst|passage|fragment)\b|\b(deze|de bovenstaande|de gegeven) "
           r"tekst\b|\bhierboven\b",
    "eng": r"\b(according to|in|from|based on) (the|this) (text|passage|excerpt)\b|\bthe (text|passage) above\b|"
           r"\bthe given (text|passage)\b",
}
# a label before the query ("Domanda: ...", "Hier is de vraag: ..."); "Domanda di cittadinanza" is a real query
_PREAMBLE = re.compile(r"^\W*(ecco[^:]{0,30}|hier is[^:]{0,30}|here is[^:]{0,30}|domanda|query|vraag|zoekvraag|"
                       r"zoekopdracht|question|search query)\s*:", re.IGNORECASE)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
KEYWORD_WORDS = (2, 10)
NEAR_DUPLICATE_JACCARD = 0.8  # of the queries' word sets


@dataclass(frozen=True)
class LLMQuerySettings:
    language: str
    styles: tuple[str, ...] = STYLES
    copied_words: int = 6  # a run of this many of the chunk's words in a query is copying
    min_chunk_words: int = 30
    round_trip: str | None = None  # "bm25": keep a query only if BM25 ranks its chunk in the top round_trip_k
    round_trip_k: int = 10


def prompt(language: str, style: str, passage: str) -> list[dict]:
    known = language if language in _TASKS else None
    task = _TASKS[known][style].format(language=language_name(language))
    text = (f"{task} {_RULES[known]}\n{_REPLY_FORMAT[known].format()}\n\n"
            f"{_TEXT_LABEL[known]}:\n{passage}")
    return [{"role": "user", "content": text}]


def prompt_hash(language: str, styles: tuple[str, ...]) -> str:
    """Changes when a prompt's wording changes, so a manifest says which prompts made the queries."""
    texts = [prompt(language, style, "{passage}")[0]["content"] for style in styles]
    return hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()[:16]


def parse_reply(reply: str | None) -> tuple[str | None, str | None]:
    """(query, None), or (None, the reason the reply is refused)."""
    if reply is None:
        return None, "LLM request failed"
    body = _FENCE.sub("", reply.strip())
    match = _JSON_OBJECT.search(body)
    try:
        value = json.loads(match.group(0)).get("query") if match else None
    except (json.JSONDecodeError, AttributeError):
        value = None
    if not isinstance(value, str) or not value.strip():
        return None, "reply is not JSON with a query"
    if body[: match.start()].strip() or body[match.end():].strip() or _PREAMBLE.match(value):
        return None, "preamble or comment around the query"
    return " ".join(value.split()), None


def copies(query: str, passage: str, n: int) -> bool:
    """Does the query hold a run of ``n`` consecutive words of the passage?"""
    passage_words = normalised(passage).split()
    grams = {tuple(passage_words[i:i + n]) for i in range(len(passage_words) - n + 1)}
    query_words = normalised(query).split()
    return any(tuple(query_words[i:i + n]) in grams for i in range(len(query_words) - n + 1))


class LLMQueryWriter:
    """Asks for one query per sampled chunk, styles in turn, and filters the replies."""

    def __init__(self, settings: LLMQuerySettings, client: ChatClient, sampling: Sampling):
        self.settings, self.client, self.sampling = settings, client, sampling
        self.references = re.compile(CONTEXT_REFERENCES.get(settings.language, CONTEXT_REFERENCES["eng"]),
                                     re.IGNORECASE)

    def queries(self, chunks: list[Chunk], drops: Counter) -> list[Query]:
        s = self.settings
        rng = random.Random(f"{self.sampling.seed}:llm")
        usable = [chunk for chunk in chunks if words(chunk.text) >= s.min_chunk_words]
        drops["chunk too short to ask about"] += len(chunks) - len(usable)
        rng.shuffle(usable)
        asked, per_document = [], Counter()
        for chunk in usable:  # the cap applies to what is asked: a capped document is never paid for
            if len(asked) == self.sampling.num_queries:
                break
            if per_document[chunk.document_id] < self.sampling.per_document:
                per_document[chunk.document_id] += 1
                asked.append((chunk, s.styles[len(asked) % len(s.styles)]))
        replies = self.client.complete_all([prompt(s.language, style, chunk.text) for chunk, style in asked])
        kept: list[tuple[Query, Chunk]] = []
        kept_words: list[set[str]] = []
        for (chunk, style), reply in zip(asked, replies, strict=True):
            query, reason = parse_reply(reply)
            low, high = KEYWORD_WORDS if style == "keywords" else (self.sampling.min_words, self.sampling.max_words)
            if reason is None and not low <= words(query) <= high:
                reason = "length out of bounds"
            if reason is None and detected_language(query) != s.language:
                reason = f"not in {language_name(s.language)}"
            if reason is None and self.references.search(query):
                reason = "refers to the text"
            if reason is None and copies(query, chunk.text, s.copied_words):
                reason = f"copies {s.copied_words} words of the chunk"
            if reason is None:
                query_words = set(normalised(query).split())
                if any(len(query_words & other) >= NEAR_DUPLICATE_JACCARD * len(query_words | other)
                       for other in kept_words):
                    reason = "near-duplicate query"
            if reason:
                drops[reason] += 1
                continue
            kept_words.append(set(normalised(query).split()))
            span = Span(chunk.document_id, chunk.start, chunk.end)
            kept.append((Query(query, f"llm-{style}", chunk.document_id, sections=(span,)), chunk))
        if s.round_trip == "bm25":
            kept = self._round_trip(kept, chunks, drops)
        return take([query for query, _ in kept], self.sampling, drops)

    def _round_trip(self, kept: list[tuple[Query, Chunk]], chunks: list[Chunk], drops: Counter):
        """BM25 over every chunk must rank the query's chunk in its top k (BM25 is then not a fair candidate)."""
        from glotta.encoders.bm25 import BM25Retriever

        if not kept:
            return kept
        row_of = {chunk.id: row for row, chunk in enumerate(chunks)}
        index = BM25Retriever().index([f"{c.title} {c.text}" for c in chunks], self.settings.language)
        hits, _ = index.search([query.text for query, _ in kept], self.settings.round_trip_k)
        survivors = []
        for (query, chunk), top in zip(kept, hits, strict=True):
            if row_of[chunk.id] in {int(i) for i in top}:
                survivors.append((query, chunk))
            else:
                drops[f"round trip: chunk not in BM25's top {self.settings.round_trip_k}"] += 1
        return survivors
