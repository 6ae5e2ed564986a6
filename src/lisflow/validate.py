"""`make validate`: MLIP adsorption energies checked against CP2K DFT that runs here.

One CP2K study with ``prerelax: mlip`` and ``relax: false``: every structure (clean slabs,
the Li2S molecule, Li2S adsorbed on the Mo1-N4 site of Mo1/N-G, on the Fe-N4 SASC and on the
FeCo-N6 DASC) is relaxed with the MLIP (CHGNet 0.3.0 + D3(BJ)), then a CP2K single point
(PBE-D3, DZVP-MOLOPT-SR-GTH, GTH-PBE: the papers' functional with CP2K's Gaussian basis family,
see ``lisflow.io.cp2k``) runs on the MLIP-relaxed structure. Both adsorption energies go into
the database with their engines (``mlip`` rows from the prerelaxations, ``cp2k`` rows from the
single points) and are printed side by side with the MAE and the rank agreement (Kendall τ),
with each calculation's wall time and steps. Results: docs/validation.md.

    python -m lisflow.validate [--out validate_out] [--dasc-supercell 6] [--cutoff 300]
                               [--vacuum 15] [--sites Mo-N4,Fe-N4,FeCo-N6] [--report-only]
    python -m lisflow.validate --prerelax-benefit Li2S2   # GEO_OPT steps with/without prerelax

Reduced settings (stated in the written study file): CP2K cutoff 300 Ry / REL_CUTOFF 40 (lisflow
default 400/50), EPS_SCF 1e-5 (a non-converged SCF fizzles; nothing is stored); spin: UKS with
the multiplicity of :data:`SITES` (from CHGNet's magnetic moments) for Fe-N4 and FeCo-N6,
closed shell for Mo-N4 and the Li2S molecule; the molecule in a 12 Å box.
``--dasc-supercell 4`` uses 4×4 instead of the papers' 6×6 graphene for speed; ``--vacuum``
less than the papers' 15 Å above the highest atom.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd
import yaml

from lisflow.fsutil import atomic_write_text

#: Substrates of the validation set by name (``--sites``).
#: ``multiplicity`` (2S+1, CP2K UKS) of slab and adslab from CHGNet 0.3.0's magnetic moments on
#: the built 4x4 cells (rounded |m| sum): Mo-N4 0.3 mu_B -> 1; Fe-N4 2.6 (Fe 2.4) -> 3, i.e.
#: intermediate-spin Fe(II); FeCo-N6 3.3 (Fe 2.3, Co 0.65; odd electron count) -> 4.
#: ``Mo-N4`` is the Mo1/N-G site (Mo over a pyridinic-N4 divacancy) in an n x n graphene cell;
#: ``Mo1-NG`` is the paper's own 111-atom cell (17 x 17 Å), too big for one core here.
SITES = {
    "Mo-N4": {"builder": "dasc", "metals": ["Mo"], "multiplicity": 1},
    "Fe-N4": {"builder": "dasc", "metals": ["Fe"], "multiplicity": 3},
    "FeCo-N6": {"builder": "dasc", "metals": ["Fe", "Co"], "multiplicity": 4},
    "Mo1-NG": {"builder": "mo_ngraphene", "n_mo": 1},
}
DEFAULT_SITES = ("Mo-N4", "Fe-N4", "FeCo-N6")


def validation_spec(
    dasc_supercell: int = 6,
    cutoff: int = 300,
    sites: tuple[str, ...] = DEFAULT_SITES,
    vacuum: float = 15.0,
) -> dict:
    """The CP2K-on-MLIP-structures study (a dict, written as YAML next to the results);
    ``vacuum`` (Å) above the highest atom of the graphene slabs and adslabs (paper 002: 15)."""
    substrates = [
        {**SITES[s], "supercell": dasc_supercell, "vacuum": vacuum}
        if SITES[s]["builder"] == "dasc"
        else SITES[s]
        for s in sites
    ]
    return {
        "study": "validate_mlip_cp2k",
        "kind": "adsorption",
        "engine": "cp2k",
        "prerelax": "mlip",
        "model": "chgnet",
        "description": "CP2K PBE-D3 single points on CHGNet+D3(BJ)-relaxed paper systems",
        "source": "Zhou et al., Nature 621, 75 (2023); Han et al., Nat. Commun. (2024)",
        "substrates": substrates,
        "adsorbates": ["Li2S"],
        "configurations": 1,
        "placement": "active_site",
        "li_towards_n": True,
        "molecule_box": 12.0,
        "relax": False,
        "static": False,
        "bader": False,
        "overrides": {
            "FORCE_EVAL.DFT.MGRID.CUTOFF": cutoff,
            "FORCE_EVAL.DFT.MGRID.REL_CUTOFF": 40,
            "FORCE_EVAL.DFT.SCF.EPS_SCF": 1.0e-5,
        },
    }


def store_mlip_adsorption(store, study: str) -> int:
    """E_ads from the MLIP prerelaxations (engine ``mlip``) for every adslab; returns count."""
    from lisflow.db import queries

    calcs = queries.calculations(store, study=study, engine="mlip", state="COMPLETED")
    by_role = {
        role: frame for role, frame in calcs.groupby("role")
    }  # prerelax calc ids end in /prerelax
    if not {"slab", "molecule", "adslab"} <= set(by_role):
        return 0
    slabs = dict(zip(by_role["slab"]["site"], by_role["slab"]["calc_id"], strict=True))
    molecules = dict(
        zip(by_role["molecule"]["adsorbate"], by_role["molecule"]["calc_id"], strict=True)
    )
    count = 0
    for _, row in by_role["adslab"].iterrows():
        if row["site"] in slabs and row["adsorbate"] in molecules:
            store.upsert_adsorption(row["calc_id"], slabs[row["site"]], molecules[row["adsorbate"]])
            count += 1
    return count


def comparison(store, study: str) -> tuple[pd.DataFrame, dict[str, float]]:
    """Side-by-side MLIP vs CP2K E_ads (eV) per site/adsorbate; MAE and Kendall τ."""
    from scipy.stats import kendalltau

    from lisflow.db import queries

    ads = queries.adsorption(store, study=study)
    table = ads.pivot_table(
        index=["site", "adsorbate"], columns="engine", values="energy_ev", aggfunc="min"
    ).dropna()
    stats: dict[str, float] = {}
    if {"mlip", "cp2k"} <= set(table.columns) and len(table):
        table["mlip - cp2k"] = table["mlip"] - table["cp2k"]
        stats["mae_ev"] = float(table["mlip - cp2k"].abs().mean())
        stats["n"] = float(len(table))
        if len(table) > 1:
            stats["kendall_tau"] = float(kendalltau(table["mlip"], table["cp2k"]).statistic)
            stats["same_order"] = float(
                list(table["mlip"].sort_values().index) == list(table["cp2k"].sort_values().index)
            )
    return table.reset_index(), stats


def run_timings(store, study: str) -> pd.DataFrame:
    """Per calculation: engine, state, atoms, wall time (s; CP2K: its own ``CP2K`` total timer,
    MLIP: the relaxation) and steps (CP2K: SCF steps, all outer loops; MLIP: optimiser)."""
    import json

    from lisflow.db import queries

    calcs = queries.calculations(store, study=study)
    rows = []
    for _, calc in calcs.iterrows():
        run_dir = Path(calc["run_dir"] or "")
        row = {"calc_id": calc["calc_id"].removeprefix(f"{study}/"), "engine": calc["engine"],
               "state": calc["state"], "n_atoms": calc["n_atoms"], "wall_s": None, "steps": None}  # fmt: skip
        if calc["engine"] == "cp2k" and (run_dir / "cp2k.out").is_file():
            text = (run_dir / "cp2k.out").read_text(errors="replace")
            timer = [ln.split() for ln in text.splitlines() if ln.startswith(" CP2K  ")]
            outer = [ln for ln in text.splitlines() if "outer SCF loop converged in" in ln]
            scf = [ln for ln in text.splitlines() if "SCF run converged in" in ln]
            row["wall_s"] = float(timer[-1][-1]) if timer else None
            if outer:  # "... in 3 iterations or 131 steps": all inner steps of the cycle
                row["steps"] = sum(int(ln.split(" or ")[1].split()[0]) for ln in outer)
            else:
                row["steps"] = sum(int(ln.split("in")[1].split()[0]) for ln in scf) or None
        elif calc["engine"] == "mlip" and (run_dir / "mlip_result.json").is_file():
            record = json.loads((run_dir / "mlip_result.json").read_text())
            row["wall_s"], row["steps"] = round(record["wall_time_s"], 1), record["steps"]
        rows.append(row)
    return pd.DataFrame(rows)


def geo_opt_steps(cp2k_out: Path) -> int:
    """Number of CP2K GEO_OPT steps (``OPTIMIZATION STEP:`` lines) in an output file."""
    return sum(1 for line in cp2k_out.read_text().splitlines() if "OPTIMIZATION STEP:" in line)


def prerelax_benefit(name: str, out: Path, box: float = 10.0, cutoff: int = 250) -> pd.DataFrame:
    """CP2K GEO_OPT of the isolated ``name`` molecule (a paper reference system) from the built
    geometry and from the MLIP-relaxed one: GEO_OPT steps, CP2K and MLIP wall time (s)."""
    from lisflow.calculation import Calculation
    from lisflow.engines.cp2k import Cp2kEngine
    from lisflow.engines.mlip import MlipEngine
    from lisflow.spec import validate_spec
    from lisflow.workflows.plan import plan

    spec = {
        "study": "prerelax_benefit", "kind": "adsorption", "engine": "cp2k", "prerelax": "mlip",
        "substrates": [{"builder": "molecule", "name": name, "box": box}], "adsorbates": [name],
        "configurations": 1, "molecule_box": box, "relax": True, "static": False, "bader": False,
        "overrides": {"FORCE_EVAL.DFT.MGRID.CUTOFF": cutoff, "FORCE_EVAL.DFT.MGRID.REL_CUTOFF": 40,
                      "FORCE_EVAL.DFT.SCF.EPS_SCF": 1.0e-5},
    }  # fmt: skip
    calcs = {c.calc_id: c for c in plan(validate_spec(spec))}
    pre = calcs[f"prerelax_benefit/molecule/{name}/prerelax"]
    dft = calcs[f"prerelax_benefit/molecule/{name}/relax"]
    rows = []
    start = time.perf_counter()
    MlipEngine().write_inputs(pre, out / "mlip")
    MlipEngine().run(pre, out / "mlip")
    mlip_s = time.perf_counter() - start
    relaxed = MlipEngine().final_structure(pre, out / "mlip")
    for label, structure, extra in (("built", dft.structure, 0.0), ("mlip", relaxed, mlip_s)):
        calc = Calculation(**{**dft.__dict__, "structure": structure, "parents": ()})
        directory = out / f"cp2k_from_{label}"
        Cp2kEngine().write_inputs(calc, directory)
        start = time.perf_counter()
        Cp2kEngine().run(calc, directory)
        seconds = time.perf_counter() - start
        energy = Cp2kEngine().parse(calc, directory).energy_ev
        rows.append(
            dict(start=label, geo_opt_steps=geo_opt_steps(directory / "cp2k.out"),
                 cp2k_wall_s=round(seconds, 1), mlip_wall_s=round(extra, 1), energy_ev=energy)
        )  # fmt: skip
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("validate_out"))
    parser.add_argument("--dasc-supercell", type=int, default=6)
    parser.add_argument("--cutoff", type=int, default=300)
    parser.add_argument("--vacuum", type=float, default=15.0, help="Å above the graphene slabs")
    parser.add_argument("--sites", default=",".join(DEFAULT_SITES), help="comma list of " + ", ".join(SITES))
    parser.add_argument("--prerelax-benefit", default="", help="molecule, e.g. Li2S2")
    parser.add_argument(
        "--report-only", action="store_true", help="tables from --out's database, run nothing"
    )
    args = parser.parse_args(argv)
    if args.prerelax_benefit:
        table = prerelax_benefit(args.prerelax_benefit, args.out.resolve() / "prerelax")
        print(table.to_string(index=False))
        return
    sites = tuple(s for s in args.sites.split(",") if s)
    for site in sites:
        if site not in SITES:
            print(f"--sites: unknown site {site!r} (allowed: {', '.join(SITES)})")
            raise SystemExit(2)
    from lisflow.cli import quiet_library_warnings

    quiet_library_warnings()
    out = args.out.resolve()
    os.environ["LISFLOW_HOME"] = str(out / "home")
    from lisflow.launch.local import results_store, run_local, submit
    from lisflow.launch.profiles import load_profile

    spec = validation_spec(args.dasc_supercell, args.cutoff, sites, args.vacuum)
    spec_file = out / "validate_mlip_cp2k.yaml"
    atomic_write_text(spec_file, yaml.safe_dump(spec, sort_keys=False))
    profile = load_profile("local")
    start = time.perf_counter()
    fizzled = 0
    if not args.report_only:
        submit([spec_file], profile)
        fizzled = run_local(profile).fizzled
    store = results_store(profile)
    store_mlip_adsorption(store, spec["study"])
    table, stats = comparison(store, spec["study"])
    timings = run_timings(store, spec["study"])
    print(table.to_string(index=False))
    print("  ".join(f"{k} {v:.3f}" for k, v in stats.items()))
    print(timings.to_string(index=False))
    print(f"validate wall time {time.perf_counter() - start:.0f} s; {fizzled} FIZZLED")
    atomic_write_text(out / "mlip_vs_cp2k.csv", table.to_csv(index=False))
    atomic_write_text(out / "timings.csv", timings.to_csv(index=False))
    if fizzled or not stats:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
