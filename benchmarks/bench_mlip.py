"""Benchmark of the ``mlip`` engine on the papers' systems (issue 13): wall time per
calculation and in all, steps and memory peak, for the adsorption/polymorph catalogue relaxed
with CHGNet 0.3.0 + D3(BJ) through the real workflow (``python -m lisflow.demo --bench``).

The baseline named in the same run is one CHGNet single point of the largest structure
(Li2S on Mo1/N-G, 114 atoms): the ratio "relaxation / single point" says how many force
calls a relaxation costs on this machine.

    python benchmarks/bench_mlip.py [--quick]   # quick: Li2S on the FeCo-N6 DASC (4x4) only
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from lisflow.fsutil import atomic_write_text

OUT = Path("bench_out")


def single_point_s(repeats: int) -> float:
    """Median wall time (s) of one CHGNet + D3 energy/force call on Li2S on Mo1/N-G."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from lisflow import demo

    argv = ["--out", str(OUT / "mlip"), "--adsorbates", "Li2S", "--configurations", "1"]
    if args.quick:
        argv += ["--studies", "dasc_adsorption", "--dasc-supercell", "4", "--metals", "FeCo"]
    start = time.perf_counter()
    demo.bench(argv)
    total = time.perf_counter() - start
    from lisflow.db.store import ResultStore

    store = ResultStore(f"sqlite:///{(OUT / 'mlip' / 'home' / 'results.sqlite').resolve()}")
    timings = demo.mlip_timings(store)
    baseline = single_point_s(3)
    per_calc = float(timings["wall_time_s"].median()) if len(timings) else float("nan")
    result = {
        "baseline": "one CHGNet+D3 single point, Li2S on Mo1/N-G (114 atoms), median of 3",
        "baseline_s": round(baseline, 3),
        "n_calculations": int(len(timings)),
        "median_wall_s_per_calculation": round(per_calc, 1),
        "ratio_median_relaxation_to_single_point": round(per_calc / baseline, 1),
        "total_wall_s": round(total, 1),
        "peak_rss_mb": int(timings["peak_rss_mb"].max()) if len(timings) else None,
        "per_calculation": timings.to_dict(orient="records"),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "per_calculation"}, indent=1))
    atomic_write_text(OUT / "mlip.json", json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
