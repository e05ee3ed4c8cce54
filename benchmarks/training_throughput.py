"""Training speed of ``glotta train`` vs a plain SentenceTransformerTrainer, and GradCache memory.

1. Throughput: the same model (all-MiniLM-L6-v2), loss (MultipleNegativesRankingLoss, scale
   20), batch size, sequence cut and rows, trained for a few steps by glotta's ``train`` and by
   a plain ``SentenceTransformerTrainer`` written as its documentation shows. Runs alternate
   (glotta, plain, glotta, plain, ...) so that machine noise hits both; the ratio of the
   medians of ``train_samples_per_second`` is reported (target >= 0.95).
2. Memory: one training step in a fresh process per setting, GradCache
   (CachedMultipleNegativesRankingLoss, mini-batch 32) at batch 256 and 32, and the plain loss
   at the same sizes for contrast; reported as the growth of peak RSS during training over the
   RSS after loading (CPU; on a GPU use torch.cuda.max_memory_allocated instead).

    .venv/bin/python benchmarks/training_throughput.py TRIPLETS.jsonl [--rounds 3] [--steps 8]

Writes benchmarks/out/training_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
HERE = Path(__file__).resolve().parent


def glotta_run(triplets: Path, steps: int, batch: int, out: Path) -> float:
    from glotta.training.fine_tune import TrainSettings, train
    from glotta.training.train_data import load_training_data

    data = load_training_data([triplets], negatives=1, max_rows=4000)
    settings = TrainSettings(batch_size=batch, max_steps=steps, max_seq_length=64, save_steps=10_000,
                             logging_steps=10_000, batching="mixed")
    return train(MODEL, data, out, settings).metrics["train_samples_per_second"]


def plain_run(triplets: Path, steps: int, batch: int, out: Path) -> float:
    """What a sentence-transformers user writes by hand (same rows, loss, batch, cut)."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

    from glotta.encoders.registry import locate_sentence_transformer
    from glotta.training.train_data import load_training_data

    data = load_training_data([triplets], negatives=1, max_rows=4000)
    columns = {c: [v for s in data.sources.values() for v in s[c]] for c in data.columns}
    model = SentenceTransformer(str(locate_sentence_transformer(MODEL)[0]))
    model.max_seq_length = 64
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out), per_device_train_batch_size=batch, max_steps=steps, learning_rate=2e-5,
        warmup_steps=0.1, seed=42, save_strategy="no", report_to="none", disable_tqdm=True,
        logging_steps=10_000, use_cpu=True, dataloader_pin_memory=False)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=Dataset.from_dict(columns),
                                         loss=MultipleNegativesRankingLoss(model, scale=20.0))
    return trainer.train().metrics["train_samples_per_second"]


def memory_probe(triplets: Path, loss: str, batch: int) -> None:
    """Child process: print RSS after loading and peak RSS after one training step (MiB)."""
    from glotta.training.fine_tune import TrainSettings, load_model, train
    from glotta.training.train_data import load_training_data

    data = load_training_data([triplets], negatives=1, max_rows=4000)
    load_model(MODEL)  # imports and weights in memory before the baseline is read
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        settings = TrainSettings(loss=loss, batch_size=batch, mini_batch_size=32, max_steps=1, max_seq_length=64,
                                 save_steps=10_000, batching="mixed")
        train(MODEL, data, Path(tmp) / "m", settings)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"loaded_mib": loaded, "peak_mib": peak}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("triplets", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--probe", nargs=2, metavar=("LOSS", "BATCH"))
    args = parser.parse_args()
    if args.probe:
        memory_probe(args.triplets, args.probe[0], int(args.probe[1]))
        return
    speeds = {"glotta": [], "plain": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            speeds["glotta"].append(glotta_run(args.triplets, args.steps, args.batch, Path(tmp) / f"g{round_}"))
            speeds["plain"].append(plain_run(args.triplets, args.steps, args.batch, Path(tmp) / f"p{round_}"))
            print(f"round {round_}: glotta {speeds['glotta'][-1]:.2f}, plain {speeds['plain'][-1]:.2f} samples/s",
                  flush=True)
    ratio = statistics.median(speeds["glotta"]) / statistics.median(speeds["plain"])
    memory = {}
    for loss in ("cached-infonce", "infonce"):
        for batch in (32, 256):
            result = subprocess.run([sys.executable, __file__, str(args.triplets), "--probe", loss, str(batch)],
                                    capture_output=True, text=True, check=True)
            probe = json.loads(result.stdout.strip().splitlines()[-1])
            memory[f"{loss}@{batch}"] = probe | {"growth_mib": probe["peak_mib"] - probe["loaded_mib"]}
            print(f"{loss} batch {batch}: {memory[f'{loss}@{batch}']}", flush=True)
    report = {
        "model": MODEL, "batch_size": args.batch, "steps": args.steps, "rounds": args.rounds, "max_seq_length": 64,
        "samples_per_second": speeds, "throughput_ratio_glotta_over_plain": ratio,
        "memory": memory,
        "gradcache_growth_ratio_256_over_32": memory["cached-infonce@256"]["growth_mib"]
        / memory["cached-infonce@32"]["growth_mib"],
        "plain_growth_ratio_256_over_32": memory["infonce@256"]["growth_mib"] / memory["infonce@32"]["growth_mib"],
    }
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "training_throughput.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if "ratio" in k}, indent=2))


if __name__ == "__main__":
    main()
