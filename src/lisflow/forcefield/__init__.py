"""Classical force field of the Li-S electrolyte MD (paper 000 Methods MD, eq. 7)."""

from __future__ import annotations

from lisflow.forcefield.charges import electrode_charges
from lisflow.forcefield.mixing import lorentz_berthelot, pair_coeff_lines
from lisflow.forcefield.params import (
    FORCEFIELD_DIR,
    AtomType,
    ForceField,
    SpeciesFF,
    load_forcefield,
    load_species,
)

__all__ = [
    "FORCEFIELD_DIR",
    "AtomType",
    "ForceField",
    "SpeciesFF",
    "electrode_charges",
    "load_forcefield",
    "load_species",
    "lorentz_berthelot",
    "pair_coeff_lines",
]
