"""The README's Python examples run as written, and give MTEB's published numbers."""

from __future__ import annotations

import re

import pytest

from conftest import DATA, ROOT
from test_mteb_parity import published


def _python_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture(scope="module")
def namespaces(tmp_path_factory) -> list[dict]:
    """Each block run in order in one namespace, from a checkout with the shared data beside it."""
    place = tmp_path_factory.mktemp("readme")
    (place / "shared").symlink_to(DATA.parent)
    (place / "checkout").mkdir()
    blocks = _python_blocks()
    assert len(blocks) == 4
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(place / "checkout")
        namespace: dict = {}
        snapshots = []
        for block in blocks:
            exec(compile(block, "README.md", "exec"), namespace)
            snapshots.append(dict(namespace))
    return snapshots


def test_evaluate_an_in_memory_model_reproduces_the_published_mteb_number(namespaces, data_root):
    results = namespaces[0]["results"]
    expected = published(data_root, "STSBenchmarkMultilingualSTS", "test", "it")["main_score"]
    stsb = [row for row in results.scores() if row["task"] == "sts_stsb_it" and row["main_score"] is not None]
    assert len(stsb) == 1 and stsb[0]["main_score"] == pytest.approx(expected, abs=0.001)
    frame = results.to_frame()
    assert frame.loc[frame.model == "bm25s", "main_score"].isna().all()  # n/a, never a fake score
    assert results.output is None and results.summary()["ita"][0].scored == 1


def test_tasks_benchmarks_and_encoders_load_as_the_cli_does(namespaces):
    space = namespaces[1]
    assert space["task"].metadata.languages == ("ita-Latn",) and len(space["task"].queries) > 100
    assert next(t.metadata.name for t in space["benchmark"].load_tasks()) == "retrieval_xquad_it"
    assert 0 < space["results"].main_score("bm25", "retrieval_xquad_it") < 1
    assert (space["results"].output / "bm25s").is_dir()  # written in MTEB's layout, under the model's name
    assert space["vectors"].shape == (1, 384)


def test_mteb_benchmark_listing_needs_no_download(namespaces):
    listing = namespaces[2]["listing"]
    assert len(listing) == 40 and sum(info.scorable for info in listing) >= 34


def test_a_benchmark_of_ones_own_documents_is_built_and_scored(namespaces):
    space = namespaces[3]
    counts = space["manifest"]["counts"]
    assert counts["documents"] == 150 and {"test heading", "test cloze", "dev cloze"} <= set(counts["queries"])
    assert 0 < space["rag"].main_score("bm25", "wetten-rag") < 1
