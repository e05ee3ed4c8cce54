"""Weight interpolation between a base model and its fine-tuned version (WiSE-FT, LM-Cocktail).

``alpha`` is the fine-tuned model's weight: 0 is the base, 1 the fine-tuned model. E5-NL and
LM-Cocktail report that a merge keeps most of the target gain while recovering general
ability. The merge itself is sentence-transformers' ``SentenceTransformer.merge`` (mergekit's
linear method). Its own compatibility check names neither model nor what differs, so glotta
compares the two first and names BASE and TUNED as the command line gave them.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from glotta.data.atomic import refuse_existing
from glotta.errors import GlottaError

# transformers config fields that differ between unrelated models, by the name a user knows them
_CONFIG_NAMES = {"model_type": "architecture", "vocab_size": "vocabulary size", "hidden_size": "hidden size",
                 "num_hidden_layers": "number of layers"}
# fields that may differ between a model and its fine-tuned copy (provenance, dtype), as merge ignores them
_IGNORED = {"architectures", "transformers_version", "torch_dtype", "dtype"}
_SHOWN = 4


@dataclass(frozen=True)
class MergePair:
    """BASE and TUNED, loaded and known to be mergeable; ``names`` as the command line gave them."""

    base: object
    tuned: object
    names: tuple[str, str]


def check_alpha(alpha: float, option: str = "--alpha") -> float:
    if not 0.0 <= alpha <= 1.0:  # NaN fails both comparisons
        raise GlottaError(f"{option} {alpha:g} is outside [0, 1]",
                          fix="0 keeps the base, 1 the fine-tuned model; 0.5 is the usual start")
    return alpha


def parse_sweep(sweep: str) -> list[float]:
    """The alphas of ``--sweep 0.25,0.5,0.75``, sorted and each in [0, 1]."""
    alphas = set()
    for text in filter(str.strip, sweep.split(",")):
        try:
            alphas.add(check_alpha(float(text), "--sweep value"))
        except ValueError:
            raise GlottaError(f"--sweep {sweep!r} is not a list of numbers ({text.strip()!r} is not one)",
                              fix="e.g. --sweep 0.25,0.5,0.75") from None
    if not alphas:
        raise GlottaError("--sweep lists no alpha", fix="e.g. --sweep 0.25,0.5,0.75")
    return sorted(alphas)


def load_pair(base: str, tuned: str, trust_remote_code: bool = False) -> MergePair:
    """Both models, refused with what differs when they cannot be merged."""
    from glotta.encoders.registry import locate_sentence_transformer
    from glotta.encoders.sentence_transformer import load_sentence_transformer

    folders = [locate_sentence_transformer(name)[0] for name in (base, tuned)]
    models = [load_sentence_transformer(folder, device="cpu", trust_remote_code=trust_remote_code)
              for folder in folders]
    differences = model_differences(*models)
    if differences:
        more = f"; and {len(differences) - _SHOWN} more" if len(differences) > _SHOWN else ""
        raise GlottaError(
            f"BASE {base} and TUNED {tuned} cannot be merged: they differ in {'; '.join(differences[:_SHOWN])}{more}",
            fix="merge a fine-tuned model with the model it was trained from: same architecture, vocabulary, hidden "
            "size and layers (a model trimmed with 'glotta trim' merges only with models trained from that trim)")
    return MergePair(models[0], models[1], (base, tuned))


def model_differences(base, tuned) -> list[str]:
    """What keeps two sentence-transformers models from being merged, each as 'what X (BASE) vs Y (TUNED)'."""
    def pipeline(model):
        return [type(module).__name__ for module in model]

    if pipeline(base) != pipeline(tuned):
        return [f"modules: {', '.join(pipeline(base))} (BASE) vs {', '.join(pipeline(tuned))} (TUNED)"]
    differences = []
    for one, other in zip(base, tuned, strict=True):
        if hasattr(one, "auto_model"):
            differences += _differences("", one.auto_model.config.to_dict(), other.auto_model.config.to_dict())
            if not differences and one.tokenizer.get_vocab() != other.tokenizer.get_vocab():
                differences.append("tokenizer vocabulary (same size, other tokens or ids)")
        elif hasattr(one, "get_config_dict"):
            differences += _differences(f"{type(one).__name__} ", one.get_config_dict(), other.get_config_dict())
    return differences


def _differences(prefix: str, base: dict, tuned: dict) -> list[str]:
    keys = [k for k in base.keys() | tuned.keys() if k not in _IGNORED and not k.startswith("_")
            and base.get(k) != tuned.get(k)]
    known = list(_CONFIG_NAMES)
    keys.sort(key=lambda k: (known.index(k) if k in known else len(known), k))
    return [f"{prefix}{_CONFIG_NAMES.get(k, k)} {base.get(k)} (BASE) vs {tuned.get(k)} (TUNED)" for k in keys]


def merge_models(base: str, tuned: str, alpha: float, out: Path, overwrite: bool = False,
                 trust_remote_code: bool = False) -> Path:
    """Write ``(1 - alpha) * base + alpha * tuned`` to ``out`` (atomically) and return it."""
    check_alpha(alpha)
    refuse_existing(out, overwrite)
    return write_merge(load_pair(base, tuned, trust_remote_code), alpha, out)


def write_merge(pair: MergePair, alpha: float, out: Path) -> Path:
    """The merge of a loaded pair, saved beside ``out`` and renamed to it in one step."""
    from sentence_transformers import SentenceTransformer

    try:
        merged = SentenceTransformer.merge([pair.base, pair.tuned], method="linear",
                                           parameters={"weight": [1.0 - alpha, alpha]})
    except ValueError as exc:  # what model_differences does not look at (adapters, quantisation, tied weights)
        raise GlottaError(f"BASE {pair.names[0]} (model 0) and TUNED {pair.names[1]} (model 1) cannot be merged: "
                          f"{exc}", fix="merge a fine-tuned model with the model it was trained from") from None
    # The merged model inherits BASE's settings; the prompts are TUNED's, which glotta train writes
    # into the folder even when the base only had them by family convention.
    if pair.tuned.prompts:
        merged.prompts = dict(pair.tuned.prompts)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    merged.save(str(partial))
    if out.exists():
        shutil.rmtree(out)
    os.replace(partial, out)
    return out
