"""VASP CI-NEB input set: one directory per image ``00`` … ``N+1`` with its POSCAR, one INCAR
(``IMAGES`` = N, the preset's ``neb`` block: IBRION 3, POTIM 0, ICHAIN 0, LCLIMB, SPRING −5,
which need VASP built with the VTST tools; ``neb_plain`` for standard VASP, which does plain
NEB only), KPOINTS and POTCAR in the parent directory (VASP wiki "Nudged elastic band").

Images between the endpoints are interpolated with IDPP (Smidstrup et al., J. Chem. Phys.
140, 214106 (2014); ``ase.mep.NEB.interpolate(method="idpp")``), deterministic for given
endpoints.
"""

from __future__ import annotations

import dataclasses
from typing import cast

from pymatgen.core import Structure
from pymatgen.io.vasp import Incar

from lisflow.errors import InputError
from lisflow.io.vasp import VaspInputGenerator, bare, poscar_text


def idpp_images(initial: Structure, final: Structure, n_images: int) -> list[Structure]:
    """``n_images + 2`` structures from ``initial`` to ``final`` (same atoms, same order)."""
    from ase.mep import NEB
    from pymatgen.io.ase import AseAtomsAdaptor

    if [s.specie for s in initial] != [s.specie for s in final]:
        raise InputError("neb", "the endpoints differ in atoms or atom order")
    start, end = (AseAtomsAdaptor.get_atoms(bare(s)) for s in (initial, final))
    images = [start] + [start.copy() for _ in range(n_images)] + [end]
    NEB(images, method="improvedtangent").interpolate(method="idpp", mic=True)
    return [cast(Structure, AseAtomsAdaptor.get_structure(a)) for a in images]


def neb_files(gen: VaspInputGenerator, initial: Structure) -> dict[str, str]:
    """File name -> text; image POSCARs as ``00/POSCAR`` … ``NN/POSCAR``."""
    if gen.neb is None:
        raise InputError("neb", "a VASP NEB needs its end state (VaspInputGenerator.neb)")
    final = gen.neb.final()
    n = gen.neb.images
    block = "neb" if gen.neb.vtst else "neb_plain"
    chosen = dataclasses.replace(gen, task=block)
    files = chosen.files(initial)
    incar = Incar(chosen.incar(initial))
    incar["IMAGES"] = n
    files["INCAR"] = incar.get_str(sort_keys=True)
    del files["POSCAR"]
    for index, image in enumerate(idpp_images(initial, final, n)):
        files[f"{index:02d}/POSCAR"] = poscar_text(image, f"image {index:02d}")
    return files
