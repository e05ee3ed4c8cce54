"""Loading the shared data into typed tasks, and one clear error for each kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_jsonl
from glotta.data.benchmarks import load_benchmark, shipped_benchmarks
from glotta.data.local_tasks import load_task_folder
from glotta.data.task_spec import TaskSpec
from glotta.data.tasks import RetrievalTask, TaskType, check_unique_tasks
from glotta.errors import GlottaError


def test_every_shared_task_loads_with_inferred_type_and_language(data_root):
    manifest = json.loads((data_root / "tasks" / "manifest.json").read_text())
    expected_language = {"it": "ita-Latn", "nl": "nld-Latn", "en": "eng-Latn"}
    for entry in manifest:
        # SICK-NL pairs carry NLI labels: which one is "similar" must be said, never guessed
        settings = {"positive": "entailment"} if entry["type"] == "pair_classification" else None
        task = load_task_folder(TaskSpec(path=data_root / entry["path"], evaluator=settings))
        assert task.metadata.type.value == entry["type"], entry["path"]
        assert task.metadata.languages[-1] == expected_language[entry["lang"]]
        assert set(task.metadata.inferred) == {"type", "language"}
        if task.metadata.type is TaskType.BITEXT:
            assert task.metadata.languages[0] == "eng-Latn"
        if task.metadata.type is TaskType.CLASSIFICATION:
            assert len(task.train_texts) == entry["train_n"] and len(task.test_texts) == entry["test_n"]


def test_retrieval_task_counts_match_the_data_readme(data_root):
    task = load_task_folder(TaskSpec(path=data_root / "tasks/it/retrieval_squad_it"))
    assert isinstance(task, RetrievalTask)
    assert (len(task.queries), len(task.corpus)) == (7609, 2007)
    assert len(task.metadata.revision) == 40


def test_task_yaml_overrides_inference(small_task):
    (small_task / "task.yaml").write_text("name: my-task\nlanguage: it\nlicense: CC0\n")
    task = load_task_folder(TaskSpec(path=small_task))
    assert task.metadata.name == "my-task"
    assert task.metadata.languages == ("ita-Latn",)
    assert task.metadata.inferred == ("type",)


def test_shipped_benchmarks_resolve_against_the_data_root(data_root):
    assert {"ita", "ita-quick", "nld", "eng"} <= set(shipped_benchmarks())
    manifest = json.loads((data_root / "tasks" / "manifest.json").read_text())
    for benchmark, lang in (("ita", "it"), ("nld", "nl"), ("eng", "en")):
        tasks = load_benchmark(benchmark, data_root).load_tasks()
        # every shared task of the language is in its benchmark
        covered = {Path(t.metadata.source).relative_to(data_root).as_posix() for t in tasks}
        assert covered == {e["path"] for e in manifest if e["lang"] == lang}, benchmark
        # SIB-200 serves as a clustering task too, pooling its three splits like MTEB
        clustering = [t for t in tasks if t.metadata.type is TaskType.CLUSTERING]
        assert [len(t.texts) for t in clustering] == [701 + 99 + 204]
        assert all(t.metadata.license for t in tasks)


def test_benchmark_file_paths_are_relative_to_the_file(tmp_path, small_task):
    path = tmp_path / "mine.yaml"
    path.write_text(f"name: mine\ntasks:\n  - path: {small_task.relative_to(tmp_path)}\n    language: ita\n")
    (task,) = load_benchmark(str(path)).load_tasks()
    assert task.metadata.name == "xquad_small"


def test_a_benchmark_root_names_the_folder_its_paths_start_from(tmp_path, small_task):
    """root: data, an absolute or relative folder, or nothing; a root that is no folder is refused, not ignored."""
    elsewhere = tmp_path / "benchmarks"
    elsewhere.mkdir()
    for root in (str(small_task.parent), f"../{small_task.parent.relative_to(tmp_path)}"):
        path = elsewhere / "rooted.yaml"
        path.write_text(f"name: rooted\nroot: {root}\ntasks:\n  - path: {small_task.name}\n    language: ita\n")
        (task,) = load_benchmark(str(path)).load_tasks()
        assert task.metadata.source == str(small_task.resolve())
    path.write_text(f"name: rooted\nroot: {tmp_path / 'nowhere'}\ntasks:\n  - path: {small_task.name}\n")
    with pytest.raises(GlottaError, match="is not a folder") as caught:
        load_benchmark(str(path))
    assert caught.value.path == str(path) and "root: data" in caught.value.fix


def _error(path: Path, **spec) -> GlottaError:
    with pytest.raises(GlottaError) as caught:
        load_task_folder(TaskSpec(path=path, **spec))
    return caught.value


def test_malformed_jsonl_names_the_line(small_task):
    lines = (small_task / "queries.jsonl").read_text().splitlines()
    lines[6] = lines[6][:-3]
    (small_task / "queries.jsonl").write_text("\n".join(lines) + "\n")
    error = _error(small_task)
    assert error.path.endswith("queries.jsonl") and error.line == 7
    assert "malformed JSON" in error.message


def test_qrels_id_missing_from_corpus(small_task):
    with (small_task / "qrels" / "test.tsv").open("a") as f:
        f.write("5725bad5271a42140099d0bd\tno_such_doc\t1\n")
    error = _error(small_task)
    assert error.path.endswith("test.tsv") and error.line == 42
    assert "'no_such_doc' is not in corpus.jsonl" in error.message


def test_qrels_id_missing_from_queries(small_task):
    with (small_task / "qrels" / "test.tsv").open("a") as f:
        f.write("no_such_query\t1973_oil_crisis__p4\t1\n")
    assert "'no_such_query' is not in queries.jsonl" in _error(small_task).message


def test_duplicate_document_id(small_task):
    rows = [json.loads(line) for line in (small_task / "corpus.jsonl").read_text().splitlines()]
    write_jsonl(small_task / "corpus.jsonl", [*rows, rows[3]])
    error = _error(small_task)
    assert error.line == len(rows) + 1 and f"duplicate document id {rows[3]['_id']!r}" in error.message


def test_empty_query_text(small_task):
    rows = [json.loads(line) for line in (small_task / "queries.jsonl").read_text().splitlines()]
    rows[2]["text"] = "   "
    write_jsonl(small_task / "queries.jsonl", rows)
    error = _error(small_task)
    assert error.line == 3 and "empty 'text'" in error.message


def test_missing_field(small_task):
    rows = [json.loads(line) for line in (small_task / "corpus.jsonl").read_text().splitlines()]
    del rows[0]["text"]
    write_jsonl(small_task / "corpus.jsonl", rows)
    error = _error(small_task)
    assert error.line == 1 and "missing field 'text'" in error.message


def test_missing_split(small_task):
    error = _error(small_task, split="dev")
    assert "split 'dev'" in error.message and "test" in error.fix


def test_unknown_language_code(small_task):
    (small_task / "task.yaml").write_text("language: xx\n")
    error = _error(small_task)
    assert error.path.endswith("task.yaml") and "unknown language code 'xx'" in error.message


def test_not_utf8(small_task):
    (small_task / "queries.jsonl").write_bytes(b'{"_id": "q", "text": "caf\xe9"}\n')
    assert "not UTF-8" in _error(small_task).message


def test_unknown_type_and_setting(small_task):
    (small_task / "task.yaml").write_text("type: regression\n")
    assert "unknown task type 'regression'" in _error(small_task).message
    (small_task / "task.yaml").write_text("langauge: it\n")
    assert "unknown task setting(s) 'langauge'" in _error(small_task).message


def test_sts_score_must_be_finite(tmp_path):
    folder = tmp_path / "it" / "sts_bad"
    write_jsonl(folder / "test.jsonl", [{"sentence1": "a", "sentence2": "b", "score": 1.0}])
    (folder / "test.jsonl").open("a").write('{"sentence1": "a", "sentence2": "b", "score": NaN}\n')
    error = _error(folder)
    assert error.line == 2 and "not a number" in error.message


def test_unknown_benchmark():
    with pytest.raises(GlottaError, match="unknown benchmark 'itaa'"):
        load_benchmark("itaa")


def test_missing_data_root(monkeypatch, tmp_path):
    monkeypatch.delenv("GLOTTA_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GlottaError, match="no data root"):
        load_benchmark("ita")


def test_tasks_whose_results_would_collide_are_refused(small_task, data_root):
    once = load_task_folder(TaskSpec(path=small_task))
    check_unique_tasks([once, load_task_folder(TaskSpec(path=small_task, subset="other"))])  # two entries, one file
    with pytest.raises(GlottaError, match=r"listed twice \(same name, subset and split\): xquad_small;"):
        check_unique_tasks([once, load_task_folder(TaskSpec(path=small_task))])
    # one name over other data would replace the other's file
    rows = (small_task / "corpus.jsonl").read_text().splitlines()
    (small_task / "corpus.jsonl").write_text("\n".join(rows[:-1]) + "\n")  # a distractor less
    with pytest.raises(GlottaError, match="two tasks named xquad_small differ \\(dataset revisions"):
        check_unique_tasks([once, load_task_folder(TaskSpec(path=small_task, subset="other"))])
    sib = data_root / "tasks/it/classification_sib200_it"
    with pytest.raises(GlottaError, match="types classification and clustering"):
        check_unique_tasks([load_task_folder(TaskSpec(path=sib, revision="v1")),
                            load_task_folder(TaskSpec(path=sib, revision="v1", type=TaskType.CLUSTERING))])


def test_a_benchmark_entry_names_one_source(tmp_path, small_task):
    path = tmp_path / "two.yaml"
    path.write_text(f"name: two\ntasks:\n  - path: {small_task}\n    hf: org/data\n")
    with pytest.raises(GlottaError, match=r"exactly one of 'path:' .*'mteb:'") as caught:
        load_benchmark(str(path))
    assert "- mteb: <MTEB task name>" in caught.value.fix
    (small_task / "task.yaml").write_text("mteb: SICK-NL-STS\n")
    with pytest.raises(GlottaError, match="takes no 'path', 'hf' or 'mteb'"):
        load_task_folder(TaskSpec(path=small_task))
