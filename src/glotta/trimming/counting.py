"""Count how often each token id occurs when a model's tokenizer reads a corpus, streaming.

The unit of text is the paragraph (and the title): documents here are whole chapters or
statutes, far longer than anything a model embeds, while paragraphs are what evaluation and
training feed it. Counting runs the tokenizer's Rust batch encoder over a few thousand
paragraphs at a time, so memory holds one batch and one count per vocabulary entry.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
from tokenizers import Tokenizer

from glotta.data.corpus import CorpusDocument

BATCH_TEXTS = 2048
SAMPLE_TEXTS = 256  # texts kept (reservoir) for the language check and the throughput probe
MIN_SAMPLE_CHARS = 40  # shorter texts say little about their language


def corpus_texts(documents: Iterable[CorpusDocument], max_documents: int | None = None) -> Iterator[str]:
    """The title and every paragraph of each document, in corpus order."""
    for document in islice(documents, max_documents):
        if document.title.strip():
            yield document.title.strip()
        for paragraph in document.text.split("\n\n"):
            if paragraph.strip():
                yield paragraph.strip()


def batched(texts: Iterable[str], size: int = BATCH_TEXTS) -> Iterator[list[str]]:
    iterator = iter(texts)
    while batch := list(islice(iterator, size)):
        yield batch


def counting_tokenizer(backend: Tokenizer) -> Tokenizer:
    """A copy that neither truncates nor pads: every token of a long paragraph must count."""
    copy = Tokenizer.from_str(backend.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


@dataclass
class TokenCounts:
    """Occurrences per token id, plus what the corpus told us on the way."""

    counts: np.ndarray
    texts: int = 0
    characters: set[str] = field(default_factory=set)
    sample: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return int(self.counts.sum())


def count_tokens(backend: Tokenizer, texts: Iterable[str], seed: int = 0) -> TokenCounts:
    """Count every token id of ``texts`` (no special tokens added), keeping a sample of texts."""
    tokenizer = counting_tokenizer(backend)
    result = TokenCounts(np.zeros(backend.get_vocab_size(with_added_tokens=True), dtype=np.int64))
    rng = random.Random(seed)
    eligible = 0  # texts long enough for the sample, for reservoir sampling
    for batch in batched(texts):
        encodings = tokenizer.encode_batch_fast(batch, add_special_tokens=False)
        ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64)
        result.counts += np.bincount(ids, minlength=len(result.counts))[: len(result.counts)]
        result.texts += len(batch)
        for text in batch:
            result.characters.update(text)
            if len(text) >= MIN_SAMPLE_CHARS:
                eligible += 1
                if len(result.sample) < SAMPLE_TEXTS:
                    result.sample.append(text)
                elif (slot := rng.randrange(eligible)) < SAMPLE_TEXTS:
                    result.sample[slot] = text
    return result
