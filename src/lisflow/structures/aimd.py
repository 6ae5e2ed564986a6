"""AIMD model of paper 000 (Methods DFT, ED Fig. 8g): Mo4/N-G + a solution layer + Li below.

The solution layer (3 Li2S6, 3 LiTFSI, 12 DOL, 12 DME by default) is packed with packmol
(fixed seed) above the Mo cluster at :data:`LAYER_DENSITY`; six Li atoms sit under the
sheet ("electrode potential": they must stay below it) on a 3 × 2 grid at :data:`LI_BELOW` Å.
All H become D (``site.properties["isotope"] = "D"``, mass 2.014 u; the CP2K writer emits
``&KIND D ELEMENT H MASS 2.014``). Every component is neutral (Li2S6, Li+ + TFSI-, solvents,
Li atoms of the electrode counted as neutral atoms in DFT), so the model is neutral.
Labels: support / metal / coordinating_N (from ``mo_ngraphene``), adsorbate (solution),
electrode_Li. Lengths Å.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure

from lisflow.errors import InputError
from lisflow.io.lammps_data import read_xyz
from lisflow.io.lammps_packmol import run_packmol
from lisflow.structures.md_boxes import AMU_PER_A3, MdSystem, PackRegion
from lisflow.structures.molecules import molecule

DEUTERIUM_MASS = 2.01410177812  # u, NIST atomic weights (2H)
LAYER_DENSITY = 1.0  # g/cm^3 of the packed solution layer (electrolyte ~1.0-1.1)
LI_BELOW = 2.0  # Å below the sheet (Li on graphene: ~1.7-2.0 Å in DFT)
GAP = 2.0  # Å between the cluster top and the solution layer
MARGIN = 1.0  # Å from the lateral cell faces (half the packmol tolerance)


def electrode_li_indices(structure: Structure) -> list[int]:
    """Indices of the Li atoms under the sheet (label ``electrode_Li``)."""
    return [i for i, s in enumerate(structure) if s.properties.get("label") == "electrode_Li"]


def aimd_interface_model(
    n_li2s6: int = 3,
    n_litfsi: int = 3,
    n_dol: int = 12,
    n_dme: int = 12,
    electrode_li: int = 6,
    deuterate: bool = True,
    vacuum: float = 15.0,
    seed: int = 20231001,
    workdir: str | Path | None = None,
) -> Structure:
    """The Mo4/N-G + solution + Li model (deterministic for a given seed)."""
    from lisflow.structures.support import mo_ngraphene

    for name, n in (
        ("n_li2s6", n_li2s6),
        ("n_litfsi", n_litfsi),
        ("n_dol", n_dol),
        ("n_dme", n_dme),
        ("electrode_li", electrode_li),
    ):
        if n < 0:
            raise InputError(name, f"must be >= 0, got {n}")
    base = mo_ngraphene(4)
    a, b = base.lattice.a, base.lattice.b
    labels = list(base.site_properties["label"])
    sheet_z = float(
        np.median([s.coords[2] for s, lab in zip(base, labels, strict=True) if lab == "support"])
    )
    z0 = float(base.cart_coords[:, 2].max()) + GAP
    counts = {"Li2S6": n_li2s6, "Li": n_litfsi, "TFSI": n_litfsi, "DOL": n_dol, "DME": n_dme}
    mass = sum(float(molecule(k).composition.weight) * n for k, n in counts.items())
    z1 = z0 + mass / (LAYER_DENSITY * AMU_PER_A3 * a * b)
    regions = [
        PackRegion(k, n, (MARGIN, MARGIN, z0), (a - MARGIN, b - MARGIN, z1))
        for k, n in counts.items()
        if n > 0
    ]
    system = MdSystem("aimd", "aimd", {}, (a, b, z1), regions, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        packed = read_xyz(run_packmol(system, Path(workdir or tmp)))
    species, coords, site_labels, mol_names = [], [], [], []
    k = 0
    for region in regions:
        mol = molecule(region.species)
        for copy in range(region.count):
            for site in mol:
                species.append(str(site.specie))
                coords.append(packed[k])
                site_labels.append("adsorbate")
                mol_names.append(f"{region.species}:{copy}")
                k += 1
    li_xy = [((i + 0.5) * a / 3, (j + 0.5) * b / 2) for j in range(2) for i in range(3)]
    if electrode_li > len(li_xy):
        li_xy = [((i + 0.5) * a / electrode_li, b / 2) for i in range(electrode_li)]
    li = [(x, y, sheet_z - LI_BELOW) for x, y in li_xy[:electrode_li]]
    # shift everything up so the Li layer sits half the vacuum above z = 0
    all_xyz = np.vstack(
        [base.cart_coords, np.array(coords).reshape(-1, 3), np.array(li).reshape(-1, 3)]
    )
    shift = vacuum / 2 - all_xyz[:, 2].min()
    all_xyz[:, 2] += shift
    c = float(all_xyz[:, 2].max()) + vacuum / 2
    all_species = [str(s.specie) for s in base] + species + ["Li"] * len(li)
    all_labels = labels + site_labels + ["electrode_Li"] * len(li)
    groups = ["electrode"] * len(base) + mol_names + [f"electrode_Li:{i}" for i in range(len(li))]
    isotope = ["D" if deuterate and s == "H" else None for s in all_species]
    masses = [DEUTERIUM_MASS if iso == "D" else None for iso in isotope]
    model = Structure(
        Lattice.orthorhombic(a, b, c),
        all_species,
        all_xyz,
        coords_are_cartesian=True,
        charge=0,
        site_properties={
            "label": all_labels,
            "molecule": groups,
            "isotope": isotope,
            "mass": masses,
        },
    )
    model.properties = {
        "builder": "aimd_interface_model",
        "sheet_z": sheet_z + shift,
        "counts": {
            "Li2S6": n_li2s6,
            "LiTFSI": n_litfsi,
            "DOL": n_dol,
            "DME": n_dme,
            "electrode_Li": len(li),
        },
        "seed": seed,
    }
    return model
