"""Sentence boundaries, one splitter for every generator that cuts sentences out of a text.

pysbd's rule sets know each language's abbreviations, so a Dutch statute's "Verordening (EG) nr.
216/2008" or "art. 5" stays one sentence (a period-plus-capital rule cuts there, and one in
seventeen sentence-pair queries of the Dutch statutes then ended in "nr.").
"""

from __future__ import annotations

from collections.abc import Callable

# pysbd's rule sets; other languages are split with its English rules (abbreviations aside, the same)
SENTENCE_LANGUAGES = {"ita": "it", "nld": "nl", "eng": "en", "deu": "de", "fra": "fr", "spa": "es", "por": "pt",
                      "pol": "pl", "dan": "da", "rus": "ru", "ell": "el", "bul": "bg"}


def sentence_splitter(language: str) -> Callable[[str], list[tuple[int, int]]]:
    """(start, end) of each sentence in a text, trailing whitespace excluded."""
    import pysbd

    segmenter = pysbd.Segmenter(language=SENTENCE_LANGUAGES.get(language, "en"), clean=False, char_span=True)

    def spans(text: str) -> list[tuple[int, int]]:
        return [(span.start, span.start + len(span.sent.rstrip())) for span in segmenter.segment(text)
                if span.sent.strip()]
    return spans
