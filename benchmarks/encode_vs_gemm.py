"""How close encoding comes to this machine's matrix-multiply limit (issue 16).

1. The limit: GFLOP/s of ``torch.matmul`` in fp32 and bf16, at a square 2048 shape (peak) and at
   the encoder's own shapes (tokens x hidden @ hidden x 4*hidden), on the threads torch uses.
2. Encoding: the same texts (retrieval_xquad_it's corpus and queries) encoded by glotta with each
   runtime, rounds alternating the runtimes; the work is counted from the padded batches glotta
   sends (its length-sorted batches, the tokenizer's truncation) and the model's configuration:
   per layer 2*tokens*(4*H*H + 2*H*FF) for the linear layers + 4*batch*L*L*H for attention.
Achieved GFLOP/s over the limit of the same precision says how much is left on the table.

    .venv/bin/python benchmarks/encode_vs_gemm.py [--model M] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

DATA = Path(os.environ.get("GLOTTA_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
RUNTIMES = ["torch:fp32", "torch:bf16", "openvino:fp32", "openvino:bf16", "onnx:fp32"]


def gemm_gflops(m: int, k: int, n: int, dtype, seconds: float = 2.0) -> float:
    import torch

    a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
    torch.matmul(a, b)
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        torch.matmul(a, b)
        calls += 1
    return 2 * m * k * n * calls / (time.perf_counter() - started) / 1e9


def encode_flops(texts: list[str], folder: Path, config, batch_size: int, max_length: int) -> tuple[float, int]:
    """FLOPs of one encode of ``texts`` in glotta's batches, and the padded token count."""
    from transformers import AutoTokenizer

    from glotta.encoders.base import length_sorted_batches

    tokenizer = AutoTokenizer.from_pretrained(folder)
    hidden, ff, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    flops, tokens = 0.0, 0
    for batch in length_sorted_batches(texts, batch_size):
        length = max(len(ids) for ids in tokenizer([texts[i] for i in batch], truncation=True,
                                                     max_length=max_length)["input_ids"])
        batch_tokens = len(batch) * length
        tokens += batch_tokens
        flops += layers * (2 * batch_tokens * (4 * hidden * hidden + 2 * hidden * ff)
                           + 4 * len(batch) * length * length * hidden)
    return flops, tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    parser.add_argument("--runtime", action="append", help="backend:precision, repeatable")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    import torch
    from transformers import AutoConfig

    import glotta
    from glotta.data.atomic import write_json_atomic
    from glotta.encoders.registry import locate_sentence_transformer

    folder = Path(locate_sentence_transformer(args.model)[0])
    task = DATA / "tasks/it/retrieval_xquad_it"
    texts = [json.loads(line)["text"] for name in ("corpus.jsonl", "queries.jsonl")
             for line in (task / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    config = AutoConfig.from_pretrained(folder)
    limits = {precision: {"peak_2048": gemm_gflops(2048, 2048, 2048, dtype),
                          "encoder_shape": gemm_gflops(4096, config.hidden_size, config.intermediate_size, dtype)}
              for precision, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))}
    runtimes = args.runtime or RUNTIMES
    encoders = {}
    for runtime in runtimes:
        backend, precision = runtime.split(":")
        encoders[runtime] = glotta.get_encoder(args.model, backend=backend, precision=precision, cache=False)
        encoders[runtime].encode_documents(texts[:64])  # loads, converts, warms up
    max_length = next(iter(encoders.values())).max_length
    flops, tokens = encode_flops(texts, folder, config, 32, max_length)
    seconds: dict[str, list[float]] = {runtime: [] for runtime in runtimes}
    for round_number in range(args.rounds):
        for runtime in runtimes if round_number % 2 == 0 else reversed(runtimes):
            started = time.perf_counter()
            encoders[runtime].encode_documents(texts)
            seconds[runtime].append(time.perf_counter() - started)
    encode = {}
    for runtime, times in seconds.items():
        achieved = flops / statistics.median(times) / 1e9
        limit = limits["bf16" if runtime.endswith("bf16") else "fp32"]["encoder_shape"]
        encode[runtime] = {"seconds": [round(t, 2) for t in times],
                           "texts_per_s": round(len(texts) / statistics.median(times), 1),
                           "gflops": round(achieved, 1), "fraction_of_gemm_limit": round(achieved / limit, 3)}
    report = {"model": args.model, "texts": len(texts), "padded_tokens": tokens,
              "gflop_per_pass": round(flops / 1e9, 1),
              "torch_threads": torch.get_num_threads(),
              "gemm_gflops": {p: {s: round(v, 1) for s, v in shapes.items()} for p, shapes in limits.items()},
              "encode": encode}
    write_json_atomic(args.output / "encode_vs_gemm.json", report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
