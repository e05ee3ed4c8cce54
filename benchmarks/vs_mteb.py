"""glotta vs mteb 2 on the same local tasks and model, whole processes, alternating A B A B (issue 16).

Tasks: retrieval_xquad_it, sts_stsb_it, retrieval_squad_it (13.4k texts) and classification_sib200_nl,
given to mteb as custom tasks that read the same files glotta reads. Per glotta configuration
(backend x precision) and round: mteb cold, glotta cold (empty embedding cache), glotta warm (same
cache, --overwrite: every vector cached); ratios are glotta / mteb-cold of the same round, and
score differences are per task against mteb's main score.

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

DATA = Path(os.environ.get("GLOTTA_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "tasks"
TASKS = {"retrieval_xquad_it": "it/retrieval_xquad_it", "sts_stsb_it": "it/sts_stsb_it",
         "retrieval_squad_it": "it/retrieval_squad_it", "classification_sib200_nl": "nl/classification_sib200_nl"}
DEFAULT_CONFIGS = ["torch:fp32", "openvino:fp32", "onnx:fp32", "openvino:int8"]


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


def one_round(model: str, config: str, scratch: Path) -> dict:
    """mteb cold, glotta cold, glotta warm, in that order, each a whole process."""
    backend, precision = config.split(":")
    theirs = scratch / "mteb.json"
    mteb_s = timed([sys.executable, __file__, "--mteb-side", model, str(theirs)])
    cache, results = scratch / f"cache-{config}", scratch / f"results-{config}"
    command = [sys.executable, "-m", "glotta.cli", "eval", "-m", model, "--backend", backend, "--precision",
               precision, "-o", str(results), "--cache-dir", str(cache), "--overwrite",
               *(arg for folder in TASKS.values() for arg in ("-t", str(DATA / folder)))]
    env = {"GLOTTA_CACHE": str(scratch / f"home-{config}")}  # converted models: paid in the cold run
    cold_s = timed(command, env)
    ours = glotta_scores(results)
    warm_s = timed(command, env)
    mteb_scores = json.loads(theirs.read_text())
    return {"mteb_cold_s": round(mteb_s, 2), "glotta_cold_s": round(cold_s, 2), "glotta_warm_s": round(warm_s, 2),
            "cold_ratio": round(cold_s / mteb_s, 3), "warm_ratio": round(warm_s / mteb_s, 3),
            "score_diff": {task: round(ours[task] - mteb_scores[task], 6) for task in mteb_scores},
            "mteb_scores": mteb_scores, "glotta_scores": ours}


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
    runs = []
    for model in models:
        for round_number in range(args.rounds):
            for config in args.config or DEFAULT_CONFIGS:
                with tempfile.TemporaryDirectory() as scratch:
                    run = {"model": model, "config": config, "round": round_number,
                           **one_round(model, config, Path(scratch))}
                print(json.dumps(run), flush=True)
                runs.append(run)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "vs_mteb.json").write_text(json.dumps({"tasks": list(TASKS), "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
