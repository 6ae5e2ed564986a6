"""Lorentz–Berthelot mixing (paper 000, eq. 7) written out as explicit LAMMPS pair_coeff lines."""

from __future__ import annotations

import math
from collections.abc import Sequence

from lisflow.forcefield.params import AtomType


def lorentz_berthelot(
    sigma_i: float, epsilon_i: float, sigma_j: float, epsilon_j: float
) -> tuple[float, float]:
    """σ_ij = (σ_i + σ_j)/2 (Å), ε_ij = √(ε_i ε_j) (same energy unit as the inputs)."""
    return 0.5 * (sigma_i + sigma_j), math.sqrt(epsilon_i * epsilon_j)


def pair_coeff_lines(types: Sequence[AtomType]) -> list[str]:
    """``pair_coeff i j ε_ij σ_ij  # a-b`` for every i <= j (1-based, order of ``types``).

    The lines are redundant with ``pair_modify mix arithmetic`` (also written) but make the
    input self-documenting and independent of the LAMMPS default (geometric).
    """
    lines = []
    for a, ti in enumerate(types, start=1):
        for b, tj in enumerate(types[a - 1 :], start=a):
            sigma, epsilon = lorentz_berthelot(ti.sigma, ti.epsilon, tj.sigma, tj.epsilon)
            lines.append(f"pair_coeff {a} {b} {epsilon:.6f} {sigma:.6f}  # {ti.name}-{tj.name}")
    return lines
