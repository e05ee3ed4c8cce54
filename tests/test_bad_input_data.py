"""Bad data for the evaluation and reading commands: one message naming the file and line (or the
option) and a fix, exit 2, no traceback, and nothing new or changed where the command writes.

Covers `glotta eval`, `tasks`, `results show`, `leaderboard` and `report` (`glotta benchmarks` reads
only the shipped files): task files that are folders, link loops or missing; qrels and candidates
with or without a header line, negative or fractional grades, TREC's layout; byte order marks and
bytes that are not UTF-8; YAML syntax errors and object tags; names that would leave the output
folder; result folders that are empty or hold only unreadable files; outputs that cannot be written.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import assert_refused, run_cli, tree_state
from glotta.data.local_tasks import load_task_folder
from glotta.data.task_spec import TaskSpec
from glotta.errors import GlottaError

MARKER = "glotta-yaml-tag-ran"  # a file the refused YAML tags would create if they were executed


def refused(glotta, root: Path, *args, mentions=()) -> str:
    """Run ``glotta *args`` and assert it is refused with ``mentions`` and leaves ``root`` as it was."""
    before = tree_state(root)
    stderr = assert_refused(glotta(*args), *mentions)
    assert tree_state(root) == before, "the refused command wrote or changed files"
    return stderr


def _rewrite(path: Path, number: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[number - 1] = text
    path.write_text("".join(lines), encoding="utf-8")


def _first_judgement(task: Path) -> list[str]:
    return (task / "qrels/test.tsv").read_text(encoding="utf-8").splitlines()[1].split("\t")


def _replace_with_folder(task: Path, name: str) -> None:
    (task / name).unlink()
    (task / name).mkdir()


def _link_loop(task: Path, name: str) -> None:
    (task / name).unlink()
    (task / name).symlink_to(name)


def _grade(task: Path, grade: str) -> None:
    query_id, doc_id, _ = _first_judgement(task)
    _rewrite(task / "qrels/test.tsv", 2, f"{query_id}\t{doc_id}\t{grade}\n")


def _headerless_fractional_grade(task: Path) -> None:
    """The first row is then data, not taken for a header and dropped."""
    _grade(task, "1.5")
    qrels = task / "qrels/test.tsv"
    qrels.write_text("".join(qrels.read_text().splitlines(keepends=True)[1:]))


def _trec_qrels(task: Path) -> None:
    rows = [line.split("\t") for line in (task / "qrels/test.tsv").read_text().splitlines()[1:]]
    (task / "qrels/test.tsv").write_text("".join(f"{q} 0 {d} {s}\n" for q, d, s in rows))


def _bom_on_line(path: Path, number: int) -> None:
    """A byte order mark inside a file, as joining files saved with one leaves it."""
    _rewrite(path, number, "\ufeff" + path.read_text(encoding="utf-8").splitlines(keepends=True)[number - 1])


BROKEN_TASKS = [  # (id, how the small task is broken, what the message names)
    ("corpus-is-a-folder", lambda t: _replace_with_folder(t, "corpus.jsonl"), ["corpus.jsonl", "Is a directory"]),
    ("queries-link-loop", lambda t: _link_loop(t, "queries.jsonl"), ["queries.jsonl", "loop of symbolic links"]),
    ("corpus-missing", lambda t: (t / "corpus.jsonl").unlink(), ["retrieval task has no corpus.jsonl", "BEIR layout"]),
    ("queries-missing", lambda t: (t / "queries.jsonl").unlink(), ["retrieval task has no queries.jsonl"]),
    ("negative-grade", lambda t: _grade(t, "-1"), ["test.tsv:2", "relevance score -1 is negative", "write 0"]),
    ("fractional-grade", lambda t: _grade(t, "1.5"), ["test.tsv:2", "'1.5' is not a whole number"]),
    ("headerless-fractional-grade", _headerless_fractional_grade, ["test.tsv:1", "'1.5' is not a whole number"]),
    ("trec-qrels", _trec_qrels, ["test.tsv:1", "expected 3 tab-separated columns", "awk"]),
    ("qrels-header-only", lambda t: (t / "qrels/test.tsv").write_text("query-id\tcorpus-id\tscore\n"),
     ["test.tsv", "no relevance judgements"]),
    ("bom-inside-jsonl", lambda t: _bom_on_line(t / "queries.jsonl", 2), ["queries.jsonl:2", "byte order mark"]),
    ("yaml-tab", lambda t: (t / "task.yaml").write_text("name: x\n\ttype: retrieval\n"),
     ["task.yaml:2", "malformed YAML (column 1)", "not tabs"]),
    ("yaml-unclosed", lambda t: (t / "task.yaml").write_text("name: x\ntype: [retrieval\n"),
     ["task.yaml:3", "flow sequence that starts at line 2, column 7"]),
    ("yaml-object-tag", lambda t: (t / "task.yaml").write_text(
        f'name: !!python/object/apply:os.system ["touch {t / MARKER}"]\n'),
     ["task.yaml:1", "YAML tag '!!python/object/apply:os.system' is not allowed", "remove the tag"]),
    ("yaml-not-settings", lambda t: (t / "task.yaml").write_text("- retrieval\n- ita\n"),
     ["task.yaml", "holds list, not settings"]),
    ("yaml-language-number", lambda t: (t / "task.yaml").write_text("language: 5\n"),
     ["task.yaml", "languages must be a code or a list of codes"]),
]


@pytest.mark.parametrize("command", ["eval", "tasks"])
@pytest.mark.parametrize(("breaks", "mentions"), [pytest.param(*case[1:], id=case[0]) for case in BROKEN_TASKS])
def test_broken_task_files_are_refused(glotta, tmp_path, small_task, command, breaks, mentions):
    breaks(small_task)
    args = ["-t", small_task, *(["-m", "bm25", "-o", tmp_path / "out"] if command == "eval" else [])]
    refused(glotta, tmp_path, command, *args, mentions=mentions)
    assert not (small_task / MARKER).exists()


def test_not_utf8_names_the_line_and_the_offset_in_the_file(glotta, tmp_path, small_task):
    path = small_task / "corpus.jsonl"
    data = path.read_bytes()
    bad = b'{"_id": "extra", "text": "caff\xe8 latte"}\n'  # one Latin-1 line at the end
    path.write_bytes(data + bad)
    line, column = data.count(b"\n") + 1, bad.index(b"\xe8")
    assert len(data) + column > 8192  # beyond the text decoder's first buffer, whose offsets are not the file's
    refused(glotta, tmp_path, "eval", "-t", small_task, "-m", "bm25", "-o", tmp_path / "out",
            mentions=[f"corpus.jsonl:{line}: not UTF-8 text: byte 0xe8 at byte {column + 1} of the line",
                      f"(offset {len(data) + column} in the file)", "iconv"])


def _task(folder: Path):
    return load_task_folder(TaskSpec(path=folder))


def test_qrels_header_is_detected_and_a_byte_order_mark_accepted(small_task):
    """BEIR qrels start with a header line, TREC-style ones do not: neither loses a judgement."""
    expected = _task(small_task)
    qrels = small_task / "qrels/test.tsv"
    lines = qrels.read_text(encoding="utf-8").splitlines(keepends=True)
    qrels.write_text("".join(lines[1:]), encoding="utf-8")  # no header line
    assert _task(small_task).qrels == expected.qrels
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):  # as Windows editors save them
        path = small_task / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    (small_task / "task.yaml").write_bytes(b"\xef\xbb\xbfname: bom\n")
    task = _task(small_task)
    assert (task.corpus, task.queries, task.qrels) == (expected.corpus, expected.queries, expected.qrels)
    assert task.metadata.name == "bom"


def test_candidates_header_is_detected(small_task):
    queries = [json.loads(line)["_id"] for line in (small_task / "queries.jsonl").read_text().splitlines()]
    docs = [json.loads(line)["_id"] for line in (small_task / "corpus.jsonl").read_text().splitlines()]
    rows = "".join(f"{q}\t{d}\n" for q in queries for d in docs[:5])
    (small_task / "candidates").mkdir()
    path = small_task / "candidates/test.tsv"
    path.write_text("query-id\tcorpus-id\n" + rows)
    with_header = _task(small_task).candidates
    path.write_text(rows)
    assert _task(small_task).candidates == with_header
    assert with_header[queries[0]] == docs[:5]
    path.write_text(rows + f"no-such-query\t{docs[0]}\n")
    with pytest.raises(GlottaError) as caught:
        _task(small_task)
    assert caught.value.line == len(queries) * 5 + 1
    assert "query id 'no-such-query' is not in queries.jsonl" in caught.value.message and caught.value.fix


BROKEN_BENCHMARKS = [  # (id, the benchmark's only task entry, what the message names)
    ("unclosed-bracket", "path: it/xquad_small\n    name: [oops",
     ["bench.yaml:5", "flow sequence that starts at line 4"]),
    ("object-tag", f'path: !!python/object/apply:os.system ["touch {MARKER}"]',
     ["bench.yaml:3", "YAML tag '!!python/object/apply:os.system' is not allowed"]),
    ("name-escapes", "path: it/xquad_small\n    name: ../x", ["bench.yaml (task 1)", "task name '../x'"]),
    ("split-escapes", "path: it/xquad_small\n    split: ../../x", ["bench.yaml (task 1)", "task split '../../x'"]),
    ("no-path", "name: lonely", ["bench.yaml (task 1)", "exactly one of 'path:'"]),
    ("path-list", "path: [a, b]", ["bench.yaml (task 1)", "setting 'path' must be text"]),
    ("not-utf8", "path: it/xquad_small\n    name: caff\udce8", ["bench.yaml:4", "not UTF-8 text: byte 0xe8"]),
]


@pytest.mark.parametrize("command", ["eval", "tasks"])
@pytest.mark.parametrize(("entry", "mentions"), [pytest.param(*case[1:], id=case[0]) for case in BROKEN_BENCHMARKS])
def test_broken_benchmark_files_are_refused(glotta, tmp_path, small_task, monkeypatch, command, entry, mentions):
    path = tmp_path / "bench.yaml"
    path.write_bytes(f"name: bad\ntasks:\n  - {entry}\n".encode("utf-8", "surrogateescape"))
    monkeypatch.chdir(tmp_path)  # where the object tag would have written its marker
    args = ["-b", path, *(["-m", "bm25", "-o", tmp_path / "out"] if command == "eval" else [])]
    refused(glotta, tmp_path, command, *args, mentions=mentions)
    assert not (tmp_path / MARKER).exists()


def test_split_option_with_path_segments_is_refused(glotta, tmp_path, small_task):
    refused(glotta, tmp_path, "eval", "-t", small_task, "--split", "../../x", "-m", "bm25", "-o", tmp_path / "out",
            mentions=["--split: split '../../x' cannot be used as a file name", "test or dev"])


def test_task_name_with_path_segments_writes_nothing_anywhere(tmp_path, small_task):
    """The real entry point: the refusal comes before any result file, inside OUT or above it."""
    (small_task / "task.yaml").write_text("name: ../../escape\n")
    out = tmp_path / "runs" / "out"
    before = tree_state(tmp_path)
    done = run_cli("eval", "--task", str(small_task), "--model", "bm25", "--output", str(out))
    assert_refused(done, "task.yaml", "task name '../../escape' cannot be used as a file name")
    assert tree_state(tmp_path) == before and not out.parent.exists()


def _unwritable(tmp_path: Path) -> Path:
    """A folder this process cannot write in (root ignores permissions; sysfs refuses new files)."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder / "out"
    if not Path("/sys/kernel").is_dir():
        pytest.skip("running as root without sysfs: no folder refuses writes")
    return Path("/sys/kernel/glotta-out")


def test_eval_output_that_cannot_be_written_is_refused_before_any_task_is_read(glotta, tmp_path, small_task):
    (small_task / "corpus.jsonl").unlink()  # the task is broken too: the output is checked first
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder\n")
    for out, mention in [(a_file, "--output is a file, not a folder"),
                         (a_file / "sub", "--output cannot be created"),
                         (_unwritable(tmp_path), "--output is not writable")]:
        refused(glotta, tmp_path, "eval", "-t", small_task, "-m", "bm25", "-o", out, mentions=[str(out), mention])


@pytest.mark.parametrize("command", ["leaderboard", "report"])
def test_figures_and_report_folder_that_is_a_file_is_refused_first(glotta, tmp_path, command):
    a_file = tmp_path / "figures"
    a_file.write_text("not a folder\n")
    (tmp_path / "empty").mkdir()  # would be refused too, after the output
    refused(glotta, tmp_path, command, "--lang", "ita", "--mteb-results", tmp_path / "empty", "--out", a_file,
            mentions=[str(a_file), "--output is a file, not a folder"])


def _corrupt_results(folder: Path) -> list[Path]:
    files = [folder / "org__model/rev1/BelebeleRetrieval.json", folder / "org__model/rev1/SIB200Classification.json"]
    files[0].parent.mkdir(parents=True)
    files[0].write_text('{"task_name": "BelebeleRetrieval", "scores": {"test": [{"hf_s')
    files[1].write_bytes(b"\x00\x01 not json")
    return files


RESULT_FOLDERS = [  # (id, how the folder is made, what the message names)
    ("missing", lambda f: None, ["results folder not found"]),
    ("a-file", lambda f: f.write_text("{}"), ["is a file, not a results folder"]),
    ("empty", lambda f: f.mkdir(), ["no result files in MTEB's layout"]),
    ("only-unreadable", lambda f: _corrupt_results(f),
     ["none of the 2 result files in it can be read", "BelebeleRetrieval.json (JSONDecodeError",
      "SIB200Classification.json", "repair or remove the unreadable files"]),
]


@pytest.mark.parametrize("command", ["results show", "leaderboard", "report", "report --lang"])
@pytest.mark.parametrize(("make", "mentions"), [pytest.param(*case[1:], id=case[0]) for case in RESULT_FOLDERS])
def test_result_folders_with_nothing_readable_are_one_error(glotta, tmp_path, command, make, mentions):
    folder = tmp_path / "results"
    make(folder)
    args = {"results show": ["results", "show", folder],
            "leaderboard": ["leaderboard", "--lang", "ita", "--mteb-results", folder, "--out", tmp_path / "out"],
            "report": ["report", "--results", folder, "--out", tmp_path / "out"],
            "report --lang": ["report", "--lang", "ita", "--mteb-results", folder, "--out", tmp_path / "out"]}[command]
    if command in ("leaderboard", "report --lang") and not folder.is_dir():
        mentions = ["MTEB results folder not found"]  # the leaderboard's own check of --mteb-results
    refused(glotta, tmp_path, *args, mentions=[str(folder), *mentions])


def test_some_unreadable_result_files_are_named_and_skipped(glotta, tmp_path, small_task):
    from glotta.evaluation.runner import run_evaluation

    folder = tmp_path / "results"
    run_evaluation([_task(small_task)], ["bm25"], folder)
    broken = _corrupt_results(folder)
    done = glotta("results", "show", folder)
    assert done.returncode == 0, done.stderr
    assert "xquad_small" in done.stdout
    assert all(f"skipped {path}" in done.stderr for path in broken)


def test_report_of_results_without_glotta_runs_is_refused(glotta, tmp_path, data_root):
    source = data_root / "mteb-results/results/intfloat__multilingual-e5-small"
    revision = sorted(p for p in source.iterdir() if (p / "BelebeleRetrieval.json").exists())[0]
    folder = tmp_path / "mteb" / source.name / revision.name
    folder.mkdir(parents=True)
    shutil.copy(revision / "BelebeleRetrieval.json", folder)
    refused(glotta, tmp_path, "report", "--results", tmp_path / "mteb", "--out", tmp_path / "report",
            mentions=["no glotta result files in the --results folders", "--lang"])


def test_unreadable_stored_result_stops_the_run_before_any_evaluation(glotta, tmp_path, small_task):
    from glotta.evaluation.runner import run_evaluation

    out = tmp_path / "results"
    (outcome,) = run_evaluation([_task(small_task)], ["bm25"], out)
    outcome.path.write_bytes(b'{"scores": "caff\xe8"}')  # not UTF-8: once a raw UnicodeDecodeError
    other = shutil.copytree(small_task, tmp_path / "it" / "other")  # evaluated first if nothing were checked
    refused(glotta, tmp_path, "eval", "-t", other, "-t", small_task, "-m", "bm25", "-o", out,
            mentions=[str(outcome.path), "existing result file is unreadable", "--overwrite"])
