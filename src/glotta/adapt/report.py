"""Report sections kept with each stage, and the one report built from them on every run.

A stage writes its section (text, tables, figure files) into its own folder as ``section.json``,
so a re-run whose stages are all skipped rebuilds the same report without computing anything.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from glotta.analysis.report import Section, write_report
from glotta.analysis.tables import TableData
from glotta.data.atomic import write_json_atomic

SECTION_FILE = "section.json"


def save_section(section: Section, folder: Path) -> None:
    """``section`` as JSON in the stage folder; its figures must lie in that folder."""
    tables = [asdict(t) | {"numeric": sorted(t.numeric)} for t in section.tables]
    write_json_atomic(folder / SECTION_FILE, {"heading": section.heading, "text": section.text, "tables": tables,
                                              "figures": [p.relative_to(folder).as_posix() for p in section.figures]})


def load_section(folder: Path) -> Section:
    raw = json.loads((folder / SECTION_FILE).read_text(encoding="utf-8"))
    tables = [TableData(t["title"], t["columns"], t["rows"], set(t["numeric"]), t["notes"]) for t in raw["tables"]]
    return Section(raw["heading"], raw["text"], tables, [folder / p for p in raw["figures"]])


def write_adapt_report(stage_folders: list[Path], overview: Section, out: Path) -> tuple[Path, Path]:
    sections = [overview, *(load_section(folder) for folder in stage_folders)]
    return write_report(sections, out, "glotta adapt: which model for these documents, and does adapting it help?")
