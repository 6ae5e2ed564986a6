"""``lisflow query <table>`` and ``lisflow report``: read the results database.

``--db`` takes a SQLAlchemy URL (default: ``$LISFLOW_DB_URL``, else
``sqlite:///$LISFLOW_HOME/results.sqlite``); it is only ever printed with the password masked.
``--format table`` rounds floats to 3 decimals for reading; ``csv`` and ``json`` are complete
and keep full precision (rendering: :mod:`lisflow.tables`). No rows: exit code 1; a
``--study`` the database does not know: exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lisflow.errors import InputError
from lisflow.tables import FORMATS, check_format, emit

if TYPE_CHECKING:
    from lisflow.db.store import ResultStore

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: $LISFLOW_DB_URL or $LISFLOW_HOME/results.sqlite)."
    ),
]




#: ``lisflow query`` subcommands and their help lines, known without importing the database
#: layer (SQLAlchemy, pandas) so that argument errors come back fast; a unit test keeps this
#: equal to ``lisflow.db.queries.QUERIES`` and the first lines of their docstrings.
QUERY_HELP = {
    "adsorption": "Adsorption energies E_ads = E_adslab − n·E_slab − ν·E_molecule (eV) with "
    "their inputs,",
    "charges": "Atomic charges (e): net charge and valence electrons per site and method.",
    "bands": "Band centres (eV relative to E_F) per atom, orbital and spin channel.",
    "icohp": "Integrated COHP per bond (eV; negative = bonding), bond length (Å) and the lattice",
    "magmoms": "Magnetic moment per site (μB) of spin-polarised runs.",
    "polymorphs": "Formation energy per atom (eV/atom) of each polymorph, with its total energy "
    "per atom.",
    "calculations": "One row per calculation: identity, state, energies (eV), run directory and "
    "provenance",
    "series": "MD analysis time series, one row per point (x, y) with units.",
    "scalars": "Scalar MD results (e.g. diffusion coefficients) with units.",
    "free-energy": "Sulfur-reduction ΔG profile per site and step (eV, per S8; dG per 2e⁻ as "
    "usually written).",
    "neb": "CI-NEB barriers (eV) per site and path, with the climbing image's index.",
}


def _make_query_command(name: str):
    def command(
        study: Annotated[str | None, typer.Option(help="Only this study.")] = None,
        site: Annotated[str | None, typer.Option(help="Only this adsorption site.")] = None,
        adsorbate: Annotated[str | None, typer.Option(help="Only this adsorbate.")] = None,
        engine: Annotated[str | None, typer.Option(help="Only this engine.")] = None,
        db: DbOption = None,
        fmt: Annotated[str, typer.Option("--format", help=", ".join(FORMATS) + ".")] = "table",
    ) -> None:
        check_format(fmt)
        from lisflow.db import queries
        from lisflow.db.store import open_store

        store = open_store(db)
        try:
            where = queries.QueryFilter(study=study, site=site, adsorbate=adsorbate, engine=engine)
            frame = queries.QUERIES[name](store, where)
            if not len(frame) and study is not None:
                check_study(store, study)
        finally:
            store.close()
        filters = ", ".join(f"{k} {v!r}" for k, v in
                            (("study", study), ("site", site), ("adsorbate", adsorbate),
                             ("engine", engine)) if v is not None)  # fmt: skip
        emit(frame, fmt, empty=f"no {name} rows" + (f" for {filters}" if filters else "")
             + f" in {store.display_url}")  # fmt: skip

    command.__doc__ = QUERY_HELP[name]
    return command


def check_study(store: ResultStore, study: str) -> None:
    """``InputError`` (exit code 2) when no calculation of the database belongs to ``study``."""
    from lisflow.db import queries

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
    from lisflow.db.store import open_store

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
    from lisflow.db.store import open_store

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
    for name in QUERY_HELP:
        query_app.command(name)(_make_query_command(name))
    app.add_typer(query_app, name="query")
    app.command("report")(report)
    db_app = typer.Typer(
        no_args_is_help=True,
        help="The results database: `lisflow db version` (schema revision).",
    )
    db_app.command("version")(db_version)
    app.add_typer(db_app, name="db")
