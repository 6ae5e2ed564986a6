"""Li2S2 polymorph candidates (paper 000, Fig. 2c, ED Fig. 2) and antifluorite Li2S.

Prototype data (space group, lattice in Å, Wyckoff positions, literature source) live in
``inputs/prototypes/<formula>.json``. Substitution rule for a hexagonal A2B2 prototype:

1. A -> Li, B -> S, fractional coordinates kept;
2. the cell is scaled isotropically by (r(Li+) + r(S2-)) / (r(A) + r(B)) with Shannon CN6
   ionic radii (Acta Cryst. A32, 751 (1976));
3. every S2 dimer is set to ``S2_BOND`` by moving both S symmetrically along the bond, which
   keeps the space group (the dimer centres are fixed points of the symmetry).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import numpy as np
from pymatgen.core import Lattice, Structure

from lisflow import INPUTS_DIR
from lisflow.errors import InputError

PROTOTYPE_DIR = INPUTS_DIR / "prototypes"

#: Hexagonal A2B2 prototypes of paper 000 (Methods DFT; ED Fig. 2a-c).
A2B2_PROTOTYPES: tuple[str, ...] = ("Li2O2", "Na2O2", "Na2S2", "Na2Se2", "K2O2", "K2S2", "Rb2S2")
TETRAGONAL_FILE = "Li2S2_P4_2mnm"

# Shannon (1976) effective ionic radii, coordination number 6, in Å.
SHANNON_RADII_CN6 = {
    "Li": 0.76,
    "Na": 1.02,
    "K": 1.38,
    "Rb": 1.52,
    "O": 1.40,
    "S": 1.84,
    "Se": 1.98,
}
S2_BOND = 2.15  # Å, S-S in disulfides (2.13 Å in Na2S2/K2S2, Foeppl et al. 1962); as in the tetragonal cell

#: Experimental lattice constant of antifluorite Li2S, 5.708 Å (Zintl, Harder & Dauth,
#: Z. Elektrochem. 40, 588 (1934)); default rounded to 5.71 Å.
LI2S_A = 5.71


@cache
def _read_prototype(name: str) -> dict[str, Any]:
    return json.loads((PROTOTYPE_DIR / f"{name}.json").read_text())


def prototype(name: str) -> Structure:
    """The prototype crystal ``name`` (a file stem in ``inputs/prototypes``) as published."""
    if not (PROTOTYPE_DIR / f"{name}.json").is_file():
        allowed = ", ".join(sorted(p.stem for p in PROTOTYPE_DIR.glob("*.json")))
        raise InputError("prototype", f"no prototype {name!r}", allowed)
    data = _read_prototype(name)
    lat = data["lattice"]
    number = data["space_group_number"]
    if 143 <= number <= 194:
        lattice = Lattice.hexagonal(lat["a"], lat["c"])
    elif 75 <= number <= 142:
        lattice = Lattice.tetragonal(lat["a"], lat["c"])
    else:
        raise ValueError(f"{name}.json: only tetragonal/hexagonal prototypes are supported")
    species = [s["species"] for s in data["sites"]]
    coords = [s["coords"] for s in data["sites"]]
    crystal = Structure.from_spacegroup(data["space_group"], lattice, species, coords, tol=1e-3)
    crystal.properties = {
        "name": data["formula"],
        "builder": "prototype",
        "space_group": data["space_group"],
        "space_group_number": data["space_group_number"],
        "structure_type": data["structure_type"],
        "source": data["source"],
    }
    return crystal


def _set_dimer_bonds(crystal: Structure, element: str, bond: float) -> Structure:
    """Move each ``element`` atom along the bond to its nearest same-element partner so that
    every dimer is ``bond`` Å long (all moves computed from the unmodified structure)."""
    idx = [i for i, s in enumerate(crystal) if s.specie.symbol == element]
    new_frac = crystal.frac_coords.copy()
    for i in idx:
        partners = [j for j in idx if j != i]
        dists = [crystal.get_distance(i, j) for j in partners]
        j = partners[int(np.argmin(dists))]
        dfrac = crystal[j].frac_coords - crystal[i].frac_coords
        dfrac -= np.round(dfrac)
        vec = crystal.lattice.get_cartesian_coords(dfrac)
        length = float(np.linalg.norm(vec))
        shift = vec / length * (length - bond) / 2
        new_frac[i] = crystal.lattice.get_fractional_coords(crystal[i].coords + shift)
    return Structure(crystal.lattice, crystal.species, new_frac)


def substituted_li2s2(name: str) -> Structure:
    """Li2S2 built from the hexagonal A2B2 prototype ``name`` by the module's substitution rule."""
    if name not in A2B2_PROTOTYPES:
        raise InputError(
            "prototype", f"{name!r} is not an A2B2 prototype", ", ".join(A2B2_PROTOTYPES)
        )
    data = _read_prototype(name)
    proto = prototype(name)
    cation, anion = data["cation"], data["anion"]
    scale = (SHANNON_RADII_CN6["Li"] + SHANNON_RADII_CN6["S"]) / (
        SHANNON_RADII_CN6[cation] + SHANNON_RADII_CN6[anion]
    )
    proto.replace_species({cation: "Li", anion: "S"})
    scaled = Structure(Lattice(proto.lattice.matrix * scale), proto.species, proto.frac_coords)
    li2s2 = _set_dimer_bonds(scaled, "S", S2_BOND)
    li2s2.add_site_property("label", ["bulk"] * len(li2s2))
    li2s2.properties = {
        "name": f"Li2S2 ({name}-derived, {data['space_group']})",
        "builder": "li2s2_polymorphs",
        "prototype": name,
        "space_group": data["space_group"],
        "space_group_number": data["space_group_number"],
        "scale": scale,
        "rule": "A->Li, B->S; isotropic Shannon-radius scaling; S-S set to 2.15 A",
        "source": data["source"],
    }
    return li2s2


def tetragonal_li2s2() -> Structure:
    """Tetragonal P4_2/mnm Li2S2 (paper 000, Fig. 2c; parameters in inputs/prototypes)."""
    data = _read_prototype(TETRAGONAL_FILE)
    crystal = prototype(TETRAGONAL_FILE)
    crystal.add_site_property("label", ["bulk"] * len(crystal))
    crystal.properties.update(
        name="Li2S2 (tetragonal, P4_2/mnm)", builder="li2s2_polymorphs", prototype="tetragonal"
    )
    crystal.properties["source"] = data["source"]
    return crystal


def li2s2_polymorphs() -> dict[str, Structure]:
    """``{"tetragonal": ..., "Li2O2": ..., ...}``: the eight Li2S2 candidates of paper 000."""
    return {"tetragonal": tetragonal_li2s2(), **{p: substituted_li2s2(p) for p in A2B2_PROTOTYPES}}


#: Fm-3m Wyckoff 4a (0, 0, 0) and 8c (1/4, 1/4, 1/4) orbits of the conventional cell (ITA No.
#: 225), in the order pymatgen's ``Structure.from_spacegroup`` generates them.
FCC_4A = ((0.0, 0.0, 0.0), (0.5, 0.5, 0.0), (0.5, 0.0, 0.5), (0.0, 0.5, 0.5))
FCC_8C = (
    (0.75, 0.25, 0.75), (0.75, 0.25, 0.25), (0.75, 0.75, 0.25), (0.25, 0.75, 0.25),
    (0.25, 0.25, 0.25), (0.75, 0.75, 0.75), (0.25, 0.75, 0.75), (0.25, 0.25, 0.75),
)  # fmt: skip


def li2s_antifluorite(a: float = LI2S_A) -> Structure:
    """Conventional cubic antifluorite Li2S (Fm-3m, S 4a, Li 8c), lattice constant ``a`` in Å."""
    if not 4.0 < a < 7.5:
        raise InputError("a", f"Li2S lattice constant {a} Å is unphysical", "4.0-7.5 Å")
    # = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["S", "Li"], [[0, 0, 0],
    # [0.25, 0.25, 0.25]]) site for site (tests), without building Fm-3m's 192 operations (~0.3 s)
    sites = [("S", xyz) for xyz in FCC_4A] + [("Li", xyz) for xyz in FCC_8C]
    crystal = Structure(Lattice.cubic(a), [el for el, _ in sites], [xyz for _, xyz in sites])
    crystal.add_site_property("label", ["bulk"] * len(crystal))
    crystal.properties = {
        "name": "Li2S (antifluorite, Fm-3m)",
        "builder": "li2s_antifluorite",
        "space_group": "Fm-3m",
        "space_group_number": 225,
        "source": "a = 5.708 A, Zintl, Harder & Dauth, Z. Elektrochem. 40, 588 (1934)",
    }
    return crystal
