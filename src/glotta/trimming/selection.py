"""Choose which token ids survive a trim.

``--size`` is the size of the trimmed vocabulary, all of it: what must be kept (special
tokens, the tokens of the model's prompts, the corpus alphabet, an optional base vocabulary)
is taken first, then rankings fill the rest in priority order: the corpus's tokens seen at
least ``min_count`` times by count, then the numbers, then the tokens of a word-frequency
list (see word_lists). The corpus decides first because it is the user's own text; the
others only add what it did not reach. Counting the forced tokens inside the size keeps the promise the number
makes: a ``--size 50000`` model has 50,000 embedding rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from glotta.errors import GlottaError


@dataclass(frozen=True)
class Ranking:
    """Token ids one source wants kept: higher scores first, ids under ``minimum`` never."""

    reason: str
    scores: np.ndarray  # per original id
    minimum: float

    def eligible(self) -> np.ndarray:
        ids = np.flatnonzero(self.scores >= self.minimum)
        return ids[np.lexsort((ids, -self.scores[ids]))]  # by score, ties by id


@dataclass(frozen=True)
class Selection:
    kept: list[int]  # original ids, ascending: new id n is old id kept[n]
    reasons: dict[str, int]  # how many ids were kept for each reason, in priority order
    eligible: dict[str, int]  # per ranking, the ids at or above its minimum
    budget_left: int  # 0 when the size was the limit, > 0 when the rankings ran out first


def select_ids(
    forced: dict[str, set[int]],
    rankings: list[Ranking],
    size: int,
    closure: Callable[[int], set[int]] | None = None,
) -> Selection:
    """Keep ``forced`` ids (by reason, in order), then each ranking's ids in turn until ``size``.

    ``closure(id)`` names the ids a token cannot work without (its BPE merge parts); a token
    is taken only together with them, and only if they all fit.
    """
    kept: set[int] = set()
    reasons: dict[str, int] = {}
    for reason, ids in forced.items():
        new = set(ids) - kept
        for token_id in list(new):
            new |= (closure(token_id) - kept) if closure else set()
        reasons[reason] = len(new)
        kept |= new
    if len(kept) > size:
        detail = ", ".join(f"{n} {reason}" for reason, n in reasons.items() if n)
        raise GlottaError(
            f"--size {size} is smaller than the {len(kept)} tokens that are always kept ({detail})",
            fix=f"pass --size larger than {len(kept)}, or a smaller --keep-corpus",
        )
    eligible = {}
    for ranking in rankings:
        order = ranking.eligible()
        eligible[ranking.reason] = len(order)
        added = 0
        for token_id in order.tolist():
            if len(kept) >= size:
                break
            if token_id in kept:
                continue
            new = (closure(token_id) - kept) if closure else {token_id}
            if len(kept) + len(new) <= size:
                kept |= new
                added += len(new)
        reasons[ranking.reason] = added
    return Selection(sorted(kept), reasons, eligible, size - len(kept))
