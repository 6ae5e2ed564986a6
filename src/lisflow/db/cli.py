"""``lisflow query <table>`` and ``lisflow report``: read the results database.

``--db`` takes a SQLAlchemy URL (default: ``$LISFLOW_DB_URL``, else
``sqlite:///$LISFLOW_HOME/results.sqlite``); it is only ever printed with the password masked.
``--format table`` rounds floats to 3 decimals for reading; ``csv`` and ``json`` are complete
and keep full precision.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from lisflow.db import queries
from lisflow.db.store import open_store
from lisflow.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "csv", "json")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: $LISFLOW_DB_URL or $LISFLOW_HOME/results.sqlite)."
    ),
]


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def render(frame: pd.DataFrame, fmt: str) -> str | Table:
    """``frame`` as CSV or JSON text, or as a rich table (floats to 3 decimals)."""
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        records = [
            {k: _json_value(v) for k, v in row.items()}
            for row in frame.astype(object).to_dict(orient="records")
        ]
        return json.dumps(records, indent=1) + "\n"
    import pandas as pd

    table = Table(show_lines=False)
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(column, justify="right" if numeric else "left", no_wrap=numeric)
    for row in frame.astype(object).itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    return table


def _make_query_command(name: str):
    function = queries.QUERIES[name]

    def command(
        study: Annotated[str | None, typer.Option(help="Only this study.")] = None,
        site: Annotated[str | None, typer.Option(help="Only this adsorption site.")] = None,
        adsorbate: Annotated[str | None, typer.Option(help="Only this adsorbate.")] = None,
        engine: Annotated[str | None, typer.Option(help="Only this engine.")] = None,
        db: DbOption = None,
        fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    ) -> None:
        if fmt not in FORMATS:
            raise InputError("--format", f"unknown format {fmt!r}", allowed=", ".join(FORMATS))
        store = open_store(db)
        try:
            where = queries.QueryFilter(study=study, site=site, adsorbate=adsorbate, engine=engine)
            frame = function(store, where)
        finally:
            store.close()
        output = render(frame, fmt)
        if isinstance(output, str):
            typer.echo(output, nl=False)
        else:
            console = Console(highlight=False, soft_wrap=False)
            if not console.is_terminal:
                console.width = max(console.width, 240)
            console.print(output)

    command.__doc__ = (function.__doc__ or "").splitlines()[0]
    return command


def report(
    out: Annotated[Path, typer.Option("--out", help="Directory for the PNG figures.")],
    db: DbOption = None,
) -> None:
    """Write PNG figures (adsorption energies, band centres) of every study."""
    from lisflow.db.report import write_report

    store = open_store(db)
    try:
        written = write_report(store, out)
    finally:
        store.close()
    typer.echo(f"{len(written)} figure(s) from {store.display_url} in {out}")
    for path in written:
        typer.echo(f"  {path}")


def register(app: typer.Typer) -> None:
    """Add ``lisflow query ...`` and ``lisflow report`` to the root app."""
    query_app = typer.Typer(no_args_is_help=True, help="Print results from the database.")
    for name in queries.QUERIES:
        query_app.command(name)(_make_query_command(name))
    app.add_typer(query_app, name="query")
    app.command("report")(report)
