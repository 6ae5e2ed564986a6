"""Last check before a number enters the results database: it must be finite.

SQLite turns NaN into NULL and PostgreSQL stores it as NaN, so a ``*****`` or NaN read from an
output would become a missing or poisoned result (and NaN adsorption energies downstream).
The parsers refuse such values naming the file; these checks make the store refuse them too,
on every back end, naming the calculation and the quantity.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from lisflow.errors import LisflowError


class NonFiniteValueError(LisflowError):
    """A NaN or infinite value was about to be stored."""


def finite(value: Any, what: str, calc_id: str) -> Any:
    """``value`` unchanged if it is None or a finite number; NonFiniteValueError otherwise."""
    if value is None or isinstance(value, str | bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value  # not a number: the schema's own conversion reports it
    if not math.isfinite(number):
        raise NonFiniteValueError(
            f"{calc_id}: {what} is {number}; non-finite values are never stored"
        )
    return value


def finite_row(row: Mapping[str, Any], what: str, calc_id: str) -> Mapping[str, Any]:
    """``row`` unchanged if every numeric column is finite (for ``_replace``'s streams)."""
    for column, value in row.items():
        finite(value, f"{what}.{column}", calc_id)
    return row


def finite_values(values: Iterable[Any], what: str, calc_id: str) -> list[Any]:
    """The values as a list, each checked with :func:`finite` (series x / y)."""
    out = list(values)
    for i, value in enumerate(out):
        finite(value, f"{what}[{i}]", calc_id)
    return out
