"""Run a sentence-transformers model's transformer on OpenVINO or ONNX Runtime.

sentence-transformers' own ``backend="openvino" | "onnx"`` goes through optimum-intel /
optimum-onnx, and neither resolves beside this project's pins (they require transformers 5.5 /
4.57 and would downgrade it). So glotta converts the loaded transformer with the runtimes' own
converters (``openvino.convert_model``, ``torch.onnx.export``) and swaps only that module:
sentence-transformers still tokenises, adds the prompt, pools and normalises, so a converted
model is the same model with a faster matrix engine. Converted graphs are cached on disk, keyed
by the weights, backend, precision and library versions, so the conversion is paid once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from glotta.errors import GlottaError

BACKENDS = ("torch", "openvino", "onnx")
PRECISIONS = ("fp32", "fp16", "bf16", "int8")
# The backend a named model runs on unless told otherwise. Measured (BENCHMARKS.md): OpenVINO fp32
# encodes no faster than PyTorch fp32 on this project's CPUs and ONNX Runtime fp32 is slower, so the
# exact default needs no conversion and no extra.
DEFAULT_BACKEND = "torch"
_EXTRAS = {"openvino": ("openvino", "openvino"), "onnx": ("onnxruntime", "onnx")}  # backend -> (module, extra)
# Bumped whenever glotta.encoders.converted exports a different graph, so older conversions are not reused.
EXPORT_VERSION = 1

_UNSUPPORTED = {
    ("torch", "int8"): "PyTorch has no maintained int8 path for these models on the CPU",
    ("onnx", "fp16"): "ONNX Runtime's CPU provider has no fast fp16 kernels",
    ("onnx", "bf16"): "ONNX Runtime's CPU provider has no fast bf16 kernels",
}
_FIXES = {
    "torch": "use `backend` onnx or openvino for int8",
    "onnx": "use `backend` openvino for fp16/bf16, or `precision` fp32 or int8",
}


@dataclass(frozen=True)
class Runtime:
    """Where a model's matrix products run: ``backend`` and ``precision``."""

    backend: str = DEFAULT_BACKEND
    precision: str = "fp32"

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise GlottaError(f"unknown backend {self.backend!r}", fix=f"use one of: {', '.join(BACKENDS)}",
                              parameter="backend")
        if self.precision not in PRECISIONS:
            raise GlottaError(f"unknown precision {self.precision!r}", fix=f"use one of: {', '.join(PRECISIONS)}",
                              parameter="precision")
        refused = _UNSUPPORTED.get((self.backend, self.precision))
        if refused:
            raise GlottaError(f"precision {self.precision} is not available on the {self.backend} backend: {refused}",
                              fix=_FIXES[self.backend], parameter="precision")

    def identity_fields(self) -> dict:
        """What the embedding cache adds to a model's identity: nothing for PyTorch fp32, so
        vectors cached before backends existed stay valid; backend and precision otherwise."""
        if self == PYTORCH_FP32:
            return {}
        return {"backend": self.backend, "precision": self.precision}

    def check(self, device: str | None) -> None:
        """Refuse, before any model loads, a device the backend cannot use or a runtime not installed."""
        if self.backend == "torch":
            return
        if device not in (None, "cpu"):
            raise GlottaError(f"the {self.backend} backend runs on the CPU, not on {device}",
                              fix="use `backend` torch on GPUs (with `precision` fp16 or bf16), or `device` cpu",
                              parameter="device")
        module, extra = _EXTRAS[self.backend]
        try:
            __import__(module)
        except ImportError:
            raise GlottaError(f"the {self.backend} backend needs {module}, which is not installed",
                              fix=f"pip install 'glotta[{extra}]'", parameter="backend") from None
        if self.backend == "openvino" and self.precision in ("bf16", "fp16"):
            _require_cpu_capability(self.precision)
        if self.backend == "openvino" and self.precision == "int8":
            try:
                __import__("nncf")
            except ImportError:
                raise GlottaError("int8 on the openvino backend compresses weights with nncf, which is not installed",
                                  fix="pip install 'glotta[openvino]'", parameter="precision") from None


PYTORCH_FP32 = Runtime("torch", "fp32")


def _require_cpu_capability(precision: str) -> None:
    """OpenVINO silently computes in f32 where the CPU lacks the instructions, which would label
    f32 vectors as bf16; say so instead."""
    import openvino as ov

    capabilities = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    if precision.upper() not in capabilities:
        raise GlottaError(f"this CPU has no {precision} instructions (OpenVINO sees: {', '.join(capabilities)})",
                          fix="use `precision` fp32 (exact) or int8", parameter="precision")


def apply_runtime(model, runtime: Runtime, revision: str, conversions: Path) -> None:
    """Make ``model`` (a loaded SentenceTransformer) compute with ``runtime``, in place; a
    conversion is written once into a folder under ``conversions`` and reused."""
    if runtime.backend == "torch":
        if runtime.precision != "fp32":
            import torch

            model.to({"fp16": torch.float16, "bf16": torch.bfloat16}[runtime.precision])
        return
    from glotta.encoders import converted

    converted.swap_transformer(model[0], runtime, conversions / conversion_key(revision, runtime))


def conversion_key(revision: str, runtime: Runtime) -> str:
    """The cache folder of a converted model: weights, runtime, and every library that shapes the graph."""
    libraries = ["torch", "transformers", "sentence-transformers", _EXTRAS[runtime.backend][0]]
    if runtime.backend == "openvino" and runtime.precision == "int8":
        libraries.append("nncf")
    fields = {"revision": revision, "backend": runtime.backend, "precision": runtime.precision,
              "export": EXPORT_VERSION, **{name: metadata.version(name) for name in libraries}}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:24]
