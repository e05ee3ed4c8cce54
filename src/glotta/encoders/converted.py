"""The conversion itself: export a sentence-transformers Transformer module's Hugging Face model
to OpenVINO IR or ONNX, and run it from inside that module (see ``glotta.encoders.backends``)."""

from __future__ import annotations

import inspect
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from glotta.data.atomic import write_folder_atomic
from glotta.encoders.backends import Runtime

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
RunGraph = Callable[[dict[str, np.ndarray]], np.ndarray]


class LastHiddenState(torch.nn.Module):
    """The model as a function of its token tensors (positional, as exporters want them)."""

    def __init__(self, model: torch.nn.Module, names: list[str]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, tensors, strict=True)), return_dict=True).last_hidden_state


class ConvertedModel(torch.nn.Module):
    """Stands where the Hugging Face model was inside sentence-transformers' Transformer module,
    so tokenising, prompts, pooling and normalisation stay sentence-transformers' own."""

    def __init__(self, run: RunGraph, names: list[str], config):
        super().__init__()
        self.run, self.names = run, names
        self.config = config  # the Transformer module reads the model type from it

    def forward(self, **features) -> dict[str, torch.Tensor]:
        inputs = {name: features[name].cpu().numpy() for name in self.names}
        return {"last_hidden_state": torch.from_numpy(self.run(inputs))}


def swap_transformer(transformer, runtime: Runtime, folder: Path) -> None:
    """Replace ``transformer.model`` by its conversion in ``folder`` (converting first if needed)."""
    names = input_names(transformer)
    if not (folder / "done").is_file():
        write_folder_atomic(folder, lambda out: convert(transformer, names, runtime, out))
    transformer.model = ConvertedModel(load(folder, runtime), names, transformer.model.config)


def input_names(transformer) -> list[str]:
    """The inputs the model's tokenizer produces and its forward accepts."""
    accepted = set(inspect.signature(transformer.model.forward).parameters)
    produced = transformer.preprocess(["a"])
    return [name for name in _INPUTS if name in produced and name in accepted]


def convert(transformer, names: list[str], runtime: Runtime, out: Path) -> None:
    example = transformer.preprocess(["an example sentence to trace the graph", "and another"])
    tensors = tuple(example[name].cpu() for name in names)
    module = LastHiddenState(transformer.model, names).eval().float()
    # Tracing warns about Python branches on shapes that hold for every input (BERT's mask checks),
    # and the TorchScript exporter about itself: nothing a user can act on.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if runtime.backend == "openvino":
            _to_openvino(module, tensors, names, runtime, out)
        else:
            _to_onnx(module, tensors, names, runtime, out)
    (out / "done").write_text(json.dumps({"backend": runtime.backend, "precision": runtime.precision}))


def _to_openvino(module, tensors, names, runtime: Runtime, out: Path) -> None:
    import openvino as ov

    graph = ov.convert_model(module, example_input=tensors)
    for port, name in zip(graph.inputs, names, strict=True):
        port.get_tensor().set_names({name})
    if runtime.precision == "int8":
        import nncf

        graph = nncf.compress_weights(graph)  # int8 weights; activations stay f32
    # f32 weights on disk: save_model halves them by default (compress_to_fp16), and fp32 would stop being exact
    ov.save_model(graph, str(out / "model.xml"), compress_to_fp16=False)


def _to_onnx(module, tensors, names, runtime: Runtime, out: Path) -> None:
    # The TorchScript exporter: the default (dynamo) one needs onnxscript, one more dependency.
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    torch.onnx.export(module, tensors, str(out / "model.onnx"), input_names=names, output_names=["last_hidden_state"],
                      dynamic_axes=axes, opset_version=17, dynamo=False)
    if runtime.precision == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # per-channel, 7-bit range: per-tensor int8 saturates on CPUs without VNNI (cosine 0.84 to fp32
        # on all-MiniLM-L6-v2 here, against 0.987 like this)
        quantize_dynamic(out / "model.onnx", out / "model.int8.onnx", weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul"], per_channel=True, reduce_range=True)
        os.replace(out / "model.int8.onnx", out / "model.onnx")


def load(folder: Path, runtime: Runtime) -> RunGraph:
    """A function from {input name: int64 array} to the last hidden states (float32 array)."""
    if runtime.backend == "openvino":
        import openvino as ov

        hint = {"fp32": "f32", "int8": "f32", "bf16": "bf16", "fp16": "f16"}[runtime.precision]
        compiled = ov.Core().compile_model(str(folder / "model.xml"), "CPU", {"INFERENCE_PRECISION_HINT": hint})
        return lambda inputs: compiled(inputs)[0]
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
    return lambda inputs: session.run(None, inputs)[0]
