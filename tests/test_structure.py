"""The import structure points one way (encoders never reach up into what uses them), and ruff is clean."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENCODERS = ROOT / "src" / "glotta" / "encoders"
ABOVE_ENCODERS = ("glotta.evaluation", "glotta.cli", "glotta.training", "glotta.analysis")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, at any depth (functions included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)]
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


@pytest.mark.parametrize("path", sorted(ENCODERS.glob("*.py")), ids=lambda p: p.name)
def test_encoders_import_nothing_that_uses_them(path):
    upward = [f"{path.name}:{line}: {module}" for line, module in _imports(path)
              if any(module == top or module.startswith(top + ".") for top in ABOVE_ENCODERS)]
    assert not upward, "encoders reach up into evaluation/cli/training/analysis:\n" + "\n".join(upward)


def test_ruff_is_clean():
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
               "src", "tests", "benchmarks"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
