"""Any sentence-transformers model, from a local folder or a Hugging Face Hub id."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from glotta.encoders.base import Encoder, Progress, Role, length_sorted_batches

# Models whose published configs carry no prompts but which were trained with them; MTEB
# uses the same prefixes for these families.
_KNOWN_PROMPTS: list[tuple[re.Pattern, dict[Role, str]]] = [
    (
        re.compile(r"(^|/)(multilingual-)?e5-(small|base|large)(-v2)?$|(^|/)e5-(small|base|large)-trm-nl$"),
        {Role.QUERY: "query: ", Role.DOCUMENT: "passage: "},
    ),
]
_DOCUMENT_PROMPT_NAMES = ("document", "passage", "corpus", "doc")


def weights_digest(folder: Path) -> str:
    """sha256 over the weight files, so a local folder has a revision that changes with its weights."""
    digest = hashlib.sha256()
    files = sorted(
        p for pattern in ("*.safetensors", "*.bin", "*.pt", "*.onnx") for p in folder.rglob(pattern)
    )
    for path in files:
        digest.update(str(path.relative_to(folder)).encode())
        with path.open("rb") as stream:
            digest.update(hashlib.file_digest(stream, "sha256").digest())
    return digest.hexdigest()


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
    """Wraps ``SentenceTransformer`` with the model's own prompts (or E5's known ones)."""

    def __init__(
        self,
        folder: Path,
        *,
        name: str,
        revision: str,
        batch_size: int = 32,
        device: str | None = None,
        trust_remote_code: bool = False,
    ):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(
            str(folder), device=device, trust_remote_code=trust_remote_code, local_files_only=True
        )
        self.name = name
        self.revision = revision
        self.batch_size = batch_size
        dimension = getattr(self.model, "get_embedding_dimension", None)  # sentence-transformers >= 6
        self.dimension = int((dimension or self.model.get_sentence_embedding_dimension)())
        self.max_length = int(self.model.max_seq_length or 0)
        self.prompts = role_prompts(self.model, name)

    def _identity_fields(self, role: Role) -> dict:
        return {"prompt": self.prompts[role], "max_length": self.max_length, "kind": "st"}

    def _encode(self, texts: list[str], role: Role, progress: Progress | None) -> np.ndarray:
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
