"""Bad input to ``glotta triplets build`` and ``triplets stats``: one message with a fix, exit 2, nothing written.

Also: partial badness is skipped and counted, and a resumed build equals an uninterrupted one,
summary included.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import DATA, assert_refused, run_cli, tree_state
from glotta.analysis.triplet_stats import triplet_statistics
from glotta.data.corpus import CorpusReader
from glotta.errors import GlottaError
from glotta.training.llm_client import ResponseCache
from glotta.training.mining import MiningSettings

CORPUS = DATA / "corpora/nl/ud_alpino/docs.jsonl"
KEY = "sk-secret-key-123"
# one paragraph, one pair: no other positive in the shard can be its negative
LONE = ("De gemeenteraad van Utrecht besprak gisteravond urenlang het nieuwe plan voor de binnenstad. Volgens de "
        "wethouder moeten er de komende tien jaar duizenden nieuwe woningen bij komen in alle wijken van de stad. "
        "Bewoners van de oude wijken maken zich echter grote zorgen over het verkeer en de parkeerplaatsen.")


def _build(*args: str, corpus: Path = CORPUS, out: Path) -> list[str]:
    return ["triplets", "build", "--corpus", str(corpus), "--lang", "nld", "--miner", "bm25", "--strategy", "topk",
            "--num-negatives", "2", "--out", str(out), *args]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Garbage(BaseHTTPRequestHandler):
    """HTTP 200 with a body that is no chat completion, for every request."""

    def log_message(self, *args):
        pass

    def _reply(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"garbage")

    do_GET = do_POST = _reply


@pytest.fixture
def garbage_endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def _unwritable(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root writes anywhere: sysfs refuses new files even to root
        folder = Path("/sys")
    return folder / "out"


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _loop(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(path.name)
    return path


def _synthetic(url: str) -> list[str]:
    return ["--pairs", "synthetic", "--llm-base-url", url, "--llm-model", "m", "--llm-api-key", KEY]


# (id, arguments built from the input folder and the output path, what the message must name)
BUILD_CASES = [
    ("not-parquet", lambda i, o: _build(corpus=_write(i / "docs.parquet", b"not parquet"), out=o),
     ["docs.parquet", "not a Parquet file"]),
    ("corpus-is-a-folder", lambda i, o: _build(corpus=_write(i / "d.jsonl" / "x", b"").parent, out=o),
     ["d.jsonl", "is a folder"]),
    ("corpus-link-loop", lambda i, o: _build(corpus=_loop(i / "loop.jsonl"), out=o), ["loop.jsonl", "loop"]),
    ("missing-corpus", lambda i, o: _build(corpus=i / "nope.jsonl", out=o), ["nope.jsonl", "corpus file not found"]),
    ("out-is-a-file", lambda i, o: _build(out=_write(i / "file", b"x")), ["--out", "is a file"]),
    ("out-under-a-file", lambda i, o: _build(out=_write(i / "file", b"x") / "out"), ["--out", "cannot be created"]),
    ("all-documents-bad", lambda i, o: _build(
        corpus=_write(i / "docs.jsonl", b'{broken\n{"text": "caf\xe9"}\n{"text": "  "}\n{"id": "no text"}\n'), out=o),
     ["docs.jsonl", "no usable document", "1 malformed JSON", "1 not UTF-8", "1 empty text"]),
    ("empty-corpus", lambda i, o: _build(corpus=_write(i / "docs.jsonl", b""), out=o), ["docs.jsonl", "no document"]),
    ("no-pair", lambda i, o: _build("--pairs", "title", "--max-documents", "20", out=o),
     ["docs.jsonl", "no (query, positive) pair from 20 documents", "documents too short"]),
    ("no-negative", lambda i, o: _build(corpus=_write(i / "docs.jsonl", json.dumps({"text": LONE}).encode()), out=o),
     ["none of the 1 pairs got a negative"]),
    ("llm-unreachable", lambda i, o: _build(*_synthetic(f"http://127.0.0.1:{_closed_port()}/v1"), out=o),
     ["http://127.0.0.1:", "/v1", "cannot be used", "Connection refused"]),
    ("topics-missing", lambda i, o: _build(*_synthetic("http://127.0.0.1:9/v1"), "--topics", str(i / "t.txt"), out=o),
     ["t.txt", "--topics file not found"]),
    ("topics-not-utf8", lambda i, o: _build(*_synthetic("http://127.0.0.1:9/v1"), "--topics",
                                            str(_write(i / "t.txt", b"recht\n\xffwet\n")), out=o),
     ["t.txt:2", "not UTF-8"]),
    ("topics-empty", lambda i, o: _build(*_synthetic("http://127.0.0.1:9/v1"), "--topics",
                                         str(_write(i / "t.txt", b"\n  \n")), out=o),
     ["t.txt", "holds no topic"]),
    ("range-not-min-max", lambda i, o: _build("--range", "5", out=o), ["--range '5'"]),
    ("range-empty", lambda i, o: _build("--range", "10:5", out=o), ["--range", "10:5"]),
    ("strategy-unknown", lambda i, o: _build("--strategy", "topk-magic", out=o), ["--strategy", "topk-magic"]),
    ("sampling-unknown", lambda i, o: _build("--sampling", "best", out=o), ["--sampling", "'best'"]),
    ("threshold-nan", lambda i, o: _build("--strategy", "topk-percpos", "--threshold", "nan", out=o),
     ["--threshold nan"]),
    ("pairs-unknown", lambda i, o: _build("--pairs", "sentences", out=o), ["--pairs", "'sentences'"]),
]


@pytest.mark.parametrize(("make", "mentions"), [c[1:] for c in BUILD_CASES], ids=[c[0] for c in BUILD_CASES])
def test_bad_build_input_is_refused_and_writes_nothing(make, mentions, tmp_path):
    args = make(tmp_path / "in", tmp_path / "out")
    before = tree_state(tmp_path)
    done = run_cli(*args)
    stderr = assert_refused(done, *mentions)
    assert KEY not in done.stdout + stderr
    assert tree_state(tmp_path) == before


def test_an_unwritable_out_is_refused_before_any_work(tmp_path):
    out = _unwritable(tmp_path)
    assert_refused(run_cli(*_build(out=out)), "--out", "not writable")
    assert not out.exists()


def test_an_endpoint_that_answers_garbage_is_named(garbage_endpoint, tmp_path):
    before = tree_state(tmp_path)
    done = run_cli(*_build(*_synthetic(garbage_endpoint), "--max-documents", "10", out=tmp_path / "out"))
    assert_refused(done, garbage_endpoint, "every request", "not a chat completion")
    assert KEY not in done.stdout + done.stderr
    assert tree_state(tmp_path) == before


def test_a_response_cache_that_is_no_database_is_named(tmp_path):
    cache = _write(tmp_path / "llm.sqlite", b"not a database, only text " * 8)
    with pytest.raises(GlottaError, match="LLM response cache cannot be opened") as refused:
        ResponseCache(cache)
    assert refused.value.path == str(cache) and "GLOTTA_CACHE" in refused.value.fix


@pytest.mark.parametrize(("settings", "mentions"), [
    (dict(strategy="topk", threshold=0.1), "--threshold has no effect with --strategy topk"),
    (dict(strategy="topk-abs", threshold=float("inf")), "--threshold inf is not a finite number"),
    (dict(strategy="topk-percpos", threshold=-1.0), "--threshold -1.0 is not a fraction"),
    (dict(strategy="topk-percpos", threshold=1.5), "--threshold 1.5 is not a fraction"),
    (dict(strategy="topk-marginpos", threshold=-0.1), "--threshold -0.1 is a negative margin"),
    (dict(strategy="topk-stdmarginpos", threshold=-1.0), "--threshold -1.0 is a negative margin"),
    (dict(range_min=3, range_max=3), "--range: rank window 3:3 is empty"),
    (dict(sampling="best"), "--sampling: unknown sampling 'best'"),
])
def test_impossible_mining_settings_name_the_option(settings, mentions):
    with pytest.raises(GlottaError) as refused:
        MiningSettings(**settings)
    assert mentions in refused.value.problem and refused.value.fix


def test_a_threshold_that_fits_its_strategy_is_accepted():
    for strategy, threshold in [("topk-abs", -0.2), ("topk-percpos", 0.0), ("topk-percpos", 1.0),
                                ("topk-marginpos", 0.0), ("topk-stdmarginpos", 2.0)]:
        assert MiningSettings(strategy=strategy, threshold=threshold).limit == threshold


def test_bom_and_partial_badness_are_read_skipped_and_counted(tmp_path):
    """A BOM is no reason to lose the first document; bad lines among good ones are skipped and counted."""
    lines = CORPUS.read_bytes().splitlines(keepends=True)[:30]
    corpus = _write(tmp_path / "docs.jsonl", b"\xef\xbb\xbf" + b"".join(lines[:20]) + b"\n{broken\n"
                    + b'{"text": "caf\xe9"}\n' + b"".join(lines[20:]))
    reader = CorpusReader([corpus])
    assert [d.id for d in reader] == [json.loads(line)["id"] for line in lines]
    assert reader.skipped == {"malformed JSON": 1, "not UTF-8": 1}  # the blank line is no document
    out = tmp_path / "out"
    done = run_cli(*_build(corpus=corpus, out=out))
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["documents"] == 30 and summary["rows"] > 0
    assert summary["documents skipped: malformed JSON"] == summary["documents skipped: not UTF-8"] == 1


def test_resume_after_a_kill_equals_an_uninterrupted_build(tmp_path):
    """As if killed while writing shard 2 (its counts on disk, not its rows), shards 3 and 4 never begun."""
    import pyarrow.parquet as pq

    args = ["--strategy", "topk-percpos", "--shard-size", "10", "--max-documents", "50"]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    for out in (whole, resumed):
        done = run_cli(*_build(*args, out=out))
        assert done.returncode == 0, done.stderr
    expected = {name: (whole / name).read_bytes() for name in ("triplets.jsonl", "summary.json")}
    assert json.loads(expected["summary.json"])["candidates dropped: topk-percpos"] > 0  # drops to lose
    for name in ("shards/shard-00002.jsonl", "shards/shard-00003.jsonl", "shard-counts/shard-00003.json",
                 "shards/shard-00004.jsonl", "shard-counts/shard-00004.json", "triplets.jsonl", "triplets.parquet",
                 "summary.json"):
        (resumed / name).unlink()
    kept = (resumed / "shards/shard-00001.jsonl").stat().st_mtime_ns
    again = run_cli(*_build(*args, out=resumed))
    assert again.returncode == 0, again.stderr
    assert (resumed / "shards/shard-00001.jsonl").stat().st_mtime_ns == kept  # reused, not rebuilt
    assert {name: (resumed / name).read_bytes() for name in expected} == expected
    assert pq.read_table(resumed / "triplets.parquet").equals(pq.read_table(whole / "triplets.parquet"))


def _triplets(tmp_path: Path, data: bytes, name: str = "triplets.jsonl") -> Path:
    return _write(tmp_path / "build" / name, data)


_ROW = {"query": "q", "positive": "p", "negatives": ["n1", "n2"], "negative_kinds": ["hard", "random"],
        "negative_scores": [0.5, None], "positive_score": 0.9}
# rows that are no triplet row: (id, row, what the message must name)
ROW_CASES = [
    ("a-list", [1, 2], "a JSON list"),
    ("no-positive", {k: v for k, v in _ROW.items() if k != "positive"}, "'positive' is missing"),
    ("negatives-text", _ROW | {"negatives": "n1"}, "'negatives' is missing or not a list"),
    ("kinds-too-short", _ROW | {"negative_kinds": ["hard"]}, "'negative_kinds' is not a list of texts as long"),
    ("scores-text", _ROW | {"negative_scores": ["high", None]}, "'negative_scores' is not a list of numbers"),
    ("positive-score-text", _ROW | {"positive_score": "high"}, "'positive_score' is not a number"),
]


@pytest.mark.parametrize(("row", "mention"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES])
def test_stats_name_the_line_of_a_row_that_is_no_triplet(row, mention, tmp_path):
    path = _triplets(tmp_path, (json.dumps(_ROW) + "\n" + json.dumps(row) + "\n").encode())
    with pytest.raises(GlottaError) as refused:
        triplet_statistics(path.parent)
    assert refused.value.line == 2 and refused.value.path == str(path) and mention in refused.value.problem
    assert refused.value.fix


def test_stats_read_a_bom_and_refuse_an_empty_file(tmp_path):
    path = _triplets(tmp_path, b"\xef\xbb\xbf" + json.dumps(_ROW).encode() + b"\n\n")
    assert triplet_statistics(path)["triplets"] == 2
    path.write_bytes(b"\n")
    with pytest.raises(GlottaError, match="no triplet rows"):
        triplet_statistics(path)


STATS_CASES = [
    ("folder-without-triplets", lambda t: [str(_write(t / "build" / "notes.txt", b"x").parent)],
     ["triplets.jsonl", "triplet file not found"]),
    ("malformed-json", lambda t: [str(_triplets(t, json.dumps(_ROW).encode() + b"\n{broken\n"))],
     ["triplets.jsonl:2", "malformed JSON"]),
    ("not-parquet", lambda t: [str(_triplets(t, b"not parquet", "triplets.parquet"))],
     ["triplets.parquet", "not a readable Parquet file"]),
    ("json-is-a-folder", lambda t: [str(_triplets(t, json.dumps(_ROW).encode())), "--json", str(t / "build")],
     ["--json", "is a folder"]),
]


@pytest.mark.parametrize(("make", "mentions"), [c[1:] for c in STATS_CASES], ids=[c[0] for c in STATS_CASES])
def test_bad_stats_input_is_refused_and_writes_nothing(make, mentions, tmp_path):
    args = make(tmp_path)
    before = tree_state(tmp_path)
    assert_refused(run_cli("triplets", "stats", *args), *mentions)
    assert tree_state(tmp_path) == before


# the same refusals, in-process (the CLI only prints them): (id, the path to read, what the message must name)
UNREADABLE = [
    ("unfinished-build", lambda t: _write(t / "build" / "manifest.json", b"{}").parent,
     ["has not finished", "resumes"]),
    ("not-utf8", lambda t: _triplets(t, json.dumps(_ROW).encode() + b"\n\xff\n"), ["triplets.jsonl:2", "not UTF-8"]),
    ("link-loop", lambda t: _loop(t / "build" / "loop.jsonl"), ["loop.jsonl", "loop of symbolic links"]),
]


@pytest.mark.parametrize(("make", "mentions"), [c[1:] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE])
def test_unreadable_triplets_are_one_error_with_a_fix(make, mentions, tmp_path):
    with pytest.raises(GlottaError) as refused:
        triplet_statistics(make(tmp_path))
    assert all(piece in refused.value.message for piece in mentions) and refused.value.fix
