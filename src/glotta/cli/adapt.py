"""``glotta adapt RECIPE.yaml``: the whole study on your documents, resumable, in one report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from glotta.cli.common import console, errors, progress_bars, quiet_libraries
from glotta.data.corpus import require_file


def adapt_command(
    recipe: Annotated[Path, typer.Argument(help="The recipe (YAML): language, documents, candidates, output; "
                                                "sections benchmark, data, budget (README: glotta adapt).")],
) -> None:
    """Which model for my documents, and does adapting it help without breaking it? Stages are skipped
    when their inputs and settings are unchanged, and resume where a killed run stopped."""
    from glotta.adapt.pipeline import adapt
    from glotta.adapt.recipe import load_recipe
    from glotta.progress import RichProgress

    require_file(recipe, "recipe", "give a YAML file, e.g. 'language: nld', 'documents: [docs/]', ...")
    loaded = load_recipe(recipe)
    quiet_libraries()
    with progress_bars() as bars:
        result = adapt(loaded, lambda line: errors.print(line, highlight=False, soft_wrap=True), RichProgress(bars))
    console.print(result.verdict.get("text", ""), highlight=False, soft_wrap=True)
    console.print(f"report: {result.report}", highlight=False)
