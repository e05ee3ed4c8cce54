"""Any sentence-transformers model, from a local folder or a Hugging Face Hub id."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from pathlib import Path

import numpy as np

from glotta.config import default_cache_root
from glotta.data.digests import files_digest
from glotta.encoders.backends import PYTORCH_FP32, Runtime, apply_runtime
from glotta.encoders.base import Encoder, Progress, Role, length_sorted_batches
from glotta.errors import GlottaError

# Models whose published configs carry no prompts but which were trained with them; MTEB
# uses the same prefixes for these families.
_KNOWN_PROMPTS: list[tuple[re.Pattern, dict[Role, str]]] = [
    (
        re.compile(r"(^|/)(multilingual-)?e5-(small|base|large)(-v2)?$|(^|/)e5-(small|base|large)-trm-nl$"),
        {Role.QUERY: "query: ", Role.DOCUMENT: "passage: "},
    ),
]
_DOCUMENT_PROMPT_NAMES = ("document", "passage", "corpus", "doc")
_WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.onnx")


def weights_digest(folder: Path) -> str:
    """sha256 over the weight files, so a local folder has a revision that changes with its weights."""
    return files_digest(folder, _weight_files(folder))


def config_digest(folder: Path) -> str:
    """sha256 over a model folder's files other than weights (configs, tokenizer, vocabulary)."""
    weights = _weight_files(folder)
    return files_digest(folder, {p for p in folder.rglob("*") if p.is_file() and p not in weights})


def _weight_files(folder: Path) -> set[Path]:
    return {p for pattern in _WEIGHT_PATTERNS for p in folder.rglob(pattern)}


def weights_revision(digest: str) -> str:
    """The revision of weights without a hub commit: ``weights-sha256-`` and 16 hex digits."""
    return f"weights-sha256-{digest[:16]}"


def state_digest(model) -> str:
    """sha256 over a loaded model's tensors (name, dtype, shape, bytes): the revision of an
    in-memory model, which changes as soon as one weight does."""
    import torch

    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{key}|{flat.dtype}|{tuple(tensor.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy())
    return digest.hexdigest()


IN_MEMORY_NAME = "in-memory-model"


def in_memory_name(model) -> str:
    """The name of a loaded model: its model card's hub id, else the folder or hub id its
    transformer was loaded from, else ``in-memory-model``."""
    card_id = getattr(getattr(model, "model_card_data", None), "model_id", None)
    if card_id:
        return card_id
    transformer = getattr(model, "transformers_model", None)
    source = str(getattr(getattr(transformer, "config", None), "name_or_path", "") or "")
    if source.count("/") == 1 and not Path(source).is_dir():
        return source  # a hub id
    return Path(source).resolve().name if source else IN_MEMORY_NAME


REMOTE_CODE_FIX = "if you trust the Python code in the model folder, pass `trust_remote_code`"
_MODULES_FIX = ("restore modules.json as SentenceTransformer.save() writes it: a list with one "
                "{\"idx\", \"name\", \"path\", \"type\"} object per module")


def check_device(device: str | None) -> None:
    """A device torch does not know, or one this machine lacks, is refused before any model loads
    (torch would fail later with an assertion about how it was compiled). ``cuda:0,cuda:1``
    names several devices, each checked."""
    for one in device_list(device):
        _check_one_device(one)


def device_list(device: str | None) -> list[str]:
    """``cuda:0,cuda:1`` -> both; one device or None -> a list of at most one."""
    return [] if device is None else [part.strip() for part in device.split(",")]


def _check_one_device(device: str) -> None:
    if device == "cpu":
        return  # decided without importing torch, so a warm run never pays for it
    import torch

    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise GlottaError(f"`device` {device!r} is not a device name",
                          fix="use cpu, cuda, cuda:N or mps, or leave `device` out for the best available") from None
    module = torch.backends.mps if parsed.type == "mps" else getattr(torch, parsed.type, None)
    available = parsed.type == "cpu" or bool(getattr(module, "is_available", lambda: False)())
    count = getattr(module, "device_count", lambda: 1)() if available else 0
    if not available or (parsed.index is not None and parsed.index >= count):
        raise GlottaError(f"`device` {device}: this machine has no such device",
                          fix="leave `device` out to use the best available, or pass cpu")


def check_modules_file(folder: Path) -> None:
    """sentence-transformers reads ``modules.json`` unchecked: an empty, malformed or hand-edited
    list fails deep inside it, with a ValueError, KeyError or TypeError that names no file."""
    from glotta.data.records import read_text

    path = folder / "modules.json"
    if not path.is_file():
        return  # a plain transformers folder: sentence-transformers adds mean pooling
    try:
        modules = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise GlottaError(f"modules.json is not valid JSON ({exc.msg}, column {exc.colno})", fix=_MODULES_FIX,
                          path=path, line=exc.lineno) from None
    if not isinstance(modules, list) or not modules:
        problem = "modules.json lists no modules" if modules == [] else "modules.json is not a list of modules"
        raise GlottaError(problem, fix=_MODULES_FIX, path=path)
    for number, entry in enumerate(modules, start=1):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("path", "type")):
            raise GlottaError(f"module {number} of modules.json has no 'path' and 'type' strings", fix=_MODULES_FIX,
                              path=path)


def load_sentence_transformer(folder: Path, *, device: str | None = None, trust_remote_code: bool = False,
                              remote_code_fix: str = REMOTE_CODE_FIX):
    """``SentenceTransformer(folder)``, with every way a folder can be unusable as one GlottaError
    naming the folder: what sentence-transformers and transformers raise says neither."""
    from safetensors import SafetensorError
    from sentence_transformers import SentenceTransformer

    check_device(device)
    check_modules_file(folder)
    try:
        return SentenceTransformer(str(folder), device=device, trust_remote_code=trust_remote_code,
                                   local_files_only=True)
    except ValueError as exc:
        if "trust_remote_code" not in str(exc):
            raise _unloadable(folder, exc) from None
        raise GlottaError("the model needs Python code of its own to load (a module that is not part of "
                          "sentence-transformers, or an 'auto_map' in config.json), and glotta runs none unasked",
                          fix=remote_code_fix, path=folder) from None
    except (OSError, TypeError, KeyError, AttributeError, ImportError, SafetensorError) as exc:
        raise _unloadable(folder, exc) from None


def _unloadable(folder: Path, exc: Exception) -> GlottaError:
    detail = " ".join(str(exc).split())
    detail = detail if len(detail) <= 300 else detail[:300] + "..."
    return GlottaError(f"the model cannot be loaded ({type(exc).__name__}: {detail})",
                       fix="check that the folder is complete as SentenceTransformer.save() writes it "
                       "(modules.json, config.json, the weights and the tokenizer files), or save it again",
                       path=folder)


def role_prompts(model, name: str) -> dict[Role, str]:
    """The query and document prompts of a loaded model: its own, else its family's known ones.

    Evaluation and training both use this, so a model is trained with the prompts it is
    evaluated with (the Italian study trained E5 without its prefixes).
    """
    own = {k: v for k, v in (getattr(model, "prompts", None) or {}).items() if v}
    if own:
        document = next((own[k] for k in _DOCUMENT_PROMPT_NAMES if k in own), "")
        return {Role.QUERY: own.get("query", ""), Role.DOCUMENT: document}
    for pattern, prompts in _KNOWN_PROMPTS:
        if pattern.search(name):
            return dict(prompts)
    return {Role.QUERY: "", Role.DOCUMENT: ""}


class SentenceTransformerEncoder(Encoder):
    """Wraps ``SentenceTransformer`` with the model's own prompts (or E5's known ones).

    A named model is loaded only when a text needs encoding: its description (dimension, max
    length, prompts) can be adopted from the embedding cache, so a warm run never loads it.
    """

    def __init__(
        self,
        folder: Path,
        *,
        name: str,
        revision: str,
        batch_size: int = 32,
        device: str | None = None,
        trust_remote_code: bool = False,
        runtime: Runtime = PYTORCH_FP32,
        conversions: Path | None = None,
    ):
        check_device(device)
        runtime.check(device)
        self.folder, self.name, self.revision, self.batch_size = folder, name, revision, batch_size
        self.device, self.trust_remote_code, self.runtime = device, trust_remote_code, runtime
        self.conversions = conversions or default_cache_root() / "models"
        self.devices = device_list(device)  # several: sentence-transformers' multi-process pool
        self._pool = None

    @classmethod
    def from_model(cls, model, *, name: str | None = None, batch_size: int = 32) -> SentenceTransformerEncoder:
        """An in-memory ``SentenceTransformer`` as it is now, on its own device (PyTorch); the
        revision is ``weights-sha256-...`` of its current weights, so cached vectors never outlive them."""
        encoder = cls.__new__(cls)
        encoder.folder, encoder.name = None, name or in_memory_name(model)
        encoder.revision, encoder.batch_size = weights_revision(state_digest(model)), batch_size
        encoder.runtime, encoder.devices, encoder._pool = PYTORCH_FP32, [], None
        encoder.__dict__["model"] = model
        return encoder

    @cached_property
    def model(self):
        device = self.device if len(self.devices) < 2 else "cpu"  # the pool copies it to each device
        model = load_sentence_transformer(self.folder, device=device, trust_remote_code=self.trust_remote_code)
        self.__dict__.setdefault("description", describe(model, self.name))
        apply_runtime(model, self.runtime, self.revision, self.conversions)
        return model

    @cached_property
    def description(self) -> dict:
        """dimension, max_length and prompts: all the identity needs besides name, revision and runtime."""
        return describe(self.model, self.name)

    def description_key(self) -> str | None:
        """Names this description without loading the model: revision, runtime, and the folder's
        configuration files (prompts and max length live there, not in the weights)."""
        if self.folder is None:
            return None
        fields = {"name": self.name, "revision": self.revision, "config": config_digest(self.folder),
                  **self.runtime.identity_fields()}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()

    def adopt(self, description: dict) -> None:
        self.__dict__["description"] = description

    @property
    def dimension(self) -> int:
        return self.description["dimension"]

    @property
    def max_length(self) -> int:
        return self.description["max_length"]

    @property
    def prompts(self) -> dict[Role, str]:
        return {Role(role): prompt for role, prompt in self.description["prompts"].items()}

    def _identity_fields(self, role: Role) -> dict:
        return {"prompt": self.prompts[role], "max_length": self.max_length, "kind": "st",
                **self.runtime.identity_fields()}

    def _encode(self, texts: list[str], role: Role, progress: Progress | None) -> np.ndarray:
        if len(self.devices) > 1:
            return self._encode_on_devices(texts, role, progress)
        # sentence-transformers sorts by length inside one call; sorting the whole input
        # here as well lets us report progress batch by batch without losing that benefit.
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for batch in length_sorted_batches(texts, self.batch_size):
            out[batch] = self.model.encode(
                [texts[i] for i in batch],
                prompt=self.prompts[role] or None,
                batch_size=self.batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
            if progress:
                progress(len(batch))
        return out

    def _encode_on_devices(self, texts: list[str], role: Role, progress: Progress | None) -> np.ndarray:
        """One process per device (sentence-transformers' pool, started once and stopped at exit)."""
        if self._pool is None:
            import atexit

            self._pool = self.model.start_multi_process_pool(self.devices)
            atexit.register(self.model.stop_multi_process_pool, self._pool)
        out = self.model.encode(texts, prompt=self.prompts[role] or None, batch_size=self.batch_size,
                                pool=self._pool, show_progress_bar=False, convert_to_numpy=True)
        if progress:
            progress(len(texts))
        return np.asarray(out, dtype=np.float32)


def describe(model, name: str) -> dict:
    """What a loaded model's vectors depend on besides its weights, as JSON-ready values."""
    dimension = getattr(model, "get_embedding_dimension", None)  # sentence-transformers >= 6
    return {"dimension": int((dimension or model.get_sentence_embedding_dimension)()),
            "max_length": int(model.max_seq_length or 0),
            "prompts": {str(role): prompt for role, prompt in role_prompts(model, name).items()}}
