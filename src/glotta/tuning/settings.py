"""The settings of one tuning study, and the hash that every worker of the study must share."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field

from glotta.errors import GlottaError
from glotta.tuning.space import SearchSpace

MODES = ("constrained", "pareto")
# what a later worker may change: how many trials in all, how many models to keep, how many processes
NOT_HASHED = ("trials", "keep")


@dataclass(frozen=True)
class TuneSettings:
    model: str
    data: tuple[str, ...]
    target_task: str
    general_task: str
    space: SearchSpace
    general: tuple[str, ...] = ()  # general-language pairs, mixed in at the trial's general_share
    target_split: str | None = None  # of the target task (glotta adapt tunes on a custom benchmark's dev split)
    mode: str = "constrained"
    max_general_drop: float = 0.5  # points of the general task's nDCG@10
    stop_drop: float = 3.0  # a trial whose general drop passes this (points) is stopped at once
    dev_share: float = 0.5  # of each task's queries, for tuning; the rest is the held-out test part
    eval_queries: int | None = 200  # dev queries scored at every evaluation
    eval_steps: int = 50
    batch_size: int = 32  # when the space has no batch_size
    loss: str = "infonce"
    mini_batch_size: int = 32
    max_seq_length: int | None = None
    steps_scale: float = 1.0
    seed: int = 42
    device: str | None = None
    enqueue_study: bool = False
    presample: bool = False  # draw the random start's parameters up front (a resumed run repeats them)
    trials: int = 8
    keep: int = 1
    extra: dict = field(default_factory=dict)  # recorded, not used: e.g. the space file's path

    def check(self) -> None:
        checks = [
            (self.mode in MODES, f"--mode {self.mode!r} is not one of {', '.join(MODES)}",
             "constrained: maximise the gain with the general drop as a limit; pareto: both objectives"),
            (math.isfinite(self.max_general_drop) and self.max_general_drop >= 0,
             f"--max-general-drop {self.max_general_drop:g} is not a number of points >= 0",
             "e.g. --max-general-drop 0.5 (half a point of nDCG@10 on the general task)"),
            (math.isfinite(self.stop_drop) and self.stop_drop > 0,
             f"--stop-drop {self.stop_drop:g} is not a positive number of points", "e.g. --stop-drop 3"),
            (0 < self.dev_share < 1, f"--dev-share {self.dev_share:g} is not between 0 and 1",
             "e.g. --dev-share 0.5: half of each task's queries for tuning, half for the verdict"),
            (self.trials >= 1, f"--trials {self.trials} is below 1", "e.g. --trials 8"),
            (self.keep >= 1, f"--keep {self.keep} is below 1", "keep at least the best model"),
            (self.eval_steps >= 1, f"--eval-steps {self.eval_steps} is below 1", "e.g. --eval-steps 50"),
            (0 < self.steps_scale <= 1, f"--steps-scale {self.steps_scale:g} is not in (0, 1]",
             "e.g. --steps-scale 0.005 turns the study's 10k-50k steps into 50-250"),
        ]
        for ok, problem, fix in checks:
            if not ok:
                raise GlottaError(problem, fix=fix)

    def record(self) -> dict:
        record = asdict(self)
        record["space"] = self.space.describe()
        for name in ("target_split", "presample"):  # studies made before these fields existed keep their hash
            if not record[name]:
                del record[name]
        return json.loads(json.dumps(record, default=str))

    def digest(self) -> str:
        identity = {k: v for k, v in self.record().items() if k not in NOT_HASHED}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def differences(recorded: dict, wanted: dict) -> list[str]:
    return sorted(k for k in recorded.keys() | wanted.keys()
                  if k not in NOT_HASHED and recorded.get(k) != wanted.get(k))


def recorded_settings(record: dict) -> TuneSettings:
    """The settings a study was created with, as stored in it (the space as its description)."""
    values = dict(record)
    space = values.pop("space")
    for name in ("data", "general"):
        values[name] = tuple(values[name])
    return TuneSettings(space=SearchSpace(space["name"], ()), **values)
