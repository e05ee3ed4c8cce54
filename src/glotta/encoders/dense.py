"""Dense retrieval: encode queries, stream the corpus through an exact top-k search."""

from __future__ import annotations

from glotta.data.tasks import RetrievalTask
from glotta.encoders.base import Encoder, Ranking, ranking_from_rows
from glotta.encoders.search import TopK
from glotta.progress import ProgressReporter

CORPUS_CHUNK = 50_000


class DenseRetriever:
    """The Retriever of an encoder: its name and revision, exact search (numpy or FAISS)."""

    def __init__(self, encoder: Encoder, backend: str = "numpy", corpus_chunk: int = CORPUS_CHUNK):
        self.encoder = encoder
        self.name, self.revision = encoder.name, encoder.revision
        self.backend = backend
        self.corpus_chunk = corpus_chunk

    def retrieve(self, task: RetrievalTask, top_k: int, progress: ProgressReporter) -> Ranking:
        query_ids = list(task.queries)
        with progress.track(f"encode queries {task.metadata.name}", len(query_ids)) as advance:
            queries = self.encoder.encode_queries(list(task.queries.values()), advance)
        doc_ids = list(task.corpus)
        documents = [d.full_text for d in task.corpus.values()]
        search = TopK(queries, top_k, self.backend)
        with progress.track(f"encode+search corpus {task.metadata.name}", len(doc_ids)) as advance:
            for start in range(0, len(documents), self.corpus_chunk):
                chunk = documents[start : start + self.corpus_chunk]
                search.add(self.encoder.encode_documents(chunk, advance))
        scores, indices = search.ranked()
        return ranking_from_rows(query_ids, doc_ids, indices, scores)
