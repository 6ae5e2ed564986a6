"""lisflow from Python and notebooks: open a results database, get DataFrames, final
structures (pymatgen ``Structure`` with their energies) and plots.

    from lisflow import api

    db = api.open_db("sqlite:///results.sqlite")  # None: $LISFLOW_DB_URL, else the default
    ads = db.adsorption(study="dasc_adsorption")   # DataFrame, energies in eV
    best = db.structures(role="adslab")[0]          # FinalStructure(calc_id, structure, ...)
    api.plot_adsorption(ads)                        # matplotlib Axes

Every table method takes the filters of :mod:`lisflow.db.queries` (a ``QueryFilter`` or
its fields ``study``, ``site``, ``adsorbate``, ``engine``, ``calc_id`` as keywords; ``None``
means any). Units are in the column names (``*_ev`` eV,
``*_a`` Å, charges in e). Nothing here writes to the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from pymatgen.core import Structure

    from lisflow.db.queries import QueryFilter
    from lisflow.db.store import ResultStore

__all__ = ["FinalStructure", "ResultsDB", "open_db", "plot_adsorption", "plot_band_centres"]


@dataclass(frozen=True)
class FinalStructure:
    """The final structure of one calculation (Å) with its total energy (eV).

    ``source``: ``engine`` (the engine's relaxed output) or ``input`` (a single point)."""

    calc_id: str
    structure: Structure
    energy_ev: float | None
    energy_per_atom_ev: float | None
    source: str
    study: str = ""
    role: str = ""
    site: str | None = None
    adsorbate: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)


class ResultsDB:
    """A read-only view of a results database (SQLite file or PostgreSQL URL)."""

    def __init__(self, url: str | None = None) -> None:
        from lisflow.db.store import open_store

        self.store: ResultStore = open_store(url)

    def __repr__(self) -> str:
        return f"ResultsDB({self.store.display_url!r})"

    def __enter__(self) -> ResultsDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    # --- DataFrames ------------------------------------------------------------------------

    def calculations(
        self, where: QueryFilter | None = None, **filters: Any
    ) -> pd.DataFrame:
        """One row per calculation: identity, state, energies (eV), input hash, run directory."""
        from lisflow.db import queries

        return queries.calculations(self.store, where, **filters)

    def adsorption(
        self, where: QueryFilter | None = None, **filters: Any
    ) -> pd.DataFrame:
        """E_ads = E_adslab − E_slab − E_molecule (``energy_ev``, eV) with the three inputs."""
        from lisflow.db import queries

        return queries.adsorption(self.store, where, **filters)

    def charges(
        self, where: QueryFilter | None = None, **filters: Any
    ) -> pd.DataFrame:
        """Atomic charges (e) per site and method (bader, mulliken, hirshfeld, ...)."""
        from lisflow.db import queries

        return queries.charges(self.store, where, **filters)

    def bands(
        self, where: QueryFilter | None = None, **filters: Any
    ) -> pd.DataFrame:
        """Band centres (eV relative to E_F) per atom, orbital and spin channel."""
        from lisflow.db import queries

        return queries.bands(self.store, where, **filters)

    def icohp(
        self, where: QueryFilter | None = None, **filters: Any
    ) -> pd.DataFrame:
        """Integrated COHP per bond (eV; negative = bonding) and bond length (Å)."""
        from lisflow.db import queries

        return queries.icohp(self.store, where, **filters)

    def polymorphs(
        self, where: QueryFilter | None = None, **filters: Any
    ) -> pd.DataFrame:
        """Formation energy per atom (eV/atom) of each polymorph."""
        from lisflow.db import queries

        return queries.polymorphs(self.store, where, **filters)

    # --- structures --------------------------------------------------------------------------

    def structures(
        self,
        study: str | None = None,
        role: str | None = None,
        site: str | None = None,
        adsorbate: str | None = None,
        final_only: bool = True,
    ) -> list[FinalStructure]:
        """Stored final structures, lowest energy first (unknown energies last).

        ``final_only``: only the calculations whose energy enters a result (the static when
        statics were run). ``role``: slab | molecule | adslab | bulk | interface.
        """
        from pymatgen.core import Structure

        from lisflow.db.store import final_structure_dicts

        calcs = self.calculations(study=study, site=site, adsorbate=adsorbate)
        if role is not None:
            calcs = calcs[calcs["role"] == role]
        stored = final_structure_dicts(self.store, calcs["calc_id"].tolist())
        found = []
        for row in calcs.itertuples(index=False):
            if row.calc_id not in stored:
                continue
            record = self.store.get(row.calc_id)
            labels = dict(record.labels or {}) if record else {}
            if final_only and not labels.get("final", True):
                continue
            data, source = stored[row.calc_id]
            found.append(
                FinalStructure(
                    calc_id=row.calc_id,
                    structure=Structure.from_dict(data),
                    energy_ev=_number(row.energy_ev),
                    energy_per_atom_ev=_number(row.energy_per_atom_ev),
                    source=source,
                    study=row.study,
                    role=row.role,
                    site=row.site,
                    adsorbate=row.adsorbate,
                    labels=labels,
                )
            )
        return sorted(found, key=lambda f: (f.energy_ev is None, f.energy_ev or 0.0, f.calc_id))

    def structure(self, calc_id: str) -> Structure:
        """The final structure of one calculation; ``KeyError`` when none is stored."""
        from pymatgen.core import Structure

        from lisflow.db.store import final_structure_dicts

        stored = final_structure_dicts(self.store, [calc_id])
        if calc_id not in stored:
            raise KeyError(f"no final structure stored for {calc_id!r}")
        return Structure.from_dict(stored[calc_id][0])


def open_db(url: str | None = None) -> ResultsDB:
    """Open a results database read-only: ``sqlite:///path``, ``postgresql://...`` or a path
    to a SQLite file; ``None``: ``$LISFLOW_DB_URL``, else ``$LISFLOW_HOME/results.sqlite``."""
    if url is not None and "://" not in url:
        from pathlib import Path

        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    return ResultsDB(url)


def _number(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6, 4))[1]


def _bars(table: pd.DataFrame, ax: Axes, ylabel: str, legend: str) -> Axes:
    """Grouped bars: index = groups on x, columns = bars (NaN: no bar)."""
    n_groups, n_bars = table.shape
    width = 0.8 / max(n_bars, 1)
    for j, column in enumerate(table.columns):
        values = table[column].to_numpy(dtype=float)
        xs = [i - 0.4 + width * (j + 0.5) for i in range(n_groups)]
        keep = [k for k, v in enumerate(values) if v == v]
        ax.bar([xs[k] for k in keep], values[keep], width=width, label=str(column))
    ax.set_xticks(range(n_groups), [str(i) for i in table.index], rotation=30, ha="right")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel(ylabel)
    if n_bars:
        ax.legend(title=legend, fontsize="small")
    return ax


def plot_adsorption(frame: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Adsorption energy (eV) per site, one bar per adsorbate (lowest configuration)."""
    data = frame.fillna({"site": "?", "adsorbate": "?"})
    table = data.pivot_table(index="site", columns="adsorbate", values="energy_ev", aggfunc="min")
    return _bars(table, _axes(ax), "adsorption energy $E_{ads}$ (eV)", "adsorbate")


def plot_band_centres(frame: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Band centre − E_F (eV) per calculation, one bar per element and orbital (spin total,
    else the mean of up and down; mean over atoms)."""
    data = frame.copy()
    data["where"] = data["site"].fillna(data["calc_id"])
    data["band"] = data["element"] + " " + data["orbital"]
    totals = data[data["spin"] == "total"]
    data = totals if len(totals) else data
    table = data.pivot_table(index="where", columns="band", values="centre_ev", aggfunc="mean")
    return _bars(table, _axes(ax), "band centre $-$ $E_F$ (eV)", "band")
