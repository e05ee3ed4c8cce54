"""A trim report as plain tables, so the terminal and the sweep's Markdown show the same numbers."""

from __future__ import annotations

from glotta.analysis.tables import TableData


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _mib(value: int | float | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f} MiB"


def coverage_table(report: dict) -> TableData:
    vocabulary, parameters, coverage = report["vocabulary"], report["parameters"], report["coverage"]
    reasons = ", ".join(f"{n} {reason}" for reason, n in vocabulary["kept_by_reason"].items())
    rows = [
        ["vocabulary (tokens)", f"{vocabulary['original']:,}", f"{vocabulary['trimmed']:,}",
         f"{vocabulary['trimmed'] / vocabulary['original']:.3f}"],
        ["parameters", f"{parameters['original']:,}", f"{parameters['trimmed']:,}", f"{parameters['ratio']:.3f}"],
    ]
    notes = [
        f"kept: {reasons}",
        f"corpus: {report['corpus_texts']:,} texts, {report['corpus_tokens']:,} tokens; "
        f"corpus tokens kept {_share(coverage['corpus_tokens_kept'])}, texts whose tokenization is unchanged "
        f"{_share(coverage['texts_unchanged'])} (all tokens kept: {_share(coverage['texts_all_tokens_kept'])})",
    ]
    check = report.get("equality_check")
    if check and check["texts"]:
        notes.append(f"embeddings of {check['texts']} unchanged texts x {check['prompts']} prompt(s): "
                     f"max abs difference {check['max_abs_diff']:.2e}")
    return TableData(f"vocabulary trim: {report['model']} for {report['language']}",
                     ["", "original", "trimmed", "ratio"], rows, {1, 2, 3}, notes)


def footprint_table(evaluation: dict) -> TableData:
    before, after = evaluation["footprint"]["original"], evaluation["footprint"]["trimmed"]

    def ratio(key):
        a, b = before.get(key), after.get(key)
        return f"{b / a:.3f}" if a and b is not None else "-"

    rows = [
        ["size on disk", _mib(before["size_on_disk_bytes"]), _mib(after["size_on_disk_bytes"]),
         ratio("size_on_disk_bytes")],
        ["parameters", f"{before['parameters']:,}", f"{after['parameters']:,}", ratio("parameters")],
        ["peak memory after loading", f"{before['peak_memory_after_load_mib']:.0f} MiB",
         f"{after['peak_memory_after_load_mib']:.0f} MiB", ratio("peak_memory_after_load_mib")],
        ["peak memory after encoding", f"{before['peak_memory_mib']:.0f} MiB", f"{after['peak_memory_mib']:.0f} MiB",
         ratio("peak_memory_mib")],
        ["encode speed (texts/s)", f"{before['encode_texts_per_second']}", f"{after['encode_texts_per_second']}",
         ratio("encode_texts_per_second")],
    ]
    notes = [f"memory and speed: each model alone in a fresh process on the CPU, encoding the same "
             f"{before['encode_texts']} texts (speed is noisy on a shared machine; trimming does not change compute)"]
    return TableData("original vs trimmed", ["", "original", "trimmed", "ratio"], rows, {1, 2, 3}, notes)


def score_table(evaluation: dict) -> TableData:
    def score(value):
        return "n/a" if value is None else f"{100 * value:.2f}"

    rows = [[r["task"], r["type"], score(r["original"]), score(r["trimmed"]),
             "-" if r["difference_points"] is None else f"{r['difference_points']:+.2f}",
             _share(r.get("texts_unchanged"))]
            for r in evaluation["scores"]]
    worst = evaluation.get("max_abs_difference_points")
    notes = [f"main scores x 100; largest difference {worst:.2f} points"] if worst is not None else []
    notes.append("texts unchanged: the task's distinct texts that the trimmed tokenizer splits exactly as the "
                 "original (their embeddings are equal)")
    return TableData("scores: original vs trimmed",
                     ["task", "type", "original", "trimmed", "difference", "texts unchanged"],
                     rows, {2, 3, 4, 5}, notes)
