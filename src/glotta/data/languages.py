"""Language codes: everything is ISO 639-3 plus an ISO 15924 script (``ita-Latn``), as in MTEB.

Users write ``it``, ``ita``, ``it-IT`` or ``ita_Latn``; langcodes does the parsing and the
likely-script inference, so glotta only decides how a wrong code is reported.
"""

from __future__ import annotations

import langcodes

from glotta.errors import GlottaError


def normalise_language(code: str, *, where: str | None = None) -> str:
    """Return ``xxx-Scrp`` for a language code, or raise a GlottaError naming ``where``."""
    raw = str(code).strip()
    try:
        language = langcodes.Language.get(raw.replace("_", "-"))
        if not language.language or not language.is_valid():
            raise LookupError(raw)
        alpha3 = language.to_alpha3()
        script = language.script or language.maximize().script
    except (LookupError, ValueError, langcodes.tag_parser.LanguageTagError):
        raise GlottaError(
            f"unknown language code {raw!r}",
            fix="use an ISO 639 code such as 'ita', 'it' or 'ita-Latn' (or 'nld', 'eng')",
            path=where,
        ) from None
    if alpha3.startswith("q") and "qaa" <= alpha3 <= "qtz":
        raise GlottaError(
            f"language code {raw!r} is in the private-use range",
            fix="use a real ISO 639 code such as 'ita', 'nld' or 'eng'",
            path=where,
        )
    return f"{alpha3}-{script or 'Zyyy'}"


def iso639_3(language: str) -> str:
    """``ita-Latn`` -> ``ita``."""
    return language.split("-")[0]


def language_name(code: str) -> str:
    """``ita`` -> ``Italian`` (langcodes' English name), for report titles."""
    try:
        return langcodes.Language.get(code).display_name()
    except (LookupError, ValueError, langcodes.tag_parser.LanguageTagError):
        return code
