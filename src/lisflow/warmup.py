"""Compile baderkit's numba kernels once, at install (``make setup``).

baderkit's Bader partition is numba code cached on disk (``cache=True``): on a cold cache the
first Bader analysis of an install compiles for 2–3 minutes (measured here: 128 s for the first
CP2K density cube, 41 s more for the first VASP CHGCAR, on 2 idle cores). Running both paths
once on tiny synthetic densities writes those caches, so a user's first ``lisflow`` Bader
analysis (or a cluster job's parse) starts at once. Nothing outside a temporary directory is
written except numba's caches (its own locations: beside the sources, or ``$NUMBA_CACHE_DIR``).
(lisflow's own MD kernels compile in about 20 s on first use: not worth an install step.)

``python -m lisflow.warmup`` prints what it compiled and how long it took.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lisflow.parsers.bader import BaderResult

#: grid points per axis: baderkit types its grid-point indices by the grid's size (uint16
#: below 2**16 points, uint32 above) and numba compiles each type; one small grid (the cube:
#: 16^3, like the 12^3 test cube) and one of a real calculation's size (the CHGCAR: 48^3,
#: the LiH fixture's grid) compile both
CUBE_GRID, CHGCAR_GRID = 16, 48
#: rocksalt LiH primitive cell edge (Å); a 2-atom ionic cell, like the LiH fixture
CELL_A = 2.85
#: Gaussian width (Å) and total electrons of the synthetic density
WIDTH_A, ELECTRONS = 0.5, 4.0


def _lih_structure():
    from pymatgen.core import Lattice, Structure

    lattice = Lattice.from_parameters(CELL_A, CELL_A, CELL_A, 60, 60, 60)
    return Structure(lattice, ["Li", "H"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def _density(structure, grid: int) -> np.ndarray:
    """2 + 2 electrons in Gaussians (σ 0.5 Å) on the two sites, electrons/Å^3 on a ``grid``^3
    grid, scaled so the grid holds exactly 4 electrons."""
    from lisflow.analysis.cube_bader import gaussians_on_grid

    density = gaussians_on_grid(structure, (grid, grid, grid), [2.0, 2.0], WIDTH_A)
    return density * ELECTRONS / (density.sum() * structure.volume / density.size)


def warm_vasp_bader(tmp: Path) -> BaderResult:
    """``parsers.bader.bader_charges`` on a CHGCAR with AECCAR0/AECCAR2 (reference path)."""
    from pymatgen.io.vasp import Chgcar, Poscar

    from lisflow.parsers.bader import bader_charges

    structure = _lih_structure()
    rho = _density(structure, CHGCAR_GRID) * structure.volume  # CHGCAR: ρ·V
    for name, data in (("CHGCAR", rho), ("AECCAR0", 0.5 * rho), ("AECCAR2", 0.5 * rho)):
        Chgcar(Poscar(structure), {"total": data}).write_file(str(tmp / name))
    bader_charges(tmp, zval={"Li": 3.0, "H": 1.0})
    (tmp / "AECCAR0").unlink()  # and without a reference density
    return bader_charges(tmp, zval={"Li": 3.0, "H": 1.0})


def warm_cube_bader(tmp: Path) -> BaderResult:
    """``analysis.cube_bader.bader_from_cube`` on a CP2K-style density cube (e/bohr^3)."""
    from ase.io.cube import write_cube

    from lisflow.analysis.cube_bader import BOHR_A, bader_from_cube

    structure = _lih_structure()
    rho = _density(structure, CUBE_GRID) * BOHR_A**3  # e/Å^3 -> e/bohr^3
    cube = tmp / "WARM-ELECTRON_DENSITY-1_0.cube"
    with open(cube, "w") as handle:
        write_cube(handle, structure.to_ase_atoms(), data=rho)
    return bader_from_cube(cube, {"Li": 3.0, "H": 1.0})


#: name -> warmer (each returns its Bader result: 2 + 2 electrons, equal by symmetry)
WARMERS: dict[str, Callable[[Path], BaderResult]] = {
    "baderkit on a CP2K cube": warm_cube_bader,
    "baderkit on a VASP CHGCAR": warm_vasp_bader,
}


def main() -> int:
    logging.getLogger("baderkit").setLevel(logging.WARNING)
    for name, warm in WARMERS.items():
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="lisflow-warmup-") as tmp:
            with contextlib.redirect_stdout(io.StringIO()):  # baderkit prints its refinement
                result = warm(Path(tmp))
        seconds = time.perf_counter() - start
        print(f"compiled {name}: {seconds:.1f} s ({result.total_electrons:.3f} e)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
