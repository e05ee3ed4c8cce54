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
        try:
            self.connection = sqlite3.connect(path, check_same_thread=False)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, text TEXT)")
        except sqlite3.Error as exc:
            raise GlottaError(f"the LLM response cache cannot be opened ({exc})",
                              fix="delete it, or set GLOTTA_CACHE to a folder you may write", path=path) from None
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
        try:
            self.client = OpenAI(base_url=settings.base_url, api_key=key or "no-key", max_retries=settings.retries,
                                 timeout=settings.timeout_s)
        except Exception as exc:  # the URL parser's error type is its HTTP library's (httpx or httpx2, by version)
            raise GlottaError(f"--llm-base-url {settings.base_url!r} is not a URL ({exc})",
                              fix="give the endpoint's URL, e.g. http://localhost:8000/v1") from None
        self.settings, self.cache = settings, cache
        self.requests = 0  # requests that reached the endpoint (cache misses), for summaries and tests
        self.failures = 0
        self.last_error: str | None = None  # why the latest failure failed, for messages (never the key)

    def check_endpoint(self) -> None:
        """Fail at once, naming the URL, when nothing answers there or the key is refused.

        Otherwise every request of a build would be retried with backoff, then counted as failed.
        Servers that do not list their models are let through: their requests will tell.
        """
        from openai import APIConnectionError, AuthenticationError, OpenAIError, PermissionDeniedError

        try:
            self.client.with_options(max_retries=1, timeout=min(self.settings.timeout_s, 10.0)).models.list()
        except (APIConnectionError, AuthenticationError, PermissionDeniedError) as exc:
            raise GlottaError(f"the LLM endpoint {self.settings.base_url} cannot be used ({describe_failure(exc)})",
                              fix=ENDPOINT_FIX) from None
        except (OpenAIError, ValueError):
            pass

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
        except (OpenAIError, IndexError, AttributeError, TypeError, ValueError) as exc:
            self.failures += 1
            self.last_error = describe_failure(exc)
            return None
        self.cache.put(key, text)
        return text

    def complete_all(self, requests: list[list[dict]]) -> list[str | None]:
        with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
            return list(pool.map(self.complete, requests))


ENDPOINT_FIX = ("start the server, or check --llm-base-url (e.g. http://localhost:8000/v1), --llm-model and the "
                "API key (--llm-api-key, GLOTTA_LLM_API_KEY or OPENAI_API_KEY)")


def describe_failure(exc: Exception) -> str:
    """A failed request in a few words: the HTTP status or the connection error, never headers or the key."""
    from openai import APIConnectionError, APIStatusError

    if isinstance(exc, APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, APIConnectionError):
        return f"{type(exc).__name__}: {exc.__cause__ or exc}"
    return f"the reply is not a chat completion: {type(exc).__name__}"


def require_endpoint(base_url: str | None, model: str | None) -> None:
    if not base_url or not model:
        raise GlottaError("synthetic queries need an OpenAI-compatible endpoint",
                          fix="pass --llm-base-url (e.g. http://localhost:8000/v1) and --llm-model "
                              "(key from --llm-api-key or GLOTTA_LLM_API_KEY / OPENAI_API_KEY)")
