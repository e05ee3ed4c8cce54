"""Bad input for the non-retrieval task types: one clear error naming the file, value and fix."""

from __future__ import annotations

import pytest

from conftest import run_cli, write_jsonl
from glotta.data.benchmarks import load_benchmark
from glotta.data.local_tasks import load_task_folder
from glotta.data.task_spec import TaskSpec
from glotta.data.tasks import TaskType
from glotta.errors import GlottaError


def _error(folder, **spec) -> GlottaError:
    with pytest.raises(GlottaError) as caught:
        load_task_folder(TaskSpec(path=folder, **spec))
    return caught.value


def _classification(tmp_path, train, test):
    folder = tmp_path / "it" / "classification_bad"
    write_jsonl(folder / "train.jsonl", [{"text": f"testo {i}", "label": label} for i, label in enumerate(train)])
    write_jsonl(folder / "test.jsonl", [{"text": f"prova {i}", "label": label} for i, label in enumerate(test)])
    return folder


def test_classification_with_one_label(tmp_path):
    error = _error(_classification(tmp_path, ["sport"] * 5, ["sport"]))
    assert "at least 2 different labels, found 1 (sport)" in error.message
    assert error.path.endswith("train.jsonl")


def test_label_in_test_but_not_in_train(tmp_path):
    error = _error(_classification(tmp_path, ["sport", "viaggi"] * 3, ["sport", "salute"]))
    assert "label 'salute' appears in test.jsonl but never in train.jsonl" in error.message
    assert error.line == 2


def test_sts_scores_outside_the_scale(tmp_path):
    folder = tmp_path / "it" / "sts_bad"
    write_jsonl(folder / "test.jsonl", [{"sentence1": "a", "sentence2": "b", "score": s} for s in (0.5, 4.0, 7.5)])
    error = _error(folder)
    assert error.line == 3 and "score 7.5 is outside the gold scale 0-5" in error.message
    assert "scale: [low, high]" in error.message
    # a declared 0-10 scale accepts it, and scores are normalised on that scale
    task = load_task_folder(TaskSpec(path=folder, evaluator={"scale": [0, 10]}))
    assert task.scale == (0.0, 10.0)


def test_sts_scale_is_taken_from_the_data(data_root):
    sick = load_task_folder(TaskSpec(path=data_root / "tasks/nl/sts_sick_nl"))
    stsb = load_task_folder(TaskSpec(path=data_root / "tasks/nl/sts_stsb_nl"))
    assert (sick.scale, stsb.scale) == ((1.0, 5.0), (0.0, 5.0))


def test_bitext_row_without_its_translation(tmp_path):
    folder = tmp_path / "bitext_bad_en_it"
    write_jsonl(folder / "test.jsonl", [{"sentence1": "Hello", "sentence2": "Ciao"}, {"sentence1": "Bye"}])
    error = _error(folder)
    assert error.line == 2 and "sentence2" in error.message


def test_bitext_sides_of_different_length_are_refused(data_root):
    from glotta.data.tasks import BitextTask

    metadata = load_task_folder(TaskSpec(path=data_root / "tasks/it/bitext_tatoeba_en_it")).metadata
    with pytest.raises(GlottaError, match=r"bitext sides differ in length \(2 vs 1 sentences\)"):
        BitextTask(metadata, ["a", "b"], ["c"])


def test_clustering_needs_two_clusters(tmp_path):
    folder = _classification(tmp_path, ["sport", "viaggi"], ["sport"] * 4)
    error = _error(folder, type=TaskType.CLUSTERING)
    assert "clustering needs at least 2 different labels, found 1" in error.message


def test_pair_labels_need_a_named_positive(data_root):
    folder = data_root / "tasks/nl/pairs_sick_nl_nli"
    error = _error(folder)
    assert "contradiction, entailment, neutral" in error.message and "positive: <label>" in error.message
    assert "'neutre' named in the evaluator settings never occurs" in _error(folder, evaluator={"positive": "neutre"}).message
    task = load_task_folder(TaskSpec(path=folder, evaluator={"positive": "entailment", "negative": ["contradiction"]}))
    assert (len(task.labels), sum(task.labels)) == (1404 + 712, 1404)


def test_unknown_or_mistyped_evaluator_setting(tmp_path, data_root):
    folder = data_root / "tasks/it/classification_sib200_it"
    assert "unknown classification evaluator setting(s) 'samples'" in _error(folder, evaluator={"samples": 3}).message
    error = _error(folder, evaluator={"n_experiments": "ten"})
    assert "'n_experiments' must be a positive whole number, got 'ten'" in error.message
    bench = tmp_path / "b.yaml"
    bench.write_text(f"name: b\ntasks:\n  - path: {folder}\n    evaluator: 8\n")
    with pytest.raises(GlottaError, match="'evaluator' must be a mapping"):
        load_benchmark(str(bench))


def test_bad_task_in_a_run_writes_no_result(tmp_path, data_root):
    bad = _classification(tmp_path, ["sport", "viaggi"] * 3, ["sport", "salute"])
    out = tmp_path / "results"
    done = run_cli("eval", "-t", str(data_root / "tasks/it/retrieval_xquad_it"), "-t", str(bad),
                   "-m", "bm25", "-o", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "test.jsonl:2: label 'salute'" in done.stderr
    assert not out.exists()
