"""Report sections: what `glotta leaderboard` prints and `glotta report` writes, built once."""

from __future__ import annotations

from pathlib import Path

from glotta.analysis.figures import rank_shift_figure, scatter_figure
from glotta.analysis.leaderboard import Leaderboard
from glotta.analysis.report import Section
from glotta.analysis.results_reader import LoadedResults
from glotta.analysis.tables import TableData, language_task_table, leaderboard_table, main_score_table, summary_tables
from glotta.data.languages import language_name
from glotta.evaluation.aggregate import ScoreRecord


def leaderboard_section(board: Leaderboard, results: LoadedResults, metric: str, folder: Path) -> Section:
    """The language view: ranking table, per-task stored values, revisions used, and both figures."""
    name = language_name(board.language)
    figures = scatter_figure(board, folder, name) + rank_shift_figure(board, folder, name)
    revisions = TableData(
        "revisions used (MTEB's choice: main revision, then results with an mteb version, then real hashes)",
        ["model", "revisions (result files)"],
        [[model, ", ".join(f"{rev} ({n})" for rev, n in counts.most_common())]
         for model, counts in results.revisions().items()])
    skipped = [f"skipped {path}: {why}" for path, why in results.skipped]
    return Section(
        f"{name}: when MTEB scores mislead",
        text=skipped,
        tables=[leaderboard_table(board), language_task_table(board, results, metric), revisions],
        figures=[f for f in figures if f.suffix == ".png"],
    )


def glotta_runs_section(records: list[ScoreRecord]) -> Section:
    return Section("glotta runs: language-pure summary", tables=[main_score_table(records), *summary_tables(records)])
