"""The CLI's contract for every command: --help works, an impossible option value is one usage error.

Typer has changed the click it is built on before (typer >= 0.24 ships a private copy whose
exceptions are not ``click``'s), which turned every usage error into a traceback with exit 1.
These tests go through the real entry point for every command, so a dependency update that
brings that back fails here.
"""

from __future__ import annotations

import pytest
from typer.main import get_command

from conftest import assert_refused, run_cli, tree_state
from glotta.cli.app import app

# command -> arguments with one impossible value (a range, a type or an unknown option); every
# other argument the command requires is given, so the bad value is what fails.
IMPOSSIBLE = {
    "eval": ["--model", "bm25", "--task", "x", "--batch-size", "0"],
    "tasks": ["--benchmark", "ita", "--no-such-option", "1"],
    "benchmarks": ["--no-such-option"],
    "results show": ["results", "--no-such-option"],
    "leaderboard": ["--lang", "ita", "--min-coverage", "1.5"],
    "report": ["--lang", "ita", "--min-coverage", "-0.1"],
    "triplets build": ["--corpus", "c.jsonl", "--lang", "ita", "--miner", "bm25", "--out", "o", "--num-negatives", "0"],
    "triplets stats": ["t", "--no-such-option"],
    "trim": ["m", "--corpus", "c.jsonl", "--lang", "ita", "--out", "o", "--size", "-5"],
    "train": ["m", "--data", "d.jsonl", "--out", "o", "--batch-size", "1"],
    "advise": ["m", "--dev-task", "t", "--saturation-threshold", "2"],
    "compare": ["a", "b", "--benchmark", "ita", "--drop-points", "-1"],
    "merge": ["a", "b", "--out", "o", "--alpha", "not-a-number"],
    "rag build": ["docs", "--lang", "nld", "--output", "o", "--num-queries", "0"],
    "tune run": ["m", "--data", "d.jsonl", "--target-task", "t", "--general-task", "g", "--output", "o",
                 "--workers", "0"],
    "tune show": ["study", "--no-such-option"],
    "adapt": ["recipe.yaml", "--no-such-option"],
}
NAMED = {"eval": "--batch-size", "leaderboard": "--min-coverage", "report": "--min-coverage",
         "triplets build": "--num-negatives", "trim": "--size", "train": "--batch-size",
         "advise": "--saturation-threshold", "compare": "--drop-points", "merge": "--alpha",
         "rag build": "--num-queries", "tune run": "--workers"}


def _commands(group, prefix=()) -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        if getattr(command, "commands", None):
            names += _commands(command, (*prefix, name))
        else:
            names.append(" ".join((*prefix, name)))
    return names


COMMANDS = _commands(get_command(app))


def test_the_table_covers_every_command():
    assert sorted(IMPOSSIBLE) == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command):
    result = run_cli(*command.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_impossible_option_value_is_a_usage_error(command, tmp_path):
    before = tree_state(tmp_path)
    result = run_cli(*command.split(), *IMPOSSIBLE[command], cwd=tmp_path)
    named = NAMED.get(command, "--no-such-option")
    assert_refused(result, named)
    assert tree_state(tmp_path) == before
