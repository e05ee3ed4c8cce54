"""Rebuild a fast tokenizer over a subset of its token ids, renumbered in original id order.

Every kept piece must keep its meaning, so a text whose tokens are all kept is tokenized
exactly as before (only the ids change):
  * Unigram keeps the (piece, score) pairs: Viterbi over a subset of the lattice still finds
    the original best path when every piece of that path is kept.
  * WordPiece keeps its vocabulary: greedy longest-match over a subset picks the same pieces
    when they are all there.
  * BPE keeps the merges whose parts and result are all kept, and ``bpe_closure`` makes sure
    every kept token can still be built (its merge parts are kept with it).
The model object is built with the tokenizers constructors. The rest of the pipeline
(normalizer, pre-tokenizer, decoder, truncation) is carried over unchanged from the
tokenizer's own serialization; the only hand-written part is renumbering the special-token
ids inside the post-processor, padding and added tokens, because the tokenizers Python API
has no getters for those ids (``TemplateProcessing`` exposes only ``single``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from tokenizers import Tokenizer, models, pre_tokenizers

from glotta.errors import GlottaError

SUPPORTED_MODELS = ("Unigram", "WordPiece", "BPE")


def tokenizer_state(backend: Tokenizer) -> dict:
    return json.loads(backend.to_str())


def check_supported(backend: Tokenizer, where: str | None = None) -> str:
    """The tokenizer model type (Unigram, WordPiece, BPE), or a GlottaError for others."""
    kind = tokenizer_state(backend)["model"]["type"]
    if kind not in SUPPORTED_MODELS:
        raise GlottaError(
            f"the model's tokenizer is a {kind} tokenizer; trimming supports {', '.join(SUPPORTED_MODELS)}",
            fix="trim a model whose tokenizer.json uses one of those tokenizer models",
            path=where,
        )
    return kind


def special_ids(backend: Tokenizer) -> set[int]:
    """Added tokens (special or not), the unknown token, and tokens the post-processor inserts."""
    ids = set(backend.get_added_tokens_decoder())
    state = tokenizer_state(backend)
    model = state["model"]
    unk = model.get("unk_id") if model["type"] == "Unigram" else backend.token_to_id(model.get("unk_token") or "")
    if unk is not None:
        ids.add(unk)
    ids.update(i for token in _post_processor_tokens(state.get("post_processor"))
               if (i := backend.token_to_id(token)) is not None)
    return ids


def alphabet_ids(backend: Tokenizer, characters: Iterable[str]) -> set[int]:
    """Single-character pieces for the characters of the corpus (and the byte alphabet of
    byte-level BPE): a word never seen in the corpus then still splits into characters
    instead of becoming one unknown token."""
    state = tokenizer_state(backend)
    prefix = state["model"].get("continuing_subword_prefix") or ""
    candidates = set(characters) | {"\u2581"}  # the SentencePiece word boundary of Metaspace
    if prefix:
        candidates |= {prefix + c for c in characters}
    if '"ByteLevel"' in json.dumps(state.get("pre_tokenizer")):
        candidates |= set(pre_tokenizers.ByteLevel.alphabet())
    return {i for c in candidates if (i := backend.token_to_id(c)) is not None}


def bpe_merges(backend: Tokenizer) -> dict[int, tuple[int, int]]:
    """For a BPE tokenizer: merged token id -> the ids of its two parts."""
    model = tokenizer_state(backend)["model"]
    if model["type"] != "BPE":
        return {}
    vocab = model["vocab"]
    parts = {}
    for left, right, merged in _merges(model):
        if merged in vocab and left in vocab and right in vocab:
            parts.setdefault(vocab[merged], (vocab[left], vocab[right]))
    return parts


def _merges(model: dict):
    """(left, right, merged) for each BPE merge, in priority order; both serialized forms."""
    prefix = model.get("continuing_subword_prefix") or ""
    for merge in model.get("merges", []):
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        yield left, right, left + (right[len(prefix):] if prefix and right.startswith(prefix) else right)


def bpe_closure(token_id: int, merges: dict[int, tuple[int, int]]) -> set[int]:
    """The token and, recursively, the merge parts it is built from."""
    needed, stack = set(), [token_id]
    while stack:
        current = stack.pop()
        if current not in needed:
            needed.add(current)
            stack.extend(merges.get(current, ()))
    return needed


def rebuild_tokenizer(backend: Tokenizer, kept: list[int]) -> Tokenizer:
    """A tokenizer over the ``kept`` ids (sorted), where new id ``n`` is old id ``kept[n]``."""
    state = tokenizer_state(backend)
    model = state["model"]
    tokens = [backend.id_to_token(i) for i in kept]
    if len(set(tokens)) != len(tokens):
        raise GlottaError("the tokenizer has two ids for the same piece; it cannot be trimmed by piece",
                          fix="trim a model whose vocabulary has unique pieces")
    new_id = {token: n for n, token in enumerate(tokens)}
    state["model"] = json.loads(Tokenizer(_trimmed_model(model, kept, new_id)).to_str())["model"]
    state["added_tokens"] = [dict(t, id=new_id[t["content"]]) for t in state.get("added_tokens", [])
                             if t["content"] in new_id]
    state["post_processor"] = _renumber_post_processor(state.get("post_processor"), new_id)
    if state.get("padding") and state["padding"].get("pad_token") in new_id:
        state["padding"]["pad_id"] = new_id[state["padding"]["pad_token"]]
    trimmed = Tokenizer.from_str(json.dumps(state))
    # The renumbering is the one thing here that could silently go wrong: check every id.
    if trimmed.get_vocab_size(with_added_tokens=True) != len(kept) or any(
        trimmed.id_to_token(n) != token for n, token in enumerate(tokens)
    ):
        raise RuntimeError("trimmed tokenizer ids do not follow the kept ids (a glotta bug)")
    return trimmed


def _trimmed_model(model: dict, kept: list[int], new_id: dict[str, int]):
    kind = model["type"]
    if kind == "Unigram":
        vocab = model["vocab"]
        pieces = [(vocab[i][0], vocab[i][1]) for i in kept if i < len(vocab)]
        unk = model.get("unk_id")
        unk_id = new_id[vocab[unk][0]] if unk is not None else None
        return models.Unigram(pieces, unk_id, model.get("byte_fallback", False))
    if kind == "WordPiece":
        vocab = {token: new_id[token] for token in model["vocab"] if token in new_id}
        return models.WordPiece(vocab, unk_token=model["unk_token"],
                                max_input_chars_per_word=model.get("max_input_chars_per_word", 100),
                                continuing_subword_prefix=model.get("continuing_subword_prefix", "##"))
    if kind == "BPE":
        vocab = {token: new_id[token] for token in model["vocab"] if token in new_id}
        merges = [(left, right) for left, right, merged in _merges(model)
                  if left in vocab and right in vocab and merged in vocab]
        settings = {key: model[key] for key in ("dropout", "unk_token", "continuing_subword_prefix",
                                                "end_of_word_suffix", "fuse_unk", "byte_fallback", "ignore_merges")
                    if model.get(key) is not None}  # the constructor refuses None for its string settings
        return models.BPE(vocab, merges, **settings)
    raise AssertionError(kind)  # check_supported ran first


def _post_processor_tokens(processor: dict | None) -> list[str]:
    if not processor:
        return []
    kind = processor.get("type")
    if kind == "Sequence":
        return [t for p in processor.get("processors", []) for t in _post_processor_tokens(p)]
    if kind == "TemplateProcessing":
        return [t for special in processor.get("special_tokens", {}).values() for t in special["tokens"]]
    if kind in ("BertProcessing", "RobertaProcessing"):
        return [processor["sep"][0], processor["cls"][0]]
    return []


def _renumber_post_processor(processor: dict | None, new_id: dict[str, int]) -> dict | None:
    if not processor:
        return processor
    processor = dict(processor)
    kind = processor.get("type")
    if kind == "Sequence":
        processor["processors"] = [_renumber_post_processor(p, new_id) for p in processor["processors"]]
    elif kind == "TemplateProcessing":
        processor["special_tokens"] = {
            name: dict(special, ids=[new_id[t] for t in special["tokens"]])
            for name, special in processor.get("special_tokens", {}).items()
        }
    elif kind in ("BertProcessing", "RobertaProcessing"):
        for key in ("sep", "cls"):
            processor[key] = [processor[key][0], new_id[processor[key][0]]]
    return processor
