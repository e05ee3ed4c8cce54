"""(query, positive) pairs from documents, with the leakage check the Italian study lacked.

Strategies:
- ``sentence``: one sentence of a paragraph (split by ``glotta.data.sentences``) is the query; the
  rest of the paragraph, *with that sentence removed*, is the positive (the study's builder left it
  in: a model then learns string matching).
- ``title``: the document title is the query, its first paragraph of ``min_positive_words`` or more
  the positive.
- ``given``: the user's own ``{"query","positive"}`` pairs (read by CorpusReader(given_pairs=True)).
- ``synthetic``: an LLM writes the query (``glotta.training.synthetic``).
Every pair passes ``leaks``: a query whose normalised text occurs inside its positive is dropped
and counted.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from glotta.data.corpus import CorpusDocument
from glotta.data.sentences import sentence_splitter
from glotta.errors import GlottaError

PAIR_STRATEGIES = ("sentence", "title", "given", "synthetic")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Pair:
    query: str
    positive: str
    doc_id: str
    source: str
    corpus: str = ""


@dataclass(frozen=True)
class PairSettings:
    strategy: str = "sentence"
    min_query_words: int = 5
    max_query_words: int = 64
    min_positive_words: int = 20
    max_positive_words: int = 256
    pairs_per_document: int = 2

    def __post_init__(self):
        if self.strategy not in PAIR_STRATEGIES:
            raise GlottaError(f"--pairs: unknown pair strategy {self.strategy!r}",
                              fix=f"use one of {', '.join(PAIR_STRATEGIES)}")
        if self.strategy == "synthetic":
            raise GlottaError("synthetic pairs take SyntheticSettings, not PairSettings",
                              fix="use glotta.training.synthetic.SyntheticSettings")


def normalise(text: str) -> str:
    """Lower case, accents folded, punctuation dropped, single spaces: the form leakage is judged on."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return " ".join(_WORD.findall("".join(c for c in folded if not unicodedata.combining(c))))


def leaks(query: str, positive: str) -> bool:
    """True when the positive contains the query (after normalisation)."""
    needle = normalise(query)
    return bool(needle) and needle in normalise(positive)


def _words(text: str) -> int:
    return len(text.split())


class PairBuilder:
    """Turns documents into pairs; ``dropped`` counts what was left out and why. ``language`` (ISO
    639-3) picks the sentence splitter's abbreviation rules: no default, since English rules cut a
    Dutch "nr. 5" or an Italian "art. 3" in two."""

    def __init__(self, settings: PairSettings, seed: int, language: str):
        self.settings = settings
        self.rng = random.Random(seed)
        self.split = sentence_splitter(language)
        self.dropped: Counter = Counter()

    def pairs(self, documents: Iterable[CorpusDocument]) -> Iterator[Pair]:
        build = {"sentence": self._sentence_pairs, "title": self._title_pairs,
                 "given": self._given_pair}[self.settings.strategy]
        for document in documents:
            found = 0
            for pair in build(document):
                if leaks(pair.query, pair.positive):
                    self.dropped["leakage (query inside positive)"] += 1
                    continue
                found += 1
                yield pair
            if not found:
                self.dropped["documents too short to yield a pair"] += 1

    def _fits(self, query: str, positive: str) -> bool:
        s = self.settings
        return (s.min_query_words <= _words(query) <= s.max_query_words
                and s.min_positive_words <= _words(positive) <= s.max_positive_words)

    def _sentence_pairs(self, document: CorpusDocument) -> Iterator[Pair]:
        s, candidates = self.settings, []
        # query and positive together are the paragraph's words: a paragraph outside these bounds
        # yields no pair, and pysbd (milliseconds a paragraph) need not split it
        fewest, most = s.min_query_words + s.min_positive_words, s.max_query_words + s.max_positive_words
        for paragraph in document.text.split("\n\n"):
            if not fewest <= _words(paragraph) <= most:
                continue
            sentences = [paragraph[start:end].strip() for start, end in self.split(paragraph)]
            if len(sentences) < 2:
                continue
            index = self.rng.randrange(len(sentences))
            rest = " ".join(sentences[:index] + sentences[index + 1 :])
            if self._fits(sentences[index], rest):
                candidates.append((sentences[index], rest))
        for query, positive in self.rng.sample(candidates, k=min(len(candidates), self.settings.pairs_per_document)):
            yield Pair(query, positive, document.id, document.source, document.corpus)

    def _given_pair(self, document: CorpusDocument) -> Iterator[Pair]:
        if document.title.strip():
            yield Pair(document.title.strip(), document.text.strip(), document.id, document.source, document.corpus)

    def _title_pairs(self, document: CorpusDocument) -> Iterator[Pair]:
        # the first paragraph long enough to be a positive: a chapter often opens with a short
        # heading line ("CAPITOLO I.", a date) that says nothing of the title; titles are short by
        # nature, so only the positive's length bounds apply
        opening = next((p for p in document.text.split("\n\n") if _words(p) >= self.settings.min_positive_words), None)
        if document.title.strip() and opening is not None:
            positive = " ".join(opening.split()[: self.settings.max_positive_words])
            yield Pair(document.title.strip(), positive, document.id, document.source, document.corpus)
