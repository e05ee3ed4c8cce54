"""Synthetic queries for corpus passages with an LLM, following E5-NL's recipe.

Per passage: sample a topic (from the user's topic list, else the document's title), ask the LLM
in the target language for one search query about the passage, then filter: parseable reply,
length bounds, language check (langid), no duplicates, no leakage, and a round trip (BM25 over the
shard's passages must rank the source passage in the top ``round_trip_k``). Every drop is counted.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from glotta.data.corpus import CorpusDocument
from glotta.data.languages import iso639_3, language_name, normalise_language
from glotta.data.pairs import Pair, leaks, normalise
from glotta.encoders.bm25 import BM25Retriever
from glotta.training.llm_client import ChatClient

PROMPTS = {
    "ita": ("Sei un assistente che scrive domande di ricerca. Argomento: {topic}.\n"
            "Scrivi una domanda in italiano a cui il seguente testo risponde, senza copiarne le frasi.\n"
            "Rispondi solo con JSON: {{\"query\": \"...\"}}\n\nTesto:\n{passage}"),
    "nld": ("Je bent een assistent die zoekvragen schrijft. Onderwerp: {topic}.\n"
            "Schrijf een vraag in het Nederlands die door de volgende tekst beantwoord wordt, "
            "zonder zinnen over te nemen.\n"
            "Antwoord alleen met JSON: {{\"query\": \"...\"}}\n\nTekst:\n{passage}"),
}
FALLBACK_PROMPT = ("You write search queries. Topic: {topic}.\nWrite one question in {language} that the "
                   "following text answers, without copying its sentences.\nReply with JSON only: "
                   "{{\"query\": \"...\"}}\n\nText:\n{passage}")
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True)
class SyntheticSettings:
    language: str  # ISO 639-3
    topics: tuple[str, ...] = ()
    min_query_words: int = 3
    max_query_words: int = 40
    min_passage_words: int = 30
    max_passage_words: int = 256
    pairs_per_document: int = 2
    round_trip_k: int = 3


def prompt_for(language: str, topic: str, passage: str) -> list[dict]:
    template = PROMPTS.get(language)
    text = (template.format(topic=topic, passage=passage) if template
            else FALLBACK_PROMPT.format(topic=topic, language=language_name(language), passage=passage))
    return [{"role": "user", "content": text}]


def parse_query(reply: str | None) -> str | None:
    """The ``query`` of the first JSON object in the reply, or None for anything else."""
    if not reply:
        return None
    match = _JSON_OBJECT.search(reply)
    try:
        value = json.loads(match.group(0)).get("query") if match else None
    except (json.JSONDecodeError, AttributeError):
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None


def detected_language(text: str) -> str | None:
    import langid

    code, _ = langid.classify(text)
    try:
        return iso639_3(normalise_language(code))
    except Exception:  # langid can name codes langcodes refuses; then the check fails closed
        return None


class SyntheticPairBuilder:
    """Same interface as PairBuilder: ``pairs(documents)`` and a ``dropped`` counter."""

    def __init__(self, settings: SyntheticSettings, client: ChatClient, seed: int):
        self.settings, self.client = settings, client
        self.rng = random.Random(seed)
        self.dropped: Counter = Counter()

    def _passages(self, documents: Iterable[CorpusDocument]) -> list[tuple[CorpusDocument, str]]:
        s = self.settings
        chosen = []
        for document in documents:
            paragraphs = [" ".join(p.split()[: s.max_passage_words]) for p in document.text.split("\n\n")
                          if len(p.split()) >= s.min_passage_words]
            if not paragraphs:
                self.dropped["documents too short to yield a pair"] += 1
            chosen += [(document, p) for p in self.rng.sample(paragraphs, k=min(len(paragraphs), s.pairs_per_document))]
        return chosen

    def pairs(self, documents: Iterable[CorpusDocument]) -> Iterator[Pair]:
        s = self.settings
        passages = self._passages(documents)
        topics = [self.rng.choice(s.topics) if s.topics else (d.title or "general") for d, _ in passages]
        replies = self.client.complete_all([prompt_for(s.language, t, p)
                                            for t, (_, p) in zip(topics, passages, strict=True)])
        candidates, seen = [], set()
        for (document, passage), reply in zip(passages, replies, strict=True):
            query = parse_query(reply)
            reason = None
            if reply is None:
                reason = "LLM request failed"
            elif query is None:
                reason = "LLM reply not JSON with a query"
            elif not s.min_query_words <= len(query.split()) <= s.max_query_words:
                reason = "query length out of bounds"
            elif detected_language(query) != s.language:
                reason = "query not in the target language"
            elif normalise(query) in seen:
                reason = "duplicate query"
            elif leaks(query, passage):
                reason = "leakage (query inside positive)"
            if reason:
                self.dropped[reason] += 1
                continue
            seen.add(normalise(query))
            candidates.append(Pair(query, passage, document.id, document.source, document.corpus))
        yield from self._round_trip(candidates, [p for _, p in passages])

    def _round_trip(self, pairs: list[Pair], passages: list[str]) -> Iterator[Pair]:
        if not pairs:
            return
        corpus = list(dict.fromkeys(passages))
        row_of = {text: row for row, text in enumerate(corpus)}
        index = BM25Retriever().index(corpus, self.settings.language)
        hits, _ = index.search([p.query for p in pairs], self.settings.round_trip_k)
        for pair, top in zip(pairs, hits, strict=True):
            if row_of[pair.positive] in {int(i) for i in top}:
                yield pair
            else:
                self.dropped["round trip: source passage not in the top k"] += 1
