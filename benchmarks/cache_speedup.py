"""How much faster is a second identical ``glotta eval`` run? (issue: cache, >= 10x)

Runs the real CLI three times in one process tree, on the same machine state:
  1. cold: empty embedding cache, empty results folder;
  2. identical re-run: results exist, so every task is reused;
  3. --overwrite: every task re-evaluated, every embedding read from the cache.
Timings are wall-clock ratios measured in this one run (machines here are shared and noisy).

    python benchmarks/cache_speedup.py [--benchmark ita] [--model ...] [--output benchmarks/out]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--benchmark", default="ita")
    parser.add_argument("--model", action="append")
    parser.add_argument("--output", "--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    models = args.model or ["sentence-transformers/all-MiniLM-L6-v2"]
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "GLOTTA_CACHE": str(Path(scratch) / "cache")}
        command = [sys.executable, "-m", "glotta.cli", "eval", "-b", args.benchmark,
                   "-o", str(Path(scratch) / "results")]
        for model in models:
            command += ["-m", model]
        cold = timed(command, env)
        identical = timed(command, env)
        cached = timed([*command, "--overwrite"], env)
    report = {
        "benchmark": args.benchmark, "models": models, "cold_s": round(cold, 2),
        "identical_rerun_s": round(identical, 2), "overwrite_with_cache_s": round(cached, 2),
        "speedup_identical_rerun": round(cold / identical, 1),
        "speedup_embedding_cache_only": round(cold / cached, 1),
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "cache_speedup.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
