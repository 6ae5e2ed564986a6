"""``StoreCore``: the transactional base of :class:`~lisflow.db.store.ResultStore`.

It opens (and on first use creates) the database, runs one transaction per call (nested calls
join it with a SAVEPOINT), and holds the row helpers the write methods share: look-up of a
calculation, single-row upsert and batched replacement of a calculation's child rows.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator
from typing import Any, Self

from sqlalchemy import delete, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from lisflow.db import schema as s
from lisflow.db.connection import (
    URL_FORMS,
    WRITE_OPTION,
    create_db_engine,
    create_schema,
    dialect_insert,
    mask_url,
    resolve_url,
    sqlite_path,
)
from lisflow.db.validate import finite_row
from lisflow.errors import InputError, LisflowError

#: Rows per INSERT batch when storing child rows.
CHUNK = 2000


class MissingResultError(LisflowError):
    """A calculation or energy needed for a derived quantity is not in the database."""


class StoreCore:
    """Database connection and transactions of a results store. One thread each."""

    def __init__(self, url: str | URL | None = None, *, create: bool = True) -> None:
        """Open (and on first use create) the database. ``create=False``: a missing SQLite
        file raises ``InputError`` instead of being created."""
        self.url = resolve_url(url)
        path = sqlite_path(self.url)
        if not create and path is not None and not path.exists():
            raise InputError("db_url", f"no database file {path}", allowed=URL_FORMS)
        self.engine = create_db_engine(self.url)
        self._session: Session | None = None
        self._insert = dialect_insert(self.engine.dialect.name)
        create_schema(self.engine)

    @property
    def display_url(self) -> str:
        """The URL with its password masked."""
        return mask_url(self.url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.display_url!r})"

    def close(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction for everything inside; an exception rolls all of it back.

        Nested use opens a SAVEPOINT, so a failed inner call undoes only its own writes.
        ``write=False`` (reads only) does not take SQLite's write lock.
        """
        if self._session is not None:
            with self._session.begin_nested():
                yield self._session
            return
        with Session(self.engine, expire_on_commit=False) as session:
            session.connection(execution_options={WRITE_OPTION: write})
            self._session = session
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                self._session = None

    # --- helpers ----------------------------------------------------------------------------

    def _row(self, session: Session, calc_id: str) -> s.CalculationRow:
        row = session.scalar(select(s.CalculationRow).where(s.CalculationRow.calc_id == calc_id))
        if row is None:
            raise MissingResultError(f"no calculation {calc_id!r} in {self.display_url}")
        return row

    def _pk(self, session: Session, calc_id: str) -> int:
        pk = session.scalar(select(s.CalculationRow.id).where(s.CalculationRow.calc_id == calc_id))
        if pk is None:
            raise MissingResultError(f"no calculation {calc_id!r} in {self.display_url}")
        return pk

    def _upsert(self, session: Session, table: type, values: dict, keys: list[str]) -> None:
        stmt = self._insert(table).values(**values)
        changes = {k: stmt.excluded[k] for k in values if k not in keys}
        session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changes))

    def _replace(self, session, table, pk, items, to_row, scope: str | None) -> None:
        """Stream ``items`` into ``table`` in batches, first deleting the calculation's old
        rows (of each ``scope`` value met, or all of them when ``scope`` is None)."""
        cleared: set[Any] = set()
        rows = (
            {
                **finite_row(to_row(item, i), f"{table.__tablename__}[{i}]", f"calculation #{pk}"),
                "calculation_id": pk,
            }
            for i, item in enumerate(items)
        )
        for batch in batched(rows, CHUNK):
            scopes = {r[scope] for r in batch} if scope else {None}
            for value in scopes - cleared:
                condition = [table.calculation_id == pk]
                if scope:
                    condition.append(getattr(table, scope) == value)
                session.execute(delete(table).where(*condition))
                cleared.add(value)
            session.execute(self._insert(table), batch)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (``itertools.batched`` is Python ≥ 3.12)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
