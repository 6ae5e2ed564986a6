"""Typed inputs of the mechanism runs (paper 002): harmonic frequencies and CI-NEB.

They ride on the engine's own input set (``MlipSettings.vibrations`` / ``.neb``,
``VaspInputGenerator.neb``), built once by :mod:`lisflow.workflows.plan_mechanism`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymatgen.core import Structure

from lisflow.calculation import InputSet


@dataclass(frozen=True)
class VibrationInputs(InputSet):
    """Finite-difference frequencies of the free atoms: ``delta`` Å displacement, ``nfree``
    displacements per degree of freedom, modes below ``low_mode_floor_cm1`` (cm⁻¹) enter the
    entropy at the floor; ``free_molecule``: a gas-phase molecule (translations and rotations
    removed). Sources: :class:`lisflow.spec.mechanism.VibrationOptions`."""

    delta: float = 0.015
    nfree: int = 2
    low_mode_floor_cm1: float = 100.0
    free_molecule: bool = False


@dataclass(frozen=True)
class NebInputs(InputSet):
    """One CI-NEB: the end state ``final_structure`` (pymatgen dict, same atom order as the
    calculation's start structure), ``images`` intermediate images, ``spring`` eV/Å²,
    ``neb_fmax`` eV/Å and ``neb_steps`` (MLIP optimiser), ``vtst`` (VASP: climbing image with
    the VTST tools, else standard VASP's plain NEB)."""

    final_structure: dict[str, Any]
    images: int = 5
    spring: float = 5.0
    neb_fmax: float = 0.05
    neb_steps: int = 300
    vtst: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.final_structure, Structure):  # FireWorks may decode it
            object.__setattr__(self, "final_structure", self.final_structure.as_dict())
        super().__post_init__()

    def final(self) -> Structure:
        """The end state as a Structure."""
        return Structure.from_dict(self.final_structure)
