"""Commands that adapt a model: train (with its saturation check) and advise.

``glotta train`` runs unchanged under ``torchrun --nproc_per_node N -m glotta.cli train ...`` or
``accelerate launch -m glotta.cli train ...``: the trainer picks up the process group, and only
the main process checks, prints and writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from glotta.cli.common import (
    BatchSize,
    CacheDir,
    Device,
    NoCache,
    OutputAlias,
    TrustRemoteCode,
    console,
    errors,
    output_option,
    progress_bars,
    quiet_libraries,
)
from glotta.data.atomic import check_writable, refuse_existing
from glotta.errors import GlottaError

DevTask = Annotated[Path | None, typer.Option("--dev-task", help="Target-language retrieval task folder, scored before and during training.")]
Threshold = Annotated[float, typer.Option("--saturation-threshold", min=0.0, max=1.0, help="Warn when the base already scores this much on the dev task.")]


def _main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _check_threshold(threshold: float) -> None:
    """typer's range lets NaN through (every comparison with it is false), and NaN never saturates."""
    if not 0.0 <= threshold <= 1.0:
        raise GlottaError(f"--saturation-threshold {threshold:g} is not a number in [0, 1]",
                          fix="e.g. --saturation-threshold 0.90")


def _print_advice(advice) -> None:
    style = "yellow" if advice.saturated else "green"
    for number, line in enumerate(advice.lines()):
        console.print(f"[{style}]{line}[/{style}]" if number == 0 else line, highlight=False)


def train_command(
    model: Annotated[str, typer.Argument(help="sentence-transformers folder or hub id to fine-tune.")],
    data: Annotated[list[Path], typer.Option("--data", help="Triplets/pairs (JSONL or Parquet from 'glotta triplets build'); repeatable.")],
    output: Annotated[Path | None, output_option("Folder for the fine-tuned model (checkpoints in <output>-checkpoints).", required=True)] = None,
    output_alias: OutputAlias = None,
    general: Annotated[list[Path] | None, typer.Option("--general", help="General-language pairs mixed in as an extra source (forgetting remedy); repeatable.")] = None,
    loss: Annotated[str, typer.Option(help="infonce (MultipleNegativesRankingLoss) or cached-infonce (GradCache: large batches in small memory).")] = "infonce",
    temperature: Annotated[float, typer.Option(help="InfoNCE temperature; scale = 1/temperature.")] = 0.05,
    mini_batch_size: Annotated[int, typer.Option(min=1, help="GradCache chunk size (cached-infonce).")] = 32,
    batch_size: Annotated[int, typer.Option(min=2, help="Rows per batch (per device).")] = 32,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Peak learning rate.")] = 2e-5,
    warmup_ratio: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.1,
    epochs: Annotated[float, typer.Option(min=0.0)] = 1.0,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Stop after this many steps (overrides --epochs).")] = None,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1)] = 42,
    negatives: Annotated[int, typer.Option(min=0, help="Hard negatives per row (0: pairs, in-batch negatives only).")] = 1,
    max_rows: Annotated[int | None, typer.Option(min=1, help="Use only the first N usable rows.")] = None,
    batching: Annotated[str, typer.Option(help="auto (homogeneous when there are several sources), homogeneous or mixed.")] = "auto",
    source_sampling: Annotated[str, typer.Option(help="proportional or round-robin over sources.")] = "proportional",
    max_seq_length: Annotated[int | None, typer.Option(min=8)] = None,
    save_steps: Annotated[int, typer.Option(min=1, help="Checkpoint every N steps (resume point).")] = 100,
    eval_steps: Annotated[int | None, typer.Option(min=1, help="Score the dev tasks every N steps (default: --save-steps).")] = None,
    logging_steps: Annotated[int, typer.Option(min=1)] = 10,
    dev_task: DevTask = None,
    general_task: Annotated[Path | None, typer.Option("--general-task", help="General (e.g. English) retrieval task scored during training.")] = None,
    eval_queries: Annotated[int, typer.Option(min=1, help="Queries sampled from each dev task for the checks during training.")] = 200,
    saturation_threshold: Threshold = 0.90,
    advise: Annotated[bool, typer.Option(help="Score the base on --dev-task before training and warn when saturated.")] = True,
    precision: Annotated[str, typer.Option(help="fp32, fp16 or bf16 (GPU).")] = "fp32",
    device: Device = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --output folder.")] = False,
    trust_remote_code: TrustRemoteCode = False,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
) -> None:
    """Fine-tune a sentence-transformers model with InfoNCE on glotta triplets (resumable, multi-GPU)."""
    from glotta.training.dev_evaluation import load_retrieval_task, retrieval_evaluator
    from glotta.training.fine_tune import TrainSettings, checkpoint_folder, load_model, train
    from glotta.training.train_data import load_training_data

    quiet_libraries()
    settings = TrainSettings(
        loss=loss, temperature=temperature, mini_batch_size=mini_batch_size, batch_size=batch_size,
        learning_rate=lr, warmup_ratio=warmup_ratio, epochs=epochs, max_steps=max_steps, seed=seed,
        batching=batching, source_sampling=source_sampling, max_seq_length=max_seq_length, save_steps=save_steps,
        eval_steps=eval_steps, logging_steps=logging_steps, precision=precision, device=device,
    )
    _check_threshold(saturation_threshold)
    general = general or []
    for folder in (output, checkpoint_folder(output)):
        check_writable(folder, "--output")
    refuse_existing(output, overwrite)
    training_data = load_training_data(data, negatives, general, max_rows)
    dev = load_retrieval_task(dev_task, "--dev-task") if dev_task else None
    general_dev = load_retrieval_task(general_task, "--general-task") if general_task else None
    loaded = load_model(model, device, trust_remote_code)  # fails early on an unknown model; train() reuses it
    prompts = loaded[1]
    main = _main_process()
    if main:
        homogeneous = settings.homogeneous(len(training_data.sources))
        console.print(f"training rows: {training_data.rows} from {len(training_data.sources)} source(s) "
                      f"({', '.join(f'{k}: {v}' for k, v in training_data.counts().items())}); "
                      f"batches: {'one source each' if homogeneous else 'mixed sources'}; "
                      f"prompts: query {prompts[0]!r}, document {prompts[1]!r}", highlight=False)
        for why, count in training_data.skipped.most_common():
            console.print(f"left out: {why}: {count}", highlight=False)

    def check_saturation(work: Path) -> dict:
        """Runs once train() knows the run takes steps, so a refused run leaves no base results."""
        from glotta.cli.evaluate import encoder_options
        from glotta.progress import RichProgress
        from glotta.training.saturation import advise as score_base

        options = encoder_options(cache_dir, no_cache, 32, device, trust_remote_code=trust_remote_code)
        with progress_bars() as bars:
            advice = score_base(model, dev, work / "base-results", options, saturation_threshold, RichProgress(bars))
        _print_advice(advice)
        return {"advice": {"task": advice.task, "metric": advice.metric, "score": advice.score,
                           "threshold": advice.threshold, "saturated": advice.saturated}}

    evaluators = [retrieval_evaluator(task, prompts, eval_queries, seed, 32, label)
                  for task, label in ((dev, "target"), (general_dev, "general")) if task is not None]
    describe = {"data": [str(p) for p in data], "general": [str(p) for p in general],
                "dev_task": str(dev_task) if dev_task else None, "general_task": str(general_task) if general_task else None}
    run = train(model, training_data, output, settings, evaluators=evaluators, overwrite=overwrite, describe=describe,
                loaded=loaded, before_training=check_saturation if dev is not None and advise else None)
    if main:
        metrics = run.metrics
        if run.resumed_from:
            console.print(f"resumed from {run.resumed_from}", highlight=False)
        console.print(f"trained {metrics.get('train_samples_per_second', 0):.1f} samples/s, "
                      f"loss {metrics.get('train_loss', float('nan')):.4f}", highlight=False)
        for key, value in run.evaluations.items():
            if key.endswith("ndcg@10"):
                console.print(f"last {key}: {value:.4f}", highlight=False)
        console.print(f"model in {output} (glotta eval --model {output} ...; glotta compare {model} {output} ...)",
                      highlight=False)


def advise_command(
    model: Annotated[str, typer.Argument(help="The model you consider fine-tuning.")],
    dev_task: Annotated[Path, typer.Option("--dev-task", help="Target-language retrieval task folder.")],
    saturation_threshold: Threshold = 0.90,
    output: Annotated[Path, typer.Option("--output", "-o", help="Results folder (MTEB layout).")] = Path("results"),
    batch_size: BatchSize = 32,
    device: Device = None,
    trust_remote_code: TrustRemoteCode = False,
    cache_dir: CacheDir = None,
    no_cache: NoCache = False,
) -> None:
    """Score a model on the target dev task and say whether fine-tuning is likely to pay off."""
    from glotta.cli.evaluate import encoder_options
    from glotta.progress import RichProgress
    from glotta.training.dev_evaluation import load_retrieval_task
    from glotta.training.saturation import advise

    _check_threshold(saturation_threshold)
    check_writable(output, "--output")
    quiet_libraries()
    task = load_retrieval_task(dev_task)
    options = encoder_options(cache_dir, no_cache, batch_size, device, trust_remote_code=trust_remote_code)
    with progress_bars() as bars:
        advice = advise(model, task, output, options, saturation_threshold, RichProgress(bars))
    _print_advice(advice)
    if advice.saturated:
        errors.print("saturated: see the remedies above", highlight=False)
