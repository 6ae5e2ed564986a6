"""MSD (3-D and z) against MDAnalysis EinsteinMSD on the same trajectory; D of a random walk."""

from __future__ import annotations

import numpy as np
import pytest
from MDAnalysis.analysis.msd import EinsteinMSD

from lisflow.analysis.base import run_analyses
from lisflow.analysis.msd import MeanSquaredDisplacement, diffusion_coefficient, msd_fft_sums
from lisflow.analysis.synthetic import memory_universe, random_walk
from lisflow.errors import InputError

BOX = (20.0, 20.0, 20.0)


@pytest.fixture(scope="module")
def walk_universe():
    return memory_universe(
        random_walk(120, 150, d_a2_ps=0.05, dt_ps=2.0, box=BOX, seed=1), BOX, 2.0
    )


@pytest.mark.parametrize("msd_type", ["xyz", "z"])
def test_msd_matches_einstein_msd(walk_universe, msd_type, tmp_path):
    atoms = walk_universe.atoms
    ours = MeanSquaredDisplacement(atoms, msd_type, memory_budget_mb=0.05, workdir=tmp_path)
    run_analyses(walk_universe, [ours], progress=False)
    ref = EinsteinMSD(atoms, msd_type=msd_type, fft=False).run()
    np.testing.assert_allclose(ours.results.timeseries[1:], ref.results.timeseries[1:], rtol=1e-6)
    assert ours.results.timeseries[0] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(ours.results.lagtimes, ref.results.delta_t_values)
    assert list(tmp_path.iterdir()) == []  # the per-atom coordinate file was removed


def test_block_size_does_not_change_result(walk_universe, tmp_path):
    small = MeanSquaredDisplacement(walk_universe.atoms, memory_budget_mb=0.01, workdir=tmp_path)
    large = MeanSquaredDisplacement(walk_universe.atoms, memory_budget_mb=64, workdir=tmp_path)
    run_analyses(walk_universe, [small, large], progress=False)
    np.testing.assert_allclose(small.results.timeseries, large.results.timeseries, rtol=1e-10)


def test_fft_sums_equal_direct_sum():
    x = np.random.default_rng(3).normal(size=(17, 4))
    direct = [sum(np.sum((x[k + m] - x[k]) ** 2) for k in range(17 - m)) for m in range(17)]
    np.testing.assert_allclose(msd_fft_sums(x), direct, rtol=1e-10, atol=1e-10)


def test_unwrap_in_stream_recovers_unwrapped_msd(tmp_path):
    positions = random_walk(60, 80, d_a2_ps=0.4, dt_ps=1.0, box=(10.0, 10.0, 10.0), seed=2)
    wrapped = memory_universe(positions % 10.0, (10.0, 10.0, 10.0))
    unwrapped = memory_universe(positions, (10.0, 10.0, 10.0))
    assert np.ptp(positions[..., 2]) > 10.0  # the walk does cross the box
    ours = MeanSquaredDisplacement(wrapped.atoms, "xyz", unwrap=True, workdir=tmp_path)
    run_analyses(wrapped, [ours], progress=False)
    ref = EinsteinMSD(unwrapped.atoms, msd_type="xyz", fft=False).run()
    np.testing.assert_allclose(ours.results.timeseries[1:], ref.results.timeseries[1:], rtol=1e-5)


@pytest.mark.parametrize(("msd_type", "dim"), [("xyz", 3), ("z", 1)])
def test_random_walk_diffusion_within_two_percent(msd_type, dim, tmp_path):
    d_true = 0.25  # Å^2/ps = 2.5e-5 cm^2/s
    box = (50.0, 50.0, 50.0)
    u = memory_universe(random_walk(400, 3000, d_true, dt_ps=1.0, box=box, seed=7), box, 1.0)
    msd = MeanSquaredDisplacement(u.atoms, msd_type, workdir=tmp_path)
    run_analyses(u, [msd], progress=False)
    d_cm2_s, fit = diffusion_coefficient(msd.results.lagtimes, msd.results.timeseries, dim, window=(5.0, 40.0))
    assert d_cm2_s == pytest.approx(d_true * 1e-4, rel=0.02)
    assert fit.n_points == 36 and fit.window == (5.0, 40.0)


def test_diffusion_window_and_dim_are_checked():
    lag, msd = np.arange(10.0), 6 * np.arange(10.0)
    assert diffusion_coefficient(lag, msd, 3)[0] == pytest.approx(1e-4)
    with pytest.raises(InputError, match="window"):
        diffusion_coefficient(lag, msd, 3, window=(100.0, 200.0))
    with pytest.raises(InputError, match="dim"):
        diffusion_coefficient(lag, msd, 4)
    with pytest.raises(InputError, match="msd_type"):
        MeanSquaredDisplacement(memory_universe(np.zeros((2, 3, 3)), BOX).atoms, "w")


def test_xyz_pass_gives_per_axis_msd(walk_universe, tmp_path):
    msd = MeanSquaredDisplacement(walk_universe.atoms, "xyz", workdir=tmp_path)
    run_analyses(walk_universe, [msd], progress=False)
    for axis in "xyz":
        ref = EinsteinMSD(walk_universe.atoms, msd_type=axis, fft=False).run()
        np.testing.assert_allclose(msd.axis_msd(axis)[1:], ref.results.timeseries[1:], rtol=1e-6)
    assert set(msd.to_series()) == {("msd_xyz", q) for q in ("msd", "msd_x", "msd_y", "msd_z")}
    only_z = MeanSquaredDisplacement(walk_universe.atoms, "z")
    with pytest.raises(InputError, match="axis"):
        only_z.dims and only_z.axis_msd("x")


def test_grouped_fft_sums_equal_one_shot_numpy_bit_for_bit():
    """Columns transformed in groups (and the power summed in numba) give exactly the one-shot
    numpy/scipy formula: the same float64 operations in the same order."""
    import scipy.fft

    from lisflow.analysis.msd import _FFT_COLUMNS

    x = np.random.default_rng(4).normal(size=(37, 2 * _FFT_COLUMNS + 77)).cumsum(axis=0)
    n_t = len(x)
    sq = np.square(x).sum(axis=1)
    s1 = 2.0 * sq.sum() - np.concatenate(([0.0], np.cumsum(sq[:-1] + sq[::-1][:-1])))
    n_fft = scipy.fft.next_fast_len(2 * n_t, real=True)
    spectrum = scipy.fft.rfft(np.ascontiguousarray(x.T), n=n_fft, axis=-1)
    power = (spectrum.real**2 + spectrum.imag**2).sum(axis=0)
    expected = s1 - 2.0 * scipy.fft.irfft(power, n=n_fft)[:n_t]
    np.testing.assert_array_equal(msd_fft_sums(x), expected)
    np.testing.assert_array_equal(msd_fft_sums(x, workers=3), expected)  # threads: same bits
    np.testing.assert_array_equal(msd_fft_sums(x.astype(np.float32)), msd_fft_sums(
        x.astype(np.float32).astype(np.float64)))
