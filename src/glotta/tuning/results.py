"""What a study found: the trial table, the chosen model(s), and the verdict on held-out test queries.

The verdict is the study's question answered honestly: "use the tuned model" only for a
feasible trial (general drop within the limit on dev) whose gain holds on the *test* queries
without breaking the limit there; otherwise "keep the base", naming the closest trial.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from glotta.analysis.tables import TableData
from glotta.errors import GlottaError
from glotta.tuning.objective import points
from glotta.tuning.settings import TuneSettings
from glotta.tuning.study import chosen, dev_and_test, feasible, score


def trial_table(study, keep: int = 1) -> TableData:
    params = sorted({name for t in study.trials for name in t.params})
    best = {t.number for t in chosen(study, keep)}
    rows = []
    for t in study.trials:
        attrs = t.user_attrs
        rows.append([str(t.number) + (" *" if t.number in best else ""), t.state.name,
                     *(_value(t.params.get(p)) for p in params),
                     _points(attrs.get("gain")), _points(attrs.get("drop")),
                     "-" if not t.constraints else ("yes" if feasible(t) else "no"),
                     f"{attrs['seconds']:.0f}" if "seconds" in attrs else "-",
                     attrs.get("reason", "-"), _retry(t)])
    return TableData(f"study {study.study_name}: trials (gain and drop in points of dev nDCG@10 vs the base)",
                     ["trial", "state", *params, "gain", "drop", "feasible", "s", "reason", "retry of"], rows,
                     set(range(2, len(params) + 6)),
                     ["*: the chosen trial(s): the best feasible by dev gain (constrained) or the feasible Pareto set",
                      "s: wall time of the trial; retry of: the trial a killed worker left, run again"])


def _value(value) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def _points(value) -> str:
    return "-" if value is None else f"{value:+.2f}"


def _retry(trial) -> str:
    number = trial.system_attrs.get("failed_trial")
    return "-" if number is None else str(number)


@dataclass(frozen=True)
class Verdict:
    use_tuned: bool
    text: str
    trial: int | None
    test: dict | None  # base / tuned test nDCG@10, and gain / drop on test


def verdict(study, settings: TuneSettings, keep: int = 1) -> Verdict:
    best = chosen(study, keep)
    if not best:
        closest = _closest(study)
        where = (f"; the closest is trial {closest.number} (dev gain {closest.user_attrs['gain']:+.2f}, general drop "
                 f"{closest.user_attrs['drop']:+.2f} points)") if closest else ""
        return Verdict(False, f"keep the base: no trial keeps the general drop within {settings.max_general_drop} "
                              f"points{where}", None, None)
    trial = best[0]
    _, test = dev_and_test(settings)
    base = score(settings.model, test, settings, None)
    tuned = score(trial.user_attrs["model"], test, settings, None)
    gain, drop = points(base, tuned)
    numbers = {"base": base, "tuned": tuned, "gain": round(gain, 4), "drop": round(drop, 4)}
    if gain > 0 and drop <= settings.max_general_drop:
        return Verdict(True, f"use trial {trial.number}: on held-out test queries target {gain:+.2f} points, general "
                             f"drop {drop:+.2f} (limit {settings.max_general_drop})", trial.number, numbers)
    return Verdict(False, f"keep the base: trial {trial.number}, best on dev (gain {trial.user_attrs['gain']:+.2f}), "
                          f"gives target {gain:+.2f} and general drop {drop:+.2f} points on held-out test queries",
                   trial.number, numbers)


def _closest(study):
    """The completed trial nearest to feasible: the smallest general drop."""
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return min(complete, key=lambda t: t.user_attrs["drop"], default=None)


def figures(study, folder: Path) -> list[Path]:
    """Optuna's own matplotlib plots, as PNG files: history, Pareto front, importances, curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna.visualization.matplotlib as plots
    from optuna.trial import TrialState

    folder.mkdir(parents=True, exist_ok=True)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    multi = len(study.directions) > 1
    gain = {"target": lambda t: t.values[0], "target_name": "dev gain (points)"} if multi else {}
    drawn = {"history": lambda: plots.plot_optimization_history(study, **gain)}
    if multi:
        drawn["pareto"] = lambda: plots.plot_pareto_front(study, target_names=["dev gain", "general drop"])
    if len(complete) >= 2 and any(len(set(t.params.get(p) for t in complete)) > 1 for p in complete[0].params):
        drawn["importances"] = lambda: plots.plot_param_importances(study, **gain)
    if not multi:
        drawn["intermediate"] = lambda: plots.plot_intermediate_values(study)
    written = []
    import warnings

    for name, draw in drawn.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the matplotlib plots are "experimental": one warning each
            axes = draw()
        figure = (axes.flat[0] if hasattr(axes, "flat") else axes).get_figure()
        path = folder / f"{name}.png"
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


def export(study, keep: int, target: Path, overwrite: bool) -> Path:
    from glotta.data.atomic import refuse_existing

    best = chosen(study, keep)
    if not best:
        raise GlottaError("no feasible trial: there is no model to export (the verdict is: keep the base)",
                          fix="relax --max-general-drop, or run more trials")
    source = Path(best[0].user_attrs["model"])
    if not source.is_dir():
        raise GlottaError(f"trial {best[0].number}'s model is not on disk", path=source,
                          fix="it was deleted: rerun the study with --keep")
    refuse_existing(target, overwrite)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def write_study_report(study, settings: TuneSettings, table: TableData, result: Verdict | None,
                       folder: Path) -> tuple[Path, Path]:
    """``report.html`` (figures embedded) and ``report.md`` (figures beside it), and ``verdict.json``."""
    from glotta.analysis.report import Section, write_report
    from glotta.data.atomic import write_json_atomic

    base = study.user_attrs.get("base", {})
    about = [f"model {settings.model}; target {settings.target_task}, general {settings.general_task} (each split by "
             f"query: {settings.dev_share:.0%} dev for tuning, the rest held out); mode {settings.mode}, general "
             f"drop limit {settings.max_general_drop} points, forgetting stop at {settings.stop_drop}; steps scale "
             f"{settings.steps_scale:g}",
             "base dev nDCG@10: " + ", ".join(f"{k} {v:.4f}" for k, v in base.items())]
    sections = [Section("Study", about, [table])]
    if result is not None:
        lines = [result.text]
        if result.test:
            lines.append("held-out test nDCG@10: " + "; ".join(
                f"{k}: base {result.test['base'][k]:.4f}, tuned {result.test['tuned'][k]:.4f}"
                for k in result.test["base"]))
        sections.append(Section("Verdict", lines))
        write_json_atomic(folder / "verdict.json", {"use_tuned": result.use_tuned, "text": result.text,
                                                    "trial": result.trial, "test": result.test})
    sections.append(Section("Figures (optuna.visualization.matplotlib)", [], [], figures(study, folder)))
    return write_report(sections, folder, f"glotta tune: {study.study_name}")
