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


def forgetting_figure(changes, base_name: str, tuned_name: str, folder: Path) -> list[Path]:
    """The Italian study's Figure 2: base vs fine-tuned main score per task, grouped bars,
    one panel per benchmark, drops marked in red."""
    plt = _pyplot()
    import numpy as np

    benchmarks = list(dict.fromkeys(c.benchmark for c in changes))
    widths = [max(2, len([c for c in changes if c.benchmark == b])) for b in benchmarks]
    figure, axes = plt.subplots(1, len(benchmarks), figsize=(1.0 * sum(widths) + 2, 4.5), squeeze=False,
                                gridspec_kw={"width_ratios": widths})
    base_color, gain_color, loss_color = "tab:blue", "tab:green", "tab:red"
    for axis, benchmark in zip(axes[0], benchmarks, strict=True):
        mine = [c for c in changes if c.benchmark == benchmark]
        x = np.arange(len(mine))
        axis.bar(x - 0.2, [100 * c.base for c in mine], 0.4, color=base_color)
        axis.bar(x + 0.2, [100 * c.tuned for c in mine], 0.4,
                 color=[loss_color if c.delta < 0 else gain_color for c in mine])
        for xi, c in zip(x, mine, strict=True):
            axis.annotate(f"{c.delta:+.1f}", (xi + 0.2, 100 * c.tuned), ha="center", va="bottom", fontsize=7)
        axis.set_xticks(x, [c.task for c in mine], rotation=40, ha="right", fontsize=7)
        axis.set_title(benchmark)
        axis.set_ylim(0, 105)
        axis.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("main score x 100")
    # above the panels, under the title, not inside one: a panel's low bars (a hard custom benchmark) hid under it
    from matplotlib.patches import Patch

    keys = [Patch(color=base_color, label=base_name), Patch(color=gain_color, label=f"{tuned_name}: gain"),
            Patch(color=loss_color, label=f"{tuned_name}: loss")]
    figure.legend(handles=keys, loc="lower center", bbox_to_anchor=(0.5, 0.95), ncols=3, fontsize=8, frameon=False)
    figure.suptitle("Base vs fine-tuned per task (green: gain, red: loss; labels: change in points)", y=1.03)
    paths = _save(figure, folder, "forgetting")
    plt.close(figure)
    return paths


def merge_sweep_figure(alphas: list[float], target: list[float], general: list[float], folder: Path) -> list[Path]:
    """Target vs general score along the interpolation base (alpha 0) -> fine-tuned (alpha 1)."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(alphas, [100 * v for v in target], "o-", label="target")
    axis.plot(alphas, [100 * v for v in general], "s-", label="general")
    axis.set_xlabel("alpha (0 = base, 1 = fine-tuned)")
    axis.set_ylabel("mean main score x 100")
    axis.set_title("Weight interpolation (WiSE-FT / LM-Cocktail)")
    axis.grid(alpha=0.3)
    axis.legend()
    paths = _save(figure, folder, "merge_sweep")
    plt.close(figure)
    return paths
