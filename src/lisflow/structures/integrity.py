"""Did the adsorbate stay one molecule? Like-atom bonds (S–S) of a relaxed adslab's adsorbate.

A relaxation can break the adsorbate apart (S8 on Ti(001) becomes surface sulfide): its
E_adslab − E_slab − E_molecule is then a reaction energy, not an adsorption energy, and must
not be read as one. The adsorbate atoms are those of the molecule's elements when the slab has
none of them (Li, S on graphene, Mo and Ti supports); bonds are pairs closer than
``BOND_SCALE`` × the sum of covalent radii (Cordero et al., Dalton Trans. 2008, via
``ase.data.covalent_radii``), with periodic images.
"""

from __future__ import annotations

import numpy as np
from ase.data import atomic_numbers, covalent_radii
from pymatgen.core import Molecule, Structure

#: Bond if d < 1.25 (r_i + r_j): S–S 2.05–2.1 Å (cut 2.63), Li–S 2.3–2.5 Å (cut 2.91); the
#: second shell of S8 (3.3 Å) stays apart. Our choice, a common factor for bonding graphs.
BOND_SCALE = 1.25

#: Start of the note stored in ``state_reason`` of a COMPLETED E_ads row whose adsorbate broke.
DISSOCIATED = "adsorbate dissociated: "


def _bonded(structure: Structure | Molecule, elements: set[str]) -> tuple[list[str], np.ndarray]:
    """Symbols of the sites of ``elements`` and their bond matrix (periodic images included)."""
    indices = [i for i, site in enumerate(structure) if site.specie.symbol in elements]
    if not indices:
        return [], np.zeros((0, 0), dtype=bool)
    sub = type(structure).from_sites([structure[i] for i in indices])
    symbols = [site.specie.symbol for site in sub]
    radii = np.array([covalent_radii[atomic_numbers[symbol]] for symbol in symbols])
    bonded = sub.distance_matrix < BOND_SCALE * (radii[:, None] + radii[None, :])
    np.fill_diagonal(bonded, False)
    return symbols, bonded


def homonuclear_bonds(structure: Structure | Molecule, elements: set[str]) -> dict[str, int]:
    """Bonds between like atoms of ``elements`` (e.g. the S–S bonds of a polysulfide chain)."""
    symbols, bonded = _bonded(structure, elements)
    names = np.array(symbols)
    return {
        f"{el}-{el}": int(np.triu(bonded[np.ix_(names == el, names == el)]).sum())
        for el in sorted(set(symbols))
    }


def dissociation_note(
    adslab: Structure | Molecule, slab: Structure | Molecule, molecule: Structure | Molecule
) -> str | None:
    """``None`` when the adsorbate kept every like-atom bond between the non-metal atoms of the
    relaxed molecule (its S–S chain), or cannot be told apart from the slab by element; else a
    one-line note saying what broke. Li moving (to N, paper 002) is not flagged."""
    elements = {el.symbol for el in molecule.composition.elements}
    if elements & {el.symbol for el in slab.composition.elements}:
        return None  # adsorbate atoms not identifiable by element
    chains = {el.symbol for el in molecule.composition.elements if not el.is_metal}
    # like-atom contacts of metals (Li···Li 3 Å in Li2S_n) are not bonds that break
    before, after = homonuclear_bonds(molecule, chains), homonuclear_bonds(adslab, chains)
    lost = [f"{pair} bonds {n} -> {after.get(pair, 0)}" for pair, n in before.items()
            if after.get(pair, 0) < n]  # fmt: skip
    if not lost:
        return None
    return f"{DISSOCIATED}{', '.join(lost)}; a reaction energy, not an adsorption energy"
