"""Results as ``table``, ``csv`` or ``json`` text: the one renderer of every printing command.

Input is a pandas DataFrame or a list of dicts (pandas is not imported for the latter).
``csv`` and ``json`` keep full precision (floats written with ``repr``: they parse back to the
same numbers); ``table`` rounds floats to 3 significant decimals for reading and fits the
console width: columns wrap, and columns that cannot get a readable width are dropped (named in
the caption) instead of being squeezed to zero width.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lisflow.errors import InputError, LisflowError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

FORMATS = ("table", "csv", "json")
#: Narrowest column (characters) unless all its cells and its header are shorter.
MIN_COLUMN_WIDTH = 6
#: Width a text column keeps before columns to its right are dropped; longer cells wrap.
KEEP_COLUMN_WIDTH = 16
#: Width of piped (non-terminal) table output: wide, so files keep whole rows.
PIPE_WIDTH = 240


def check_format(fmt: str) -> str:
    """``fmt`` if it is one of :data:`FORMATS`, else an ``InputError`` naming ``--format``."""
    if fmt not in FORMATS:
        raise InputError("--format", f"unknown format {fmt!r}", allowed=", ".join(FORMATS))
    return fmt


def records(data: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows) of a DataFrame or a list of dicts (columns in first-seen order)."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        columns = [str(c) for c in data.columns]
        rows = data.astype(object).to_dict(orient="records")
        return columns, [{str(k): v for k, v in row.items()} for row in rows]
    rows = list(data)
    columns = []
    for row in rows:
        columns += [str(k) for k in row if str(k) not in columns]
    return columns, [{str(k): v for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    """JSON-ready value: NaN -> None, datetimes as ISO text, numpy scalars as Python ones."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}" if 1e-3 <= abs(value) < 1e6 or value == 0 else f"{value:.3e}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def render_text(data: Any, fmt: str) -> str:
    """``data`` as CSV (header row first) or JSON (a list of objects), full precision."""
    columns, rows = records(data)
    if fmt == "json":
        return json.dumps([{c: _plain(row.get(c)) for c in columns} for row in rows], indent=1) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            cells = []
            for c in columns:
                value = _plain(row.get(c))
                cells.append("" if value is None else repr(value) if isinstance(value, float)
                             else json.dumps(value) if isinstance(value, list) else value)  # fmt: skip
            writer.writerow(cells)
        return buffer.getvalue()
    raise InputError("--format", f"no text form for {fmt!r}", allowed="csv, json")


def render_table(data: Any, width: int, title: str | None = None) -> Table:
    """A rich table of ``data`` that fits ``width`` characters.

    Every shown text column gets at least ``min(KEEP_COLUMN_WIDTH, widest cell or header)``
    characters, numbers their full width; longer text wraps (``fold``). Columns that do not fit are dropped from the right and
    named in the caption (``--format csv`` shows them all).
    """
    from rich.table import Table

    columns, rows = records(data)
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widest = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    need = [max(1, min(KEEP_COLUMN_WIDTH, w)) for w in widest]
    numeric = [all(_is_number(row.get(c)) for row in rows) and bool(rows) for c in columns]
    # numbers never wrap: their column needs the widest number
    need = [max(n, max((len(r[i]) for r in cells), default=1)) if numeric[i] else n
            for i, n in enumerate(need)]  # fmt: skip
    shown: list[int] = []
    used = 1  # left border
    for i in range(len(columns)):
        if used + need[i] + 3 > width and shown:
            break
        shown.append(i)
        used += need[i] + 3  # padding and separator
    dropped = [columns[i] for i in range(len(columns)) if i not in shown]
    caption = f"not shown (narrow terminal): {', '.join(dropped)}; see --format csv" if dropped else None
    table = Table(title=title, caption=caption, width=min(width, sum(widest[i] + 3 for i in shown) + 1))
    for i in shown:
        table.add_column(columns[i], justify="right" if numeric[i] else "left",
                         min_width=need[i], overflow="fold", no_wrap=numeric[i])  # fmt: skip
    for row in cells:
        table.add_row(*(row[i] for i in shown))
    return table


def _is_number(value: Any) -> bool:
    value = _plain(value)
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def table_console() -> Console:
    """Console for tables: the terminal's width (or ``$COLUMNS``); :data:`PIPE_WIDTH` when piped
    without ``$COLUMNS``."""
    import os

    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = max(console.width, PIPE_WIDTH)
    return console


def emit(data: Any, fmt: str, *, title: str | None = None, empty: str | None = None,
         console: Console | None = None) -> None:  # fmt: skip
    """Print ``data`` in ``fmt``; with no rows, raise ``LisflowError(empty)`` (exit code 1)."""
    check_format(fmt)
    _, rows = records(data)
    if not rows:
        raise LisflowError(empty or "no results")
    if fmt == "table":
        console = console or table_console()
        console.print(render_table(data, console.width, title))
    else:
        import typer

        typer.echo(render_text(data, fmt), nl=False)
