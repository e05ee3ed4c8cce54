"""One trial: train with glotta's fine-tuning code, watch the dev scores, merge, score, decide.

The objective is measured where the Italian study never looked while it searched: the gain on
the target dev queries *and* the drop on the general dev queries, both in points of nDCG@10
against the base model's scores stored in the study. Intermediate gains go to Optuna's pruner;
a general drop past ``stop_drop`` stops the trial at once (forgetting); Optuna cannot prune
multi-objective studies, so there a median rule over the other trials' curves stops it instead.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

from transformers import TrainerCallback

from glotta.data.tasks import RetrievalTask
from glotta.errors import GlottaError
from glotta.tuning.settings import TuneSettings

TARGET, GENERAL = "target", "general"
DEFAULTS = {"learning_rate": 2e-5, "temperature": 0.05, "warmup_ratio": 0.1, "negatives": 1, "general_share": 0.0,
            "merge_alpha": 1.0}


def split_by_query(task: RetrievalTask, dev_share: float, seed: int) -> tuple[RetrievalTask, RetrievalTask]:
    """(dev, test) halves of a retrieval task's queries, seeded; both keep the whole corpus."""
    query_ids = sorted(task.queries)
    random.Random(f"{seed}:{task.metadata.name}").shuffle(query_ids)
    cut = round(dev_share * len(query_ids))
    if not 0 < cut < len(query_ids):
        raise GlottaError(f"{task.metadata.name} has {len(query_ids)} queries: too few to split into dev and test",
                          fix="give a task with more queries, or separate dev and test tasks")

    def part(ids: list[str], split: str) -> RetrievalTask:
        metadata = replace(task.metadata, name=f"{task.metadata.name}-{split}")
        return RetrievalTask(metadata, task.corpus, {q: task.queries[q] for q in ids},
                             {q: task.qrels[q] for q in ids})
    return part(sorted(query_ids[:cut]), "dev"), part(sorted(query_ids[cut:]), "test")


def ndcg(metrics: dict, name: str) -> float:
    """nDCG@10 of evaluator ``name`` in a metrics dict (sentence-transformers' keys, ``eval_`` or not)."""
    key = next((k for k in metrics if k.endswith(f"{name}_cosine_ndcg@10")), None)
    if key is None:
        raise KeyError(f"no nDCG@10 of {name} in {sorted(metrics)}")
    return float(metrics[key])


def points(base: dict, scores: dict) -> tuple[float, float]:
    """(target gain, general drop) in points of nDCG@10."""
    return 100 * (scores[TARGET] - base[TARGET]), 100 * (base[GENERAL] - scores[GENERAL])


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Stopped(Exception):
    """A trial stopped early; its message is the reason stored on the trial."""


class TrialWatch(TrainerCallback):
    """Reports each dev evaluation to the trial and stops the trial when it must stop."""

    def __init__(self, trial, study, base: dict, settings: TuneSettings):
        self.trial, self.study, self.base, self.settings = trial, study, base, settings
        self.curve: dict[int, float] = {0: 0.0}  # the base, scored once for the whole study
        trial.set_user_attr("curve", {"0": 0.0})

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        step = state.global_step
        gain, drop = points(self.base, {TARGET: ndcg(metrics, TARGET), GENERAL: ndcg(metrics, GENERAL)})
        self.curve[step] = gain
        self.trial.set_user_attr("curve", {str(k): round(v, 4) for k, v in self.curve.items()})
        if drop > self.settings.stop_drop:
            raise Stopped(f"forgetting: general drop {drop:.2f} points at step {step} "
                          f"(limit {self.settings.stop_drop})")
        if self.settings.mode == "constrained":
            self.trial.report(gain, step)
            if self.trial.should_prune():
                raise Stopped(f"pruner: dev gain {gain:+.2f} points at step {step} below the median of earlier trials")
        elif self._below_median(step, gain):
            raise Stopped(f"median rule: dev gain {gain:+.2f} points at step {step} below the other trials' median")

    def _below_median(self, step: int, gain: float) -> bool:
        """MedianPruner's rule for a multi-objective study, over the curves the other trials stored."""
        from optuna.trial import TrialState

        others = [t.user_attrs["curve"][str(step)] for t in self.study.get_trials(deepcopy=False)
                  if t.number != self.trial.number and t.state in (TrialState.COMPLETE, TrialState.PRUNED)
                  and str(step) in t.user_attrs.get("curve", {})]
        return len(others) >= 2 and gain < statistics.median(others)


@dataclass
class Objective:
    """Called by ``study.optimize`` once per trial; returns the gain (and the drop, in pareto mode)."""

    settings: TuneSettings
    out: Path
    dev: dict  # TARGET / GENERAL -> the dev RetrievalTask
    base: dict  # TARGET / GENERAL -> the base model's dev nDCG@10

    def __call__(self, trial):
        import optuna

        trial.set_user_attr("worker", worker_id())
        params = {**DEFAULTS, "batch_size": self.settings.batch_size, **self.settings.space.suggest(trial)}
        folder = self.out / "trials" / f"{trial.number:04d}"
        started = time.monotonic()
        try:
            scores = self._train_and_score(trial, params, folder)
        except Stopped as stop:
            _finish(trial, started, str(stop))
            shutil.rmtree(folder, ignore_errors=True)
            raise optuna.TrialPruned(str(stop)) from None
        except GlottaError as exc:
            _finish(trial, started, f"error: {exc.problem}")
            shutil.rmtree(folder, ignore_errors=True)
            raise
        gain, drop = points(self.base, scores)
        trial.set_user_attr("dev", {k: round(v, 6) for k, v in scores.items()})
        trial.set_user_attr("gain", round(gain, 4))
        trial.set_user_attr("drop", round(drop, 4))
        trial.set_user_attr("model", str(folder / "model"))
        trial.set_constraint("general_drop", drop - self.settings.max_general_drop)
        _finish(trial, started, "completed")
        return gain if self.settings.mode == "constrained" else (gain, drop)

    def _train_and_score(self, trial, params: dict, folder: Path) -> dict:
        from glotta.training.dev_evaluation import retrieval_evaluator
        from glotta.training.fine_tune import TrainSettings, load_model, train
        from glotta.training.merging import load_pair, write_merge
        from glotta.training.train_data import load_training_data

        s = self.settings
        share = params["general_share"]
        data = load_training_data([Path(p) for p in s.data], params["negatives"],
                                  [Path(p) for p in s.general] if share > 0 else [])
        data = data.with_general_share(share, s.seed) if s.general else data
        steps = int(params["steps"])
        train_settings = TrainSettings(
            loss=s.loss, temperature=params["temperature"], mini_batch_size=s.mini_batch_size,
            batch_size=int(params["batch_size"]), learning_rate=params["learning_rate"],
            warmup_ratio=params["warmup_ratio"], max_steps=steps, seed=s.seed, max_seq_length=s.max_seq_length,
            save_steps=steps + 1, eval_steps=min(s.eval_steps, steps), logging_steps=max(1, min(10, steps)),
            device=s.device)
        loaded = load_model(s.model, s.device)
        evaluators = [retrieval_evaluator(self.dev[name], loaded[1], s.eval_queries, s.seed, 32, name)
                      for name in (TARGET, GENERAL)]
        tuned = folder / "tuned"
        watch = TrialWatch(trial, trial.study, self.base, s)
        base = {f"eval_{name}_cosine_ndcg@10": score for name, score in self.base.items()}
        train(s.model, data, tuned, train_settings, evaluators=evaluators, overwrite=True, callbacks=[watch],
              loaded=loaded, log=False, initial=base)
        final = folder / "model"
        alpha = params["merge_alpha"]
        if alpha < 1.0:  # post-hoc, without retraining: the merge is what the trial scores and keeps
            write_merge(load_pair(s.model, str(tuned)), alpha, final)
            shutil.rmtree(tuned)
        else:
            tuned.rename(final)
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(final), device=s.device)
        return {name: ndcg(evaluator(model), name) for name, evaluator in zip((TARGET, GENERAL), evaluators,
                                                                             strict=True)}


def _finish(trial, started: float, reason: str) -> None:
    trial.set_user_attr("reason", reason)
    trial.set_user_attr("seconds", round(time.monotonic() - started, 1))
