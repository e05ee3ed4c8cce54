"""BENCHMARKS.md from the measurements in benchmarks/out (issue 16): one place for every speed and parity figure.

Each section is rendered from the JSON a script in benchmarks/ wrote; a missing file is named as
not measured rather than filled in. Ratios are medians of per-round ratios measured in one run.

    .venv/bin/python benchmarks/write_benchmarks_md.py [--out benchmarks/out] [--target BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from glotta.data.atomic import write_text_atomic

TARGETS = {"exact": 0.45, "bf16": 0.30, "warm": 0.05}  # issue 16's targets, as fractions of mteb's cold time
EXACT_TOLERANCE, BF16_TOLERANCE = 1e-4, 0.005


def load(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def not_measured(script: str) -> list[str]:
    return [f"Not measured yet: run `.venv/bin/python benchmarks/{script}`.", ""]


def vs_mteb(report: dict) -> list[str]:
    lines: list[str] = []
    lines += ["| model | runtime | rounds | mteb cold s | glotta cold s | cold ratio | warm s | warm ratio "
              "| max score diff | targets |", "|---|---|---|---|---|---|---|---|---|---|"]
    groups: dict[tuple[str, str], list[dict]] = {}
    for run in report["runs"]:
        groups.setdefault((run["model"], run["config"]), []).append(run)
    for (model, config), runs in groups.items():
        cold = statistics.median(r["cold_ratio"] for r in runs)
        warm = statistics.median(r["warm_ratio"] for r in runs)
        diff = max(abs(d) for r in runs for d in r["score_diff"].values())
        precision = config.split(":")[1]
        kind = "exact" if precision == "fp32" else "bf16" if precision == "bf16" else None
        verdict = []
        if kind:
            tolerance = EXACT_TOLERANCE if kind == "exact" else BF16_TOLERANCE
            verdict.append(f"cold {'met' if cold <= TARGETS[kind] else 'missed'}")
            verdict.append(f"scores {'met' if diff <= tolerance else 'missed'}")
        verdict.append(f"warm {'met' if warm <= TARGETS['warm'] else 'missed'}")
        lines.append(f"| {model.split('/')[-1]} | {config} | {len(runs)} "
                     f"| {statistics.median(r['mteb_cold_s'] for r in runs):.1f} "
                     f"| {statistics.median(r['glotta_cold_s'] for r in runs):.1f} | {cold:.3f} "
                     f"| {statistics.median(r['glotta_warm_s'] for r in runs):.1f} | {warm:.3f} | {diff:.2e} "
                     f"| {', '.join(verdict)} |")
    lines.append("")
    tasks = report["tasks"]
    lines += ["Main score per task (mteb, then glotta's difference per runtime, from the first round):", "",
              "| model | runtime | " + " | ".join(tasks) + " |", "|---|---|" + "---|" * len(tasks)]
    for model in dict.fromkeys(model for model, _ in groups):
        first = {config: runs[0] for (name, config), runs in groups.items() if name == model}
        mteb_scores = next(iter(first.values()))["mteb_scores"]
        lines.append(f"| {model.split('/')[-1]} | mteb | " + " | ".join(f"{mteb_scores[t]:.5f}" for t in tasks) + " |")
        lines += [f"| {model.split('/')[-1]} | {config} | " + " | ".join(f"{run['score_diff'][t]:+.1e}" for t in tasks)
                  + " |" for config, run in first.items()]
    lines.append("")
    if report.get("conversions"):
        lines += ["Loading (and, for OpenVINO / ONNX, converting) a model once, a whole process that encodes one "
                  "text; the conversion is cached in `$GLOTTA_CACHE/models` and not paid again:", "",
                  "| model | runtime | seconds |", "|---|---|---|"]
        lines += [f"| {c['model'].split('/')[-1]} | {c['config']} | {c['seconds']:.1f} |"
                  for c in report["conversions"]]
        lines.append("")
    return lines


def bm25(report: dict) -> list[str]:
    lines: list[str] = []
    lines += [f"{report['documents']} documents, {report['queries']} queries.", "",
              "| side | index s | queries/s | nDCG@10 | Recall@100 |", "|---|---|---|---|---|"]
    for side in ("glotta_bm25s", "rank_bm25_same_tokens", "rank_bm25_whitespace"):
        row = report[side]
        lines.append(f"| {side} | {row['index_s']:.2f} | {row['queries_per_s']:.0f} | {row['ndcg_at_10']:.4f} "
                     f"| {row['recall_at_100']:.4f} |")
    return [*lines, "", f"Search speed-up over rank_bm25 (same tokens): {report['search_speedup_vs_rank_bm25']}x.", ""]


def metrics(report: dict) -> list[str]:
    return [f"{report['metrics_compared']} metrics x {report['queries']} queries: largest absolute "
                    f"difference {report['max_abs_diff']:.1e}; glotta computes all of them in "
                    f"{report['glotta_metrics_s']:.1f} s.", ""]


def training(report: dict) -> list[str]:
    speeds = report["samples_per_second"]
    lines = [f"{report['model']}, batch {report['batch_size']}, {report['steps']} steps, {report['rounds']} rounds: "
              f"glotta {statistics.median(speeds['glotta']):.2f} samples/s, plain "
              f"{statistics.median(speeds['plain']):.2f}; ratio {report['throughput_ratio_glotta_over_plain']:.3f}.",
              "", "| loss @ batch | RSS growth MiB |", "|---|---|"]
    lines += [f"| {name} | {row['growth_mib']:.0f} |" for name, row in report["memory"].items()]
    return [*lines, "", f"GradCache (mini-batch 32) grows {report['gradcache_growth_ratio_256_over_32']:.2f}x from "
                    f"batch 32 to 256; the plain loss {report['plain_growth_ratio_256_over_32']:.2f}x.", ""]


def gemm(report: dict) -> list[str]:
    limits = report["gemm_gflops"]
    lines = [f"{report['model']}, {report['texts']} texts, {report['padded_tokens']} padded tokens, "
              f"{report['gflop_per_pass']} GFLOP per pass, {report['torch_threads']} threads. matmul limit: fp32 "
              f"{limits['fp32']['encoder_shape']:.0f} GFLOP/s at the encoder's shape ({limits['fp32']['peak_2048']:.0f}"
              f" at 2048^3), bf16 {limits['bf16']['encoder_shape']:.0f} ({limits['bf16']['peak_2048']:.0f}).", "",
              "| runtime | texts/s | GFLOP/s | fraction of the limit |", "|---|---|---|---|"]
    lines += [f"| {runtime} | {row['texts_per_s']:.0f} | {row['gflops']:.0f} | {row['fraction_of_gemm_limit']:.2f} |"
              for runtime, row in report["encode"].items()]
    return [*lines, ""]


# (JSON in benchmarks/out, the command that writes it, heading, what it measures, the rendering of its numbers)
SECTIONS = [
    ("vs_mteb", "vs_mteb.py", "glotta vs mteb 2: same tasks, same model, whole processes",
     "`benchmarks/vs_mteb.py`: retrieval_xquad_it, sts_stsb_it, retrieval_squad_it and "
     "classification_sib200_nl, given to mteb as custom tasks over the same files; per round mteb cold, "
     "then each glotta runtime cold (empty embedding cache) and warm (every vector cached), the order "
     "of the runtimes turning each round. Ratio: glotta time / mteb's cold time of the same round, median "
     "over rounds. Score difference: the largest |glotta - mteb| main score over the four tasks. "
     f"Targets: exact (fp32) cold <= {TARGETS['exact']}x with differences <= {EXACT_TOLERANCE:g}; "
     f"bf16 cold <= {TARGETS['bf16']}x with differences <= {BF16_TOLERANCE}; warm <= {TARGETS['warm']}x.", vs_mteb),
    ("bm25_vs_rank_bm25", "bm25_vs_rank_bm25.py", "BM25: bm25s vs rank_bm25 on retrieval_squad_it",
     "`benchmarks/bm25_vs_rank_bm25.py`: the same corpus and queries; glotta's bm25s index (Lucene "
     "scoring, k1 1.5, b 0.75) against rank_bm25's BM25Okapi, given the same stemmed tokens and plain "
     "whitespace tokens. Search is top 100 for every query; glotta's queries/s includes tokenising them.", bm25),
    ("metrics_vs_pytrec_eval", "metrics_vs_pytrec_eval.py", "Retrieval metrics vs pytrec_eval",
     "`benchmarks/metrics_vs_pytrec_eval.py`: glotta's per-query metrics against pytrec_eval called "
     "directly, one measure at a time, on a real run (BM25 on retrieval_squad_it, top 1,000); MRR@k against "
     "pytrec_eval's recip_rank over the run cut to k.", metrics),
    ("training_throughput", "training_throughput.py TRIPLETS.jsonl",
     "Training: glotta train vs a plain SentenceTransformerTrainer; GradCache memory",
     "`benchmarks/training_throughput.py`: same model, loss, batch, sequence cut and rows; rounds "
     "alternate which side goes first. Memory: peak RSS growth of one training step in a fresh process.", training),
    ("encode_vs_gemm", "encode_vs_gemm.py", "Encoding vs the machine's matrix-multiply limit",
     "`benchmarks/encode_vs_gemm.py`: torch.matmul GFLOP/s (the limit), and the GFLOP/s each runtime "
     "reaches encoding retrieval_xquad_it's corpus and queries, counted from glotta's padded batches and "
     "the model's shapes.", gemm),
]


def render(folder: Path) -> str:
    lines = ["# Benchmarks", "",
             "Every figure below is rendered by `benchmarks/write_benchmarks_md.py` from the JSON that the named "
             "script wrote into `benchmarks/out/`; timings are ratios measured within one run on this project's "
             "shared 2-core machines, so compare ratios, not seconds.", ""]
    for name, script, heading, intro, body in SECTIONS:
        report = load(folder, name)
        lines += [f"## {heading}", "", intro, ""]
        lines += body(report) if report is not None else not_measured(script)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--target", type=Path, default=Path("BENCHMARKS.md"))
    args = parser.parse_args()
    write_text_atomic(args.target, render(args.out))
    print(f"wrote {args.target}")


if __name__ == "__main__":
    main()
