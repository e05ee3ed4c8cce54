"""Training speed of ``glotta train`` vs a plain SentenceTransformerTrainer, and GradCache memory.

1. Throughput: the same model (all-MiniLM-L6-v2), loss (MultipleNegativesRankingLoss, scale
   20), batch size, sequence cut and rows, trained for a few steps by glotta's ``train`` and by
   a plain ``SentenceTransformerTrainer`` written as its documentation shows. After one
   untimed warm-up run of each, rounds alternate which goes first so that machine noise and
   warm-up hit both; the ratio of the medians of ``train_samples_per_second`` is reported
   (target >= 0.95).
2. Memory: one training step in a fresh process per setting, GradCache
   (CachedMultipleNegativesRankingLoss, mini-batch 32) at batch 256 and 32, and the plain loss
   at the same sizes for contrast; reported as the peak RSS during the step minus the RSS when
   training starts (CPU; on a GPU use torch.cuda.max_memory_allocated instead).

    .venv/bin/python benchmarks/training_throughput.py TRIPLETS.jsonl [--rounds 3] [--steps 8]

Writes benchmarks/out/training_throughput.json.
"""

from __future__ import annotations

import argparse
import json
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
    """Child process: print the RSS before training and its peak during one step (MiB).

    ``ru_maxrss`` is useless here (loading peaks above a GradCache step), so a thread samples the
    process RSS every 5 ms while the trainer runs.
    """
    import threading

    import psutil

    from glotta.training.fine_tune import TrainSettings, train
    from glotta.training.train_data import load_training_data

    data = load_training_data([triplets], negatives=1, max_rows=4000)
    process = psutil.Process()
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            done.wait(0.005)

    with tempfile.TemporaryDirectory() as tmp:
        settings = TrainSettings(loss=loss, batch_size=batch, mini_batch_size=32, max_steps=1, max_seq_length=64,
                                 save_steps=10_000, batching="mixed")

        class Baseline:  # the RSS once the model and data are in memory, just before the step
            before = 0

        from transformers import TrainerCallback

        class StartSampling(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                Baseline.before = process.memory_info().rss
                threading.Thread(target=sample, daemon=True).start()

        train(MODEL, data, Path(tmp) / "m", settings, callbacks=[StartSampling()])
        done.set()
    mib = 1024 * 1024
    print(json.dumps({"before_mib": Baseline.before / mib, "peak_mib": peak[0] / mib}))


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
    runs = {"glotta": glotta_run, "plain": plain_run}
    with tempfile.TemporaryDirectory() as tmp:
        for name, run in runs.items():  # warm-up: file cache, lazy imports, allocator
            run(args.triplets, 2, args.batch, Path(tmp) / f"warm-{name}")
        for round_ in range(args.rounds):
            order = ["glotta", "plain"] if round_ % 2 == 0 else ["plain", "glotta"]  # neither always goes first
            for name in order:
                speeds[name].append(runs[name](args.triplets, args.steps, args.batch, Path(tmp) / f"{name}{round_}"))
            print(f"round {round_}: glotta {speeds['glotta'][-1]:.2f}, plain {speeds['plain'][-1]:.2f} samples/s",
                  flush=True)
    ratio = statistics.median(speeds["glotta"]) / statistics.median(speeds["plain"])
    memory = {}
    for loss in ("cached-infonce", "infonce"):
        for batch in (32, 256):
            result = subprocess.run([sys.executable, __file__, str(args.triplets), "--probe", loss, str(batch)],
                                    capture_output=True, text=True, check=True)
            probe = json.loads(result.stdout.strip().splitlines()[-1])
            memory[f"{loss}@{batch}"] = probe | {"growth_mib": probe["peak_mib"] - probe["before_mib"]}
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
