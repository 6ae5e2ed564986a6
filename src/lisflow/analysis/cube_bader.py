"""Bader charges from a CP2K electron-density cube (``&E_DENSITY_CUBE``) with baderkit.

CP2K writes the valence (pseudo) density in e/bohr³ on the cube grid; baderkit's
``Grid.from_cube`` converts it to its own VASP-like convention, so the basin integrals are
electrons. Net charge (e) = valence electrons of the pseudopotential (GTH qN) − Bader
electrons (positive = electron loss). Vacuum detection is off (Henkelman default).
"""

from __future__ import annotations

import logging
from pathlib import Path

from lisflow.errors import ParseError
from lisflow.parsers.bader import BaderResult, BaderSite

METHOD = "baderkit neargrid-weight on a CP2K valence density cube"


def bader_from_cube(cube: str | Path, valence: dict[str, float]) -> BaderResult:
    """Bader partition of ``cube``; ``valence`` maps element → pseudopotential valence (e)."""
    from baderkit.bader import Bader
    from baderkit.toolkit import Grid

    cube = Path(cube)
    if not cube.is_file():
        raise ParseError(cube, "density cube does not exist")
    logging.getLogger("baderkit").setLevel(logging.WARNING)
    try:
        grid = Grid.from_cube(cube, data_type="charge")
        bader = Bader(charge_grid=grid, reference_grid=None, vacuum_tol=False)
        electrons = [float(x) for x in bader.atom_charges]
        volumes = [float(x) for x in bader.atom_volumes]
        total = float(bader.total_electron_number)
    except Exception as exc:
        raise ParseError(cube, f"baderkit failed: {exc}") from exc
    sites = []
    for i, site in enumerate(grid.structure):
        element = site.specie.symbol
        if element not in valence:
            raise ParseError(cube, f"no pseudopotential valence given for {element}")
        sites.append(
            BaderSite(
                index=i,
                element=element,
                valence_electrons=electrons[i],
                net_charge=valence[element] - electrons[i],
                atomic_volume=volumes[i],
            )
        )
    return BaderResult(tuple(sites), total, 0.0, 0.0, METHOD, str(cube))
