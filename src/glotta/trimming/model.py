"""Apply a trim to a loaded sentence-transformers model: embedding rows, config, tokenizer.

``resize_token_embeddings`` is not usable here: it keeps the *first* N rows, while a trim keeps
an arbitrary subset. So the input embedding is replaced by a new ``nn.Embedding`` holding the
kept rows in original id order, and every ``*_token_id`` in the config (``pad_token_id`` above
all: XLM-R derives position ids from it, and the embedding's ``padding_idx`` follows it) is
renumbered. Everything else (pooling, prompts, normalisation, max length) stays on the
``SentenceTransformer`` object, whose own ``save`` writes the usual folder.
"""

from __future__ import annotations

import torch
from tokenizers import Tokenizer

from glotta.errors import GlottaError


def transformer_module(model, where: str | None = None):
    """The first module of a sentence-transformers model, if it is a transformer with a fast tokenizer."""
    first = model[0]
    if not hasattr(first, "auto_model"):
        raise GlottaError(
            f"the model's first module is {type(first).__name__}, not a transformer; there is no "
            "token embedding matrix to trim",
            fix="trim a sentence-transformers model built on a transformers model",
            path=where,
        )
    tokenizer = first.tokenizer
    if tokenizer is None or not getattr(tokenizer, "is_fast", False) or not hasattr(tokenizer, "backend_tokenizer"):
        raise GlottaError(
            f"the model has no fast tokenizer ({type(tokenizer).__name__}); trimming rebuilds the "
            "tokenizer.json of a fast (Rust) tokenizer",
            fix="save the model with a fast tokenizer first, e.g. AutoTokenizer.from_pretrained(..., use_fast=True)"
            ".save_pretrained(folder), so the folder holds a tokenizer.json",
            path=where,
        )
    return first


def slice_embeddings(auto_model, kept: list[int]) -> dict[str, object]:
    """Keep rows ``kept`` of the input embedding; renumber token ids in the config.

    Returns the config fields that changed (name -> (old, new)) for the report.
    """
    old = auto_model.get_input_embeddings()
    if not isinstance(old, torch.nn.Embedding):
        raise GlottaError(f"the model's input embedding is a {type(old).__name__}, not an nn.Embedding",
                          fix="trim a model with a plain token embedding matrix")
    if auto_model.get_output_embeddings() is not None:
        raise GlottaError("the model has a language-model head tied to its vocabulary",
                          fix="trim the bare encoder (the sentence-transformers model loads one)")
    if kept[-1] >= old.num_embeddings:
        raise GlottaError(f"the tokenizer has id {kept[-1]} but the embedding matrix only "
                          f"{old.num_embeddings} rows", fix="the model and its tokenizer do not match")
    new_id = {old_id: n for n, old_id in enumerate(kept)}
    padding = new_id.get(old.padding_idx) if old.padding_idx is not None else None
    new = torch.nn.Embedding(len(kept), old.embedding_dim, padding_idx=padding,
                             dtype=old.weight.dtype, device=old.weight.device)
    with torch.no_grad():
        new.weight.copy_(old.weight[torch.tensor(kept, device=old.weight.device)])
    new.weight.requires_grad_(old.weight.requires_grad)
    auto_model.set_input_embeddings(new)
    config = auto_model.config
    changed = {"vocab_size": (config.vocab_size, len(kept))}
    config.vocab_size = len(kept)
    for key, value in config.to_dict().items():
        if not key.endswith("_token_id") or value is None:
            continue
        if isinstance(value, int):
            renumbered = new_id.get(value)
        elif isinstance(value, list) and all(isinstance(v, int) for v in value):
            renumbered = [new_id[v] for v in value if v in new_id] or None
        else:
            continue
        if renumbered != value:
            setattr(config, key, renumbered)
            changed[key] = (value, renumbered)
    return changed


def fast_tokenizer(original, backend: Tokenizer):
    """A transformers fast tokenizer around ``backend`` with the original's special tokens and settings.

    Saved as the generic ``PreTrainedTokenizerFast``, which loads from tokenizer.json alone: a
    model-specific class could rebuild itself from a stale vocabulary file instead.
    """
    from transformers import PreTrainedTokenizerFast

    extra = list(getattr(original, "extra_special_tokens", None)
                 or getattr(original, "additional_special_tokens", None) or [])
    named = {key: getattr(original, key) for key in ("bos_token", "eos_token", "unk_token", "sep_token",
                                                     "pad_token", "cls_token", "mask_token")
             if getattr(original, key, None) is not None}
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        model_max_length=original.model_max_length,
        padding_side=original.padding_side,
        truncation_side=original.truncation_side,
        model_input_names=list(original.model_input_names),
        clean_up_tokenization_spaces=getattr(original, "clean_up_tokenization_spaces", False),
        **({"additional_special_tokens": extra} if extra else {}),
        **named,
    )


def set_tokenizer(module, tokenizer) -> None:
    """sentence-transformers 6 keeps the tokenizer as ``processor``; 5 as ``tokenizer``."""
    if hasattr(module, "processor"):
        module.processor = tokenizer
    else:
        module.tokenizer = tokenizer
