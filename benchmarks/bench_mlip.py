"""Benchmark of the ``mlip`` engine on the papers' systems (issue 13): wall time per
calculation and in all, steps and memory peak, for the adsorption/polymorph catalogue relaxed
with CHGNet 0.3.0 + D3(BJ) through the real workflow (submit -> FireWorks -> DB -> E_ads/E_f).

The baseline named in the same run is one CHGNet+D3 single point of the largest structure
(Mo1/N-G, 111 atoms): the ratio "relaxation / single point" says how many force calls a
relaxation costs on this machine.

    python benchmarks/bench_mlip.py --quick   # Li2S on the FeCo-N6 DASC (4x4 cell) only
    python benchmarks/bench_mlip.py           # Li2S (1 configuration) on every paper site
    python benchmarks/bench_mlip.py --all [--time-limit 1800]   # the full shipped catalogue
    python benchmarks/bench_mlip.py --tables-only   # rewrite the tables from the results DB

Results are written after every calculation (``bench_out/mlip.json``,
``bench_out/mlip_adsorption.csv``, ``bench_out/mlip_polymorphs.csv``), so a run stopped by
``--time-limit`` (no new calculation starts after it) or killed keeps what finished. With
``--all``, calculations run in the order that answers the papers' claims first: polymorphs,
then slabs and molecules, then Li2S adslabs, then the other adsorbates (configuration 0 before
1); E_ads / E_f Fireworks run as soon as their inputs are done.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from lisflow.fsutil import atomic_write_text

OUT = Path("bench_out")


def single_point_s(repeats: int) -> float:
    """Median wall time (s) of one CHGNet + D3 energy/force call on Mo1/N-G (111 atoms)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from lisflow.engines.mlip import calculator
    from lisflow.io.mlip import MlipSettings
    from lisflow.structures.support import mo_ngraphene

    atoms = AseAtomsAdaptor.get_atoms(mo_ngraphene(1))
    atoms.calc = calculator(MlipSettings(model="chgnet", d3=True))
    times = []
    for _ in range(repeats):
        atoms.rattle(1e-4)
        start = time.perf_counter()
        atoms.get_forces()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


#: Sites in the order that answers the papers' claims first (paper 002: FeCo-N6 binds S most
#: strongly among the DASCs; paper 000: Ti(001) binds Li2S_n more strongly than the Mo centres).
SITE_ORDER = ("FeCo-N6", "FeNi-N6", "FeCu-N6", "Ti001", "Mo1-NG", "Fe-N4", "Co-N4", "Mo4-NG",
              "Mo9-NG")  # fmt: skip


def priority(name: str) -> int:
    """Launch order of a catalogue Firework (higher first): E_ads/E_f as soon as their inputs
    are done, polymorphs, molecules, then per site (SITE_ORDER) its slab and Li2S adslab
    (configuration 0) together so each site yields an E_ads early, then the other adsorbates
    (configuration 0 before 1)."""
    if "/eads/" in name or "/formation/" in name:
        return 1000
    if "/bulk/" in name:
        return 900
    if "/molecule/" in name:
        return 850
    parts = name.split("/")
    site = parts[2] if len(parts) > 2 else ""
    rank = SITE_ORDER.index(site) if site in SITE_ORDER else len(SITE_ORDER)
    if "/slab/" in name or ("/adslab/" in name and "/Li2S/c0/" in name):
        return 800 - 10 * rank
    return (400 if "/c0/" in name else 100) - rank


def adsorption_table(store, timings):
    """study, site, adsorbate, configuration, E_ads (eV), the adslab's steps, wall s, peak MB
    and optimiser, and ``flag``: the stored row's reason when the adsorbate dissociated (its
    E_ads is then a reaction energy)."""
    from lisflow.db import queries

    ads = queries.adsorption(store, engine="mlip")
    if not len(ads):
        return ads
    ads = ads[ads["state"] == "COMPLETED"]
    cols = ["calc_id", "steps", "wall_time_s", "peak_rss_mb", "optimizer"]
    table = ads.merge(timings[cols], left_on="adslab_calc_id", right_on="calc_id", how="left")
    table["flag"] = table["state_reason"].fillna("").str.split(";").str[0]
    keep = ["study", "site", "adsorbate", "configuration", "energy_ev"] + cols[1:] + ["flag"]
    table = table[keep].rename(columns={"energy_ev": "e_ads_ev"}).round(3)
    return table.sort_values(["study", "site", "adsorbate", "configuration"])


def write_results(store, args, start: float, baseline: float | None, finished: bool) -> dict:
    """Everything measured so far -> bench_out/mlip*.{json,csv} (atomic writes)."""
    from lisflow import demo
    from lisflow.db import queries

    timings = demo.mlip_timings(store)
    n = len(timings)
    per_calc = float(timings["wall_time_s"].median()) if n else float("nan")
    ads = adsorption_table(store, timings) if n else None
    poly = queries.polymorphs(store, engine="mlip")
    result = {
        "mode": "quick" if args.quick else "all" if args.all else "Li2S on every site",
        "finished": finished,
        "baseline": "one CHGNet+D3 single point, Mo1/N-G (111 atoms), median of 3",
        "baseline_s": None if baseline is None else round(baseline, 3),
        "n_calculations": int(n),
        "median_wall_s_per_calculation": round(per_calc, 1) if n else None,
        "ratio_median_relaxation_to_single_point": (
            round(per_calc / baseline, 1) if n and baseline else None
        ),
        "sum_mlip_wall_s": round(float(timings["wall_time_s"].sum()), 1) if n else 0.0,
        "total_wall_s": round(time.perf_counter() - start, 1),
        "peak_rss_mb": int(timings["peak_rss_mb"].max()) if n else None,
        "n_adsorption_energies": 0 if ads is None else int(len(ads)),
        "n_formation_energies": int(len(poly)),
        "per_calculation": timings.to_dict(orient="records") if n else [],
    }
    atomic_write_text(OUT / "mlip.json", json.dumps(result, indent=1) + "\n")
    if ads is not None:
        atomic_write_text(OUT / "mlip_adsorption.csv", ads.to_csv(index=False))
    if len(poly):
        cols = ["study", "polymorph", "energy_per_atom_ev", "formation_energy_per_atom_ev"]
        atomic_write_text(OUT / "mlip_polymorphs.csv", poly[cols].round(4).to_csv(index=False))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Li2S on FeCo-N6 (4x4) only")
    parser.add_argument("--all", action="store_true", help="the full shipped catalogue")
    parser.add_argument("--time-limit", type=float, default=0.0, help="s; 0: no limit")
    parser.add_argument("--model", default="chgnet", choices=("chgnet", "sevennet"))
    parser.add_argument("--tables-only", action="store_true",
                        help="rewrite bench_out/mlip* from the results DB; run nothing")  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick and args.all:
        parser.error("--quick and --all exclude each other")
    out = (OUT / "mlip").resolve()
    os.environ["LISFLOW_HOME"] = str(out / "home")
    from lisflow import demo
    from lisflow.launch.launchpad import open_launchpad
    from lisflow.launch.local import results_store, run_local, save, submit
    from lisflow.launch.profiles import load_profile

    if args.tables_only:  # the run's own numbers (baseline, wall time, finished) are kept
        previous = OUT / "mlip.json"
        before = json.loads(previous.read_text()) if previous.is_file() else {}
        store = results_store(load_profile("local"))
        result = write_results(store, args, 0.0, None, finished=False)
        kept = ("mode", "finished", "baseline_s", "ratio_median_relaxation_to_single_point",
                "total_wall_s")  # fmt: skip
        result.update({key: before[key] for key in kept if key in before})
        atomic_write_text(OUT / "mlip.json", json.dumps(result, indent=1) + "\n")
        print((OUT / "mlip_adsorption.csv").read_text())
        return
    if args.quick:
        files = demo.mlip_catalogue(
            out / "studies", args.model, ["Li2S"], 1, ["dasc_adsorption"], 4, ["FeCo"]
        )
    elif args.all:
        files = demo.mlip_catalogue(out / "studies", args.model)
    else:
        files = demo.mlip_catalogue(out / "studies", args.model, ["Li2S"], 1)
    profile = load_profile("local")
    baseline = single_point_s(3)
    start = time.perf_counter()
    for report in submit(files, profile):
        print(f"{report.study}: {len(report.new)} new Fireworks, {len(report.done)} done")
    with open_launchpad(profile) as lpad:  # the claims' systems first (see docstring)
        for doc in lpad.fireworks.find({"state": {"$in": ["READY", "WAITING"]}}):
            lpad.set_priority(doc["fw_id"], priority(doc["name"]))
        save(lpad)
    store = results_store(profile)
    finished = False
    while not args.time_limit or time.perf_counter() - start < args.time_limit:
        summary = run_local(profile, max_launches=1, progress=False)
        if summary.launched == 0:
            finished = True
            break
        write_results(store, args, start, baseline, finished=False)
    result = write_results(store, args, start, baseline, finished)
    print(json.dumps({k: v for k, v in result.items() if k != "per_calculation"}, indent=1))
    if (OUT / "mlip_adsorption.csv").exists():
        print((OUT / "mlip_adsorption.csv").read_text())


if __name__ == "__main__":
    main()
