"""Structure builders: molecules, supports, slabs, adsorption configurations, polymorphs."""

from __future__ import annotations

from lisflow.structures.adsorption import adsorption_configurations
from lisflow.structures.diffraction import electron_diffraction_patterns
from lisflow.structures.molecules import MOLECULES, POLYSULFIDES, molecule
from lisflow.structures.polymorphs import li2s2_polymorphs, li2s_antifluorite
from lisflow.structures.support import TRANSITION_METALS, dasc_graphene, mo_ngraphene, ti0001

__all__ = [
    "MOLECULES",
    "POLYSULFIDES",
    "TRANSITION_METALS",
    "adsorption_configurations",
    "dasc_graphene",
    "electron_diffraction_patterns",
    "li2s2_polymorphs",
    "li2s_antifluorite",
    "mo_ngraphene",
    "molecule",
    "ti0001",
]
