"""Weight interpolation between a base model and its fine-tuned version (WiSE-FT, LM-Cocktail).

``alpha`` is the fine-tuned model's weight: 0 is the base, 1 the fine-tuned model. E5-NL and
LM-Cocktail report that a merge keeps most of the target gain while recovering general
ability. The merge itself is sentence-transformers' ``SentenceTransformer.merge`` (mergekit's
linear method), which also checks that both models share architecture, vocabulary and modules.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from glotta.data.atomic import refuse_existing
from glotta.errors import GlottaError


def check_alpha(alpha: float) -> float:
    if not 0.0 <= alpha <= 1.0:
        raise GlottaError(f"alpha {alpha:g} is outside [0, 1]",
                          fix="0 keeps the base, 1 the fine-tuned model; 0.5 is the usual start")
    return alpha


def merge_models(base: str, tuned: str, alpha: float, out: Path, overwrite: bool = False) -> Path:
    """Write ``(1 - alpha) * base + alpha * tuned`` to ``out`` (atomically) and return it."""
    from sentence_transformers import SentenceTransformer

    from glotta.encoders.registry import locate_sentence_transformer

    check_alpha(alpha)
    refuse_existing(out, overwrite)
    base_folder, tuned_folder = (locate_sentence_transformer(name)[0] for name in (base, tuned))
    # The fine-tuned model comes first: the merged model inherits its prompts, which glotta
    # train writes into the folder even when the base only had them by family convention.
    try:
        merged = SentenceTransformer.merge([str(tuned_folder), str(base_folder)], method="linear",
                                           parameters={"weight": [alpha, 1.0 - alpha]}, local_files_only=True)
    except ValueError as exc:
        raise GlottaError(f"these models cannot be merged: {exc}",
                          fix="merge a fine-tuned model with the model it was trained from") from None
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    merged.save(str(partial))
    if out.exists():
        shutil.rmtree(out)
    os.replace(partial, out)
    return out
