"""glotta vs mteb 2 on the same local tasks and model, whole processes, alternating A B A B (issue 16).

Tasks: retrieval_xquad_it, sts_stsb_it, retrieval_squad_it (13.4k texts) and classification_sib200_nl,
given to mteb as custom tasks that read the same files glotta reads. Per round: mteb cold, then per glotta
configuration (backend x precision, the order turning each round) glotta cold (empty embedding cache)
and glotta warm (same cache, --overwrite: every vector cached); ratios are glotta / mteb-cold of the
same round, and score differences are per task against mteb's main score. Conversions to OpenVINO /
ONNX are paid once per model before the rounds and reported apart (they are cached, as for users).

    python benchmarks/vs_mteb.py [--model M ...] [--config torch:fp32 ...] [--rounds 2] [--output benchmarks/out]
    python benchmarks/vs_mteb.py --mteb-side MODEL SCORES.json     # one mteb process (used by the above)
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

from glotta.data.atomic import write_json_atomic

DATA = Path(os.environ.get("GLOTTA_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "tasks"
TASKS = {"retrieval_xquad_it": "it/retrieval_xquad_it", "sts_stsb_it": "it/sts_stsb_it",
         "retrieval_squad_it": "it/retrieval_squad_it", "classification_sib200_nl": "nl/classification_sib200_nl"}
DEFAULT_CONFIGS = ["torch:fp32", "openvino:fp32", "onnx:fp32", "torch:bf16", "openvino:bf16", "openvino:int8",
                   "onnx:int8"]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def mteb_tasks() -> list:
    """The four tasks as a user writes mteb custom tasks: a TaskMetadata and a load_data() over the files."""
    from datasets import Dataset, DatasetDict
    from mteb.abstasks import AbsTaskClassification, AbsTaskRetrieval, AbsTaskSTS
    from mteb.abstasks.task_metadata import TaskMetadata

    def task_metadata(name: str, task_type: str, main_score: str, language: str) -> TaskMetadata:
        return TaskMetadata(name=name, description=f"{name} from glotta's shared data.",
                            reference="https://example.org/glotta-shared-data",
                            dataset={"path": f"local/{name}", "revision": "local-v1"}, type=task_type,
                            category="t2t", modalities=["text"], eval_splits=["test"], eval_langs=[language],
                            main_score=main_score, license="cc-by-sa-4.0")

    class Retrieval(AbsTaskRetrieval):
        folder = ""

        def load_data(self, num_proc=None, **kwargs):
            folder = DATA / self.folder
            qrels: dict[str, dict[str, int]] = {}
            for line in (folder / "qrels/test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
                query, document, score = line.split("\t")
                qrels.setdefault(query, {})[document] = int(score)
            corpus = [{"id": d["_id"], "title": d.get("title") or "", "text": d["text"]}
                      for d in read_jsonl(folder / "corpus.jsonl")]
            queries = [{"id": q["_id"], "text": q["text"]} for q in read_jsonl(folder / "queries.jsonl")]
            self.dataset = {"default": {"test": {"corpus": Dataset.from_list(corpus),
                                                 "queries": Dataset.from_list(queries),
                                                 "relevant_docs": qrels, "top_ranked": None}}}
            self.data_loaded = True

    class XQuAD(Retrieval):
        metadata = task_metadata("retrieval_xquad_it", "Retrieval", "ndcg_at_10", "ita-Latn")
        folder = TASKS["retrieval_xquad_it"]

    class SQuAD(Retrieval):
        metadata = task_metadata("retrieval_squad_it", "Retrieval", "ndcg_at_10", "ita-Latn")
        folder = TASKS["retrieval_squad_it"]

    class STS(AbsTaskSTS):
        metadata = task_metadata("sts_stsb_it", "STS", "cosine_spearman", "ita-Latn")
        min_score, max_score = 0, 5

        def load_data(self, num_proc=None, **kwargs):
            rows = read_jsonl(DATA / TASKS["sts_stsb_it"] / "test.jsonl")
            self.dataset = DatasetDict({"test": Dataset.from_list(rows)})
            self.data_loaded = True

    class SIB200(AbsTaskClassification):
        metadata = task_metadata("classification_sib200_nl", "Classification", "accuracy", "nld-Latn")

        def load_data(self, num_proc=None, **kwargs):
            folder = DATA / TASKS["classification_sib200_nl"]
            self.dataset = DatasetDict({"train": Dataset.from_list(read_jsonl(folder / "train.jsonl")),
                                        "test": Dataset.from_list(read_jsonl(folder / "test.jsonl"))})
            self.data_loaded = True

    return [XQuAD(), STS(), SQuAD(), SIB200()]


def mteb_side(model: str, scores: Path) -> None:
    """One mteb process: load the model as mteb's wrapper does and evaluate the four tasks."""
    import mteb
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
    from sentence_transformers import SentenceTransformer

    from glotta.encoders.registry import locate_sentence_transformer

    wrapped = SentenceTransformerEncoderWrapper(SentenceTransformer(str(locate_sentence_transformer(model)[0])))
    result = mteb.evaluate(wrapped, mteb_tasks(), cache=None, show_progress_bar=False, co2_tracker=False)
    scores.write_text(json.dumps({r.task_name: r.scores["test"][0]["main_score"] for r in result.task_results}))


def glotta_scores(results: Path) -> dict[str, float]:
    found = {}
    for path in results.rglob("*.json"):
        entry = json.loads(path.read_text())
        if "scores" in entry and entry.get("task_name") in TASKS:
            found[entry["task_name"]] = entry["scores"]["test"][0]["main_score"]
    return found


def timed(command: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, env={**os.environ, **(env or {})}, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def glotta_command(model: str, config: str, cache: Path, results: Path) -> list[str]:
    backend, precision = config.split(":")
    return [sys.executable, "-m", "glotta.cli", "eval", "-m", model, "--backend", backend, "--precision", precision,
            "-o", str(results), "--cache-dir", str(cache), "--overwrite",
            *(arg for folder in TASKS.values() for arg in ("-t", str(DATA / folder)))]


def conversion_seconds(model: str, config: str, home: Path) -> float:
    """The one-off conversion (cached in $GLOTTA_CACHE/models), paid before the timed rounds."""
    backend, precision = config.split(":")
    code = (f"import glotta; glotta.get_encoder({model!r}, backend={backend!r}, precision={precision!r}, "
            "cache=False).encode_documents(['conversion'])")
    return timed([sys.executable, "-c", code], {"GLOTTA_CACHE": str(home)})


def one_round(model: str, configs: list[str], scratch: Path, homes: dict[str, Path]) -> list[dict]:
    """mteb cold, then per configuration glotta cold (empty embedding cache) and warm, each a whole process."""
    theirs = scratch / "mteb.json"
    mteb_s = timed([sys.executable, __file__, "--mteb-side", model, str(theirs)])
    mteb_scores = json.loads(theirs.read_text())
    runs = []
    for config in configs:
        cache, results = scratch / f"cache-{config}", scratch / f"results-{config}"
        command = glotta_command(model, config, cache, results)
        env = {"GLOTTA_CACHE": str(homes[config])}
        cold_s = timed(command, env)
        ours = glotta_scores(results)
        warm_s = timed(command, env)
        runs.append({"config": config, "mteb_cold_s": round(mteb_s, 2), "glotta_cold_s": round(cold_s, 2),
                     "glotta_warm_s": round(warm_s, 2), "cold_ratio": round(cold_s / mteb_s, 3),
                     "warm_ratio": round(warm_s / mteb_s, 3),
                     "score_diff": {task: round(ours[task] - mteb_scores[task], 6) for task in mteb_scores},
                     "mteb_scores": mteb_scores, "glotta_scores": ours})
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", action="append")
    parser.add_argument("--config", action="append", help="backend:precision, repeatable")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--mteb-side", nargs=2, metavar=("MODEL", "SCORES"))
    args = parser.parse_args()
    if args.mteb_side:
        mteb_side(args.mteb_side[0], Path(args.mteb_side[1]))
        return
    models = args.model or ["sentence-transformers/all-MiniLM-L6-v2"]
    configs = args.config or DEFAULT_CONFIGS
    output = args.output / "vs_mteb.json"
    report = json.loads(output.read_text()) if output.exists() else {"tasks": list(TASKS), "runs": [],
                                                                       "conversions": []}
    # what is re-measured (model x configuration) replaces its earlier rows; the other rows stay
    report["runs"] = [run for run in report["runs"] if run["model"] not in models or run["config"] not in configs]
    report["conversions"] = [c for c in report.get("conversions", [])
                             if c["model"] not in models or c["config"] not in configs]
    for model in models:
        with tempfile.TemporaryDirectory() as scratch_root:
            homes = {config: Path(scratch_root) / f"home-{config}" for config in configs}
            for config in configs:
                entry = {"model": model, "config": config, "seconds": round(conversion_seconds(model, config,
                                                                                           homes[config]), 2)}
                print(json.dumps(entry), flush=True)
                report["conversions"].append(entry)
            for round_number in range(args.rounds):
                # The configurations' order turns each round, so no side always runs right after mteb.
                turn = configs[round_number % len(configs):] + configs[:round_number % len(configs)]
                scratch = Path(scratch_root) / f"round-{round_number}"
                scratch.mkdir()
                for run in one_round(model, turn, scratch, homes):
                    run = {"model": model, "round": round_number, **run}
                    print(json.dumps(run), flush=True)
                    report["runs"].append(run)
        write_json_atomic(output, report)  # after each model, so a later model's failure keeps this one


if __name__ == "__main__":
    main()
