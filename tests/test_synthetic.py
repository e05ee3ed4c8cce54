"""Synthetic queries against a local OpenAI-compatible chat server started by the test (no internet)."""

from __future__ import annotations

import itertools
import json
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest

from conftest import chat_completion, send_json, serving
from glotta.data.corpus import CorpusReader
from glotta.training.llm_client import ChatClient, LLMSettings, ResponseCache
from glotta.training.synthetic import SyntheticPairBuilder, SyntheticSettings, parse_query


class FakeChat(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions: a Dutch question built from the passage's own words, except
    every 7th request (garbage), every 5th (English) and the very first (HTTP 500, then retried)."""

    calls = 0
    keys: ClassVar[list[str]] = []  # shared by the handler instances of one server

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeChat.keys.append(self.headers.get("Authorization", ""))
        FakeChat.calls += 1
        if FakeChat.calls == 1:
            self.send_response(500)
            self.end_headers()
            return
        passage = body["messages"][0]["content"].split("Tekst:\n", 1)[1]
        words = [w.strip(".,;:") for w in passage.split() if len(w) > 6][:4]
        if FakeChat.calls % 7 == 0:
            content = "Natuurlijk! Hier is een vraag"
        elif FakeChat.calls % 5 == 0:
            content = json.dumps({"query": "What does the government say about the rules for this?"})
        else:
            content = json.dumps({"query": "Wat zegt de wet over " + " en ".join(words) + "?"})
        send_json(self, chat_completion(body["model"], content))


@pytest.fixture
def endpoint():
    FakeChat.calls, FakeChat.keys = 0, []
    with serving(FakeChat) as url:
        yield url


def test_parse_query_accepts_only_json_with_a_query():
    assert parse_query('Sure: {"query": "Wat is een wet?"} ok') == "Wat is een wet?"
    assert parse_query("no json here") is None and parse_query('{"q": 1}') is None and parse_query(None) is None


def test_recipe_filters_counts_and_cache(endpoint, tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("GLOTTA_LLM_API_KEY", "secret-key-123")
    documents = list(itertools.islice(CorpusReader([data_root / "corpora/nl/wetten_laws_markdown/docs.jsonl"]), 40))
    settings = SyntheticSettings("nld", topics=("recht",), min_passage_words=15, pairs_per_document=1)
    client = ChatClient(LLMSettings(endpoint, "fake-model", concurrency=3, retries=2, timeout_s=10),
                        ResponseCache(tmp_path / "llm.sqlite"))
    builder = SyntheticPairBuilder(settings, client, seed=1)
    pairs = list(builder.pairs(documents))
    asked = sum(builder.dropped.values()) + len(pairs) - builder.dropped["documents too short to yield a pair"]
    assert client.requests == asked > 10 and FakeChat.calls == asked + 1  # the HTTP 500 was retried
    assert builder.dropped["LLM reply not JSON with a query"] > 0
    assert builder.dropped["query not in the target language"] > 0
    assert pairs and all(p.query.startswith("Wat zegt de wet over") for p in pairs)
    assert all("secret-key-123" in key for key in FakeChat.keys)  # sent to the endpoint ...
    # ... and never stored: the cache holds replies only
    assert b"secret-key-123" not in (tmp_path / "llm.sqlite").read_bytes()

    again = ChatClient(LLMSettings(endpoint, "fake-model", concurrency=3), ResponseCache(tmp_path / "llm.sqlite"))
    repeat = list(SyntheticPairBuilder(settings, again, seed=1).pairs(documents))
    assert again.requests == 0 and repeat == pairs  # a rerun pays for nothing


def test_an_endpoint_that_always_fails_is_counted_not_fatal(tmp_path, data_root):
    documents = list(itertools.islice(CorpusReader([data_root / "corpora/nl/wetten_laws_markdown/docs.jsonl"]), 5))
    client = ChatClient(LLMSettings("http://127.0.0.1:9/v1", "m", retries=0, timeout_s=2), ResponseCache(tmp_path / "c.sqlite"))
    builder = SyntheticPairBuilder(SyntheticSettings("nld", min_passage_words=15), client, seed=0)
    assert list(builder.pairs(documents)) == []
    assert builder.dropped["LLM request failed"] == client.failures > 0


def test_cli_builds_triplets_from_synthetic_queries(endpoint, tmp_path, data_root):
    from conftest import run_cli

    corpus = data_root / "corpora/nl/wetten_laws_markdown/docs.jsonl"
    out = tmp_path / "synthetic"
    common = ["triplets", "build", "--corpus", str(corpus), "--lang", "nld", "--miner", "bm25", "--strategy", "topk",
              "--num-negatives", "2", "--max-documents", "60", "--pairs", "synthetic", "--out", str(out)]
    missing = run_cli(*common)
    assert missing.returncode == 2 and "need an OpenAI-compatible endpoint" in missing.stderr
    done = run_cli(*common, "--llm-base-url", endpoint, "--llm-model", "fake-model",
                   env={"GLOTTA_LLM_API_KEY": "secret-key-123"})
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"] > 0 and summary["LLM requests"] > 0
    assert "secret-key-123" not in done.stdout + done.stderr + (out / "manifest.json").read_text()
