"""Results database: SQLite by default, PostgreSQL by URL (SQLAlchemy 2).

The URL comes from ``--db`` / ``ResultStore(url)``, else ``$LISFLOW_DB_URL``, else
``sqlite:///$LISFLOW_HOME/results.sqlite``. See :mod:`lisflow.db.store` (writes),
:mod:`lisflow.db.queries` (DataFrames), :mod:`lisflow.db.report` (figures).
Its names are imported when first used, so ``lisflow query ...`` argument errors and help
never load SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lisflow.db.schema import STATES, BandCentre, BondIcohp, CalculationRecord, SiteCharge
    from lisflow.db.store import MissingResultError, ResultStore, default_url, mask_url

_MODULE_OF = {
    **dict.fromkeys(("STATES", "BandCentre", "BondIcohp", "CalculationRecord", "SiteCharge"),
                    "lisflow.db.schema"),
    **dict.fromkeys(("MissingResultError", "ResultStore", "default_url", "mask_url"),
                    "lisflow.db.store"),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'lisflow.db' has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)


__all__ = [
    "STATES",
    "BandCentre",
    "BondIcohp",
    "CalculationRecord",
    "MissingResultError",
    "ResultStore",
    "SiteCharge",
    "default_url",
    "mask_url",
]
