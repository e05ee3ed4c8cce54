"""Cut documents into token-sized, sentence-aware chunks with stable ids, and find duplicates.

A chunk's id is its document's id and its character span (``<doc>#<start>-<end>``), so a rebuild
of the same documents with the same settings gives the same ids, and qrels stay valid. Identical
chunks under different ids would score a correct answer as a miss: they are merged into one id
(the others kept as aliases). Near-duplicates (boilerplate articles that differ in a word) are
recorded as groups, so relevance judgements can treat them as equally relevant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from glotta.errors import GlottaError
from glotta.rag.ingest import TITLE_SEPARATOR, Document, Heading, optional_module

SHINGLE_WORDS = 5
NEAR_DUPLICATE_JACCARD = 0.8
_PERMUTATIONS = 128  # datasketch's default: LSH misses a pair at Jaccard 0.8 rarely, and checks are exact


@dataclass(frozen=True)
class Chunk:
    id: str
    document_id: str
    title: str  # the document's title and the headings in force where the chunk starts
    text: str
    start: int  # character span in the document's text
    end: int
    tokens: int
    pages: tuple[int, ...] = ()  # the PDF pages the chunk's text lies on
    aliases: tuple[str, ...] = ()  # ids of identical chunks merged into this one


@dataclass
class Chunked:
    chunks: list[Chunk]
    near_duplicates: list[list[str]] = field(default_factory=list)  # groups of chunk ids, each sorted

    @property
    def merged(self) -> int:
        return sum(len(chunk.aliases) for chunk in self.chunks)


def load_tokenizer(model: str):
    """The fast tokenizer of a model name or folder (offline catalogue names resolve to packaged weights)."""
    from transformers import AutoTokenizer

    from glotta.encoders.registry import locate_sentence_transformer

    folder, _, _ = locate_sentence_transformer(model)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), use_fast=True)
    if not tokenizer.is_fast:
        raise GlottaError(f"{model} has no fast tokenizer", parameter="tokenizer",
                          fix="choose a model saved with a tokenizer.json")
    tokenizer.model_max_length = 1 << 40  # whole documents are counted, never fed to the model: no length warning
    return tokenizer


def check_sizes(chunk_tokens: int, overlap: int) -> None:
    if chunk_tokens < 1:
        raise GlottaError(f"`chunk_tokens` must be at least 1, not {chunk_tokens}", parameter="chunk_tokens",
                          fix="use e.g. 256 (the model's limit is an upper bound)")
    if not 0 <= overlap < chunk_tokens:
        raise GlottaError(f"`overlap` ({overlap}) must be at least 0 and smaller than `chunk_tokens` "
                          f"({chunk_tokens})", parameter="overlap",
                          fix=f"use an `overlap` below {chunk_tokens}, e.g. {chunk_tokens // 8}")


def chunk_documents(documents: list[Document], tokenizer, chunk_tokens: int = 256, overlap: int = 32) -> Chunked:
    """Chunks of at most ``chunk_tokens`` tokens (no special tokens), ``overlap`` tokens shared by neighbours."""
    check_sizes(chunk_tokens, overlap)
    chunker = optional_module("semchunk").chunkerify(tokenizer, chunk_tokens)
    chunks: list[Chunk] = []
    by_text: dict[str, int] = {}
    for document in documents:
        texts, spans = chunker(document.text, offsets=True, overlap=overlap or None)
        for text, (start, end) in zip(texts, spans, strict=True):
            key = " ".join(text.split())
            if key in by_text:  # the first occurrence keeps its id; later ones become its aliases
                first = chunks[by_text[key]]
                chunks[by_text[key]] = replace(first, aliases=(*first.aliases, f"{document.id}#{start}-{end}"))
                continue
            by_text[key] = len(chunks)
            tokens = len(tokenizer.encode(text, add_special_tokens=False))
            pages = tuple(number for number, first, last in document.pages if first < end and start < last)
            chunks.append(Chunk(f"{document.id}#{start}-{end}", document.id, chunk_title(document, start), text,
                                start, end, tokens, pages))
    return Chunked(chunks, near_duplicate_groups(chunks))


def chunk_title(document: Document, start: int, hidden: frozenset[Heading] = frozenset()) -> str:
    """The document title, then each heading level's latest heading at or before ``start``.

    ``hidden`` headings are left out: a heading asked as a query must not be in its answer's title.
    """
    path: list[Heading] = []
    for heading in document.headings:
        if heading.offset > start:
            break
        path = [h for h in path if h.level < heading.level] + [heading]
    parts = [document.title] + [h.text for h in path if h.text != document.title and h not in hidden]
    return TITLE_SEPARATOR.join(part for part in parts if part)


def _shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.casefold())
    return {" ".join(words[i:i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}


def near_duplicate_groups(chunks: list[Chunk], threshold: float = NEAR_DUPLICATE_JACCARD) -> list[list[str]]:
    """Groups of chunks whose word 5-shingle sets have Jaccard >= ``threshold``.

    datasketch's MinHash LSH proposes candidate pairs (all pairs would be quadratic: 6,885 chunks
    are 24 million pairs); each candidate is then checked with the exact Jaccard of its shingle
    sets, so a recorded pair is never a MinHash false positive. Groups are the connected
    components of the pairs (scipy). MinHash's seed and hash are fixed: the groups are stable.
    """
    datasketch = optional_module("datasketch")
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    shingles = [_shingles(chunk.text) for chunk in chunks]
    index = datasketch.MinHashLSH(threshold=threshold, num_perm=_PERMUTATIONS)
    pairs: list[tuple[int, int]] = []
    for number, items in enumerate(shingles):
        signature = datasketch.MinHash(num_perm=_PERMUTATIONS, seed=1)
        signature.update_batch([item.encode() for item in items])
        for other in map(int, index.query(signature)):
            if len(items & shingles[other]) >= threshold * len(items | shingles[other]):
                pairs.append((number, other))
        index.insert(str(number), signature)
    if not pairs:
        return []
    rows, columns = zip(*pairs, strict=True)
    graph = coo_matrix(([1] * len(pairs), (rows, columns)), shape=(len(chunks), len(chunks)))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[str]] = {}
    for label, chunk in zip(labels, chunks, strict=True):
        groups.setdefault(int(label), []).append(chunk.id)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)
