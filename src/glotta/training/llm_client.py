"""Chat completions from any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, hosted APIs).

The ``openai`` package does the HTTP, the retries with exponential backoff (429, 5xx, connection
errors) and the timeouts; glotta adds a thread pool for concurrency and an on-disk cache keyed by
(endpoint model, messages, sampling settings), so a rerun pays for nothing it already asked.
The API key is read from the flag or the environment and never printed or stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from glotta.errors import GlottaError

KEY_VARIABLES = ("GLOTTA_LLM_API_KEY", "OPENAI_API_KEY")


@dataclass(frozen=True)
class LLMSettings:
    base_url: str
    model: str
    temperature: float = 1.0
    max_tokens: int = 128
    concurrency: int = 4
    retries: int = 4
    timeout_s: float = 60.0


class ResponseCache:
    """SQLite: request hash -> response text (WAL, safe from several threads with one lock)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(path, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, text TEXT)")
        self.lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self.lock:
            row = self.connection.execute("SELECT text FROM responses WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, text: str) -> None:
        with self.lock, self.connection:
            self.connection.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (key, text))


class ChatClient:
    def __init__(self, settings: LLMSettings, cache: ResponseCache, api_key: str | None = None):
        from openai import OpenAI

        key = api_key or next((os.environ[v] for v in KEY_VARIABLES if os.environ.get(v)), None)
        # local servers (vLLM, Ollama, llama.cpp) accept any key; the library insists on one
        self.client = OpenAI(base_url=settings.base_url, api_key=key or "no-key", max_retries=settings.retries,
                             timeout=settings.timeout_s)
        self.settings, self.cache = settings, cache
        self.requests = 0  # requests that reached the endpoint (cache misses), for summaries and tests
        self.failures = 0

    def _key(self, messages: list[dict]) -> str:
        s = self.settings
        fields = [s.base_url, s.model, s.temperature, s.max_tokens, messages]
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()

    def complete(self, messages: list[dict]) -> str | None:
        """The reply text, or None when the endpoint keeps failing (counted, never raised)."""
        from openai import OpenAIError

        key = self._key(messages)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        self.requests += 1
        try:
            response = self.client.chat.completions.create(
                model=self.settings.model, messages=messages,
                temperature=self.settings.temperature, max_tokens=self.settings.max_tokens)
            text = response.choices[0].message.content or ""
        except (OpenAIError, IndexError, AttributeError, ValueError):
            self.failures += 1
            return None
        self.cache.put(key, text)
        return text

    def complete_all(self, requests: list[list[dict]]) -> list[str | None]:
        with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
            return list(pool.map(self.complete, requests))


def require_endpoint(base_url: str | None, model: str | None) -> None:
    if not base_url or not model:
        raise GlottaError("synthetic queries need an OpenAI-compatible endpoint",
                          fix="pass --llm-base-url (e.g. http://localhost:8000/v1) and --llm-model "
                              "(key from --llm-api-key or GLOTTA_LLM_API_KEY / OPENAI_API_KEY)")
