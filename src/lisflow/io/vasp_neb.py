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
import functools
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
    _idpp_interpolate(NEB(images, method="improvedtangent"))
    return [cast(Structure, AseAtomsAdaptor.get_structure(a)) for a in images]


def _idpp_interpolate(neb) -> None:
    """``neb.interpolate(method="idpp", mic=True)`` of ASE 3.29 (linear interpolation, then
    MDMin on the image-dependent pair potential to fmax 0.1 eV/Å, at most 100 steps), with
    the IDPP forces of :func:`_batched_idpp` (the same numbers, several times faster)."""
    from ase.mep.neb import interpolate
    from ase.optimize import MDMin

    if neb.remove_rotation_and_translation:  # (off for NEB(...) as built above)
        raise ValueError("remove_rotation_and_translation is not supported here")
    interpolate(neb.images, True, apply_constraint=None)
    d1 = neb.images[0].get_all_distances(mic=True)
    d2 = neb.images[-1].get_all_distances(mic=True)
    d = (d2 - d1) / (neb.nimages - 1)
    calculator, real = _batched_idpp(), [image.calc for image in neb.images]
    for i, image in enumerate(neb.images):
        image.calc = calculator(d1 + i * d, mic=True)
    with MDMin(neb, trajectory=None, logfile=None) as opt:  # type: ignore[arg-type]  # (as ASE)
        opt.run(fmax=0.1, steps=100)
    for image, calc in zip(neb.images, real, strict=True):
        image.calc = calc


@functools.cache
def _batched_idpp():
    """``ase.mep.neb.IDPP`` whose minimum-image vectors come from one call over all atom pairs
    instead of one ``find_mic`` per atom. ``find_mic`` chooses per call
    (per atom row): the naive result when every vector of the row is shorter than half the
    shortest cell length, else the Minkowski-reduced search; rows failing that test are
    recomputed with that search (:func:`general_find_mic`, vector by vector, so batching them
    changes nothing), so every row is what ASE computes."""
    import numpy as np
    from ase.calculators.calculator import Calculator
    from ase.geometry.cell import Cell
    from ase.geometry.geometry import naive_find_mic
    from ase.mep.neb import IDPP

    class BatchedIDPP(IDPP):
        def calculate(self, atoms, properties, system_changes):
            Calculator.calculate(self, atoms, properties, system_changes)
            P = atoms.get_positions()
            cell, pbc = atoms.get_cell(), atoms.get_pbc()
            n, full = len(P), Cell(cell).any(1) & pbc  # find_mic's pbc
            if not self.mic or not full.all():
                return IDPP.calculate(self, atoms, properties, system_changes)
            D = P[None, :, :] - P[:, None, :]  # D[i] = P - P[i], as ASE's loop
            vmin, vlen = naive_find_mic(D.reshape(-1, 3), cell)
            D, d = vmin.reshape(n, n, 3), vlen.reshape(n, n)
            unsafe = ~(d < 0.5 * min(Cell(cell).lengths())).all(axis=1)
            if unsafe.any():  # find_mic's general search (vector by vector), on those rows
                rows = P[None, :, :] - P[unsafe][:, None, :]
                vmin, vlen = general_find_mic(rows.reshape(-1, 3), cell, pbc=full)
                D[unsafe], d[unsafe] = vmin.reshape(rows.shape), vlen.reshape(rows.shape[:2])
            # from here as ase.mep.neb.IDPP.calculate (ASE 3.29)
            dd = d - self.target
            d.ravel()[:: len(d) + 1] = 1  # avoid dividing by zero
            d4 = d**4
            e = 0.5 * (dd**2 / d4).sum()
            f = -2 * ((dd * (1 - 2 * dd / d) / d**5)[..., np.newaxis] * D).sum(0)
            self.results = {"energy": e, "forces": f}

    return BatchedIDPP


def general_find_mic(v, cell, pbc=True):
    """``ase.geometry.geometry.general_find_mic`` (ASE 3.29: Minkowski-reduced cell, wrap,
    nearest of the 27 neighbouring images) with each image length summed component by
    component, ``sqrt((x*x + y*y) + z*z)``: the order of ``np.linalg.norm(x, axis=2)``'s
    reduction over 3 components (same bits; tests/unit/test_md_fast_paths.py), without its
    slow reduction over a length-3 axis."""
    import itertools

    import numpy as np
    from ase.geometry.cell import complete_cell
    from ase.geometry.geometry import wrap_positions
    from ase.geometry.minkowski_reduction import minkowski_reduce

    cell = complete_cell(cell)
    rcell, _ = minkowski_reduce(cell, pbc=pbc)
    positions = wrap_positions(v, rcell, pbc=pbc, eps=0)
    ranges = [np.arange(-1 * p, p + 1) for p in pbc]
    hkls = np.array([(0, 0, 0)] + list(itertools.product(*ranges)))  # (0,0,0) first, as ASE
    vrvecs = hkls @ rcell
    # x = positions + vrvecs[:, None], component by component (the same sums)
    x, y, z = (positions[:, k] + vrvecs[:, k, None] for k in range(3))
    lengths = np.sqrt((x * x + y * y) + z * z)
    indices = np.argmin(lengths, axis=0)
    vmin = positions + vrvecs[indices]  # = x[indices, arange(n)]: the same elementwise sums
    vlen = lengths[indices, np.arange(len(positions))]
    return vmin, vlen


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
