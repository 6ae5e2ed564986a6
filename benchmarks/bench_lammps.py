"""LAMMPS throughput (ns/day) of the generated electrolyte input at several PPPM/neighbour settings.

The box is the scaled-down bulk electrolyte of ``electrolyte_md`` (17.93 wt%, N = 255 Li2S6),
packed once with packmol; every setting runs the same NVT segment (after a short minimisation)
``--repeats`` times, and the median of LAMMPS' own "Performance: ... ns/day" line is reported
next to the baseline (the study defaults: PPPM 1e-5, 12 Å cutoff, 2 Å skin) measured in the
same run. ``--quick``: a smaller box, fewer steps, two repeats. Writes bench_out/lammps.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from lisflow.engines.lammps_handlers import lammps_command, lammps_env
from lisflow.io.lammps import input_script, merged
from lisflow.io.lammps_data import layout
from lisflow.structures.md_boxes import build_system, pack

SETTINGS = {
    "baseline (pppm 1e-5, rc 12, skin 2)": {
        "pppm_accuracy": 1e-5,
        "cutoff_a": 12.0,
        "neighbor_skin_a": 2.0,
    },
    "pppm 1e-4, rc 12, skin 2": {"pppm_accuracy": 1e-4, "cutoff_a": 12.0, "neighbor_skin_a": 2.0},
    "pppm 1e-4, rc 10, skin 1": {"pppm_accuracy": 1e-4, "cutoff_a": 10.0, "neighbor_skin_a": 1.0},
}
_PERF = re.compile(r"^Performance: (?P<ns>[\d.eE+-]+) ns/day")


def _lammps(directory: Path) -> None:
    subprocess.run(
        [*lammps_command(), "-in", "in.lammps", "-log", "log.lammps"],
        cwd=directory,
        env=lammps_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def minimise(directory: Path, system: dict) -> None:
    """Minimise the packed box once; every setting starts from ``min.restart``."""
    params = {"system": system, "stages": [{"name": "min", "ensemble": "minimize"}]}
    (directory / "in.lammps").write_text(input_script(merged(params), layout(build_system(system))))
    _lammps(directory)
    shutil.copy(directory / "final.restart", directory / "min.restart")


def ns_per_day(directory: Path, params: dict) -> float:
    """Run the NVT segment from the minimised state; LAMMPS' own ns/day of that run."""
    lay = layout(build_system(params["system"]))
    (directory / "in.lammps").write_text(input_script(merged(params), lay, restart="min.restart"))
    _lammps(directory)
    perf = [
        float(m["ns"])
        for line in (directory / "log.lammps").read_text().splitlines()
        if (m := _PERF.match(line.strip()))
    ]
    return perf[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    scale = args.scale or (0.02 if args.quick else 0.1)
    repeats = args.repeats or (2 if args.quick else 3)
    steps = args.steps or (200 if args.quick else 1000)
    system = {"kind": "bulk", "n_li2s6": 255, "scale": scale, "name": "bench"}
    box = build_system(system)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        pack(box, work)
        pack_s = time.perf_counter() - t0
        minimise(work, system)
        for label, setting in SETTINGS.items():
            params = {
                "system": system,
                "stages": [
                    {
                        "name": "nvt",
                        "ensemble": "nvt",
                        "time_ps": steps / 1000.0,
                        "temperature_k": 300.0,
                    }
                ],
                "thermo_every_ps": steps / 1000.0,
                "dump_every_ps": steps / 1000.0,
                "restart_every_ps": 1.0e6,
                **setting,
            }
            values = [ns_per_day(work, params) for _ in range(repeats)]
            rows.append(
                {
                    "setting": label,
                    **setting,
                    "ns_per_day": values,
                    "median_ns_per_day": statistics.median(values),
                }
            )
    base = rows[0]["median_ns_per_day"]
    print(
        f"LAMMPS {box.n_atoms} atoms (scale {scale}), {steps} NVT steps, {repeats} repeats; "
        f"packmol {pack_s:.1f} s"
    )
    print(f"{'setting':40s} {'ns/day (median)':>16s} {'vs baseline':>12s}")
    for row in rows:
        row["speedup_vs_baseline"] = row["median_ns_per_day"] / base
        print(
            f"{row['setting']:40s} {row['median_ns_per_day']:16.3f} {row['speedup_vs_baseline']:11.2f}x"
        )
    out = Path("bench_out")
    out.mkdir(exist_ok=True)
    (out / "lammps.json").write_text(
        json.dumps(
            {
                "atoms": box.n_atoms,
                "scale": scale,
                "steps": steps,
                "repeats": repeats,
                "packmol_s": pack_s,
                "baseline": rows[0]["setting"],
                "results": rows,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
