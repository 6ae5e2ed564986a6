"""SELECTs of :mod:`lisflow.db.queries` run into pandas DataFrames, prepared once per shape.

A query *shape* is its builder plus the names of the filters that are set; its statement is
built, ordered and (SQLite) compiled once, then executed with the bound values of each call.
SQLite rows come straight from the DBAPI cursor (no per-row SQLAlchemy processing) and are
converted column-wise by the columns' SQL types; the frame equals the one of the generic path
(``pd.DataFrame(result.all())``, PostgreSQL) column for column, dtypes included
(tests/unit/test_db_fast.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Engine, Float, Integer, Select, String
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

if TYPE_CHECKING:  # pandas is imported on first query, not by ``lisflow --help``
    import pandas as pd

#: Builds a query's unordered SELECT from the names of its set filters (``bindparam(name)``
#: placeholders, values bound at execution). Must be a module-level function: it is a cache key.
Builder = Callable[[frozenset[str]], Select]

#: Conversion of a SQLite result column: ``text`` (TEXT affinity: str/None/bytes, which pandas
#: keeps as object; nothing to convert), ``datetime``, ``int``, ``float``, ``infer`` (pandas'
#: inference), ``process`` (SQLAlchemy result processor per value, then inference).
TEXT, DATETIME, INT, FLOAT, INFER, PROCESS = "text", "datetime", "int", "float", "infer", "process"


@dataclass(frozen=True)
class PreparedQuery:
    """One query shape: the ordered statement, its column names and (SQLite) compiled SQL."""

    statement: Select
    names: tuple[str, ...]
    #: SQLite: positions of the order keys SQL sorts by, and of the tie-break column sorted
    #: in Python within runs of equal keys (-1: SQL sorts by every key)
    key_positions: tuple[int, ...] = ()
    tiebreak_position: int = -1
    compiled: SQLCompiler | None = None
    sql: str = ""
    #: bind parameter name and its bind processor, in the order of the SQL's ``?``
    positions: tuple[tuple[str, Callable[[Any], Any] | None], ...] = ()
    kinds: tuple[str, ...] = ()
    processors: tuple[Callable[[Any], Any] | None, ...] = ()

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """Positional DBAPI arguments of the compiled SQL for the bound ``params``."""
        assert self.compiled is not None
        values = self.compiled.construct_params(dict(params))
        return tuple(
            v if p is None else p(v) for v, p in ((values[n], p) for n, p in self.positions)
        )


_PREPARED: dict[tuple[Any, ...], PreparedQuery] = {}


def run(
    engine: Engine,
    build: Builder,
    params: Mapping[str, Any],
    order: tuple[str, ...],
    *,
    tiebreak: bool = False,
) -> pd.DataFrame:
    """Rows of the query ``build`` makes for the set filters ``params`` (name -> value), sorted
    by the selected columns named in ``order``.

    Missing values come first and text sorts by code point (SQLite's BINARY collation,
    PostgreSQL's "C"), so both back ends return the same order. ``tiebreak``: the last key of
    ``order`` (a text column) only breaks ties of the others; SQLite then sorts by the others
    (which an index can deliver without a sort) and the ties are put in order here.
    """
    dialect = engine.dialect
    keys = frozenset(params)
    version = getattr(dialect, "server_version_info", None)
    key = (build, keys, dialect.name, version, tiebreak, _infer_string())
    prepared = _PREPARED.get(key)
    if prepared is None:
        prepared = _PREPARED[key] = prepare(build(keys), order, dialect, tiebreak=tiebreak)
    if dialect.name == "sqlite":
        return sqlite_frame(engine, prepared, params)
    return generic_frame(engine, prepared, params)


def prepare(
    query: Select, order: tuple[str, ...], dialect: Dialect, *, tiebreak: bool = False
) -> PreparedQuery:
    """``query`` ordered by ``order`` (nulls first, code-point text order), compiled for SQLite
    (see :func:`run` for ``tiebreak``)."""
    sqlite = dialect.name == "sqlite"
    names = tuple(query.selected_columns.keys())
    keys = []
    for name in order:
        column = query.selected_columns[name]
        if dialect.name == "postgresql" and isinstance(column.type, String):
            column = column.collate("C")
        keys.append(column.asc().nulls_first())
    statement = query.order_by(*keys)  # every key in SQL (the generic path's statement)
    if not sqlite:
        return PreparedQuery(statement, names)
    if tiebreak:
        assert isinstance(query.selected_columns[order[-1]].type, String), "text tie-break only"
        key_positions = tuple(names.index(n) for n in order[:-1])
        tiebreak_position = names.index(order[-1])
        compiled = query.order_by(*keys[:-1]).compile(dialect=dialect)
    else:
        key_positions, tiebreak_position = (), -1
        compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    positions = tuple(
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in compiled.positiontup or ()
    )
    kinds, processors = [], []
    for column in query.selected_columns:
        kind, process = _kind(column.type, dialect)
        kinds.append(kind)
        processors.append(process)
    return PreparedQuery(
        statement,
        names,
        key_positions,
        tiebreak_position,
        compiled,
        str(compiled),
        positions,
        tuple(kinds),
        tuple(processors),
    )


def _kind(type_: Any, dialect: Dialect) -> tuple[str, Callable[[Any], Any] | None]:
    """How a SQLite result column of SQL type ``type_`` becomes a frame column."""
    if isinstance(type_, DateTime):
        return DATETIME, None
    process = type_.dialect_impl(dialect).result_processor(dialect, None)
    if process is not None:
        return PROCESS, process
    if isinstance(type_, String) and not _infer_string():
        return TEXT, None
    if isinstance(type_, Integer):
        return INT, None
    if isinstance(type_, Float):
        return FLOAT, None
    return INFER, None


def _infer_string() -> bool:
    """pandas infers a string dtype for text (``future.infer_string``, pandas 3's default)."""
    import pandas as pd

    try:
        return bool(pd.get_option("future.infer_string"))
    except (KeyError, pd.errors.OptionError):  # a pandas without the option
        return False


def generic_frame(engine: Engine, prepared: PreparedQuery, params: Mapping[str, Any]):
    """The frame of SQLAlchemy's rows (processed per row), pandas inferring the dtypes."""
    import pandas as pd

    with engine.connect() as connection:
        result = connection.execute(prepared.statement, dict(params))
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def sqlite_frame(engine: Engine, prepared: PreparedQuery, params: Mapping[str, Any]):
    """SQLite fast path: the compiled SQL on the pooled DBAPI connection (one autocommit
    SELECT: one consistent snapshot), rows as one 2-D object array wrapped without a copy,
    then only the non-text columns converted."""
    import pandas as pd

    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(prepared.sql, prepared.arguments(params))
            rows = cursor.fetchall()
        finally:
            cursor.close()
    finally:
        connection.close()
    names = list(prepared.names)
    if not rows:
        return pd.DataFrame([], columns=names)
    table = _object_table(rows)
    del rows
    if prepared.tiebreak_position >= 0:
        _break_ties(table, prepared.key_positions, prepared.tiebreak_position)
    # dtype=object: no inference pass over the text columns (TEXT affinity: str/None/bytes,
    # which inference leaves object); the others are converted one by one below
    frame = pd.DataFrame(table, columns=names, dtype=object, copy=False)
    for j, (kind, process) in enumerate(zip(prepared.kinds, prepared.processors, strict=True)):
        if kind != TEXT:
            frame.isetitem(j, _convert(kind, table[:, j], process))
    return frame


def _break_ties(table: Any, key_positions: tuple[int, ...], tiebreak: int) -> None:
    """Sort (in place) each run of rows with equal keys (NULLs equal, as ORDER BY groups them)
    by the text column ``tiebreak``, NULL first then by code point (SQLite's BINARY order,
    UTF-8 byte order being code point order)."""
    import numpy as np

    if len(table) < 2:
        return
    same = np.ones(len(table) - 1, dtype=bool)
    for j in key_positions:
        column = table[:, j]
        same &= column[1:] == column[:-1]
    if not same.any():
        return
    # runs of tied rows: [start, stop) where consecutive rows have equal keys
    edges = np.flatnonzero(np.diff(np.concatenate(([0], same.astype(np.int8), [0]))))
    for start, stop in zip(edges[::2], edges[1::2] + 1, strict=True):
        values = table[start:stop, tiebreak].tolist()
        order = sorted(range(len(values)), key=lambda i: (values[i] is not None, values[i] or ""))
        table[start:stop] = table[start:stop][order]


def _convert(kind: str, values: Any, process: Callable[[Any], Any] | None) -> Any:
    """One object column as pandas' inference would type the generic path's values."""
    import numpy as np
    import pandas as pd

    if kind == DATETIME:  # ISO text as stored by SQLAlchemy's SQLite DATETIME
        if pd.isna(values).all():
            return _infer(values)  # all NULL: object column of None, as inferred
        return pd.to_datetime(values, format="ISO8601", cache=False)  # unique values: no cache
    if kind == PROCESS:
        assert process is not None
        return _infer([process(v) for v in values.tolist()])
    checks = _checks()
    if kind == INT and checks and checks[0](values, skipna=False):  # Python/numpy ints only
        try:
            return values.astype(np.int64)
        except OverflowError:  # beyond int64: inference decides (uint64 or object)
            return _infer(values)
    if kind == FLOAT and checks and checks[1](values):  # floats only, no NULL
        return values.astype(np.float64)
    return _infer(values)


def _infer(values: Any) -> Any:
    """pandas' object-column inference (what the generic path's constructor applies) of an
    object array or a list of values (lists and dicts stay single values)."""
    import pandas as pd

    return pd.Series(values, dtype=object, copy=False).infer_objects()


def _checks() -> tuple[Callable[..., bool], Callable[..., bool]] | None:
    """pandas' C type checks of object arrays (``is_integer_array``, ``is_float_array``);
    None where pandas lacks them (then every column goes through inference)."""
    try:
        from pandas._libs.lib import is_float_array, is_integer_array
    except ImportError:  # pragma: no cover - private pandas API moved
        return None
    return is_integer_array, is_float_array


def _object_table(rows: Sequence[Any]) -> Any:
    """Rows as one 2-D object array: pandas' C helper (what ``DataFrame.from_records`` uses;
    half the time of ``np.array(rows, dtype=object)``), numpy where pandas lacks it."""
    try:
        from pandas._libs.lib import to_object_array_tuples
    except ImportError:  # pragma: no cover - private pandas API moved
        import numpy as np

        return np.array(rows, dtype=object)
    return to_object_array_tuples(rows)
