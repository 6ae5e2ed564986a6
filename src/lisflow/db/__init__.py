"""Results database: SQLite by default, PostgreSQL by URL (SQLAlchemy 2).

The URL comes from ``--db`` / ``ResultStore(url)``, else ``$LISFLOW_DB_URL``, else
``sqlite:///$LISFLOW_HOME/results.sqlite``. See :mod:`lisflow.db.store` (writes),
:mod:`lisflow.db.queries` (DataFrames), :mod:`lisflow.db.report` (figures).
"""

from lisflow.db.schema import STATES, BandCentre, BondIcohp, CalculationRecord, SiteCharge
from lisflow.db.store import MissingResultError, ResultStore, default_url, mask_url

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
