"""Experiment analysis (paper 000, Methods eqs. 1–4): values built from the paper's numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from lisflow.analysis import experiment as ex
from lisflow.cli import app
from lisflow.errors import InputError

# Ea (eV) with/without Mo centres at 2.0, 1.9, 1.8, 1.7 V (paper 000, ED Fig. 9d; SCIENCE.md)
PAPER_EA_EV = [0.27, 0.50, 0.23, 0.50, 0.17, 0.49, 0.19, 0.49]


def write_csv(path, columns: dict[str, np.ndarray]) -> str:
    names = list(columns)
    lines = [",".join(names)]
    lines += [",".join(repr(float(v)) for v in row) for row in zip(*columns.values(), strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def paper_track(d_nm2_s=4.71, n=40):
    """Centroid track whose first-origin MSD is exactly 4 D t (eq. 1), at varying angles."""
    t = 34.4 + 0.2 * np.arange(n)  # starts at 34.4 s like ED Fig. 6d
    radius = np.sqrt(4 * d_nm2_s * (t - t[0]))
    angle = np.linspace(0, 3 * np.pi, n)
    return t, 100 + radius * np.cos(angle), 50 + radius * np.sin(angle)


def test_einstein_fit_returns_paper_d():
    t, x, y = paper_track()
    fit = ex.einstein_diffusion_2d(t, x, y)
    assert fit.d_nm2_s == pytest.approx(4.71, rel=1e-10)
    assert fit.r_squared == pytest.approx(1.0)


def test_einstein_all_origins_on_random_walk():
    rng = np.random.default_rng(0)
    n, dt, d = 20000, 0.1, 4.71
    steps = rng.normal(0, np.sqrt(2 * d * dt), (n, 2))
    xy = np.cumsum(steps, axis=0)
    t = dt * np.arange(n)
    fit = ex.einstein_diffusion_2d(t, xy[:, 0], xy[:, 1], origins="all", max_lag_s=1.0)
    assert fit.d_nm2_s == pytest.approx(d, rel=0.05)


def test_stokes_force_in_pn():
    # F = kB T v / D = 1.38e-23 × 300 × (10e-9 m/s) / (4.71e-18 m²/s) = 8.790 pN
    assert ex.stokes_force_pn(10.0, 4.71) == pytest.approx(1.38e-23 * 300 * 10e-9 / 4.71e-18 * 1e12)
    assert ex.stokes_force_pn(10.0, 4.71) == pytest.approx(8.7898, rel=1e-4)
    np.testing.assert_allclose(
        ex.stokes_force_pn(np.array([0.0, 2.0]), 1.0), [0.0, 8.28], rtol=1e-12
    )
    with pytest.raises(InputError, match="D"):
        ex.stokes_force_pn(1.0, 0.0)


def test_drift_velocity():
    t = np.array([0.0, 1.0, 3.0])
    mid, v = ex.drift_velocity(t, [0.0, 3.0, 3.0], [0.0, 4.0, 14.0])
    np.testing.assert_allclose(mid, [0.5, 2.0])
    np.testing.assert_allclose(v, [5.0, 5.0])


@pytest.mark.parametrize("n", [0.6, 0.95, 1.2, 1.8])
def test_lsw_exponent_recovered(n):
    t = np.linspace(40.0, 45.2, 12)
    fit = ex.lsw_exponent(t, 37.0 * t**n)
    assert fit.exponent == pytest.approx(n, rel=1e-10)
    assert fit.prefactor == pytest.approx(37.0, rel=1e-8)
    assert fit.reaction_limited is (n >= 1)


@pytest.mark.parametrize("ea", PAPER_EA_EV)
def test_arrhenius_recovers_paper_ea(ea):
    temperature = np.array([298.15, 308.15, 318.15, 328.15, 338.15])
    r_ct = 0.02 * np.exp(ea / (ex.KB_EV_PER_K * temperature))  # 1/R_ct = A exp(−Ea/kT)
    fit = ex.arrhenius_activation_energy(temperature, r_ct)
    assert fit.ea_ev == pytest.approx(ea, rel=1e-10)
    assert fit.prefactor_per_ohm == pytest.approx(50.0, rel=1e-8)


def test_constant_current_capacity_is_i_times_t():
    t = np.linspace(0, 7200.0, 101)  # 2 h
    cap = ex.faraday_capacity(t, np.full_like(t, 0.112), sulfur_mass_mg=0.8)  # 0.112 mA (Methods)
    assert cap.mah == pytest.approx(0.224, rel=1e-12)
    assert cap.mah_per_g_s == pytest.approx(0.224 / 0.8e-3)


def test_csv_errors_name_the_column(tmp_path):
    good = write_csv(tmp_path / "a.csv", {"t": np.arange(4.0), "x": np.ones(4)})
    with pytest.raises(InputError, match="csv.y"):
        ex.read_columns(good, ["t", "x", "y"])
    nan = tmp_path / "nan.csv"
    nan.write_text("t,area\n1,2\n2,nan\n3,4\n")
    with pytest.raises(InputError, match="csv.area"):
        ex.read_columns(nan, ["t", "area"])
    text = tmp_path / "text.csv"
    text.write_text("t,area\n1,2\n2,abc\n3,4\n")
    with pytest.raises(InputError, match=r"csv.area: line 3"):
        ex.read_columns(text, ["t", "area"])
    short = write_csv(tmp_path / "short.csv", {"t": np.arange(2.0), "area": np.ones(2)})
    with pytest.raises(InputError, match="rows"):
        ex.read_columns(short, ["t", "area"])
    with pytest.raises(InputError, match="csv.t"):
        ex.lsw_exponent([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])


def test_cli_commands(tmp_path):
    runner = CliRunner()
    t, x, y = paper_track()
    track = write_csv(tmp_path / "track.csv", {"t": t, "x": x, "y": y})
    result = runner.invoke(app, ["experiment", "stokes", "--csv", track, "--format", "json"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.output)
    assert values["D_nm2_s"] == pytest.approx(4.71)
    assert values["mean_force_pN"] == pytest.approx(
        float(np.mean(ex.stokes_force_pn(ex.drift_velocity(t, x, y)[1], 4.71)))
    )
    temperature = np.array([300.0, 310.0, 320.0])
    rct = write_csv(
        tmp_path / "r.csv",
        {"T": temperature, "R_ct": np.exp(0.27 / (ex.KB_EV_PER_K * temperature))},
    )
    result = runner.invoke(app, ["experiment", "arrhenius", "--csv", rct, "--format", "json"])
    assert json.loads(result.output)["ea_ev"] == pytest.approx(0.27)
    cap = write_csv(
        tmp_path / "c.csv", {"t": np.array([0.0, 1800.0, 3600.0]), "I": np.full(3, 2.0)}
    )
    result = runner.invoke(app, ["experiment", "capacity", "--csv", cap])
    assert result.exit_code == 0 and "mah" in result.output
    area = write_csv(tmp_path / "lsw.csv", {"t": t, "area": t**1.5})
    result = runner.invoke(app, ["experiment", "lsw", "--csv", area, "--format", "json"])
    assert json.loads(result.output)["reaction_limited"] is True
    result = runner.invoke(app, ["experiment", "lsw", "--csv", track])
    assert result.exit_code == 2
    assert "csv.area" in result.output
