"""What ``glotta tune`` searches over: the Italian study's grid, glotta's default, or a YAML file.

A parameter is a name glotta knows (each one maps onto ``glotta train``, the general-pair mix
or the post-hoc merge) and an Optuna distribution. The study's grid is kept exactly, with its
10k-50k steps multiplied by ``steps_scale`` so that a CPU can run it; the default space adds
the knobs that limit forgetting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from glotta.errors import GlottaError

# name -> what it sets, for messages and the README
PARAMETERS = {
    "learning_rate": "peak learning rate (glotta train --lr)",
    "batch_size": "rows per batch (--batch-size)",
    "temperature": "InfoNCE temperature (--temperature)",
    "warmup_ratio": "warm-up share of the steps (--warmup-ratio)",
    "steps": "optimizer steps (--max-steps)",
    "negatives": "hard negatives per row (--negatives)",
    "general_share": "share of general-language pairs in the training rows (--general)",
    "merge_alpha": "weight of the tuned model in the post-hoc merge with the base (glotta merge --alpha)",
}
INTEGER = {"batch_size", "steps", "negatives"}
# the values each parameter can take at all: (lowest, highest, whether the lowest itself is allowed)
LIMITS = {"learning_rate": (0.0, 1.0, False), "batch_size": (2, 1 << 20, True), "temperature": (0.0, 10.0, False),
          "warmup_ratio": (0.0, 1.0, True), "steps": (1, 1 << 30, True), "negatives": (0, 64, True),
          "general_share": (0.0, 0.95, True), "merge_alpha": (0.0, 1.0, False)}
STUDY_STEPS = (10_000, 20_000, 30_000, 40_000, 50_000)


@dataclass(frozen=True)
class Parameter:
    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()

    def values(self) -> tuple:
        return self.choices or (self.low, self.high)


@dataclass(frozen=True)
class SearchSpace:
    name: str
    parameters: tuple[Parameter, ...]
    fixed: tuple[tuple[str, object], ...] = ()  # values a space file pins

    def suggest(self, trial) -> dict:
        """The trial's values for every parameter, the pinned ones included."""
        values = dict(self.fixed)
        for p in self.parameters:
            if p.choices:
                values[p.name] = trial.suggest_categorical(p.name, list(p.choices))
            elif p.name in INTEGER:
                values[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
            else:
                values[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
        return values

    def describe(self) -> dict:
        return {"name": self.name, "fixed": dict(self.fixed),
                "parameters": {p.name: ({"choices": list(p.choices)} if p.choices else
                                        {"low": p.low, "high": p.high, "log": p.log}) for p in self.parameters}}


def _steps(steps_scale: float) -> tuple[int, ...]:
    return tuple(dict.fromkeys(max(1, round(steps * steps_scale)) for steps in STUDY_STEPS))


def study_space(steps_scale: float = 1.0) -> SearchSpace:
    """The Italian study's grid: lr {5e-6, 7.5e-6, 1e-5, 1.5e-5}, batch {64, 128, 192, 384},
    temperature {0.05, 0.07, 0.09}, warm-up {0, 0.1}, 10k-50k steps (times ``steps_scale``)."""
    return SearchSpace("study", (
        Parameter("learning_rate", choices=(5e-6, 7.5e-6, 1e-5, 1.5e-5)),
        Parameter("batch_size", choices=(64, 128, 192, 384)),
        Parameter("temperature", choices=(0.05, 0.07, 0.09)),
        Parameter("warmup_ratio", choices=(0.0, 0.1)),
        Parameter("steps", choices=_steps(steps_scale)),
    ))


def default_space(steps_scale: float = 1.0, general: bool = False) -> SearchSpace:
    """Log-uniform learning rate and temperature, steps, hard negatives, the general-pair share
    (when general pairs are given) and the merge weight: the last two are what keeps the base."""
    steps = _steps(steps_scale)
    parameters = [
        Parameter("learning_rate", 5e-6, 1e-4, log=True),
        Parameter("temperature", 0.02, 0.1, log=True),
        Parameter("steps", steps[0], steps[-1]) if len(steps) > 1 else Parameter("steps", choices=steps),
        Parameter("negatives", 0, 1),
        Parameter("merge_alpha", 0.3, 1.0),
    ]
    if general:
        parameters.insert(4, Parameter("general_share", 0.0, 0.5))
    return SearchSpace("default", tuple(parameters))


# Eight configurations of the study's grid, one per corner region, for --enqueue-study: the study
# ran 8 Optuna trials over this grid and does not list which, so these cover its extremes.
STUDY_CONFIGS = (
    (5e-6, 64, 0.05, 0.0, 10_000), (7.5e-6, 128, 0.07, 0.1, 20_000), (1e-5, 192, 0.09, 0.0, 30_000),
    (1.5e-5, 384, 0.05, 0.1, 50_000), (5e-6, 384, 0.09, 0.1, 40_000), (1.5e-5, 64, 0.07, 0.0, 20_000),
    (1e-5, 128, 0.05, 0.1, 10_000), (7.5e-6, 192, 0.07, 0.0, 50_000),
)


def study_configs(steps_scale: float) -> list[dict]:
    return [{"learning_rate": lr, "batch_size": batch, "temperature": temperature, "warmup_ratio": warmup,
             "steps": max(1, round(steps * steps_scale))} for lr, batch, temperature, warmup, steps in STUDY_CONFIGS]


def load_space(path: Path, steps_scale: float = 1.0) -> SearchSpace:
    """A YAML mapping ``name: {low, high, log}``, ``name: {choices: [...]}`` or ``name: value`` (fixed).

    ``steps`` bounds are multiplied by ``steps_scale`` like the shipped spaces'.
    """
    from glotta.data.records import parse_yaml, read_text

    raw = parse_yaml(read_text(path), path)
    fix = ("write one parameter per line, e.g. 'learning_rate: {low: 1e-6, high: 1e-4, log: true}', "
           f"'temperature: {{choices: [0.05, 0.07]}}' or 'steps: 200'; parameters: {', '.join(PARAMETERS)}")
    if not isinstance(raw, dict) or not raw:
        raise GlottaError("the space file holds no parameters", fix=fix, path=path)
    parameters, fixed = [], []
    for name, value in raw.items():
        value = {k: _number(v) for k, v in value.items()} if isinstance(value, dict) else _number(value)
        if name not in PARAMETERS:
            raise GlottaError(f"unknown parameter {name!r}", fix=fix, path=path)
        scale = steps_scale if name == "steps" else 1.0
        if isinstance(value, dict):
            parameters.append(_parameter(name, value, scale, path, fix))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            fixed.append((name, _scaled(name, value, scale)))
        else:
            raise GlottaError(f"{name}: {value!r} is neither a range, a list of choices nor a number", fix=fix,
                              path=path)
    for name, values in [*((p.name, p.values()) for p in parameters), *((n, (v,)) for n, v in fixed)]:
        lowest, highest, inclusive = LIMITS[name]
        if not all((lowest <= v if inclusive else lowest < v) and v <= highest for v in values):
            raise GlottaError(f"{name}: {', '.join(map(str, values))} outside {'[' if inclusive else '('}{lowest}, "
                              f"{highest}]", fix=f"{name} is the {PARAMETERS[name]}", path=path)
    return SearchSpace(path.stem, tuple(parameters), tuple(fixed))


def _number(value):
    """YAML 1.1 reads ``1e-5`` (no dot) as text: such a text is the number it spells."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _scaled(name: str, value: float, scale: float):
    """``value`` times ``scale``; a scaled step count stays at least 1, other integers are rounded
    (a range of 0-1 negatives must stay one)."""
    value = value * scale
    if name not in INTEGER:
        return float(value)
    return max(1, round(value)) if name == "steps" else round(value)


def _parameter(name: str, value: dict, scale: float, path: Path, fix: str) -> Parameter:
    unknown = sorted(set(value) - {"low", "high", "log", "choices"})
    if unknown:
        raise GlottaError(f"{name}: unknown key {unknown[0]!r}", fix=fix, path=path)
    if "choices" in value:
        choices = value["choices"]
        if not isinstance(choices, list) or not choices:
            raise GlottaError(f"{name}: choices must be a non-empty list", fix=fix, path=path)
        choices = [_number(c) for c in choices]
        if not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices):
            raise GlottaError(f"{name}: every choice must be a number", fix=fix, path=path)
        return Parameter(name, choices=tuple(dict.fromkeys(_scaled(name, c, scale) for c in choices)))
    low, high = value.get("low"), value.get("high")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        raise GlottaError(f"{name}: a range needs numbers 'low' and 'high'", fix=fix, path=path)
    low, high = _scaled(name, low, scale), _scaled(name, high, scale)
    log = bool(value.get("log", False))
    if not low < high or (log and low <= 0):
        raise GlottaError(f"{name}: the range [{low}, {high}] is empty" + (" or not positive (log)" if log else ""),
                          fix="give 'low' below 'high' (both above 0 with log: true), or a single value", path=path)
    return Parameter(name, low, high, log)
