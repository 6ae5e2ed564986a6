"""`make demo`: the main job end to end on the embedded defaults.

1. dry-run of every study in workflows/ (inputs + manifest, nothing runs);
2. a small real CP2K study (inputs/demo/li2s_dimer_cp2k.yaml) submitted to the embedded
   FireWorks LaunchPad and run here through custodian; next to it the papers' own systems
   (Li2S on Mo1/N-G, Fe-N4, FeCo-N6; inputs/demo/paper_slice_mlip.yaml) relaxed with the
   ``mlip`` engine (CHGNet 0.3.0 + D3(BJ)) through the same workflow;
3. parsed results in the SQLite results database, printed as query tables, and PNG plots.

Re-running is idempotent: completed calculations are not run again.

    python -m lisflow.demo [--out demo_out]
    python -m lisflow.demo --bench [--out bench_out] [--adsorbates Li2S,Li2S4] [--configurations 1]

``--bench`` runs every shipped adsorption and polymorph study with ``engine: mlip`` (the
catalogue, optionally restricted to some adsorbates) and prints wall time per calculation,
in all, and the memory peak.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from rich.console import Console

from lisflow import INPUTS_DIR

console = Console()
DEMO_SPEC = INPUTS_DIR / "demo" / "li2s_dimer_cp2k.yaml"
MLIP_DEMO_SPEC = INPUTS_DIR / "demo" / "paper_slice_mlip.yaml"


def mlip_catalogue(
    out: Path,
    model: str = "chgnet",
    adsorbates: list[str] | None = None,
    configurations: int | None = None,
    studies: list[str] | None = None,
    dasc_supercell: int | None = None,
    metals: list[str] | None = None,
) -> list[Path]:
    """Every shipped adsorption/polymorph study as ``<study>_mlip`` YAML in ``out`` (engine
    override, optionally fewer adsorbates/configurations); returns the written files."""
    import yaml

    from lisflow.fsutil import atomic_write_text
    from lisflow.spec import load_spec, study_files
    from lisflow.spec.models import AdsorptionStudy, PolymorphStudy, with_engine

    written = []
    for path in study_files():
        spec = load_spec(path)
        if not isinstance(spec, AdsorptionStudy | PolymorphStudy):
            continue
        if studies and spec.study not in studies:
            continue
        data = with_engine(spec, "mlip", model).model_dump(mode="json")
        if data["kind"] == "adsorption":
            if adsorbates:
                data["adsorbates"] = [a for a in data["adsorbates"] if a in adsorbates]
            if configurations:
                data["configurations"] = configurations
            data.update(static=False, bader=False, lobster=False)
            for sub in data["substrates"]:
                if sub["builder"] == "dasc" and dasc_supercell:
                    sub["supercell"] = dasc_supercell  # reduced cell (paper 002: 6x6)
            if metals:  # only the DASC/SASC sites with these metal sets, e.g. FeCo,FeNi
                data["substrates"] = [
                    s for s in data["substrates"]
                    if s["builder"] != "dasc" or "".join(s["metals"]) in metals
                ]  # fmt: skip
        file = out / f"{data['study']}.yaml"
        atomic_write_text(file, yaml.safe_dump(data, sort_keys=False))
        written.append(file)
    return written


def mlip_timings(store, study: str | None = None):
    """Wall time (s), steps, max force, memory peak (MB) and optimiser of each stored MLIP
    calculation (from its run directory's ``mlip_result.json`` and ``mlip.json``)."""
    import json

    import pandas as pd

    from lisflow.db import queries

    calcs = queries.calculations(store, study=study, engine="mlip")
    rows = []
    for calc_id, run_dir, state in zip(calcs["calc_id"], calcs["run_dir"], calcs["state"], strict=True):
        file = Path(run_dir or "") / "mlip_result.json"
        if state != "COMPLETED" or not file.is_file():
            continue
        record = json.loads(file.read_text())
        inputs = file.with_name("mlip.json")
        settings = json.loads(inputs.read_text()) if inputs.is_file() else {}
        rows.append(
            {
                "calc_id": calc_id,
                "n_atoms": record["n_atoms"],
                "steps": record["steps"],
                "fmax_ev_per_a": round(record["fmax_ev_per_a"], 4),
                "wall_time_s": round(record["wall_time_s"], 1),
                "peak_rss_mb": round(record["peak_rss_mb"]),
                "optimizer": settings.get("optimizer", ""),
            }
        )
    return pd.DataFrame(rows)


def _formation_energies(store) -> None:
    """E_f = E / n (paper 000 eq. 5) of every completed final polymorph relaxation, also when
    its formation Firework stayed WAITING behind an earlier FIZZLED attempt."""
    from lisflow.db import queries

    calcs = queries.calculations(store, engine="mlip", state="COMPLETED")
    for calc_id in calcs.loc[calcs["role"] == "bulk", "calc_id"]:
        record = store.get(calc_id)
        if record.labels.get("final") and record.energy_ev is not None:
            per_atom = record.energy_ev / record.n_atoms
            store.upsert_polymorph(calc_id, record.labels["polymorph"], per_atom)


def bench(argv: list[str]) -> None:
    """The mlip catalogue on this machine: wall time per calculation and in all, memory peak."""
    parser = argparse.ArgumentParser(description="mlip catalogue benchmark")
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    parser.add_argument("--model", default="chgnet", choices=("chgnet", "sevennet"))
    parser.add_argument("--adsorbates", default="")
    parser.add_argument("--configurations", type=int, default=None)
    parser.add_argument("--studies", default="")
    parser.add_argument("--dasc-supercell", type=int, default=None)
    parser.add_argument("--metals", default="", help="DASC/SASC sites, e.g. FeCo,FeNi,FeCu")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    os.environ["LISFLOW_HOME"] = str(out / "home")
    from lisflow.db.report import write_claims
    from lisflow.launch.local import results_store, run_local, submit
    from lisflow.launch.profiles import load_profile

    files = mlip_catalogue(
        out / "studies",
        args.model,
        [a for a in args.adsorbates.split(",") if a] or None,
        args.configurations,
        [s for s in args.studies.split(",") if s] or None,
        args.dasc_supercell,
        [m for m in args.metals.split(",") if m] or None,
    )
    profile = load_profile("local")
    start = time.perf_counter()
    for report in submit(files, profile):
        console.print(f"{report.study}: {len(report.new)} new Fireworks, {len(report.done)} done")
    summary = run_local(profile)
    total = time.perf_counter() - start
    store = results_store(profile)
    _formation_energies(store)
    timings = mlip_timings(store)
    console.print(timings.to_string(index=False))
    console.print(
        f"{len(timings)} mlip calculations: {timings['wall_time_s'].sum():.0f} s of MLIP runs, "
        f"{total:.0f} s in all; memory peak {timings['peak_rss_mb'].max():.0f} MB; "
        f"{summary.completed} COMPLETED, {summary.fizzled} FIZZLED"
    )
    console.print(write_claims(store, out / "report"))


def main(argv: list[str] | None = None) -> None:
    argv = list(argv if argv is not None else __import__("sys").argv[1:])
    if "--bench" in argv:
        argv.remove("--bench")
        return bench(argv)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo_out"))
    args = parser.parse_args(argv)
    from lisflow.cli import quiet_library_warnings

    quiet_library_warnings()
    out = args.out.resolve()
    os.environ["LISFLOW_HOME"] = str(out / "home")
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    start = time.perf_counter()

    from lisflow.db import queries
    from lisflow.db.report import write_report
    from lisflow.launch.local import results_store, run_local, submit
    from lisflow.launch.profiles import load_profile
    from lisflow.spec import study_files
    from lisflow.workflows.dryrun import dry_run

    console.rule("1. dry-run of every study (inputs only)")
    entries = dry_run(study_files(), out / "dry-run")
    console.print(f"{len(entries)} calculations written under {out / 'dry-run'}")

    console.rule("2. real CP2K study through FireWorks (embedded LaunchPad)")
    profile = load_profile("local")
    for report in submit([DEMO_SPEC, MLIP_DEMO_SPEC], profile):
        console.print(
            f"{report.study}: {len(report.new)} new Fireworks, {len(report.done)} already completed"
        )
    summary = run_local(profile)
    console.print(
        f"launched {summary.launched}; {summary.completed} COMPLETED, {summary.fizzled} FIZZLED"
    )

    console.rule("3. results database")
    store = results_store(profile)
    console.print(f"database: {store.display_url}")
    study = "demo_li2s_cp2k"
    calcs = queries.calculations(store, study=study)
    console.print(calcs[["calc_id", "formula", "state", "energy_ev"]].to_string(index=False))
    ads = queries.adsorption(store, study=study)
    console.print(ads[["site", "adsorbate", "energy_ev"]].to_string(index=False))
    charges = queries.charges(store, study=study)
    if len(charges):
        console.print(
            charges.groupby(["calc_id", "method"])["net_charge"]
            .sum()
            .round(6)
            .rename("sum of net charges (e)")
            .to_string()
        )
    mlip_study = "demo_paper_slice_mlip"
    console.rule("papers' systems with the mlip engine (CHGNet 0.3.0 + D3(BJ))")
    ads = queries.adsorption(store, study=mlip_study)
    console.print(ads[["site", "adsorbate", "engine", "energy_ev"]].to_string(index=False))
    console.print(mlip_timings(store, mlip_study).to_string(index=False))
    plots = write_report(store, out / "report")
    console.print(f"plots: {', '.join(str(p) for p in plots)}")
    console.print(f"demo wall time: {time.perf_counter() - start:.0f} s")
    if summary.fizzled:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
