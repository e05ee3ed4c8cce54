"""LLM queries for ``glotta rag build`` from a local OpenAI-compatible server started by the test.

The server answers each prompt with one kind of reply chosen by a hash of the passage (so the
counts do not depend on the order concurrent requests arrive in): good queries, and each of the
failures the filters exist for. The test checks that every filter drops exactly its kind.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import assert_refused, chat_completion, send_json, serving, write_jsonl
from glotta.rag.llm_queries import copies, parse_reply

pytest.importorskip("semchunk")
pytest.importorskip("pysbd")

STATUTES = Path(__file__).resolve().parents[1] / "../shared/data/corpora/nl/wetten_laws_markdown/docs.jsonl"
TOKENIZER = "sentence-transformers/all-MiniLM-L6-v2"
KINDS = ("good", "unparseable", "preamble", "english", "copied", "reference", "duplicate", "fenced")


def kind_of(passage: str) -> str:
    return KINDS[int(hashlib.md5(passage.encode()).hexdigest(), 16) % len(KINDS)]


def reply_for(prompt: str) -> str:
    passage = prompt.split("Tekst:\n", 1)[1]
    long_words = [w.strip(".,;:()") for w in passage.split() if len(w.strip(".,;:()")) > 7]
    first, second = [*long_words, "vergunning", "aanvraag"][:2]
    keywords = "trefwoorden" in prompt
    good = f"{first} {second}" if keywords else f"Wat zegt de regeling over {first} en de {second}?"
    kind = kind_of(passage)
    query = {"good": good, "preamble": good, "fenced": good,
             "english": "What does the government decide about this permit?",
             "copied": " ".join(passage.split()[:9]),
             "reference": f"Wat staat er volgens de tekst over {first}?",
             "duplicate": "Welke regels gelden voor de vergunning van de haven?"}.get(kind)
    if kind == "unparseable":
        return "Natuurlijk! Hier is een goede zoekvraag voor je"
    if kind == "preamble":
        return "Hier is de vraag: " + json.dumps({"query": query})
    if kind == "fenced":
        return "```json\n" + json.dumps({"query": query}) + "\n```"
    return json.dumps({"query": query})


class FakeChat(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # /v1/models: the endpoint check
        send_json(self, {"object": "list", "data": [{"id": "fake", "object": "model", "created": 0, "owned_by": "t"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][0]["content"]
        FakeChat.requests.append(prompt)
        send_json(self, chat_completion(body["model"], reply_for(prompt)))


@pytest.fixture
def endpoint():
    FakeChat.requests = []
    with serving(FakeChat) as url:
        yield url


@pytest.fixture
def statutes(tmp_path) -> Path:
    if not STATUTES.exists():
        pytest.skip("shared statutes corpus not present")
    with STATUTES.open(encoding="utf-8") as stream:
        records = [json.loads(next(stream)) for _ in range(80)]
    write_jsonl(tmp_path / "docs" / "wetten.jsonl", records)
    return tmp_path / "docs"


def build(glotta, documents: Path, endpoint: str, out: Path, *extra: str):
    return glotta("rag", "build", documents, "--lang", "nld", "--queries", "llm", "--llm-base-url", endpoint,
                  "--llm-model", "fake", "--tokenizer", TOKENIZER, "--per-document", "1", "--output", out, *extra)


def test_every_filter_drops_its_kind_of_reply_and_counts_it(glotta, statutes, endpoint, tmp_path):
    result = build(glotta, statutes, endpoint, tmp_path / "out", "--num-queries", "60")
    assert result.returncode == 0, result.stderr
    asked = Counter(kind_of(prompt.split("Tekst:\n", 1)[1]) for prompt in FakeChat.requests)
    assert len(FakeChat.requests) == 60 and all(asked[kind] for kind in KINDS), asked
    dropped = json.loads((tmp_path / "out" / "manifest.json").read_text())["dropped"]["llm"]
    assert dropped["reply is not JSON with a query"] == asked["unparseable"]
    assert dropped["preamble or comment around the query"] == asked["preamble"]
    assert dropped["not in Dutch"] == asked["english"]
    assert dropped["copies 6 words of the chunk"] == asked["copied"]
    assert dropped["refers to the text"] == asked["reference"]
    assert dropped["near-duplicate query"] >= asked["duplicate"] - 1
    queries = [json.loads(line) for line in (tmp_path / "out" / "queries.jsonl").read_text().splitlines()]
    assert {q["source"] for q in queries} <= {"llm-question", "llm-keywords", "llm-paraphrase"}
    assert len({q["document"] for q in queries}) == len(queries)  # --per-document 1
    assert sum(q["text"] == "Welke regels gelden voor de vergunning van de haven?" for q in queries) <= 1
    assert len(queries) >= asked["good"] + asked["fenced"] - dropped.get("near-duplicate query", 0)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert re.fullmatch(r"[0-9a-f]{16}", manifest["prompt hash"])


def test_a_rerun_and_a_larger_run_ask_only_what_is_not_cached(glotta, statutes, endpoint, tmp_path):
    assert build(glotta, statutes, endpoint, tmp_path / "small", "--num-queries", "12").returncode == 0
    assert len(FakeChat.requests) == 12
    assert build(glotta, statutes, endpoint, tmp_path / "again", "--num-queries", "12").returncode == 0
    assert len(FakeChat.requests) == 12  # everything from the cache: an interrupted build resumes for free
    assert (tmp_path / "again" / "queries.jsonl").read_bytes() == (tmp_path / "small" / "queries.jsonl").read_bytes()
    assert build(glotta, statutes, endpoint, tmp_path / "larger", "--num-queries", "20").returncode == 0
    assert len(FakeChat.requests) == 20  # the first 12 chunks are asked the same prompts: 8 new requests


def test_round_trip_with_bm25_is_recorded(glotta, statutes, endpoint, tmp_path):
    result = build(glotta, statutes, endpoint, tmp_path / "out", "--num-queries", "40", "--round-trip",
                   "--round-trip-k", "1")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["settings"]["llm"]["round_trip"] == "bm25"
    assert manifest["dropped"]["llm"]["round trip: chunk not in BM25's top 1"] > 0


def test_an_unreachable_endpoint_is_one_error(glotta, statutes, tmp_path):
    result = build(glotta, statutes, "http://127.0.0.1:9/v1", tmp_path / "out")
    assert_refused(result, "http://127.0.0.1:9/v1")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("reply", "query", "reason"), [
    ('{"query": "Wat is een briefstembureau?"}', "Wat is een briefstembureau?", None),
    ('```json\n{"query": "Wat is een briefstembureau?"}\n```', "Wat is een briefstembureau?", None),
    ('Sure! {"query": "Wat is een briefstembureau?"}', None, "preamble or comment around the query"),
    ('{"query": "Vraag: wat is een briefstembureau?"}', None, "preamble or comment around the query"),
    ('{"question": "Wat?"}', None, "reply is not JSON with a query"),
    (None, None, "LLM request failed"),
])
def test_parse_reply(reply, query, reason):
    assert parse_reply(reply) == (query, reason)


def test_copies_counts_consecutive_words_only():
    passage = "De diplomatieke vertegenwoordigingen van Nederland worden aangewezen als briefstembureaus."
    assert copies("waarom worden de diplomatieke vertegenwoordigingen van Nederland aangewezen", passage, 5)
    assert not copies("welke vertegenwoordigingen van Nederland zijn briefstembureaus", passage, 5)
