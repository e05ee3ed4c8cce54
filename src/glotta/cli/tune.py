"""``glotta tune``: a forgetting-aware hyper-parameter search (Optuna), and what it found."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from glotta.cli.common import Device, OutputAlias, console, errors, output_option, quiet_libraries
from glotta.errors import GlottaError

tune_app = typer.Typer(no_args_is_help=True, help="Search fine-tuning settings that improve the target language "
                                                  "without losing the general one.")

Storage = Annotated[str | None, typer.Option(help="Optuna storage URL for workers on several machines, e.g. postgresql://user:pw@host/db (default: a journal file in the study folder).", show_default=False)]
StudyName = Annotated[str | None, typer.Option(help="Study name in the storage (default: the study folder's name).", show_default=False)]


def _space(space: str, steps_scale: float, general: bool):
    from glotta.tuning.space import default_space, load_space, study_space

    if space == "study":
        return study_space(steps_scale)
    if space == "default":
        return default_space(steps_scale, general)
    path = Path(space)
    if path.suffix not in (".yaml", ".yml"):
        raise GlottaError(f"--space {space!r} is neither 'study', 'default' nor a .yaml file",
                          fix="use --space study (the Italian study's grid), default, or a space file")
    from glotta.data.corpus import require_file

    require_file(path, "--space file", "give a YAML file of parameters, e.g. 'learning_rate: {low: 1e-6, high: 1e-4}'")
    return load_space(path, steps_scale)


@tune_app.command("run")
def tune_run_command(
    model: Annotated[str, typer.Argument(help="The model to adapt: a sentence-transformers folder or hub id.")],
    data: Annotated[list[Path], typer.Option("--data", help="Training triplets (glotta triplets build); repeatable.")],
    target_task: Annotated[Path, typer.Option("--target-task", help="Target-language retrieval task: split by query into dev (tuning) and test (verdict).")],
    general_task: Annotated[Path, typer.Option("--general-task", help="General-language retrieval task to protect, split the same way.")],
    output: Annotated[Path | None, output_option("Study folder: the journal, the kept models, the report.", required=True)] = None,
    output_alias: OutputAlias = None,
    general: Annotated[list[Path] | None, typer.Option("--general", help="General-language pairs to mix in (the space's general_share); repeatable.")] = None,
    space: Annotated[str, typer.Option(help="study (the Italian study's grid), default, or a YAML space file.")] = "default",
    steps_scale: Annotated[float, typer.Option(help="Multiply the space's steps (the study's 10k-50k) by this, so a CPU can run it.")] = 1.0,
    mode: Annotated[str, typer.Option(help="constrained: maximise the target gain with the general drop as a limit; pareto: both objectives.")] = "constrained",
    max_general_drop: Annotated[float, typer.Option(help="Points of general nDCG@10 a feasible trial may lose.")] = 0.5,
    stop_drop: Annotated[float, typer.Option(help="Stop a trial at once when its general drop passes this many points.")] = 3.0,
    trials: Annotated[int, typer.Option(help="Finished trials in all, over every worker (Optuna's MaxTrialsCallback).")] = 8,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    keep: Annotated[int, typer.Option(help="Models kept on disk: the best (or Pareto) ones.")] = 1,
    storage: Storage = None,
    study_name: StudyName = None,
    enqueue_study: Annotated[bool, typer.Option("--enqueue-study", help="Enqueue eight configurations of the study's grid first (once per study).")] = False,
    dev_share: Annotated[float, typer.Option(help="Share of each task's queries used for tuning; the rest is held out.")] = 0.5,
    eval_queries: Annotated[int, typer.Option(min=1, help="Dev queries per task scored at each evaluation.")] = 200,
    eval_steps: Annotated[int, typer.Option(help="Score the dev queries every N steps (pruning and the forgetting stop).")] = 50,
    batch_size: Annotated[int, typer.Option(min=2, help="Rows per batch when the space does not search it.")] = 32,
    loss: Annotated[str, typer.Option(help="infonce or cached-infonce (GradCache: the study's large batches in small memory).")] = "infonce",
    mini_batch_size: Annotated[int, typer.Option(min=1)] = 32,
    max_seq_length: Annotated[int | None, typer.Option(min=8, help="Cut texts during training (speed).")] = None,
    seed: int = 42,
    device: Device = None,
) -> None:
    """Trials of glotta train on --data, scored on the dev queries against the base; resumable, many workers."""
    from glotta.data.atomic import check_writable
    from glotta.tuning.settings import TuneSettings
    from glotta.tuning.study import redacted, run

    quiet_libraries()
    check_writable(output, "--output")
    settings = TuneSettings(
        model=model, data=tuple(map(str, data)), target_task=str(target_task), general_task=str(general_task),
        space=_space(space, steps_scale, bool(general)), general=tuple(map(str, general or ())), mode=mode,
        max_general_drop=max_general_drop, stop_drop=stop_drop, dev_share=dev_share, eval_queries=eval_queries,
        eval_steps=eval_steps, batch_size=batch_size, loss=loss, mini_batch_size=mini_batch_size,
        max_seq_length=max_seq_length, steps_scale=steps_scale, seed=seed, device=device,
        enqueue_study=enqueue_study, trials=trials, keep=keep)
    settings.check()
    name = study_name or output.name
    if steps_scale != 1.0:
        errors.print(f"steps scaled by {steps_scale:g}: the study's 10k-50k steps are {'; '.join(_steps_of(settings))} "
                     "here", highlight=False)
    errors.print(f"study {name} in {redacted(storage) if storage else output}: {trials} trials, {workers} worker(s)",
                 highlight=False)
    run(settings, output, storage, name, workers)
    _show(output, storage, name, verdict_too=True)


def _steps_of(settings) -> list[str]:
    return [", ".join(map(str, p.choices)) if p.choices else f"{p.low}-{p.high}"
            for p in settings.space.parameters if p.name == "steps"]


@tune_app.command("show")
def tune_show_command(
    study: Annotated[Path, typer.Argument(help="The study folder (its --output).")],
    storage: Storage = None,
    study_name: StudyName = None,
    verdict: Annotated[bool, typer.Option(help="Score the chosen model and the base on the held-out test queries.")] = True,
    export_best: Annotated[Path | None, typer.Option("--export-best", help="Copy the chosen model to this folder.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --export-best folder.")] = False,
) -> None:
    """The trials, the best (or Pareto) ones, figures, and the verdict on held-out test queries."""
    if storage is None and not (study / "study.journal").is_file():
        raise GlottaError("no study here (no study.journal)", path=study,
                          fix="give the --output folder of glotta tune run, or --storage for a database study")
    quiet_libraries()
    _show(study, storage, study_name or study.name, verdict_too=verdict, export_to=export_best, overwrite=overwrite)


def _show(out: Path, storage_url: str | None, name: str, *, verdict_too: bool, export_to: Path | None = None,
          overwrite: bool = False) -> None:
    import optuna

    from glotta.cli.tables import rich_table
    from glotta.tuning.results import export, trial_table, verdict, write_study_report
    from glotta.tuning.settings import recorded_settings
    from glotta.tuning.study import open_storage, redacted

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(out, storage_url)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise GlottaError(f"no study named {name!r} in this storage", fix="check --study-name") from None
    settings = recorded_settings(study.user_attrs["settings"])
    table = trial_table(study, settings.keep)
    console.print(rich_table(table))
    result = verdict(study, settings, settings.keep) if verdict_too else None
    html_path, _ = write_study_report(study, settings, table, result, out / "report")
    if result is not None:
        style = "green" if result.use_tuned else "yellow"
        console.print(f"[{style}]verdict: {result.text}[/{style}]", highlight=False)
    console.print(f"report: {html_path} (and report.md); optuna-dashboard "
                  f"{redacted(storage_url) if storage_url else out / 'study.journal'} shows the study live",
                  highlight=False)
    if export_to is not None:
        console.print(f"model exported to {export(study, settings.keep, export_to, overwrite)}", highlight=False)
