"""Contrastive fine-tuning the way E5-NL trained, on sentence-transformers' trainer.

Nothing here is a training loop: sentence-transformers provides the trainer (and through
transformers/accelerate: checkpoints, exact resume, DDP under ``torchrun``/``accelerate
launch``), the InfoNCE loss (``MultipleNegativesRankingLoss`` with scale = 1/temperature),
GradCache (``CachedMultipleNegativesRankingLoss``), the sampler that keeps duplicate texts out
of a batch (false in-batch negatives) and the multi-dataset samplers that draw each batch from
one source. glotta chooses those pieces, keeps the model's prompts on every column, checks
the inputs before the first step, and writes the final model atomically.

Folders: checkpoints live in ``<out>-checkpoints/`` beside ``<out>``; a rerun with the same
settings resumes from the last one; when training ends the model is saved there and renamed
to ``<out>`` in one step, so ``<out>`` is either absent or a complete model.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from transformers import TrainerCallback

from glotta.data.atomic import refuse_existing, write_json_atomic
from glotta.errors import GlottaError
from glotta.training.train_data import TrainingData

LOSSES = ("infonce", "cached-infonce")
BATCHING = ("auto", "homogeneous", "mixed")
SOURCE_SAMPLING = ("proportional", "round-robin")
PRECISIONS = ("fp32", "fp16", "bf16")


@dataclass(frozen=True)
class TrainSettings:
    """Everything ``glotta train`` sets besides the model and the data (defaults: E5-NL's choices)."""

    loss: str = "infonce"
    temperature: float = 0.05
    mini_batch_size: int = 32  # GradCache chunk; memory follows it, not the batch size
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    epochs: float = 1.0
    max_steps: int | None = None  # overrides epochs
    seed: int = 42
    batching: str = "auto"
    source_sampling: str = "proportional"
    max_seq_length: int | None = None
    save_steps: int = 100
    save_total_limit: int = 2
    eval_steps: int | None = None  # default: save_steps
    logging_steps: int = 10
    precision: str = "fp32"  # fp32, fp16, bf16 (GPU)
    device: str | None = None  # None: the trainer's choice (GPU when there is one)

    def __post_init__(self):
        """Every impossible value is refused here, before data or a model is loaded; the messages
        name the options of ``glotta train``, which maps one to one onto these fields."""
        from glotta.encoders.sentence_transformer import check_device

        checks = [
            (self.loss in LOSSES, f"--loss: unknown loss {self.loss!r}", f"use one of {', '.join(LOSSES)}"),
            (self.batching in BATCHING, f"--batching: unknown batching {self.batching!r}",
             f"use one of {', '.join(BATCHING)}"),
            (self.source_sampling in SOURCE_SAMPLING, f"--source-sampling: unknown sampling {self.source_sampling!r}",
             f"use one of {', '.join(SOURCE_SAMPLING)}"),
            (self.precision in PRECISIONS, f"--precision: unknown precision {self.precision!r}",
             f"use one of {', '.join(PRECISIONS)}"),
            (0 < self.temperature < math.inf, f"--temperature {self.temperature:g} is not a positive number",
             "InfoNCE uses 0.01-0.1; E5 uses 0.01, E5-NL 0.05"),
            (self.batch_size >= 2, f"--batch-size {self.batch_size} is below 2 (InfoNCE needs in-batch negatives)",
             "use --batch-size 32 or more"),
            (0 < self.learning_rate < math.inf,
             f"--lr {self.learning_rate:g} is not a positive number (a rate of 0 keeps the base weights)",
             "e.g. --lr 2e-5"),
            (0 <= self.warmup_ratio < 1,
             f"--warmup-ratio {self.warmup_ratio:g} is outside [0, 1) (transformers reads 1 or more as steps)",
             "e.g. --warmup-ratio 0.1"),
            (self.max_steps is not None or 0 < self.epochs < math.inf,
             f"--epochs {self.epochs:g} takes no step (or never ends)", "pass --epochs 1 (or --max-steps N)"),
        ]
        for ok, problem, fix in checks:
            if not ok:
                raise GlottaError(problem, fix=fix)
        if self.device is not None and "," in self.device:
            raise GlottaError(f"--device {self.device}: training runs on one device per process",
                              fix="for several GPUs start glotta train with torchrun or accelerate launch "
                              "(one process per GPU, PyTorch DDP), and pass no --device")
        check_device(self.device)

    def homogeneous(self, sources: int) -> bool:
        return self.batching == "homogeneous" or (self.batching == "auto" and sources > 1)


@dataclass
class TrainRun:
    """What a finished (or resumed-and-finished) run reports."""

    out: Path
    resumed_from: str | None
    metrics: dict
    log_history: list[dict]
    evaluations: dict


def checkpoint_folder(out: Path) -> Path:
    return out.with_name(out.name + "-checkpoints")


def load_model(name: str, device: str | None = None, trust_remote_code: bool = False):
    """The sentence-transformers model and its (query, document) prompts (own or known family ones)."""
    from glotta.encoders.base import Role
    from glotta.encoders.registry import locate_sentence_transformer
    from glotta.encoders.sentence_transformer import load_sentence_transformer, role_prompts

    folder, model_name, _ = locate_sentence_transformer(name)
    model = load_sentence_transformer(folder, device=device, trust_remote_code=trust_remote_code)
    prompts = role_prompts(model, model_name)
    return model, (prompts[Role.QUERY], prompts[Role.DOCUMENT])


def column_prompts(prompts: tuple[str, str], data: TrainingData) -> dict[str, str] | None:
    """Query prompt on the query column, document prompt on positives and negatives."""
    query, document = prompts
    if not query and not document:
        return None
    return {column: (query if column == "query" else document) for column in data.columns}


def build_loss(model, settings: TrainSettings, world_size: int):
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )

    scale = 1.0 / settings.temperature
    # Across devices, every process's batch serves as negatives for the others (as E5 trains).
    gather = world_size > 1
    if settings.loss == "cached-infonce":
        return CachedMultipleNegativesRankingLoss(model, scale=scale, mini_batch_size=settings.mini_batch_size,
                                                  gather_across_devices=gather)
    return MultipleNegativesRankingLoss(model, scale=scale, gather_across_devices=gather)


def training_arguments(settings: TrainSettings, output_dir: Path, data: TrainingData, prompts, has_evaluator: bool):
    from sentence_transformers import SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers, MultiDatasetBatchSamplers

    sampling = {"proportional": MultiDatasetBatchSamplers.PROPORTIONAL,
                "round-robin": MultiDatasetBatchSamplers.ROUND_ROBIN}[settings.source_sampling]
    eval_steps = settings.eval_steps or settings.save_steps
    return SentenceTransformerTrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        warmup_steps=settings.warmup_ratio,  # transformers 5: a float below 1 is a ratio
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps if settings.max_steps else -1,
        seed=settings.seed,
        data_seed=settings.seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        multi_dataset_batch_sampler=sampling,
        prompts=column_prompts(prompts, data),
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=settings.save_total_limit,
        eval_strategy="steps" if has_evaluator else "no",
        eval_steps=eval_steps if has_evaluator else None,
        logging_steps=settings.logging_steps,
        logging_first_step=True,
        fp16=settings.precision == "fp16",
        bf16=settings.precision == "bf16",
        use_cpu=settings.device == "cpu" or not _has_gpu(),  # also how accelerate runs DDP over gloo on CPUs
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=_has_gpu(),
        dataloader_drop_last=True,
    )


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


class CompactLog(TrainerCallback):
    """One line per log event: step, loss, learning rate and the dev nDCG@10s (the trainer's own
    printer dumps every metric of every evaluator)."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not _is_main_process() or not logs:
            return
        shown = {k: v for k, v in logs.items()
                 if k in ("loss", "learning_rate", "train_samples_per_second") or k.endswith("ndcg@10")}
        if shown:
            text = ", ".join(f"{k.removeprefix('eval_')} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                             for k, v in shown.items())
            of = f"/{state.max_steps}" if state.max_steps else ""  # unknown before training starts
            print(f"step {state.global_step}{of}: {text}", flush=True)


def _check_or_write_manifest(work: Path, wanted: dict) -> str | None:
    """Resume only a run with identical settings; returns the checkpoint to resume from."""
    from transformers.trainer_utils import get_last_checkpoint

    manifest = work / "glotta_train.json"
    if manifest.exists():
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
        if recorded != wanted:
            changed = sorted(k for k in wanted.keys() | recorded.keys() if wanted.get(k) != recorded.get(k))
            raise GlottaError(
                f"an interrupted run with other settings is in this folder (differs in: {', '.join(changed)})",
                fix="rerun with the same settings to resume, or delete the folder to start over", path=work)
        shutil.rmtree(work / "final", ignore_errors=True)  # a save cut short before its rename
        return get_last_checkpoint(str(work))
    work.mkdir(parents=True, exist_ok=True)
    write_json_atomic(manifest, wanted)
    return None


def build_trainer(model, prompts, data: TrainingData, settings: TrainSettings, work: Path,
                  evaluators: list | None = None, callbacks: list | None = None, full_length: int | None = None,
                  log: bool = True):
    """The sentence-transformers trainer for this run, ready to ``train()``; the dev checks run at
    ``full_length`` tokens (the model's own length) whatever the training-time cut; ``log``: a
    line per log event (CompactLog)."""
    from sentence_transformers import SentenceTransformerTrainer
    from transformers.trainer_callback import PrinterCallback

    from glotta.training.dev_evaluation import FullLengthEvaluator

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    evaluator = FullLengthEvaluator(evaluators, full_length) if evaluators else None
    args = training_arguments(settings, work, data, prompts, evaluator is not None)
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=data.to_datasets(settings.homogeneous(len(data.sources))),
        loss=build_loss(model, settings, world_size), evaluator=evaluator,
        callbacks=[*([CompactLog()] if log else []), *(callbacks or [])],
    )
    trainer.remove_callback(PrinterCallback)
    return trainer


def train(model_name: str, data: TrainingData, out: Path, settings: TrainSettings, *,
          evaluators: list | None = None, overwrite: bool = False, callbacks: list | None = None,
          describe: dict | None = None, notes: dict | None = None, loaded: tuple | None = None,
          before_training: Callable[[Path], dict] | None = None, log: bool = True,
          initial: dict | None = None) -> TrainRun:
    """Fine-tune ``model_name`` on ``data``; resumes from ``<out>-checkpoints`` when it holds this run.

    ``describe`` is part of the run's identity (a resume must match it); ``notes`` only goes
    into the final ``glotta_training.json``; ``loaded`` is ``load_model``'s result when the
    caller already holds it. ``before_training(checkpoint folder)`` runs on the main process
    once the run is known to take steps, before the first one; what it returns joins ``notes``.
    ``initial`` is the evaluators' metrics before the first step when the caller holds them already
    (tune scores the base once per study), so no evaluation of the whole dev corpus is repeated.
    """
    refuse_existing(out, overwrite)
    model, prompts = loaded or load_model(model_name, settings.device)
    original_length = model.max_seq_length
    if settings.max_seq_length and original_length and settings.max_seq_length > original_length:
        raise GlottaError(f"--max-seq-length {settings.max_seq_length} is longer than the model's own "
                          f"{original_length} tokens", fix=f"pass at most {original_length}: the option only cuts "
                          "texts shorter during training, the saved model keeps its own length")
    if settings.max_seq_length:  # a training-time cut (speed, memory); the saved model keeps its own
        model.max_seq_length = settings.max_seq_length
    work = checkpoint_folder(out)
    created = _outermost_missing(work)
    trainer = build_trainer(model, prompts, data, settings, work, evaluators, callbacks, original_length, log)
    try:
        _check_batches(trainer, data, settings)
    except GlottaError:
        if created is not None:  # the trainer makes its output folder (and parents): leave nothing behind
            shutil.rmtree(created, ignore_errors=True)
        raise
    wanted = {"model": model_name, "settings": asdict(settings), "rows": data.counts(),
              "negatives": data.negatives, **(describe or {})}
    resume = _check_or_write_manifest(work, json.loads(json.dumps(wanted, default=str))) \
        if _is_main_process() else None
    resume = _broadcast_resume(resume, work)
    if before_training is not None and _is_main_process():
        notes = {**(notes or {}), **before_training(work)}
    if initial is not None:
        before = [{**initial, "step": 0}]
    else:
        before = _initial_evaluation(trainer, work, resume) if evaluators else []
    result = trainer.train(resume_from_checkpoint=resume)
    history = before + trainer.state.log_history
    evaluations = {k: v for entry in history for k, v in entry.items() if k.startswith("eval_")}
    query, document = prompts
    if query or document:  # written into the folder so every later load uses them
        model.prompts = {**(model.prompts or {}), "query": query, "passage": document}
    model.max_seq_length = original_length
    final = work / "final"
    if trainer.is_world_process_zero():
        # model.save, not trainer.save_model: transformers 5 calls the latter's _save on every
        # process, and sentence-transformers' _save assumes it runs on the main one only.
        model.save(str(final))
        report = {"model": model_name, "settings": asdict(settings), "rows": data.counts(),
                  "skipped": dict(data.skipped), "resumed_from": resume, "world_size": trainer.args.world_size,
                  "metrics": result.metrics,
                  "log_history": history, **(describe or {}), **(notes or {})}
        _publish(final, work, out, overwrite, report)
    _barrier()
    return TrainRun(out, resume, result.metrics, history, evaluations)


def _outermost_missing(path: Path) -> Path | None:
    """The outermost folder that creating ``path`` would add, or None when it exists."""
    missing = None
    while not path.exists():
        missing, path = path, path.parent
    return missing


def _check_batches(trainer, data: TrainingData, settings: TrainSettings) -> None:
    """A run whose sampler forms no batch takes no optimizer step, and would save the base
    weights as a fine-tuned model: refused before anything is written. Peeking costs one
    batch of indices; the samplers reseed on every pass, so training sees the same order."""
    sampler = trainer.get_train_dataloader().batch_sampler
    sampler = getattr(sampler, "batch_sampler", sampler)  # accelerate's per-process shard wraps it
    if next(iter(sampler), None) is not None:
        return
    sizes = data.counts()
    if not settings.homogeneous(len(sizes)):
        largest, where = data.rows, f"{data.rows} usable training rows"
    else:
        round_robin = settings.source_sampling == "round-robin"
        largest = min(sizes.values()) if round_robin else max(sizes.values())
        where = (f"{data.rows} usable training rows in {len(sizes)} sources of {min(sizes.values())} to "
                 f"{max(sizes.values())} rows (each batch comes from one source"
                 f"{'; round-robin stops at the smallest' if round_robin else ''})")
    if largest >= settings.batch_size:  # enough rows, but they repeat texts a batch may hold only once
        raise GlottaError(f"no batch of --batch-size {settings.batch_size} rows without a repeated text can be "
                          f"formed from {where}: training would take no step",
                          fix="give rows with more distinct queries and passages, or a smaller --batch-size")
    raise GlottaError(f"no batch of --batch-size {settings.batch_size} can be formed from {where}: training "
                      "would take no step and save the base model unchanged",
                      fix=f"pass --batch-size {largest} or less, or more training rows (--data, --max-rows)"
                      if largest >= 2 else "give more training rows (--data, --max-rows): a batch needs at least 2")


def _initial_evaluation(trainer, work: Path, resume: str | None) -> list[dict]:
    """The dev scores before the first step (the curve's starting point, same sampled queries);
    kept in the checkpoint folder so a resumed run still reports them."""
    saved = work / "initial_evaluation.json"
    if resume is not None and saved.exists():
        return [json.loads(saved.read_text(encoding="utf-8"))]
    entry = {**trainer.evaluate(), "step": 0}
    if _is_main_process():
        write_json_atomic(saved, entry)
    return [entry]


def _publish(final: Path, work: Path, out: Path, overwrite: bool, report: dict) -> None:
    """Rename the saved model to ``out`` in one step: ``out`` never holds half a model."""
    write_json_atomic(final / "glotta_training.json", json.loads(json.dumps(report, default=str)))
    if out.exists() and overwrite:
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    os.replace(final, out)
    shutil.rmtree(work, ignore_errors=True)


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _broadcast_resume(resume: str | None, work: Path) -> str | None:
    """Every process resumes from the checkpoint the main process chose."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return resume
    if not dist.is_initialized():
        from accelerate import PartialState

        PartialState()  # initialises the process group from torchrun's environment
    box = [resume]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
