"""`make demo`: the main job end to end on the embedded defaults.

1. dry-run of every study in workflows/ (inputs + manifest, nothing runs);
2. a small real CP2K study (inputs/demo/li2s_dimer_cp2k.yaml) submitted to the embedded
   FireWorks LaunchPad and run here through custodian;
3. parsed results in the SQLite results database, printed as query tables, and PNG plots.

Re-running is idempotent: completed calculations are not run again.

    python -m lisflow.demo [--out demo_out]
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


def main(argv: list[str] | None = None) -> None:
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
    for report in submit([DEMO_SPEC], profile):
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
    plots = write_report(store, out / "report")
    console.print(f"plots: {', '.join(str(p) for p in plots)}")
    console.print(f"demo wall time: {time.perf_counter() - start:.0f} s")
    if summary.fizzled:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
