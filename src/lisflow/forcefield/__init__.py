"""Classical force field of the Li-S electrolyte MD (paper 000 Methods MD, eq. 7).

Names load on first use (PEP 562), so ``lisflow.forcefield.cli`` imports no pymatgen.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> submodule defining it
_SOURCES = {
    "electrode_charges": "charges",
    "lorentz_berthelot": "mixing",
    "pair_coeff_lines": "mixing",
    "FORCEFIELD_DIR": "params",
    "AtomType": "params",
    "ForceField": "params",
    "SpeciesFF": "params",
    "load_forcefield": "params",
    "load_species": "params",
}

__all__ = sorted(_SOURCES)


def __getattr__(name: str) -> Any:
    if name not in _SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_SOURCES[name]}"), name)
