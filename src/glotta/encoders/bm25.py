"""BM25 with bm25s, Snowball stemming and stopwords chosen by the task language.

The settings follow mteb's bm25s baseline (title + newline + text, Lucene scoring,
k1 = 1.5, b = 0.75) so its numbers are comparable with MTEB's BM25 rows.
"""

from __future__ import annotations

import logging

from glotta.data.languages import iso639_3
from glotta.data.tasks import RetrievalTask
from glotta.encoders.base import Ranking, ranking_from_rows
from glotta.progress import ProgressReporter

NAME = "bm25s"
# ISO 639-3 -> (bm25s stopword list, PyStemmer algorithm), as mteb's BM25 baseline maps them.
LANGUAGE_SETTINGS: dict[str, tuple[str | None, str | None]] = {
    "eng": ("en", "english"), "ita": ("it", "italian"), "nld": ("nl", "dutch"),
    "deu": ("de", "german"), "fra": ("fr", "french"), "spa": ("es", "spanish"),
    "por": ("pt", "portuguese"), "rus": ("ru", "russian"), "swe": ("sv", "swedish"),
    "nob": ("no", "norwegian"), "nno": ("no", "norwegian"), "nor": ("no", "norwegian"),
    "dan": (None, "danish"), "fin": (None, "finnish"), "hun": (None, "hungarian"),
    "ron": (None, "romanian"), "tur": (None, "turkish"), "cat": (None, "catalan"),
    "ell": (None, "greek"), "ara": (None, "arabic"), "eus": (None, "basque"),
    "lit": (None, "lithuanian"), "ind": (None, "indonesian"), "est": (None, "estonian"),
}

log = logging.getLogger(__name__)


class BM25Retriever:
    """Lexical baseline; it ranks documents and so serves retrieval tasks only."""

    name = NAME

    def __init__(self, k1: float = 1.5, b: float = 0.75, method: str = "lucene"):
        import bm25s

        self.k1, self.b, self.method = k1, b, method
        self.revision = f"bm25s-{bm25s.__version__}"

    def settings_for(self, language: str) -> tuple[str | None, str | None]:
        settings = LANGUAGE_SETTINGS.get(iso639_3(language))
        if settings is None:
            log.warning("BM25: no stopwords or stemmer for %s; using plain tokens", language)
            return None, None
        return settings

    def index(self, texts: list[str], language: str) -> BM25Index:
        """A bm25s index over ``texts`` with the language's stopwords and stemmer."""
        import bm25s
        import Stemmer

        stopwords, algorithm = self.settings_for(language)
        stemmer = Stemmer.Stemmer(algorithm) if algorithm else None
        tokens = bm25s.tokenize(texts, stopwords=stopwords, stemmer=stemmer, show_progress=False)
        index = bm25s.BM25(k1=self.k1, b=self.b, method=self.method)
        index.index(tokens, show_progress=False)
        return BM25Index(index, stopwords, stemmer, len(texts))

    def retrieve(self, task: RetrievalTask, top_k: int, progress: ProgressReporter) -> Ranking:
        doc_ids = list(task.corpus)
        texts = [f"{d.title}\n{d.text}" for d in task.corpus.values()]
        with progress.track(f"BM25 index {task.metadata.name}", len(texts)) as advance:
            index = self.index(texts, task.metadata.languages[0])
            advance(len(texts))
        query_ids = list(task.queries)
        with progress.track(f"BM25 search {task.metadata.name}", len(query_ids)) as advance:
            hits, scores = index.search(list(task.queries.values()), top_k)
            advance(len(query_ids))
        return ranking_from_rows(query_ids, doc_ids, hits, scores)


class BM25Index:
    """An indexed corpus: top-k search, and the score of any (query, document) pair."""

    def __init__(self, index, stopwords, stemmer, size: int):
        self.bm25, self.stopwords, self.stemmer, self.size = index, stopwords, stemmer, size

    def _tokens(self, queries: list[str]) -> list[list[str]]:
        import bm25s

        return bm25s.tokenize(queries, stopwords=self.stopwords, stemmer=self.stemmer,
                              return_ids=False, show_progress=False)

    def search(self, queries: list[str], k: int):
        """(document rows, scores), best first, shape (queries, min(k, size))."""
        return self.bm25.retrieve(self._tokens(queries), k=min(k, self.size), show_progress=False)

    def pair_scores(self, queries: list[str], rows: list[list[int]]) -> list[list[float]]:
        """BM25 score of each query against each of its given document rows (0 for a query of stopwords)."""
        return [[float(s) for s in self.bm25.get_scores(tokens)[wanted]] if tokens else [0.0] * len(wanted)
                for tokens, wanted in zip(self._tokens(queries), rows, strict=True)]
