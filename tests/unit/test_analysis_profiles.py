"""Slice charge density vs numpy.histogram, surface S count, dense-phase distance, runner, memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from lisflow.analysis.base import run_analyses
from lisflow.analysis.clusters import SulfurClusters
from lisflow.analysis.msd import MeanSquaredDisplacement
from lisflow.analysis.profiles import DensePhaseDistance, SliceChargeDensity, SurfaceSulfurCount
from lisflow.analysis.synthetic import memory_universe
from lisflow.errors import InputError

BOX = (30.0, 28.0, 60.0)


def s6_universe(n_frames=30, n_s6=40, n_electrode=50, dt_ps=100.0, seed=0):
    """Electrode atoms (resid 0, z≈5) then S6 units (one residue each), some split across x."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n_frames):
        electrode = np.c_[
            rng.uniform(0, 1, (n_electrode, 2)) * BOX[:2], rng.uniform(3, 5, n_electrode)
        ]
        centres = rng.uniform(0, 1, (n_s6, 3)) * BOX * (1, 1, 0.6) + (0, 0, 6)
        sulfur = (centres[:, None, :] + rng.normal(0, 1.0, (n_s6, 6, 3))).reshape(-1, 3)
        sulfur[:, :2] %= BOX[:2]  # wrapped: molecules near x/y edges are split
        frames.append(np.concatenate([electrode, sulfur]))
    resids = np.r_[np.zeros(n_electrode, int), 1 + np.repeat(np.arange(n_s6), 6)]
    masses = np.r_[np.full(n_electrode, 95.95), np.full(6 * n_s6, 32.06)]
    return memory_universe(np.array(frames), BOX, dt_ps, resids=resids, masses=masses)


def reference_centres_z(sulfur_pos):
    """Whole-molecule centres from unwrapping each S6 about its first atom."""
    pos = sulfur_pos.reshape(-1, 6, 3).astype(float)
    box = np.array(BOX)
    pos = pos[:, :1] + (pos - pos[:, :1]) - box * np.round((pos - pos[:, :1]) / box)
    return pos.mean(axis=1)[:, 2]


def test_slice_density_matches_numpy_histogram():
    u = s6_universe()
    sulfur = u.select_atoms("prop mass < 40")
    slices = SliceChargeDensity(sulfur, block_ps=1000.0)
    run_analyses(u, [slices], progress=False)
    edges = np.arange(0, BOX[2] + 1e-9, 0.5)
    volume = BOX[0] * BOX[1] * 0.5
    histograms = []
    for _ in u.trajectory:
        counts, _ = np.histogram(reference_centres_z(sulfur.positions), bins=edges)
        histograms.append(2.0 * counts / volume)
    histograms = np.array(histograms)
    assert slices.results.density.shape == (3, 120)  # 30 frames × 100 ps in 1 ns blocks
    np.testing.assert_allclose(slices.results.block_start_ps, [0, 1000, 2000])
    for block in range(3):
        expected = histograms[10 * block : 10 * block + 10].mean(axis=0)
        np.testing.assert_allclose(slices.results.density[block], expected, rtol=1e-12)
    np.testing.assert_allclose(slices.results.mean_density, histograms.mean(axis=0), rtol=1e-12)
    # charge conservation: Σ ρ V_slice = 2 e × 40 S6 in every block
    np.testing.assert_allclose(slices.results.density.sum(axis=1) * volume, 80.0)
    assert len(slices.to_series()) == 4


def test_slice_grouping_errors():
    u = s6_universe(n_frames=2)
    with pytest.raises(InputError, match="sulfur"):
        SliceChargeDensity(u.atoms[:55], grouping="consecutive")
    with pytest.raises(InputError, match="grouping"):
        SliceChargeDensity(u.select_atoms("prop mass < 40"), grouping="bonds")


def test_surface_count_and_dense_distance():
    u = s6_universe(n_frames=5)
    sulfur = u.select_atoms("prop mass < 40")
    electrode = u.select_atoms("prop mass > 90")
    surface = SurfaceSulfurCount(sulfur, electrode)
    dense = DensePhaseDistance(sulfur, electrode, edge_percentile=10.0)
    run_analyses(u, [surface, dense], progress=False)
    for i, _ in enumerate(u.trajectory):
        z = np.sort(electrode.positions[:, 2])[::-1]
        # surface = top atomic plane: the highest z with >= 10 % of the atoms within 0.5 A
        # (this rough synthetic plate: the first such z from the top), their mean z
        need = int(np.ceil(0.1 * len(z)))
        top_z = next(t for t in z if np.sum(np.abs(z - t) <= 0.5) >= need)
        top = z[np.abs(z - top_z) <= 0.5].mean()
        height = sulfur.positions[:, 2] - top
        assert surface.results.counts[i] == np.sum((height >= 0) & (height <= 15))
        assert surface.results.surface_z[i] == pytest.approx(top, abs=1e-4)
        assert dense.results.edge[i] == pytest.approx(
            np.sort(height)[int(0.1 * (len(height) - 1))], abs=0.2
        )
        assert dense.results.centre[i] == pytest.approx(height.mean(), rel=1e-5)
    assert 0 < surface.results.counts.min() < len(sulfur)
    assert set(dense.to_series()) == {("dense", "edge_distance"), ("dense", "centre_distance")}


def test_runner_reads_trajectory_once():
    u = s6_universe(n_frames=6)
    sulfur = u.select_atoms("prop mass < 40")
    electrode = u.select_atoms("prop mass > 90")
    analyses = [
        SulfurClusters(sulfur),
        MeanSquaredDisplacement(sulfur, "z"),
        SliceChargeDensity(sulfur),
        SurfaceSulfurCount(sulfur, electrode),
        DensePhaseDistance(sulfur, electrode),
    ]
    reads = []
    original = type(u.trajectory)._read_next_timestep

    def counting(self, ts=None):
        reads.append(1)
        return original(self, ts)

    type(u.trajectory)._read_next_timestep = counting
    try:
        report = run_analyses(u, analyses, step=2, progress=False)
    finally:
        type(u.trajectory)._read_next_timestep = original
    assert report.n_frames == 3 and len(reads) <= 4
    assert all(a.n_frames == 3 for a in analyses)
    np.testing.assert_allclose(analyses[0].times, [0, 200, 400])
    assert set(report.s_per_frame) == {"clusters", "msd_z", "slices", "surface", "dense"}


def _peak_bytes(n_frames, tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.uniform(0, 1, (n_frames, 3000, 3)) * (40.0, 40.0, 40.0)
    u = memory_universe(frames, (40.0, 40.0, 40.0), dt_ps=10.0)
    analyses = [
        SulfurClusters(u.atoms, periodic=(True, True, True)),
        MeanSquaredDisplacement(u.atoms, "xyz", memory_budget_mb=1.0, workdir=tmp_path),
        SliceChargeDensity(u.atoms, grouping="consecutive"),
    ]
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    run_analyses(u, analyses, progress=False)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def test_peak_memory_flat_in_frame_count(tmp_path):
    """4× more frames must not raise the traced peak (the trajectory itself is in the reader)."""
    _peak_bytes(5, tmp_path)  # warm-up: imports, numba dispatch and reader caches
    small, large = _peak_bytes(25, tmp_path), _peak_bytes(100, tmp_path)
    # with all frames kept in RAM the MSD alone would need 4× more at 100 frames (~43 MB)
    assert large < 1.15 * small + 64 * 1024, (small, large)


def test_failed_pass_removes_msd_temporary_file(tmp_path):
    """A frame that breaks an analysis (here: a triclinic box) must not leave the MSD file."""
    u = s6_universe(n_frames=3)
    u.trajectory[0]
    u.trajectory.dimensions_array[1] = [*BOX, 90.0, 90.0, 60.0]  # frame 1 becomes triclinic
    msd = MeanSquaredDisplacement(u.atoms, "xyz", workdir=tmp_path)
    with pytest.raises(InputError, match="triclinic"):
        run_analyses(u, [msd, SliceChargeDensity(u.select_atoms("prop mass < 40"))], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_surface_is_the_sheet_plane_not_the_cluster_top():
    """0-15 A is measured from the graphene sheet / top Ti layer (issue 11 item 9)."""
    import MDAnalysis as mda

    from lisflow.analysis.profiles import surface_z

    sheet = [(x, y, 5.0 + 0.01 * ((x + y) % 3)) for x in range(10) for y in range(10)]
    cluster = [(4.0, 4.0, 7.1), (5.0, 4.0, 7.1), (4.5, 5.0, 7.1), (4.5, 4.5, 9.3)]
    ti = [(x, y, 2.0 + 2.34 * layer) for layer in range(6) for x in range(4) for y in range(4)]
    for xyz, expected in ((sheet + cluster, np.mean([p[2] for p in sheet])), (ti, 2.0 + 5 * 2.34)):
        u = mda.Universe.empty(len(xyz), trajectory=True)
        u.atoms.positions = np.array(xyz)
        assert surface_z(u.atoms) == pytest.approx(expected, abs=1e-5)


def test_fused_slice_counts_equal_numpy_centres_and_bincount():
    """The compiled slice counter gives exactly what group_centres_z + floor + bincount give,
    on centres spread over and across the periodic z boundary (float32 input)."""
    from lisflow.analysis.profiles import _slice_counts, group_centres_z

    rng = np.random.default_rng(8)
    for box_z, bin_width, z0 in [(40.0, 0.5, 0.0), (97.3, 0.37, -1.25), (12.0, 0.1, 3.0)]:
        z = (rng.uniform(-0.3, 1.3, 6 * 700) * box_z).astype(np.float32)
        groups = rng.permutation(len(z)).reshape(-1, 6)
        n_bins = int(np.ceil(box_z / bin_width))
        index = np.floor((group_centres_z(z, groups, box_z) - z0) / bin_width).astype(np.int64)
        inside = (index >= 0) & (index < n_bins)
        expected = np.bincount(index[inside], minlength=n_bins)
        counts = _slice_counts(z, groups, box_z, z0, bin_width, n_bins)
        np.testing.assert_array_equal(counts, expected)
        assert 0 < counts.sum() < len(groups)  # some centres fall outside the slices
