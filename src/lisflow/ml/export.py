"""Ship a computed data set: the ``ml fit --from-db`` training table as a CSV with provenance.

:func:`export_dataset` writes, from the results database,

- ``<out>.csv``: one row per site, ``site``, every feature (structural ones from the relaxed
  bare site) and the target ``energy_ev`` (E_ads, eV) — ``lisflow ml fit --table <out>.csv
  --target energy_ev`` refits without recomputing;
- ``<out stem>.energies.csv``: per site E_ads and its inputs E(adslab), E(slab), E(Li2S) (eV),
  optimiser steps and final max force of both relaxations;
- ``<out stem>.provenance.json``: engine provenance strings (model, version, weights SHA-256,
  D3), the MLIP settings of the runs (cell, fmax, steps, optimiser), the lisflow commit that
  ran them (recorded in the database), counts
  of sites, FAILED calculations and sites whose features come from the relaxed structure.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from lisflow.errors import InputError
from lisflow.fsutil import write_output_file


def lisflow_commit() -> str:
    """``git rev-parse HEAD`` of the lisflow source tree, else the package version."""
    import lisflow

    root = Path(lisflow.__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
            timeout=10, check=True,
        )  # fmt: skip
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"lisflow {lisflow.__version__}"


def _run_record(run_dir: str | None) -> dict:
    """``mlip.json`` settings and ``mlip_result.json`` numbers of one MLIP run directory."""
    if not run_dir:
        return {}
    settings = Path(run_dir) / "mlip.json"
    result = Path(run_dir) / "mlip_result.json"
    out = {}
    if settings.is_file():
        out["settings"] = json.loads(settings.read_text())
    if result.is_file():
        record = json.loads(result.read_text())
        out |= {k: record.get(k) for k in ("steps", "fmax_ev_per_a", "n_atoms", "wall_time_s")}
    return out


def export_dataset(store, study: str, out: str | Path, commit: str | None = None) -> dict:
    """Write the three files (see module docstring); returns the provenance mapping."""
    from lisflow.db import queries
    from lisflow.ml.features import parse_site_name
    from lisflow.ml.tables import _slab_run_dir, relaxed_structure, table_from_db

    path = Path(out)
    if path.suffix != ".csv":
        raise InputError("--out", f"{path}: not a .csv path", "a path ending in .csv")
    table = table_from_db(store, study=study, adsorbate="Li2S")
    ads = queries.adsorption(store, study=study, adsorbate="Li2S")
    ads = ads[ads["energy_ev"].notna() & ads["site"].isin(table["site"])]
    calcs = queries.calculations(store, study=study)
    run_dirs = dict(zip(calcs["calc_id"], calcs["run_dir"], strict=True))
    rows, relaxed, cells = [], 0, set()
    for row in ads.sort_values("energy_ev").drop_duplicates("site").itertuples():
        slab, adslab = _run_record(run_dirs.get(row.slab_calc_id)), _run_record(
            run_dirs.get(row.adslab_calc_id))  # fmt: skip
        rows.append({
            "site": row.site, "e_ads_ev": row.energy_ev, "e_adslab_ev": row.adslab_energy_ev,
            "e_slab_ev": row.slab_energy_ev, "e_li2s_ev": row.molecule_energy_ev,
            "slab_steps": slab.get("steps"), "slab_fmax_ev_per_a": slab.get("fmax_ev_per_a"),
            "adslab_steps": adslab.get("steps"),
            "adslab_fmax_ev_per_a": adslab.get("fmax_ev_per_a"), "slab_atoms": slab.get("n_atoms"),
        })  # fmt: skip
        metals = parse_site_name(str(row.site))
        if relaxed_structure(_slab_run_dir(store, study, str(row.site)), metals) is not None:
            relaxed += 1
        if slab.get("n_atoms"):
            cells.add(round(((slab["n_atoms"] + len(metals)) / 2) ** 0.5))
    energies = pd.DataFrame(rows).sort_values("site")
    mlip = calcs[calcs["engine"] == "mlip"]
    any_slab = next((d for d in calcs.loc[calcs["role"] == "slab", "run_dir"] if d), None)
    settings = _run_record(any_slab).get("settings", {})
    provenance = {
        "study": study,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lisflow_commit": commit
        or ", ".join(sorted(set(mlip["lisflow_commit"].dropna())))
        or lisflow_commit(),
        "engine_versions": sorted(set(mlip["engine_version"].dropna())),
        "cell": f"{'/'.join(f'{n}x{n}' for n in sorted(cells))} graphene supercell (a = 2.47 A, 15 A "
        "vacuum); the papers use 6x6",
        "mlip_settings": {
            k: settings.get(k)
            for k in (
                "model",
                "optimizer",
                "fmax",
                "steps",
                "d3",
                "d3_damping",
                "d3_cutoff",
                "d3_cn_cutoff",
            )
        },  # fmt: skip
        "energy": "E_ads = E(Li2S on site) - E(site) - E(Li2S), eV (lowest configuration)",
        "n_sites": int(len(table)),
        "n_sites_relaxed_features": relaxed,
        "calculations": {str(k): int(v) for k, v in calcs["state"].value_counts().items()},
        "failed_calculations": sorted(calcs.loc[calcs["state"] == "FAILED", "calc_id"]),
        "columns": {
            "site": "site name (M1 lower Z)",
            "energy_ev": "target: E_ads (eV)",
            "other": "features: inputs/ml/feature_catalogue.csv",
        },  # fmt: skip
    }
    write_output_file(path, table.to_csv(index=False, float_format="%.6g"))
    write_output_file(
        path.with_name(path.stem + ".energies.csv"),
        energies.to_csv(index=False, float_format="%.6f"),
    )
    write_output_file(
        path.with_name(path.stem + ".provenance.json"), json.dumps(provenance, indent=1) + "\n"
    )
    return provenance
