"""Triplets from the whole Italian and Dutch corpora with the BM25 miner: time, size, Table 1.

Runs the real CLI (`glotta triplets build` then `glotta triplets stats`) per language into a
scratch folder; BM25 keeps the run to minutes on a laptop (a dense miner is a --miner away).

    python benchmarks/triplets_whole_corpus.py [--output benchmarks/out]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[1].parent / "shared/data/corpora"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", "--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    report = {}
    with tempfile.TemporaryDirectory() as scratch:
        for language, folder in (("ita", "it"), ("nld", "nl")):
            corpus = [arg for path in sorted((CORPORA / folder).glob("*/docs.jsonl"))
                      for arg in ("--corpus", str(path))]
            out = Path(scratch) / language
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "glotta.cli", "triplets", "build", *corpus, "--lang", language,
                            "--miner", "bm25", "--strategy", "topk", "--range", "0:30", "--num-negatives", "4",
                            "--random-negatives", "1", "--output", str(out)], check=True, stdout=subprocess.DEVNULL)
            elapsed = time.perf_counter() - started
            stats = out / "stats.json"
            subprocess.run([sys.executable, "-m", "glotta.cli", "triplets", "stats", str(out), "--json", str(stats)],
                           check=True, stdout=subprocess.DEVNULL)
            summary = json.loads((out / "summary.json").read_text())
            report[language] = {"build_s": round(elapsed, 1), "summary": summary,
                                "statistics": json.loads(stats.read_text())}
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "triplets_whole_corpus.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({lang: {k: v for k, v in r.items() if k != "statistics"} for lang, r in report.items()}, indent=2))


if __name__ == "__main__":
    main()
