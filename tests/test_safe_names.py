"""Names that become file names never lead outside the output folder (issue 12, class 6)."""

from __future__ import annotations

import pytest

from conftest import tree_state
from glotta.data.hf_tasks import materialise_hf_task
from glotta.data.safe_names import inside, safe_component
from glotta.data.task_spec import TaskSpec, parse_task_spec
from glotta.data.tasks import TaskMetadata, TaskType
from glotta.errors import GlottaError
from glotta.evaluation.results import ResultStore

METADATA = TaskMetadata(name="sts_ok", type=TaskType.STS, languages=("ita-Latn",), split="test", source="x",
                        revision="r")


@pytest.mark.parametrize("value", ["..", ".", "", " ", "../x", "a/b", "a\\b", "a\x00b"])
def test_unsafe_components_are_refused(value):
    with pytest.raises(GlottaError, match="cannot be used as a file name"):
        safe_component(value, "task name")


@pytest.mark.parametrize("value", ["SICK-NL-STS", "retrieval_xquad_it", "MTEB v1.2", "weights-sha256-0123abcd"])
def test_ordinary_names_pass_unchanged(value):
    assert safe_component(value, "task name") == value


@pytest.mark.parametrize(
    ("model", "revision", "task", "what"),
    [
        ("..", "r", "sts_ok", "model name"),
        ("org/model", "../../escape", "sts_ok", "model revision"),
        ("org/model", "r", "../../escape", "task name"),
        ("org/model", "..", "sts_ok", "model revision"),
    ],
)
def test_result_paths_stay_in_the_output_folder(tmp_path, model, revision, task, what):
    out = tmp_path / "out"
    store = ResultStore(out)
    metadata = TaskMetadata(**{**METADATA.__dict__, "name": task})
    before = tree_state(tmp_path)
    with pytest.raises(GlottaError, match=what):
        store.write(model, revision, metadata, {"cosine_spearman": 0.5}, "cosine_spearman", 0.1)
    assert tree_state(tmp_path) == before


def test_a_hub_style_model_name_becomes_one_folder(tmp_path):
    path = ResultStore(tmp_path).write("org/model", "abc", METADATA, {"cosine_spearman": 0.5}, "cosine_spearman", 0.1)
    assert path == tmp_path / "org__model" / "abc" / "sts_ok.json"


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    with pytest.raises(GlottaError, match="outside the output folder"):
        inside(tmp_path / "out", tmp_path / "out" / "link" / "x.json")


@pytest.mark.parametrize("key", ["name", "revision", "subset"])
def test_task_settings_that_become_file_names_are_refused_where_written(key):
    with pytest.raises(GlottaError) as caught:
        parse_task_spec({"path": "x", key: "../../escape"}, where="bench.yaml", base=None)
    assert caught.value.path == "bench.yaml" and key in caught.value.message


def test_a_hub_dataset_id_cannot_leave_the_cache(tmp_path):
    before = tree_state(tmp_path)
    with pytest.raises(GlottaError, match="Hugging Face dataset id"):
        materialise_hf_task(TaskSpec(hf="..", type=TaskType.RETRIEVAL), cache_root=tmp_path)
    assert tree_state(tmp_path) == before
