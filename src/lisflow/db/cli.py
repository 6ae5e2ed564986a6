"""``lisflow query <table>`` and ``lisflow report``: read the results database.

``--db`` takes a SQLAlchemy URL (default: ``$LISFLOW_DB_URL``, else
``sqlite:///$LISFLOW_HOME/results.sqlite``); it is only ever printed with the password masked.
``--format table`` rounds floats to 3 decimals for reading; ``csv`` and ``json`` are complete
and keep full precision (rendering: :mod:`lisflow.tables`). No rows: exit code 1; a
``--study`` the database does not know: exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lisflow.db import queries
from lisflow.db.store import ResultStore, open_store
from lisflow.errors import InputError
from lisflow.tables import FORMATS, check_format, emit

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: $LISFLOW_DB_URL or $LISFLOW_HOME/results.sqlite)."
    ),
]




def _make_query_command(name: str):
    function = queries.QUERIES[name]

    def command(
        study: Annotated[str | None, typer.Option(help="Only this study.")] = None,
        site: Annotated[str | None, typer.Option(help="Only this adsorption site.")] = None,
        adsorbate: Annotated[str | None, typer.Option(help="Only this adsorbate.")] = None,
        engine: Annotated[str | None, typer.Option(help="Only this engine.")] = None,
        db: DbOption = None,
        fmt: Annotated[str, typer.Option("--format", help=", ".join(FORMATS) + ".")] = "table",
    ) -> None:
        check_format(fmt)
        store = open_store(db)
        try:
            where = queries.QueryFilter(study=study, site=site, adsorbate=adsorbate, engine=engine)
            frame = function(store, where)
            if not len(frame) and study is not None:
                check_study(store, study)
        finally:
            store.close()
        filters = ", ".join(f"{k} {v!r}" for k, v in
                            (("study", study), ("site", site), ("adsorbate", adsorbate),
                             ("engine", engine)) if v is not None)  # fmt: skip
        emit(frame, fmt, empty=f"no {name} rows" + (f" for {filters}" if filters else "")
             + f" in {store.display_url}")  # fmt: skip

    command.__doc__ = (function.__doc__ or "").splitlines()[0]
    return command


def check_study(store: ResultStore, study: str) -> None:
    """``InputError`` (exit code 2) when no calculation of the database belongs to ``study``."""
    known = sorted(set(queries.calculations(store)["study"].dropna()))
    if study not in known:
        raise InputError("--study", f"unknown study {study!r} in {store.display_url}",
                         allowed=", ".join(known) or "none: the database is empty")  # fmt: skip


def report(
    out: Annotated[Path, typer.Option("--out", help="Directory for the PNG figures.")],
    db: DbOption = None,
) -> None:
    """Write one PNG per query type with data (adsorption.png, bands.png, ...) and the claims."""
    from lisflow.db.report import write_report

    store = open_store(db)
    try:
        written = write_report(store, out)
    finally:
        store.close()
    typer.echo(f"{len(written)} figure(s) from {store.display_url} in {out}")
    for path in written:
        typer.echo(f"  {path}")


def db_version(db: DbOption = None) -> None:
    """Print the schema revision of the database (opening it upgrades it to the newest)."""
    from lisflow.db.migrations import current_revision, head

    store = open_store(db)
    try:
        with store.engine.connect() as connection:
            revision = current_revision(connection)
    finally:
        store.close()
    typer.echo(f"{store.display_url}: schema revision {revision} (newest {head()})")


def register(app: typer.Typer) -> None:
    """Add ``lisflow query ...``, ``lisflow report`` and ``lisflow db version`` to the root app."""
    query_app = typer.Typer(no_args_is_help=True, help="Print results from the database.")
    for name in queries.QUERIES:
        query_app.command(name)(_make_query_command(name))
    app.add_typer(query_app, name="query")
    app.command("report")(report)
    db_app = typer.Typer(
        no_args_is_help=True,
        help="The results database: `lisflow db version` (schema revision).",
    )
    db_app.command("version")(db_version)
    app.add_typer(db_app, name="db")
