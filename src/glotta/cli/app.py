"""``glotta``: evaluate, compare and adapt embedding models for one language.

User errors (GlottaError, bad options, unusable files) end with one message and exit code 2,
never a traceback.
"""

from __future__ import annotations

import os
import sys

import typer
from rich.markup import escape

from glotta.cli import adapt, compare, evaluate, leaderboard, rag, train, trim, triplets, tune
from glotta.cli.common import errors
from glotta.errors import GlottaError, os_error

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n")[0])
app.command("eval")(evaluate.eval_command)
app.command("tasks")(evaluate.tasks_command)
app.command("benchmarks")(evaluate.benchmarks_command)
app.add_typer(evaluate.results_app, name="results")
app.command("leaderboard")(leaderboard.leaderboard_command)
app.command("report")(leaderboard.report_command)
app.add_typer(triplets.triplets_app, name="triplets")
app.add_typer(rag.rag_app, name="rag")
app.add_typer(tune.tune_app, name="tune")
app.command("trim")(trim.trim_command)
app.command("train")(train.train_command)
app.command("advise")(train.advise_command)
app.command("compare")(compare.compare_command)
app.command("merge")(compare.merge_command)
app.command("adapt")(adapt.adapt_command)


def main() -> None:
    """The ``glotta`` entry point: a GlottaError or an OSError is one message and exit code 2."""
    # Standalone mode lets typer report its own usage errors (bad values, unknown or missing
    # options: exit 2) with whichever click it is built on; typer >= 0.24 ships a private copy
    # whose exceptions are not the ``click`` package's, so catching those here would miss them.
    os.environ.setdefault("TQDM_DISABLE", "1")  # model saves draw tqdm bars; tqdm reads this when imported
    try:
        app(standalone_mode=True)
    except GlottaError as exc:
        _fail(exc)
    except OSError as exc:  # a last resort: checks before the work should have named it already
        _fail(os_error(exc))


def _fail(exc: GlottaError) -> None:
    exc = exc.for_flags({**evaluate.FLAGS, **rag.FLAGS})  # the API names its parameters; here they are flags
    errors.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False, soft_wrap=True)
    sys.exit(2)
