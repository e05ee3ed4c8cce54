"""The study's Figure 1 (overall vs language score) and the rank shifts, as PNG and SVG.

Points are numbered (numbers pushed apart by adjustText) and keyed in a legend beside the plot,
so 16+ model names never overlap however close their scores are.
"""

from __future__ import annotations

from pathlib import Path

from glotta.analysis.leaderboard import Leaderboard
from glotta.data.atomic import write_bytes_atomic


def _save(figure, folder: Path, stem: str) -> list[Path]:
    import io

    paths = []
    for fmt in ("png", "svg"):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, dpi=150, bbox_inches="tight")
        path = folder / f"{stem}.{fmt}"
        write_bytes_atomic(path, buffer.getvalue())
        paths.append(path)
    return paths


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def scatter_figure(board: Leaderboard, folder: Path, language_label: str) -> list[Path]:
    from adjustText import adjust_text

    plt = _pyplot()
    rows = [r for r in board.rows if r.overall is not None and r.language is not None]
    figure, axis = plt.subplots(figsize=(10, 6.5))
    xs, ys = [100 * r.overall for r in rows], [100 * r.language for r in rows]
    low, high = min(xs + ys) - 3, max(xs + ys) + 3
    axis.plot([low, high], [low, high], color="0.6", linestyle="--", linewidth=1, label="same score")
    colors = ["tab:red" if r.flagged else "tab:blue" for r in rows]
    axis.scatter(xs, ys, c=colors, s=60, zorder=3)
    axis.set_xlim(low, high)
    axis.set_ylim(low, high)
    labels = [axis.text(x, y, str(n), fontsize=9) for n, (x, y) in enumerate(zip(xs, ys, strict=True), start=1)]
    # adjustText moves the numbers apart (and off the points) when scores nearly coincide
    adjust_text(labels, x=xs, y=ys, ax=axis, arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5})
    axis.set_xlabel(f"overall: {board.overall.name} Mean(Task) (score x 100)")
    axis.set_ylabel(f"{language_label}: {board.target.name} (score x 100)")
    tau = "n/a" if board.kendall_tau is None else f"{board.kendall_tau:.2f}"
    axis.set_title(f"Overall MTEB score vs {language_label} score (Kendall tau of ranks {tau}; red: rank moves >= 3)")
    axis.grid(alpha=0.3)
    key = "\n".join(f"{n:>2}  {r.model}" for n, r in enumerate(rows, start=1))
    figure.text(0.92, 0.5, key, va="center", ha="left", fontsize=8, family="monospace")
    paths = _save(figure, folder, f"overall_vs_{board.language}")
    plt.close(figure)
    return paths


def rank_shift_figure(board: Leaderboard, folder: Path, language_label: str) -> list[Path]:
    plt = _pyplot()
    rows = [r for r in board.rows if r.shift is not None]
    figure, axis = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.5))
    shifts = [r.shift for r in rows]
    colors = ["tab:red" if r.flagged else "tab:gray" for r in rows]
    axis.barh(range(len(rows)), shifts, color=colors)
    axis.set_yticks(range(len(rows)), [r.model for r in rows], fontsize=8)
    axis.invert_yaxis()
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel(f"rank places gained on {language_label} vs overall (positive: better on {language_label})")
    axis.set_title(f"Rank shift, overall -> {language_label} (red: 3 places or more)")
    axis.grid(axis="x", alpha=0.3)
    paths = _save(figure, folder, f"rank_shift_{board.language}")
    plt.close(figure)
    return paths
