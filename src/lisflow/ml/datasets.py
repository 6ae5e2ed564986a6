"""Synthetic benchmark data — clearly labelled SYNTHETIC, never a DFT result.

There is no public table of paper 002's adsorption energies here, so the demo and the tests use:

- :func:`planted_table`: a generic regression table with known informative features, planted
  near-copies of them (Pearson r > 0.9) and pure-noise features;
- :func:`synthetic_adsorption_table`: real feature vectors of M–N4/M1M2–N6 sites
  (:func:`lisflow.ml.features.site_features`) with a target from the stated formula
  :data:`SYNTHETIC_FORMULA` plus Gaussian noise. The target column is named
  ``e_ads_synthetic_ev`` so it cannot be mistaken for a computed adsorption energy.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lisflow.errors import InputError
from lisflow.ml.features import feature_frame

#: Column of the synthetic target (eV).
SYNTHETIC_TARGET = "e_ads_synthetic_ev"
#: The synthetic Li2S "adsorption energy" (eV), d-band-model-like trends in the features paper
#: 002 found important (chi, d-electron number, first ionisation energy, atomic radius):
SYNTHETIC_FORMULA = (
    "E = -2.0 + 0.10*M1_n_d + 0.05*M2_n_d - 0.25*(M2_chi - M1_chi) "
    "+ 0.08*(M1_ie1 - 7.5) + 0.6*(M1_r_atomic - 1.4)**2 + noise"
)
#: Features entering :data:`SYNTHETIC_FORMULA`.
SYNTHETIC_INFORMATIVE = ("M1_n_d", "M2_n_d", "M1_chi", "M2_chi", "M1_ie1", "M1_r_atomic")


def synthetic_energy(features: pd.DataFrame) -> np.ndarray:
    """Noise-free :data:`SYNTHETIC_FORMULA` (eV) for a feature frame."""
    f = features
    return (
        -2.0
        + 0.10 * f["M1_n_d"]
        + 0.05 * f["M2_n_d"]
        - 0.25 * (f["M2_chi"] - f["M1_chi"])
        + 0.08 * (f["M1_ie1"] - 7.5)
        + 0.6 * (f["M1_r_atomic"] - 1.4) ** 2
    ).to_numpy(dtype=float)


def all_sites(metals: Sequence[str] | None = None) -> list[tuple[str, ...]]:
    """Every SASC (M) and every DASC pair (M1 <= M2, homonuclear included) of ``metals``."""
    from lisflow.structures.support import TRANSITION_METALS

    pool = list(metals or TRANSITION_METALS)
    singles = [(m,) for m in pool]
    return singles + list(itertools.combinations_with_replacement(pool, 2))


def trimetallic_sites(metals: Sequence[str] | None = None) -> list[tuple[str, ...]]:
    """Trimetallic candidates: every triple (repeats allowed) of ``metals``; default Fe with any
    two of the 3d/4d/5d metals (paper 002 designs Fe-based sites)."""
    from lisflow.structures.support import TRANSITION_METALS

    if metals:
        return list(itertools.combinations_with_replacement(list(metals), 3))
    pairs = itertools.combinations_with_replacement(list(TRANSITION_METALS), 2)
    return sorted({tuple(sorted(("Fe", a, b), key=_z)) for a, b in pairs})


def _z(symbol: str) -> int:
    from pymatgen.core import Element

    return Element(symbol).Z


def synthetic_adsorption_table(
    sites: Sequence[Sequence[str]] | None = None,
    noise_ev: float = 0.05,
    seed: int = 0,
    sample: int | None = None,
) -> pd.DataFrame:
    """Feature table of ``sites`` (default: :func:`all_sites`) with the SYNTHETIC target.

    ``sample``: keep a seeded random subset of that many sites (small-data setting of paper
    002). The ``site`` column holds the site name; ``noise_ev`` is the noise std (eV).
    """
    rng = np.random.default_rng(seed)
    pool = list(sites or all_sites())
    if sample is not None:
        if not 1 <= sample <= len(pool):
            raise InputError("--sample", f"{sample} sites", f"1-{len(pool)}")
        pool = [pool[i] for i in sorted(rng.choice(len(pool), sample, replace=False))]
    frame = feature_frame(pool)
    frame[SYNTHETIC_TARGET] = synthetic_energy(frame) + rng.normal(0.0, noise_ev, len(frame))
    return frame.reset_index()


@dataclass(frozen=True)
class PlantedTable:
    """A planted regression problem: ``x``, ``y`` and which columns are which."""

    x: pd.DataFrame
    y: np.ndarray
    informative: list[str]
    copies: dict[str, str]  # copy -> informative original
    noise: list[str]


def planted_table(
    n_rows: int = 150,
    n_informative: int = 4,
    n_copies: int = 4,
    n_noise: int = 20,
    n_constant: int = 2,
    noise: float = 0.1,
    copy_noise: float = 0.3,
    seed: int = 0,
    pure_noise_target: bool = False,
) -> PlantedTable:
    """Informative ``inf_i`` ~ U(-1, 1); ``copy_i`` = inf_(i mod n_informative) +
    copy_noise·N(0,1), a degraded copy (copy_noise 0.3: r ≈ 0.89 with its original, so above the
    0.7 filter threshold yet less correlated with y); ``noise_i`` ~ N(0, 1); ``const_i``
    constant. Target:
    y = Σ_i w_i inf_i + 0.5 inf_0 inf_1 + noise·N(0,1), w_i = 1, 0.8, 0.6, ... (or pure noise)."""
    rng = np.random.default_rng(seed)
    inf = rng.uniform(-1, 1, (n_rows, n_informative))
    cols = {f"inf_{i}": inf[:, i] for i in range(n_informative)}
    copies = {f"copy_{i}": f"inf_{i % n_informative}" for i in range(n_copies)}
    for name, source in copies.items():
        cols[name] = cols[source] + copy_noise * rng.normal(size=n_rows)
    for i in range(n_noise):
        cols[f"noise_{i}"] = rng.normal(size=n_rows)
    for i in range(n_constant):
        cols[f"const_{i}"] = np.full(n_rows, float(i))
    x = pd.DataFrame(cols)
    weights = 1.0 - 0.2 * np.arange(n_informative) / max(1, n_informative - 1) * 2
    if pure_noise_target:
        y = rng.normal(size=n_rows)
    else:
        y = inf @ weights + (0.5 * inf[:, 0] * inf[:, 1] if n_informative > 1 else 0.0)
        y = y + noise * rng.normal(size=n_rows)
    return PlantedTable(
        x, np.asarray(y, dtype=float), list(cols)[:n_informative], copies,
        [f"noise_{i}" for i in range(n_noise)],
    )  # fmt: skip
