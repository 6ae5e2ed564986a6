"""Training tables from the results database: adsorption energies joined with site features.

CSV tables are validated by :mod:`lisflow.ml.validate` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pymatgen.core import Element, Structure

from lisflow.errors import InputError
from lisflow.ml.features import COMPUTED_CATALOGUE, parse_site_name, site_features
from lisflow.ml.geometry import GEOMETRY_CATALOGUE
from lisflow.ml.validate import ID_COLUMN, TrainingData, prepare, read_table

__all__ = ["ID_COLUMN", "TrainingData", "prepare", "read_table", "table_from_db"]


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


#: Final-structure files looked for in a run directory, in order: VASP, then any engine that
#: writes a pymatgen-readable final structure (e.g. an MLIP relaxation).
FINAL_STRUCTURE_FILES = ("CONTCAR", "CONTCAR.gz", "final_structure.json", "final.cif", "final.vasp")


def relaxed_structure(run_dir: str | None, metals: Sequence[str]) -> Structure | None:
    """The relaxed bare site (first of :data:`FINAL_STRUCTURE_FILES` in ``run_dir``) with the
    builder's site labels, or None when there is none or its atoms do not match the built site."""
    from lisflow.structures.support import dasc_graphene

    if not run_dir:
        return None
    for name in FINAL_STRUCTURE_FILES:
        path = Path(run_dir) / name
        if path.is_file() and path.stat().st_size > 0:
            relaxed = Structure.from_file(path)
            built: Structure | None
            if len(metals) == 3:
                from lisflow.ml.trimetallic import trimetallic_graphene

                built = trimetallic_graphene(list(metals))
            else:  # the n x n cell of the run: 2n² - 1 (M-N4) or 2n² - 2 (M1M2-N6) atoms
                n = round(((len(relaxed) + len(metals)) / 2) ** 0.5)
                built = dasc_graphene(list(metals), supercell=n) if n >= 4 else None
            if built is None or [s.specie for s in relaxed] != [s.specie for s in built]:
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
    # geometry to 0.1 mÅ: a relaxation (fmax ≥ 0.01 eV/Å) fixes positions far worse than that,
    # and round-off (e.g. 1e-7 Å spread of four symmetric M-N bonds) must not look informative
    geometry = [c for c in frame.columns if c in GEOMETRY_CATALOGUE]
    frame[geometry] = frame[geometry].round(4)
    partial = [c for c in COMPUTED_CATALOGUE if c in frame.columns and frame[c].isna().any()]
    return frame.drop(columns=partial)
