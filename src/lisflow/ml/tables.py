"""Training tables: a CSV file or the results database, validated into (features, target).

Rules for a table (violations raise ``InputError`` naming the column): the target column must
exist and be numeric; every other column must be numeric unless dropped (``drop``) or declared
categorical (``categorical``: one-hot encoded, categories sorted); no missing values; at least
``2 × folds`` rows. A ``site`` column, if present, names the rows (kept out of the features).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pymatgen.core import Element, Structure

from lisflow.errors import InputError
from lisflow.ml.features import COMPUTED_CATALOGUE, parse_site_name, site_features
from lisflow.ml.pipeline import check_folds

#: Column naming the rows (site names); never a feature.
ID_COLUMN = "site"


@dataclass
class TrainingData:
    """Validated features ``x`` (float), target ``y`` and the row names (sites) if known."""

    x: pd.DataFrame
    y: np.ndarray
    target: str
    sites: list[str]


def read_table(path: str | Path) -> pd.DataFrame:
    file = Path(path)
    if not file.is_file():
        raise InputError("--table", f"no such file {str(file)!r}")
    try:
        return pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError("--table", f"{file} is not a readable CSV table ({exc})") from None


def prepare(
    frame: pd.DataFrame,
    target: str,
    drop: Sequence[str] = (),
    categorical: Sequence[str] = (),
    folds: int = 5,
) -> TrainingData:
    """Validate ``frame`` and split it into features and target (see module docstring)."""
    columns = list(frame.columns)
    if target not in columns:
        raise InputError(
            "--target", f"column {target!r} not in the table", ", ".join(map(str, columns))
        )
    for option, names in (("--drop", drop), ("--categorical", categorical)):
        for name in names:
            if name not in columns or name == target:
                raise InputError(option, f"column {name!r} not in the table (or is the target)")
    if not pd.api.types.is_numeric_dtype(frame[target]):
        raise InputError(target, "target column is not numeric")
    missing = [c for c in columns if c not in drop and frame[c].isna().any()]
    if missing:
        rows = frame.index[frame[missing[0]].isna()].tolist()[:5]
        raise InputError(missing[0], f"missing values (NaN) in rows {rows}", "finite numbers")
    sites = frame[ID_COLUMN].astype(str).tolist() if ID_COLUMN in columns else []
    skip = {target, ID_COLUMN, *drop}
    features = frame[[c for c in columns if c not in skip]]
    for column in features.columns:
        if column not in categorical and not pd.api.types.is_numeric_dtype(features[column]):
            raise InputError(
                column, "non-numeric column (declare it with --categorical or --drop it)"
            )
    if categorical:
        features = pd.get_dummies(features, columns=list(categorical), prefix_sep="=", dtype=float)
    features = features.astype(float)
    if not np.isfinite(features.to_numpy()).all():
        bad = features.columns[~np.isfinite(features.to_numpy()).all(axis=0)][0]
        raise InputError(str(bad), "infinite values", "finite numbers")
    if features.shape[1] == 0:
        raise InputError("--table", "no feature columns left")
    check_folds(len(frame), folds)
    return TrainingData(
        features.reset_index(drop=True), frame[target].to_numpy(float), target, sites
    )


def _computed_for_site(store, study: str | None, site: str) -> dict[str, float]:
    """d-band centres and Bader valence electrons of the bare site (adsorbate-free calculations)."""
    from lisflow.db import queries

    out: dict[str, float] = {}
    bands = queries.bands(store, study=study, site=site)
    bands = bands[bands["adsorbate"].isna() & (bands["spin"] == "total")]
    charges = queries.charges(store, study=study, site=site, method="bader")
    charges = charges[charges["adsorbate"].isna()]
    for frame, orbital, value, prefix in (
        (bands, "d", "centre_ev", "eps_d"),
        (charges, None, "valence_electrons", "q"),
    ):
        if frame.empty:
            continue
        calc = sorted(frame["calc_id"].unique())[-1]
        rows = frame[frame["calc_id"] == calc]
        if orbital:
            rows = rows[rows["orbital"] == orbital]
        metal_rows = rows[(rows["label"] == "metal") & rows[value].notna()]
        if metal_rows.empty:
            continue
        z = metal_rows["element"].map(lambda symbol: Element(symbol).Z)
        ordered = metal_rows.assign(z=z).sort_values(["z", "site_index"])
        out[f"{prefix}_M1"] = float(ordered[value].iloc[0])
        out[f"{prefix}_M2"] = float(ordered[value].iloc[-1])
    n_p = bands[(bands["label"] == "coordinating_N") & (bands["orbital"] == "p")]
    if not n_p.empty:
        out["eps_p_N"] = float(n_p["centre_ev"].mean())
    n_q = charges[charges["label"] == "coordinating_N"]["valence_electrons"].dropna()
    if not n_q.empty:
        out["q_N"] = float(n_q.mean())
    return out


def relaxed_structure(run_dir: str | None, metals: Sequence[str]) -> Structure | None:
    """The relaxed bare site (``CONTCAR``/``CONTCAR.gz`` in ``run_dir``) with the builder's site
    labels, or None when there is none or its atoms do not match the built site."""
    from lisflow.structures.support import dasc_graphene

    if not run_dir:
        return None
    for name in ("CONTCAR", "CONTCAR.gz"):
        path = Path(run_dir) / name
        if path.is_file() and path.stat().st_size > 0:
            relaxed = Structure.from_file(path)
            built = dasc_graphene(list(metals))
            if [s.specie for s in relaxed] != [s.specie for s in built]:
                return None
            relaxed.add_site_property("label", built.site_properties["label"])
            return relaxed
    return None


def _slab_run_dir(store, study: str | None, site: str) -> str | None:
    from lisflow.db import queries

    calcs = queries.calculations(store, study=study, site=site, state="COMPLETED")
    slabs = calcs[(calcs["role"] == "slab") & calcs["adsorbate"].isna()]
    return None if slabs.empty else slabs["run_dir"].iloc[-1]


def table_from_db(store, study: str | None = None, adsorbate: str | None = None) -> pd.DataFrame:
    """Adsorption energies (lowest over configurations, eV) joined with site features.

    Column ``energy_ev`` is the target; computed features enter only if every site has them.
    Structural features come from the relaxed bare site when its run directory holds a CONTCAR
    matching the built site, else from the built (unrelaxed) site.
    """
    from lisflow.db import queries

    ads = queries.adsorption(store, study=study, adsorbate=adsorbate)
    ads = ads[ads["site"].notna() & ads["energy_ev"].notna()]  # FAILED (stoichiometry): none
    if ads.empty:
        raise InputError(
            "--from-db", f"no adsorption energies for study={study!r} adsorbate={adsorbate!r}"
        )
    adsorbates = sorted(ads["adsorbate"].dropna().unique())
    if len(adsorbates) > 1:
        raise InputError(
            "--adsorbate",
            "the database holds several adsorbates; choose one",
            ", ".join(adsorbates),
        )
    best = ads.groupby("site", sort=True)["energy_ev"].min()
    rows = []
    for site, energy in best.items():
        metals = parse_site_name(str(site))
        computed = _computed_for_site(store, study, str(site))
        structure = relaxed_structure(_slab_run_dir(store, study, str(site)), metals)
        features = site_features(metals, structure, computed)
        rows.append({ID_COLUMN: site, **features, "energy_ev": energy})
    frame = pd.DataFrame(rows)
    partial = [c for c in COMPUTED_CATALOGUE if c in frame.columns and frame[c].isna().any()]
    return frame.drop(columns=partial)
