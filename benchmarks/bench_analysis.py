"""Benchmark of one streaming analysis pass (lisflow.analysis) on a dense-phase-sized trajectory.

Writes once (cached in ``bench_out/``) a DCD shaped like the paper's dense-phase model: 150,000
atoms, 18,360 S in 3,060 S6 units clustered over an electrode plate, 172.2 × 153.39 × 250 Å,
``--frames`` frames (500; 40 with ``--quick``). Then:

1. peak memory (tracemalloc, and process max RSS) of a pass at 1/4 and at all frames;
2. ``--repeats`` (3) passes over all frames, each feeding our five analyses (clusters, MSD
   xyz (+ z), slices, surface, dense) AND freud ``cluster.Cluster`` (r_max 3.5 Å) frame by
   frame, so both see the same frames and machine load: median ms per frame of each
   (``_conclude`` spread over the frames), of reading, and our whole pass per frame = read +
   Σ ours; the ratio whole pass / freud is the median of the passes' ratios. The same sums
   over each one's fastest frame (``min_*`` rows) give the cost without waiting for a core.
   Our numba code is compiled (or loaded from its cache) in a warm-up pass before, so no JIT
   time is counted; both sides use their default threads (numba: NUMBA_NUM_THREADS, freud:
   all cores);
3. one pass over the first ``--baseline-frames`` frames feeding ours and every baseline:
   freud, MDAnalysis ``capped_distance`` + scipy connected components, MDAnalysis
   ``EinsteinMSD`` (fft=True when tidynamics is installed, else the windowed algorithm) and
   ``LinearDensity`` (0.5 Å bins), keys suffixed ``@<frames>f``.

Prints a table and writes ``bench_out/analysis.json``.

    python benchmarks/bench_analysis.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from lisflow.analysis.base import StreamingAnalysis, run_analyses
from lisflow.analysis.clusters import S_S_CUTOFF_A
from lisflow.analysis.msd import MeanSquaredDisplacement
from lisflow.analysis.synthetic import dense_phase_universe, write_dense_phase_dcd
from lisflow.analysis.trajectory import build_analyses
from lisflow.fsutil import atomic_write_text

OUT = Path("bench_out")
SULFUR = "prop mass > 32.0 and prop mass < 32.1"
ELECTRODE = "prop mass > 95.9 and prop mass < 96.0"


def trajectory(n_frames: int) -> Path:
    """The cached synthetic DCD with ``n_frames`` frames (written once)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"dense_phase_150k_{n_frames}f.dcd"
    if not path.exists():
        t0 = time.perf_counter()
        write_dense_phase_dcd(path, n_frames)
        print(f"wrote {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return path


def our_analyses(u, workdir: str) -> list:
    """The five lisflow analyses as ``lisflow analyze`` builds them (MSD xyz also gives z)."""
    analyses = build_analyses(
        u, ["clusters", "msd", "slices", "surface", "dense"], SULFUR, ELECTRODE
    )
    for a in analyses:
        if isinstance(a, MeanSquaredDisplacement):
            a.workdir = workdir
    return analyses


class FreudClusters(StreamingAnalysis):
    """Baseline: freud ``cluster.Cluster`` (r_max 3.5 Å, periodic x/y) + five largest sizes."""

    name = "freud_cluster"

    def __init__(self, sulfur):
        super().__init__(sulfur.universe.trajectory)
        self.sulfur = sulfur

    def _prepare(self):
        import freud

        self._freud = freud
        self._cluster = freud.cluster.Cluster()

    def _single_frame(self):
        lengths = self._ts.dimensions[:3]
        box = self._freud.box.Box(*lengths)
        box.periodic_z = False
        points = self.sulfur.positions - lengths / 2
        self._cluster.compute((box, points), neighbors={"r_max": S_S_CUTOFF_A})
        np.sort(np.bincount(self._cluster.cluster_idx))[::-1][:5].mean()

    def _conclude(self):
        pass


class CappedDistanceClusters(StreamingAnalysis):
    """Baseline: MDAnalysis ``capped_distance`` pairs + scipy connected components."""

    name = "mda_capped_distance_cluster"

    def __init__(self, sulfur):
        super().__init__(sulfur.universe.trajectory)
        self.sulfur = sulfur

    def _prepare(self):
        pass

    def _single_frame(self):
        from MDAnalysis.lib.distances import capped_distance
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = len(self.sulfur)
        pos = self.sulfur.positions
        pairs = capped_distance(
            pos, pos, S_S_CUTOFF_A, box=self._ts.dimensions, return_distances=False
        )
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        np.sort(np.bincount(labels))[::-1][:5].mean()

    def _conclude(self):
        pass


def per_frame_ms(report, names) -> dict[str, float]:
    """Median ms per frame of each analysis plus its ``_conclude`` spread over the frames."""
    n = max(report.n_frames, 1)
    return {k: 1e3 * (report.s_per_frame[k] + report.conclude_s[k] / n) for k in names}


def baseline_pass(dcd: Path, n_frames: int, workdir: str) -> dict[str, float]:
    """ONE pass over the first ``n_frames`` frames feeding ours and every baseline per frame."""
    from MDAnalysis.analysis.lineardensity import LinearDensity
    from MDAnalysis.analysis.msd import EinsteinMSD

    u = dense_phase_universe(dcd)
    sulfur = u.select_atoms(SULFUR)
    ours = our_analyses(u, workdir)
    try:
        import tidynamics  # noqa: F401

        fft = True
    except ImportError:
        fft = False
    einstein = EinsteinMSD(sulfur, msd_type="xyz", fft=fft)
    einstein.name = f"mda_einstein_msd_{'fft' if fft else 'windowed'}"
    linear = LinearDensity(sulfur, grouping="atoms", binsize=0.5)
    linear.name = "mda_linear_density"
    others = [FreudClusters(sulfur), CappedDistanceClusters(sulfur), einstein, linear]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = run_analyses(u, ours + others, stop=n_frames, progress=False)
    names = [a.name for a in ours + others]
    return {f"{k}@{n_frames}f": v for k, v in per_frame_ms(report, names).items()}


def main_pass(dcd: Path, workdir: str, progress: bool) -> tuple[dict[str, float], float]:
    """All frames: our five analyses and freud's clustering side by side in one pass."""
    u = dense_phase_universe(dcd)
    ours = our_analyses(u, workdir)
    freud_cluster = FreudClusters(u.select_atoms(SULFUR))
    report = run_analyses(u, [*ours, freud_cluster], progress=progress)
    times = per_frame_ms(report, [a.name for a in ours])
    times["read_dcd"] = 1e3 * report.read_s_per_frame
    whole = sum(times.values())
    times = {f"lisflow_{k}": v for k, v in times.items()}
    times["lisflow_whole_pass"] = whole
    times["freud_cluster"] = per_frame_ms(report, ["freud_cluster"])["freud_cluster"]
    # fastest frame of each (+ conclude spread): the cost without waiting for a shared core
    n = max(report.n_frames, 1)
    fastest = {a.name: 1e3 * (report.min_s_per_frame[a.name] + report.conclude_s[a.name] / n)
               for a in [*ours, freud_cluster]}
    times["min_lisflow_whole_pass"] = 1e3 * report.min_read_s_per_frame + sum(
        fastest[a.name] for a in ours
    )
    times["min_freud_cluster"] = fastest["freud_cluster"]
    return times, report.n_frames


def peak_memory(dcd: Path, stop: int, workdir: str) -> dict[str, float]:
    """Traced peak (MiB) of a pass of our analyses over ``stop`` frames, and max RSS after it."""
    u = dense_phase_universe(dcd)
    analyses = our_analyses(u, workdir)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    run_analyses(u, analyses, stop=stop, progress=False)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"frames": stop, "traced_peak_mib": peak / 2**20, "max_rss_mib": rss_kib / 1024}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 frames, 5 baseline frames")
    parser.add_argument("--frames", type=int, default=None, help="frames in the DCD (500)")
    parser.add_argument(
        "--baseline-frames", type=int, default=None, help="frames for baselines (40)"
    )
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--repeats", type=int, default=3, help="main passes; medians over them (3)"
    )
    args = parser.parse_args(argv)
    n_frames = args.frames or (40 if args.quick else 500)
    n_base = min(args.baseline_frames or (5 if args.quick else 40), n_frames)
    dcd = trajectory(n_frames)
    with tempfile.TemporaryDirectory(dir=OUT) as workdir:
        warm = dense_phase_universe(dcd)  # warm-up: numba compilation, caches
        run_analyses(warm, our_analyses(warm, workdir), stop=2, progress=False)
        # memory first (small frame count first, so max RSS could only grow)
        memory = [
            peak_memory(dcd, max(2, n_frames // 4), workdir),
            peak_memory(dcd, n_frames, workdir),
        ]
        runs = [
            main_pass(dcd, workdir, progress=not args.no_progress) for _ in range(args.repeats)
        ]
        base = baseline_pass(dcd, n_base, workdir)
    n_done = runs[0][1]
    ratios = [t["lisflow_whole_pass"] / t["freud_cluster"] for t, _ in runs]
    ratio = float(np.median(ratios))
    times = {k: float(np.median([t[k] for t, _ in runs])) for k in runs[0][0]}
    result = {
        "system": {"atoms": 150_000, "sulfur": 18_360, "frames": n_done, "baseline_frames": n_base},
        "ms_per_frame": times | base,
        "whole_pass_over_freud": ratio,
        "whole_pass_over_freud_runs": ratios,
        "fastest_frames_whole_pass_over_freud": times["min_lisflow_whole_pass"]
        / times["min_freud_cluster"],
        "target_whole_pass_over_freud": 0.4,
        "memory": memory,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(f"{'quantity':44s} {'ms/frame':>10s}")
    for key, value in result["ms_per_frame"].items():
        print(f"{key:44s} {value:10.2f}")
    print(
        f"whole pass / freud cluster alone (baseline, same pass) = {ratio:.2f} (target <= 0.4;"
        f" median of {len(ratios)} passes: {', '.join(f'{r:.2f}' for r in ratios)});"
        f" fastest frames: {result['fastest_frames_whole_pass_over_freud']:.2f}"
    )
    for m in memory:
        print(
            f"{m['frames']:5d} frames: traced peak {m['traced_peak_mib']:.1f} MiB, max RSS {m['max_rss_mib']:.0f} MiB"
        )
    atomic_write_text(OUT / "analysis.json", json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
