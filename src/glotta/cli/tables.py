"""Rich tables for the terminal."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from glotta.analysis.tables import TableData
from glotta.data.local_tasks import describe


def rich_table(data: TableData) -> Table:
    """Render a plain table (glotta.analysis.tables) for the terminal, notes as a caption.

    Cells are plain ``Text``: a task, model or query source named ``[cloze]`` is not rich markup.
    """
    table = Table(title=Text(data.title), caption=Text("\n".join(data.notes)) if data.notes else None,
                  caption_justify="left")
    for index, column in enumerate(data.columns):
        table.add_column(Text(column), justify="right" if index in data.numeric else "left", no_wrap=index == 0)
    for row in data.rows:
        table.add_row(*map(Text, row))
    return table


def task_table(tasks) -> Table:
    table = Table(title="tasks")
    for column in ("task", "type", "languages", "split", "size"):
        table.add_column(column, no_wrap=True)
    table.add_column("licence", max_width=24)
    table.add_column("inferred")
    for task in tasks:
        m = task.metadata
        size = ", ".join(f"{v} {k}" for k, v in describe(task).items())
        table.add_row(m.name, m.type.value, " ".join(m.languages), m.split, size, m.license or "-",
                      ", ".join(m.inferred) or "-")
    return table
