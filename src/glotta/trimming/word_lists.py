"""Token rankings from outside the corpus: a word-frequency list, and the numbers.

A trimming corpus is rarely big or varied enough: the Italian and Dutch corpora here are
19th-century novels, which lack the names, acronyms and years of Wikipedia-style questions,
and most of what a 50,000-token budget could hold. A word-frequency list built from many
genres (the ``wordfreq`` package: Wikipedia, subtitles, news, web, social media; or any
``word<TAB>count`` file) supplies them, and a second language's list (``wordfreq:eng``) adds a
base vocabulary for mixed-language text: each word is tokenized as a word of running text,
as written and Capitalized (lists are often case-folded, and sentence-initial capitals are
everywhere), and its tokens are weighted by the word's frequency. Numbers get a ranking of
their own because frequency lists fold them (wordfreq writes every 4-digit number as 0000).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from glotta.data.languages import iso639_3, normalise_language
from glotta.data.records import numbered_lines
from glotta.errors import GlottaError
from glotta.trimming.counting import batched, counting_tokenizer

WORDFREQ = "wordfreq"  # --word-frequencies wordfreq: the wordfreq list for --lang; wordfreq:eng names another language
NUMBERS = [str(n) for n in range(0, 2101)] + [f"({n})" for n in range(1000, 2101)]  # counts, years


def read_word_frequencies(source: str, language: str) -> list[tuple[str, float]]:
    """(word, frequency) pairs of a list, frequencies summing to 1."""
    if source == WORDFREQ or source.startswith(WORDFREQ + ":"):
        named = source.partition(":")[2]
        pairs = _wordfreq(normalise_language(named, where="--word-frequencies") if named else language)
    else:
        pairs = list(_frequency_file(Path(source)))
    total = sum(f for _, f in pairs)
    if not pairs or total <= 0:
        raise GlottaError("the word-frequency list is empty", fix="pass a list with 'word<TAB>count' lines",
                          path=source)
    return [(word, f / total) for word, f in pairs]


def _wordfreq(language: str) -> list[tuple[str, float]]:
    try:
        import langcodes
        import wordfreq
    except ImportError:
        raise GlottaError("--word-frequencies wordfreq needs the wordfreq package",
                          fix="pip install 'glotta[wordfreq]' (or pass a 'word<TAB>count' file)") from None
    code = langcodes.Language.get(iso639_3(language)).language
    available = wordfreq.available_languages("best")
    if code not in available:  # wordfreq would quietly fall back to English
        raise GlottaError(f"wordfreq has no word list for {iso639_3(language)!r}",
                          fix=f"pass a 'word<TAB>count' file instead; wordfreq covers {', '.join(sorted(available))}")
    return [(word, wordfreq.word_frequency(word, code, "best")) for word in wordfreq.iter_wordlist(code, "best")]


def _frequency_file(path: Path) -> Iterator[tuple[str, float]]:
    """``word<TAB or spaces>count`` per line (Leipzig, OpenSubtitles, wordfreq exports); blank lines skipped."""
    if not path.is_file():
        raise GlottaError("no such word-frequency file", fix="pass an existing 'word<TAB>count' file", path=path)
    for number, line in numbered_lines(path):
        if not line.strip():
            continue
        fields = line.split()
        count = _positive_number(fields[-1]) if len(fields) == 2 else None
        if count is None:
            raise GlottaError(f"line {number} is not 'word<TAB>count': {line.strip()[:60]!r}",
                              fix="write one word and its positive count per line", path=path)
        yield fields[0], count


def _positive_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 and math.isfinite(value) else None


def word_token_weights(backend: Tokenizer, words: list[tuple[str, float]]) -> np.ndarray:
    """Per token id, the summed frequency of the words (as written and Capitalized) that use it."""
    tokenizer = counting_tokenizer(backend)
    weights = np.zeros(backend.get_vocab_size(with_added_tokens=True))
    for batch in batched(words):
        for form in (lambda w: w, lambda w: w[:1].upper() + w[1:]):
            texts = [form(word) for word, _ in batch]
            encodings = tokenizer.encode_batch_fast(texts, add_special_tokens=False)
            for encoding, (_, frequency) in zip(encodings, batch, strict=True):
                np.add.at(weights, encoding.ids, frequency)
    return weights


def number_token_counts(backend: Tokenizer) -> np.ndarray:
    """How often each token id occurs in the numbers 0..2100, alone and as parenthesised years."""
    tokenizer = counting_tokenizer(backend)
    ids = [i for e in tokenizer.encode_batch_fast(NUMBERS, add_special_tokens=False) for i in e.ids]
    return np.bincount(np.asarray(ids, dtype=np.int64), minlength=backend.get_vocab_size(with_added_tokens=True))
