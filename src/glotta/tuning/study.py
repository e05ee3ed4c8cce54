"""The study: Optuna's storage, its workers, and what the study remembers between them.

Storage and scheduling are Optuna's: a journal file (``JournalStorage``, safe for several
processes on one machine or a shared filesystem) by default, PostgreSQL (``RDBStorage`` with
heartbeats and ``RetryHeartbeatStaleTrialCallback``) for workers on several machines. The study
keeps the settings hash, the base model's dev scores and whether the study's configurations were
enqueued, so every worker and every resume works on the same question. Optuna's journal
storage has no heartbeat in 5.0: a trial left RUNNING by a process of this machine that no
longer exists is failed and re-enqueued the way the heartbeat callback would do it.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

from glotta.errors import GlottaError
from glotta.tuning.objective import GENERAL, TARGET, Objective, split_by_query
from glotta.tuning.settings import TuneSettings, differences

JOURNAL = "study.journal"
HEARTBEAT_S = 30
TPE_STARTUP_TRIALS = 10  # TPESampler's default n_startup_trials: random sampling until then
RETRIES = 2


def redacted(url: str) -> str:
    """The URL without its password: storage URLs reach messages and files, secrets never do."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def open_storage(out: Path, url: str | None, heartbeat_s: int = HEARTBEAT_S):
    from optuna.storages import JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    if url is None:
        out.mkdir(parents=True, exist_ok=True)
        path = str(out / JOURNAL)
        return JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    if not url.startswith(("postgresql", "mysql", "sqlite")):
        raise GlottaError(f"--storage {redacted(url)!r} is not a database URL", parameter="storage",
                          fix="e.g. --storage postgresql://user:password@host:5432/glotta (or leave it out for a "
                              "journal file in the study folder)")
    try:
        return RDBStorage(url, heartbeat_interval=heartbeat_s, grace_period=2 * heartbeat_s,
                          heartbeat_stale_trial_callback=_quietly(RetryHeartbeatStaleTrialCallback, max_retry=RETRIES),
                          engine_kwargs={"pool_pre_ping": True, "connect_args": _connect_args(url)})
    except Exception as exc:  # SQLAlchemy's OperationalError, a missing driver (ImportError), a bad URL
        raise GlottaError(f"the storage {redacted(url)} cannot be used ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200]})", parameter="storage",
                          fix="start the database server, create the database, check host, port, user and password "
                              "(and pip install psycopg2-binary for PostgreSQL)") from None


def _quietly(kind, **options):
    """An Optuna object marked experimental, without its warning on every worker start."""
    import warnings

    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return kind(**options)


def _connect_args(url: str) -> dict:
    return {"connect_timeout": 10} if url.startswith("postgresql") else {}


def _sampler(settings: TuneSettings, worker: int):
    from optuna.samplers import TPESampler

    # each worker its own seed: two workers with one seed propose the same parameters
    return TPESampler(seed=settings.seed + worker)


def _pruner(settings: TuneSettings):
    from optuna.pruners import MedianPruner, NopPruner

    return MedianPruner(n_startup_trials=2, n_warmup_steps=1) if settings.mode == "constrained" else NopPruner()


def load_study(settings: TuneSettings, out: Path, storage, name: str, worker: int = 0):
    import optuna

    directions = ["maximize"] if settings.mode == "constrained" else ["maximize", "minimize"]
    study = optuna.create_study(study_name=name, storage=storage, sampler=_sampler(settings, worker),
                                pruner=_pruner(settings), directions=directions, load_if_exists=True)
    recorded = study.user_attrs.get("settings")
    if recorded is not None and study.user_attrs.get("settings_hash") != settings.digest():
        changed = differences(recorded, settings.record())
        raise GlottaError(f"study {name!r} was created with other settings (differs in: {', '.join(changed)})",
                          fix="start this worker with the study's settings, or tune into a new --output / "
                              "--study-name")
    if [d.name.lower() for d in study.directions] != directions:  # load_if_exists ignores a mismatch
        raise GlottaError(f"study {name!r} has {len(study.directions)} objective(s), not {settings.mode}'s",
                          fix="use the study's --mode, or a new --study-name")
    return study


def dev_and_test(settings: TuneSettings) -> tuple[dict, dict]:
    """Each task split by query: (dev tasks, test tasks), keyed TARGET / GENERAL."""
    from glotta.training.dev_evaluation import load_retrieval_task

    dev, test = {}, {}
    for name, path, option, split in ((TARGET, settings.target_task, "--target-task", settings.target_split),
                                      (GENERAL, settings.general_task, "--general-task", None)):
        dev[name], test[name] = split_by_query(load_retrieval_task(Path(path), option, split), settings.dev_share,
                                               settings.seed)
    return dev, test


def score(model_name: str, tasks: dict, settings: TuneSettings, max_queries: int | None) -> dict:
    """nDCG@10 of a model on the TARGET and GENERAL tasks, with the evaluators the trials use."""
    from glotta.training.dev_evaluation import retrieval_evaluator
    from glotta.training.fine_tune import load_model
    from glotta.tuning.objective import ndcg

    model, prompts = load_model(model_name, settings.device)
    return {name: ndcg(retrieval_evaluator(task, prompts, max_queries, settings.seed, 32, name)(model), name)
            for name, task in tasks.items()}


def prepare(settings: TuneSettings, out: Path, storage_url: str | None, name: str):
    """Open (or create) the study: settings, the base model's dev scores, the study's configurations."""
    import optuna

    from glotta.training.train_data import check_files
    from glotta.tuning.space import study_configs

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # glotta announces each trial itself
    settings.check()
    dev, _ = dev_and_test(settings)
    check_files([Path(p) for p in settings.data], [Path(p) for p in settings.general])
    base = None
    if storage_url is None and not (out / JOURNAL).exists():  # a new study: the model is checked before it is
        base = score(settings.model, dev, settings, settings.eval_queries)
    storage = open_storage(out, storage_url)
    study = load_study(settings, out, storage, name)
    if "base" not in study.user_attrs:
        study.set_user_attr("base", base or score(settings.model, dev, settings, settings.eval_queries))
        study.set_user_attr("settings", settings.record())
        study.set_user_attr("settings_hash", settings.digest())
    if settings.enqueue_study and not study.user_attrs.get("enqueued"):
        for params in study_configs(settings.steps_scale):
            study.enqueue_trial({k: v for k, v in params.items() if k in _searched(settings)}, skip_if_exists=True)
        study.set_user_attr("enqueued", True)
    if settings.presample and not study.user_attrs.get("presampled"):
        for params in presampled(settings):
            study.enqueue_trial(params, skip_if_exists=True)
        study.set_user_attr("presampled", True)
    return study


def presampled(settings: TuneSettings) -> list[dict]:
    """The parameters of the study's random start, drawn now by Optuna's RandomSampler with the seed.

    TPE samples its first ``n_startup_trials`` (10) at random anyway; drawn up front and enqueued,
    a trial killed with its worker is retried with the same values and the rest follow unchanged,
    so an interrupted study ends with the same configurations as one that was not.
    """
    import optuna
    from optuna.samplers import RandomSampler

    draft = optuna.create_study(sampler=RandomSampler(seed=settings.seed))
    drawn = []
    for _ in range(min(settings.trials, TPE_STARTUP_TRIALS)):
        trial = draft.ask()
        settings.space.suggest(trial)
        drawn.append(trial.params)
        draft.tell(trial, 0.0)
    return drawn


def _searched(settings: TuneSettings) -> set[str]:
    return {p.name for p in settings.space.parameters}


def fail_dead_trials(study) -> list[int]:
    """RUNNING trials of processes of this machine that are gone: failed, and enqueued again once.

    What RDBStorage's heartbeat does for PostgreSQL, for the journal file (no heartbeat in Optuna 5).
    """
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    host = socket.gethostname()
    failed = []
    retry = _quietly(RetryHeartbeatStaleTrialCallback, max_retry=RETRIES)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker", "")
        name, _, pid = worker.rpartition(":")
        if name != host or not pid.isdigit() or _alive(int(pid)):
            continue
        study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        frozen = study._storage.get_trial(trial._trial_id)
        retry(study, frozen)
        failed.append(trial.number)
    return failed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def run_worker(settings: TuneSettings, out: Path, storage_url: str | None, name: str, worker: int) -> None:
    """One worker: trials until the study's budget of finished trials is spent."""
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(out, storage_url)
    study = load_study(settings, out, storage, name, worker)
    fail_dead_trials(study)
    dev, _ = dev_and_test(settings)
    objective = Objective(settings, out, dev, study.user_attrs["base"])
    budget = MaxTrialsCallback(settings.trials, states=(TrialState.COMPLETE, TrialState.PRUNED))
    if _finished(study) < settings.trials:
        # dead workers' trials are looked for again after every trial: a live worker picks up their retries
        study.optimize(objective, callbacks=[budget, _keeper(settings, out), _announce, _give_up(settings),
                                             lambda study, _trial: fail_dead_trials(study)],
                       catch=(GlottaError,), gc_after_trial=True)
    errors = _errors(study)
    if errors >= settings.trials:
        raise GlottaError(f"{errors} trials failed with an error (the last: "
                          f"{study.trials[-1].user_attrs.get('reason', '?')}): the study stopped",
                          fix="see the reasons with glotta tune show; fix the data or the space, then resume")


def _errors(study) -> int:
    from optuna.trial import TrialState

    return sum(t.user_attrs.get("reason", "").startswith("error") for t in study.get_trials(
        deepcopy=False, states=(TrialState.FAIL,)))


def _give_up(settings: TuneSettings):
    """Failed trials do not spend the budget (a killed worker's trial runs again): as many errors as the
    budget stop the study instead of sampling failures forever."""
    def check(study, _trial) -> None:
        if _errors(study) >= settings.trials:
            study.stop()
    return check


def _announce(_study, trial) -> None:
    """One line per finished trial (the trainer's own log is off during a study)."""
    import sys

    attrs = trial.user_attrs
    scores = (f", gain {attrs['gain']:+.2f}, drop {attrs['drop']:+.2f}" if "gain" in attrs else "")
    print(f"trial {trial.number}: {trial.state.name.lower()}{scores}, {attrs.get('reason', '-')} "
          f"({attrs.get('seconds', 0):.0f} s)", file=sys.stderr, flush=True)


def _finished(study) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def _keeper(settings: TuneSettings, out: Path):
    def keep_best(study, _trial) -> None:
        """Only the ``keep`` best (or Pareto) models stay on disk; other trials' folders go."""
        kept = {t.number for t in chosen(study, settings.keep)}
        for folder in (out / "trials").glob("[0-9]*"):
            number = int(folder.name)
            trial = next((t for t in study.get_trials(deepcopy=False) if t.number == number), None)
            if number not in kept and (trial is None or trial.state.is_finished()):
                shutil.rmtree(folder, ignore_errors=True)
    return keep_best


def feasible(trial) -> bool:
    return all(value <= 0 for value in trial.constraints.values()) if trial.constraints else False


def chosen(study, keep: int) -> list:
    """The trials whose models are kept: the best feasible ones by gain (constrained), or the
    feasible Pareto set (pareto); none when no trial is feasible."""
    from optuna.trial import TrialState

    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if feasible(t)]
    if len(study.directions) > 1:
        return sorted(study.best_trials, key=lambda t: -t.values[0])[: max(keep, len(study.best_trials))]
    return sorted(complete, key=lambda t: -t.value)[:keep]


def run(settings: TuneSettings, out: Path, storage_url: str | None, name: str, workers: int) -> None:
    """Prepare the study, then ``workers`` local processes (one: this process) run its trials."""
    prepare(settings, out, storage_url, name)
    if workers == 1:
        run_worker(settings, out, storage_url, name, 0)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no torch state shared through fork
    processes = [context.Process(target=_worker_process, args=(settings, out, storage_url, name, index))
                 for index in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    lost = [index for index, process in enumerate(processes) if process.exitcode]
    if lost:
        raise GlottaError(f"worker(s) {', '.join(map(str, lost))} ended with an error",
                          fix="see the messages above; run glotta tune again to resume the study")


def _worker_process(settings: TuneSettings, out: Path, storage_url: str | None, name: str, worker: int) -> None:
    """A spawned worker: a GlottaError is its one message and exit code 2, as in the CLI."""
    import sys

    try:
        run_worker(settings, out, storage_url, name, worker)
    except GlottaError as exc:
        print(f"error (worker {worker}): {exc.message}", file=sys.stderr)
        sys.exit(2)
