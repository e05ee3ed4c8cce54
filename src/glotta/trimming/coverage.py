"""What a trim costs on the corpus: tokens lost, and texts the trimmed tokenizer reads differently.

"All tokens kept" is necessary for an unchanged embedding but, for Unigram, not quite
sufficient (a smaller vocabulary moves the unknown-token penalty), so the unchanged share is
measured by tokenizing every text with both tokenizers and comparing, not inferred from counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

from glotta.trimming.counting import batched, counting_tokenizer


@dataclass
class Coverage:
    texts: int = 0
    texts_all_kept: int = 0  # every original token survives the trim
    texts_unchanged: int = 0  # and the trimmed tokenizer produces exactly those tokens
    tokens: int = 0
    tokens_kept: int = 0

    def as_dict(self) -> dict:
        share = lambda part, whole: round(part / whole, 6) if whole else None  # noqa: E731
        return {
            "corpus_tokens_kept": share(self.tokens_kept, self.tokens),
            "texts_unchanged": share(self.texts_unchanged, self.texts),
            "texts_all_tokens_kept": share(self.texts_all_kept, self.texts),
            "texts": self.texts,
            "texts_all_kept_but_retokenized": self.texts_all_kept - self.texts_unchanged,
            "tokens": self.tokens,
        }


def measure_coverage(original: Tokenizer, trimmed: Tokenizer, kept: list[int], texts: Iterable[str],
                     progress=None) -> Coverage:
    """Compare the two tokenizations of every text; ``progress(n)`` after each batch."""
    original, trimmed = counting_tokenizer(original), counting_tokenizer(trimmed)
    new_id = np.full(original.get_vocab_size(with_added_tokens=True), -1, dtype=np.int64)
    new_id[kept] = np.arange(len(kept))
    result = Coverage()
    for batch in batched(texts):
        before = original.encode_batch_fast(batch, add_special_tokens=False)
        after = trimmed.encode_batch_fast(batch, add_special_tokens=False)
        for old, new in zip(before, after, strict=True):
            mapped = new_id[np.asarray(old.ids, dtype=np.int64)]
            kept_here = int((mapped >= 0).sum())
            result.tokens += len(mapped)
            result.tokens_kept += kept_here
            if kept_here == len(mapped):
                result.texts_all_kept += 1
                result.texts_unchanged += int(np.array_equal(mapped, new.ids))
        result.texts += len(batch)
        if progress:
            progress(len(batch))
    return result


def unchanged_share(original: Tokenizer, trimmed: Tokenizer, texts: Iterable[str]) -> float | None:
    """Share of distinct ``texts`` the trimmed tokenizer splits into the same pieces as the original.

    Pieces are compared as strings, so no id mapping is needed: evaluation tasks are small
    and this runs after the trim, from the two saved folders.
    """
    original, trimmed = counting_tokenizer(original), counting_tokenizer(trimmed)
    unique = list(dict.fromkeys(t for t in texts if t))
    same = 0
    for batch in batched(unique):
        before = original.encode_batch(batch, add_special_tokens=False)  # _fast leaves .tokens empty
        after = trimmed.encode_batch(batch, add_special_tokens=False)
        same += sum(a.tokens == b.tokens for a, b in zip(before, after, strict=True))
    return round(same / len(unique), 6) if unique else None
