"""Original against trimmed, side by side: size on disk, parameters, memory, speed, scores.

Peak memory is a process-wide high-water mark, so each model is measured in a fresh child
process (``spawn``) that loads it and encodes the same texts; measuring both in one process
would report the larger of the two twice. Scores come from the ordinary evaluation runner, so
they are the numbers ``glotta eval`` would print and its result files are written as usual.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

MEASURE_BATCH = 32


def folder_bytes(folder: Path) -> int:
    """Bytes of every file in a model folder (symlinks of a Hub snapshot followed)."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def footprint(folder: Path, texts: list[str], batch_size: int = MEASURE_BATCH) -> dict:
    """Load ``folder`` in a child process, encode ``texts``; parameters, peak RSS, texts per second."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        measured = pool.submit(_measure, str(folder), list(texts), batch_size).result()
    return {"size_on_disk_bytes": folder_bytes(folder), **measured}


def peak_memory_mib() -> float:
    """This process's peak resident memory.

    Linux's VmHWM belongs to the process image, so it starts afresh in a spawned child;
    ``ru_maxrss`` does not (Linux carries it across exec from the forking parent, which here
    holds a model already). Elsewhere ``ru_maxrss`` is the best there is (bytes on macOS).
    """
    import resource
    import sys

    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _measure(folder: str, texts: list[str], batch_size: int) -> dict:
    import time

    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a fresh process: the CLI's quiet settings are not inherited
    model = SentenceTransformer(folder, device="cpu", local_files_only=True)
    loaded = peak_memory_mib()
    model.encode(texts[:batch_size], batch_size=batch_size, show_progress_bar=False)  # warm-up
    started = time.perf_counter()
    model.encode(texts, batch_size=batch_size, show_progress_bar=False)
    elapsed = time.perf_counter() - started
    return {
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "peak_memory_after_load_mib": round(loaded, 1),
        "peak_memory_mib": round(peak_memory_mib(), 1),
        "encode_texts_per_second": round(len(texts) / elapsed, 2) if elapsed > 0 else None,
        "encode_texts": len(texts),
    }


def task_texts(task) -> list[str]:
    """Every text a task makes a model embed (documents as MTEB joins title and text)."""
    if hasattr(task, "queries"):
        return [*task.queries.values(), *(d.full_text for d in task.corpus.values())]
    fields = ("sentence1", "sentence2", "train_texts", "test_texts", "texts")
    return [text for name in fields for text in getattr(task, name, [])]


def tokenization_coverage(original_folder: Path, trimmed_folder: Path, tasks: list) -> dict[str, float | None]:
    """Per task, the share of its distinct texts the trimmed tokenizer reads as the original:
    their embeddings are unchanged, so only the rest can move a score."""
    from transformers import AutoTokenizer

    from glotta.trimming.coverage import unchanged_share

    original = AutoTokenizer.from_pretrained(str(original_folder)).backend_tokenizer
    trimmed = AutoTokenizer.from_pretrained(str(trimmed_folder)).backend_tokenizer
    return {task.metadata.name: unchanged_share(original, trimmed, task_texts(task)) for task in tasks}


def score_rows(outcomes: list, tasks: int) -> list[dict]:
    """One row per task: main score of each model and the difference in points (x100).

    ``run_evaluation`` returns outcomes model by model, so the first ``tasks`` are the
    original's and the next the trim's (their names can be equal: two folders called ``model``).
    """
    rows = []
    for before, after in zip(outcomes[:tasks], outcomes[tasks:], strict=True):
        a, b = before.main_score, after.main_score
        rows.append({"task": before.task.name, "type": before.task.type.value, "original": a, "trimmed": b,
                     "difference_points": None if a is None or b is None else round(100 * (b - a), 3)})
    return rows


def compare(original_folder: Path, trimmed_folder: Path, original_name: str, texts: list[str], tasks: list,
            results: Path, options, progress=None) -> dict:
    """Footprints and per-task scores of the original model and its trim."""
    from glotta.evaluation.runner import run_evaluation

    footprints = {"original": footprint(original_folder, texts), "trimmed": footprint(trimmed_folder, texts)}
    scores = []
    if tasks:
        outcomes = run_evaluation(tasks, [original_name, str(trimmed_folder)], results, options, False, progress)
        unchanged = tokenization_coverage(original_folder, trimmed_folder, tasks)
        scores = [{**row, "texts_unchanged": unchanged[row["task"]]} for row in score_rows(outcomes, len(tasks))]
    differences = [abs(r["difference_points"]) for r in scores if r["difference_points"] is not None]
    return {"footprint": footprints, "scores": scores, "results": str(results),
            "max_abs_difference_points": max(differences, default=None)}
