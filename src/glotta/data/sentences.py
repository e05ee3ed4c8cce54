"""Sentence boundaries, one splitter for every generator that cuts sentences out of a text.

pysbd's rule sets know each language's abbreviations, so a Dutch statute's "Verordening (EG) nr.
216/2008" or "art. 5" stays one sentence (a period-plus-capital rule cuts there, and one in
seventeen sentence-pair queries of the Dutch statutes then ended in "nr.").
"""

from __future__ import annotations

import re
from collections.abc import Callable

# pysbd's rule sets; other languages are split with its English rules (abbreviations aside, the same)
SENTENCE_LANGUAGES = {"ita": "it", "nld": "nl", "eng": "en", "deu": "de", "fra": "fr", "spa": "es", "por": "pt",
                      "pol": "pl", "dan": "da", "rus": "ru", "ell": "el", "bul": "bg"}

# pysbd's Dutch rules list no prepositive or number abbreviations, so a citation whose next word is
# capitalised ("nr. WJZ 8074645", "art. I") is cut after the abbreviation; these never end a sentence,
# and a cut after one is joined back
_NEVER_FINAL = {"nld": re.compile(r"\b(nr|nrs|art|jo|blz)\.$", re.IGNORECASE)}


def sentence_splitter(language: str) -> Callable[[str], list[tuple[int, int]]]:
    """(start, end) of each sentence in a text, trailing whitespace excluded."""
    import pysbd

    segmenter = pysbd.Segmenter(language=SENTENCE_LANGUAGES.get(language, "en"), clean=False, char_span=True)

    never_final = _NEVER_FINAL.get(language)

    def spans(text: str) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        for span in segmenter.segment(text):
            if not span.sent.strip():
                continue
            end = span.start + len(span.sent.rstrip())
            if found and never_final and never_final.search(text, found[-1][0], found[-1][1]):
                found[-1] = (found[-1][0], end)
            else:
                found.append((span.start, end))
        return found
    return spans
