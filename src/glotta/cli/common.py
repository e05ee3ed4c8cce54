"""What every command shares: the consoles, common options, and quiet third-party output."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# Logs and CI are not terminals: rich would wrap tables at 80 columns there.
console = Console() if Console().is_terminal else Console(width=160)
errors = Console(stderr=True)

DataRoot = Annotated[Path | None, typer.Option("--data-root", help="Folder holding tasks/ (default $GLOTTA_DATA, else ../shared/data).")]
Lang = Annotated[str, typer.Option("--lang", help="Target language (ita, nld, it, ...).")]
CacheDir = Annotated[Path | None, typer.Option(help="Embedding cache (default $GLOTTA_CACHE or ~/.cache/glotta).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Encode everything again.")]
BatchSize = Annotated[int, typer.Option(min=1, help="Encoding batch size.")]
Device = Annotated[str | None, typer.Option(help="cpu, cuda, mps (default: best available); cuda:0,cuda:1 encodes on both (one process each).")]
Benchmarks = Annotated[list[str] | None, typer.Option("--benchmark", "-b", help="Shipped benchmark name, YAML file or mteb:BENCHMARK; repeatable.")]
Backend = Annotated[str, typer.Option(help="Where sentence-transformers models run: torch, openvino or onnx (CPU; pip install 'glotta[openvino]' or 'glotta[onnx]').")]
Precision = Annotated[str, typer.Option(help="fp32 (exact on every backend), fp16 / bf16 (torch; openvino where the CPU has them) or int8 (openvino, onnx): opt-ins that change scores a little.")]
TrustRemoteCode = Annotated[bool, typer.Option(help="Allow a model's own Python code (custom modules, config.json auto_map); off by default.")]
TaskFolders = Annotated[list[Path] | None, typer.Option("--task", "-t", help="A task folder or mteb:TASK; repeatable.")]
LLMBaseUrl = Annotated[str | None, typer.Option(envvar="GLOTTA_LLM_BASE_URL", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1.")]
LLMModel = Annotated[str | None, typer.Option(envvar="GLOTTA_LLM_MODEL", help="Model name at that endpoint.")]
LLMApiKey = Annotated[str | None, typer.Option(help="API key (default $GLOTTA_LLM_API_KEY or $OPENAI_API_KEY); never printed.", show_default=False)]
LLMConcurrency = Annotated[int, typer.Option("--concurrency", min=1, help="Parallel LLM requests.")]
# ``--out``, the old spelling of ``--output``: declare ``output_alias: OutputAlias = None`` right after the
# ``output_option`` parameter; its value arrives in ``output`` (the parameter itself stays unused).
OutputAlias = Annotated[Path | None, typer.Option("--out", hidden=True, is_eager=True, help="Old spelling of --output.")]


def output_option(help: str, *, required: bool = False) -> Any:
    """``--output/-o``, the one output flag of every command, with the hidden ``--out`` (OutputAlias) merged in.

    Both given is a usage error naming them; ``required`` makes neither given one too (typer cannot
    require ``--output`` itself, or ``--out`` alone would be refused).
    """
    return typer.Option("--output", "-o", help=help + (" (required)" if required else ""),
                        callback=_merge_output_alias(required))


def _merge_output_alias(required: bool) -> Callable[..., Path | None]:
    def merge(ctx: typer.Context, param: typer.CallbackParam, value: Path | None) -> Path | None:
        alias = ctx.params.get("output_alias")  # processed first: OutputAlias is eager
        if alias is not None and ctx.get_parameter_source(param.name).name != "DEFAULT":
            ctx.fail("--output and --out are the same option (--out is its old spelling): give --output once")
        value = value if alias is None else alias
        if value is None and required:
            ctx.fail("Missing option '--output' / '-o'.")
        return value

    return merge


def progress_bars() -> Progress:
    """One live display of progress bars on stderr, removed when done."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    return Progress(*columns, console=errors, transient=True)


def quiet_libraries() -> None:
    """Model loaders print their own bars and warnings; glotta shows one progress display."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import logging

    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    # transformers reads HF_HUB_DISABLE_PROGRESS_BARS when imported; only an already imported one needs
    # telling. Importing it here would cost a warm run, which never loads a model, 1.5 s.
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()




def chat_client(base_url: str | None, model: str | None, api_key: str | None, concurrency: int):
    """The LLM client of the ``--llm-*`` options, its replies cached under the glotta cache; the endpoint checked."""
    from glotta.config import default_cache_root
    from glotta.training.llm_client import ChatClient, LLMSettings, ResponseCache, require_endpoint

    require_endpoint(base_url, model)
    client = ChatClient(LLMSettings(base_url, model, concurrency=concurrency),
                        ResponseCache(default_cache_root() / "llm.sqlite"), api_key)
    client.check_endpoint()
    return client
