"""One result file per task, one entry per (split, subset) in it, as MTEB keeps several subsets."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from glotta.data.task_settings import STSSettings
from glotta.data.tasks import TaskMetadata, TaskType
from glotta.errors import GlottaError
from glotta.evaluation.results import ResultStore

NL = TaskMetadata(name="STS17", type=TaskType.STS, languages=("nld-Latn",), split="test", source="mteb:STS17",
                  revision="rev-1", hf_subset="nl", settings=STSSettings(scale=(0.0, 5.0)))
IT = replace(NL, languages=("ita-Latn",), hf_subset="it")


def write(store: ResultStore, metadata: TaskMetadata, score: float, seconds: float = 1.0):
    return store.write("org/model", "abc", metadata, {"cosine_spearman": score, "pearson": 0.1}, "cosine_spearman",
                       seconds)


def test_subsets_of_one_task_share_its_file_and_mteb_reads_it(tmp_path):
    from mteb.results import TaskResult

    store = ResultStore(tmp_path)
    write(store, NL, 0.5, 2.0)
    path = write(store, IT, 0.6, 3.0)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert [(e["hf_subset"], e["main_score"], e["languages"]) for e in document["scores"]["test"]] == [
        ("nl", 0.5, ["nld-Latn"]), ("it", 0.6, ["ita-Latn"])]
    assert document["evaluation_time"] == 5.0  # added up, as mteb's merge adds them
    assert document["evaluator_settings"] == {"scale": [0.0, 5.0]}
    assert "evaluator_settings" not in document["scores"]["test"][0]
    stored = TaskResult.from_disk(path)
    assert sorted(stored.hf_subsets) == ["it", "nl"]
    assert store.read_entry("org/model", "abc", IT)["main_score"] == 0.6
    assert store.read_entry("org/model", "abc", NL)["main_score"] == 0.5


def test_an_entry_is_replaced_and_other_splits_are_kept(tmp_path):
    store = ResultStore(tmp_path)
    write(store, NL, 0.5)
    write(store, replace(NL, split="dev"), 0.4)
    path = write(store, NL, 0.7)  # --overwrite of the test entry
    scores = json.loads(path.read_text(encoding="utf-8"))["scores"]
    assert {split: [(e["hf_subset"], e["main_score"]) for e in entries] for split, entries in scores.items()} == {
        "test": [("nl", 0.7)], "dev": [("nl", 0.4)]}
    assert store.read_entry("org/model", "abc", replace(NL, split="dev"))["main_score"] == 0.4
    assert store.read_entry("org/model", "abc", replace(NL, split="validation")) is None


def test_entries_scored_with_other_settings_keep_their_own(tmp_path):
    store = ResultStore(tmp_path)
    write(store, NL, 0.5)
    path = write(store, replace(IT, settings=STSSettings(scale=(1.0, 5.0))), 0.6)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["evaluator_settings"] is None
    assert [e["evaluator_settings"] for e in document["scores"]["test"]] == [{"scale": [0.0, 5.0]},
                                                                             {"scale": [1.0, 5.0]}]
    # once they agree again, the settings are kept once for the file
    document = json.loads(write(store, IT, 0.6).read_text(encoding="utf-8"))
    assert document["evaluator_settings"] == {"scale": [0.0, 5.0]}
    assert all("evaluator_settings" not in e for e in document["scores"]["test"])


def test_a_file_of_other_data_is_neither_reused_nor_merged(tmp_path):
    store = ResultStore(tmp_path)
    write(store, NL, 0.5)
    newer = replace(IT, revision="rev-2")
    assert store.read_entry("org/model", "abc", replace(NL, revision="rev-2")) is None  # scored again
    document = json.loads(write(store, newer, 0.6).read_text(encoding="utf-8"))
    assert document["dataset_revision"] == "rev-2"
    assert [e["hf_subset"] for e in document["scores"]["test"]] == ["it"]
    assert store.read_entry("org/model", "abc", replace(NL, type=TaskType.CLASSIFICATION, revision="rev-2")) is None


def test_an_unreadable_file_stops_a_run_and_is_replaced_when_overwritten(tmp_path):
    store = ResultStore(tmp_path)
    path = write(store, NL, 0.5)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(GlottaError, match="existing result file is unreadable"):
        store.read_entry("org/model", "abc", NL)
    write(store, IT, 0.6)
    assert [e["hf_subset"] for e in json.loads(path.read_text(encoding="utf-8"))["scores"]["test"]] == ["it"]
