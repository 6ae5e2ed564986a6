"""Analysis of the in-situ experiments of paper 000 (Methods, eqs. 1–4; SCIENCE.md).

- Einstein–Stokes: 2-D MSD = 4 D t (eq. 1) from a droplet centroid track, D in nm²/s;
  F = (k_B T / D) · v (eq. 4) in pN with v in nm/s.
- Lifshitz–Slyozov–Wagner: projected area ∝ tⁿ, n from a log–log fit; n ≥ 1 → reaction-limited.
- Arrhenius: ln(1/R_ct) = ln A − Ea / (k_B T); Ea (eV) from the slope against 1/T.
- Faraday: capacity = ∫ I dt (mAh), and per gram of S.

Experimental units are used at this edge (nm, s, pN, Ω, mA, mg) and named in every field.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lisflow.errors import InputError

# scipy.stats / scipy.integrate are imported where used: `lisflow experiment --help` stays fast.

#: Boltzmann constant as paper 000 prints it (Methods, after eq. 3): 1.38e-23 J/K.
KB_PAPER_J_PER_K = 1.38e-23
#: Temperature of the liquid-cell experiment, K (paper 000, Methods, after eq. 3).
T_PAPER_K = 300.0
#: Boltzmann constant in eV/K for Arrhenius fits: k / e with the exact SI 2019 values
#: (k = 1.380649e-23 J/K, e = 1.602176634e-19 C; identical to scipy.constants.k / .e).
KB_EV_PER_K = 1.380649e-23 / 1.602176634e-19
#: nm²/s → m²/s, nm/s → m/s, N → pN.
_NM = 1e-9
_PN_PER_N = 1e12
#: mA·s → mAh.
_S_PER_H = 3600.0


def read_columns(path: str | Path, columns: list[str], min_rows: int = 3) -> dict[str, np.ndarray]:
    """Read named float columns from a CSV with a header row; InputError names the bad column."""
    path = Path(path)
    if not path.is_file():
        raise InputError("csv", f"file {path} does not exist")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        rows = [{(k or "").strip(): v for k, v in row.items()} for row in reader]
    data = {}
    for name in columns:
        if name not in header:
            raise InputError(f"csv.{name}", f"column missing in {path.name}", ", ".join(columns))
        values = []
        for number, row in enumerate(rows, start=2):
            text = (row.get(name) or "").strip()
            try:
                values.append(float(text))
            except ValueError:
                raise InputError(
                    f"csv.{name}", f"line {number}: {text!r} is not a number"
                ) from None
        array = np.asarray(values)
        if not np.all(np.isfinite(array)):
            raise InputError(f"csv.{name}", "contains NaN or infinite values", "finite numbers")
        data[name] = array
    if len(rows) < min_rows:
        raise InputError(f"csv.{columns[0]}", f"{len(rows)} rows", f">= {min_rows} rows")
    return data


def _require_increasing(t: np.ndarray, field: str) -> None:
    if np.any(np.diff(t) <= 0):
        raise InputError(field, "times must increase strictly", "increasing values")


@dataclass(frozen=True)
class DiffusionFit:
    """2-D Einstein fit: D (nm²/s) = slope / 4 of MSD (nm²) vs lag time (s)."""

    d_nm2_s: float
    slope_nm2_s: float
    intercept_nm2: float
    r_squared: float
    lag_s: np.ndarray
    msd_nm2: np.ndarray


def track_msd(t_s, x_nm, y_nm, origins: str = "first") -> tuple[np.ndarray, np.ndarray]:
    """MSD (nm²) of a 2-D track against lag (s).

    ``origins="first"``: |r(t) − r(t₀)|² from the first point (the paper's curve starts at the
    first tracked frame); ``"all"``: averaged over all origins (needs uniform time steps).
    """
    t, x, y = (np.asarray(a, dtype=float) for a in (t_s, x_nm, y_nm))
    _require_increasing(t, "csv.t")
    if origins == "first":
        return t[1:] - t[0], (x[1:] - x[0]) ** 2 + (y[1:] - y[0]) ** 2
    if origins == "all":
        if not np.allclose(np.diff(t), t[1] - t[0], rtol=1e-6):
            raise InputError("origins", "'all' needs uniform time steps", "first")
        lags = np.arange(1, len(t))
        msd = np.array([np.mean((x[k:] - x[:-k]) ** 2 + (y[k:] - y[:-k]) ** 2) for k in lags])
        return lags * (t[1] - t[0]), msd
    raise InputError("origins", f"unknown value {origins!r}", "first, all")


def einstein_diffusion_2d(
    t_s, x_nm, y_nm, origins: str = "first", max_lag_s: float | None = None
) -> DiffusionFit:
    """D (nm²/s) from a linear fit of the centroid MSD = 4 D t (paper 000, eq. 1)."""
    lag, msd = track_msd(t_s, x_nm, y_nm, origins)
    if max_lag_s is not None:
        keep = lag <= max_lag_s
        lag, msd = lag[keep], msd[keep]
    if len(lag) < 2:
        raise InputError("max_lag_s", f"{max_lag_s} leaves {len(lag)} points", ">= 2 points")
    from scipy import stats
    reg = stats.linregress(lag, msd)
    return DiffusionFit(
        float(reg.slope / 4.0),
        float(reg.slope),
        float(reg.intercept),
        float(reg.rvalue**2),
        lag,
        msd,
    )


def drift_velocity(t_s, x_nm, y_nm) -> tuple[np.ndarray, np.ndarray]:
    """Speed (nm/s) of the centroid between successive points, at the interval midpoints (s)."""
    t, x, y = (np.asarray(a, dtype=float) for a in (t_s, x_nm, y_nm))
    _require_increasing(t, "csv.t")
    speed = np.hypot(np.diff(x), np.diff(y)) / np.diff(t)
    return 0.5 * (t[1:] + t[:-1]), speed


def stokes_force_pn(
    v_nm_s, d_nm2_s: float, temperature_k: float = T_PAPER_K, kb_j_k: float = KB_PAPER_J_PER_K
):
    """Interaction force F = (k_B T / D) · v (paper 000, eq. 4) in pN; v in nm/s, D in nm²/s."""
    if d_nm2_s <= 0:
        raise InputError("D", f"{d_nm2_s} nm^2/s", "> 0")
    force_n = kb_j_k * temperature_k * (np.asarray(v_nm_s) * _NM) / (d_nm2_s * _NM**2)
    return force_n * _PN_PER_N


@dataclass(frozen=True)
class PowerLawFit:
    """area = prefactor · tⁿ from a log–log fit; ``reaction_limited`` is n ≥ 1 (LSW)."""

    exponent: float
    prefactor: float
    r_squared: float

    @property
    def reaction_limited(self) -> bool:
        return self.exponent >= 1.0


def lsw_exponent(t_s, area_nm2) -> PowerLawFit:
    """Lifshitz–Slyozov–Wagner growth exponent n of area ∝ tⁿ (log–log least squares)."""
    t, area = np.asarray(t_s, dtype=float), np.asarray(area_nm2, dtype=float)
    if np.any(t <= 0):
        raise InputError("csv.t", "times must be > 0 for a log–log fit", "t > 0")
    if np.any(area <= 0):
        raise InputError("csv.area", "areas must be > 0 for a log–log fit", "area > 0")
    from scipy import stats
    reg = stats.linregress(np.log(t), np.log(area))
    return PowerLawFit(float(reg.slope), float(np.exp(reg.intercept)), float(reg.rvalue**2))


@dataclass(frozen=True)
class ArrheniusFit:
    """ln(1/R_ct) = ln A − Ea/(k_B T): activation energy Ea (eV) and prefactor A (1/Ω)."""

    ea_ev: float
    prefactor_per_ohm: float
    r_squared: float


def arrhenius_activation_energy(temperature_k, r_ct_ohm) -> ArrheniusFit:
    """Ea (eV) from the slope of ln(1/R_ct) against 1/T (k_B in eV/K, CODATA)."""
    temp, r_ct = np.asarray(temperature_k, dtype=float), np.asarray(r_ct_ohm, dtype=float)
    if np.any(temp <= 0):
        raise InputError("csv.T", "temperatures must be > 0 K", "T > 0")
    if np.any(r_ct <= 0):
        raise InputError("csv.R_ct", "resistances must be > 0 Ω", "R_ct > 0")
    from scipy import stats
    reg = stats.linregress(1.0 / temp, np.log(1.0 / r_ct))
    return ArrheniusFit(
        float(-reg.slope * KB_EV_PER_K), float(np.exp(reg.intercept)), float(reg.rvalue**2)
    )


@dataclass(frozen=True)
class Capacity:
    """Charge passed ∫ I dt: ``mah`` and, with a sulfur mass, ``mah_per_g_s``."""

    mah: float
    mah_per_g_s: float | None


def faraday_capacity(t_s, current_ma, sulfur_mass_mg: float | None = None) -> Capacity:
    """Capacity (mAh) = ∫ |I| dt by the trapezoid rule; per gram of S if ``sulfur_mass_mg``."""
    t, current = np.asarray(t_s, dtype=float), np.asarray(current_ma, dtype=float)
    _require_increasing(t, "csv.t")
    from scipy import integrate
    mah = float(integrate.trapezoid(np.abs(current), t) / _S_PER_H)
    if sulfur_mass_mg is None:
        return Capacity(mah, None)
    if sulfur_mass_mg <= 0:
        raise InputError("sulfur_mass_mg", f"{sulfur_mass_mg}", "> 0")
    return Capacity(mah, mah / (sulfur_mass_mg * 1e-3))
