"""Bader charges from a CP2K electron-density cube (``&E_DENSITY_CUBE``) with baderkit.

CP2K writes the valence (pseudo) density in e/bohr³, z fastest; the cube is read here (axes
a, b, c in that order) and scaled by the cell volume in bohr³ to baderkit's VASP-like
convention (ρ·V), so basin integrals are electrons. A GTH pseudo-valence density has no
maximum at many nuclei (C, N, semicore Mo), so the basins are found on a reference density =
valence + a Gaussian "core" at every nucleus (σ :data:`CORE_SIGMA_A`, peak
:data:`CORE_PEAK` × the largest valence value), the analogue of the Henkelman group's
``bader CHGCAR -ref AECCAR0+AECCAR2`` for PAW; the valence density is what is integrated.
Net charge (e) = pseudopotential valence (GTH qN) − Bader electrons (positive = electron
loss). Vacuum detection is off (Henkelman default).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from lisflow.errors import ParseError
from lisflow.parsers.bader import BaderResult, BaderSite

METHOD = "baderkit neargrid-weight on a CP2K valence density cube"
BOHR_A = 0.529177210903  # Å, CODATA 2018
CORE_SIGMA_A = 0.3  # Å, width of the reference core peaks (only shapes the basins)
CORE_PEAK = 1000.0  # peak height / largest valence value


def bader_from_cube(cube: str | Path, valence: dict[str, float]) -> BaderResult:
    """Bader partition of ``cube``; ``valence`` maps element → pseudopotential valence (e)."""
    from baderkit.bader import Bader
    from baderkit.toolkit import Grid

    cube = Path(cube)
    if not cube.is_file():
        raise ParseError(cube, "density cube does not exist")
    logging.getLogger("baderkit").setLevel(logging.WARNING)
    try:
        header = Grid.from_cube(cube, data_type="charge")  # structure (Å) of the cube
        structure = header.structure
        rho = read_cube_density(cube) * float(structure.lattice.volume) / BOHR_A**3
        charge = Grid(structure=structure, data={"total": rho})
        reference = Grid(structure=structure, data={"total": rho + _core_peaks(structure, rho)})
        bader = Bader(charge_grid=charge, reference_grid=reference, vacuum_tol=False)
        electrons = [float(x) for x in bader.atom_charges]
        volumes = [float(x) for x in bader.atom_volumes]
        total = float(bader.total_electron_number)
        grid = header
    except ParseError:
        raise
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



def read_cube_density(cube: Path) -> np.ndarray:
    """Volumetric data of a Gaussian cube as an (na, nb, nc) array (z fastest in the file)."""
    lines = Path(cube).read_text().split("\n")
    try:
        n_atoms = abs(int(lines[2].split()[0]))
        shape = [abs(int(lines[3 + i].split()[0])) for i in range(3)]
        values = np.array(" ".join(lines[6 + n_atoms :]).split(), dtype=float)
    except (IndexError, ValueError) as exc:
        raise ParseError(cube, f"not a cube file ({exc})") from None
    if values.size != int(np.prod(shape)):
        raise ParseError(cube, f"{values.size} values for a {shape} grid (truncated?)")
    return values.reshape(shape)


def _core_peaks(structure, rho: np.ndarray) -> np.ndarray:
    """Sum of Gaussian peaks at the nuclei on the grid (minimum-image distances)."""
    peak = CORE_PEAK * float(rho.max())
    return gaussians_on_grid(structure, rho.shape, [peak] * len(structure), CORE_SIGMA_A)


def gaussians_on_grid(
    structure, shape: tuple[int, ...], heights: list[float], sigma_a: float
) -> np.ndarray:
    """Σ_sites height·exp(−r²/2σ²) on the ``shape`` grid of the cell (r: minimum-image
    distance in Å from each grid point to the site; σ in Å)."""
    frac = np.stack(
        np.meshgrid(*[np.arange(k) / k for k in shape], indexing="ij"), axis=-1
    ).reshape(-1, 3)
    matrix = structure.lattice.matrix
    out = np.zeros(len(frac))
    for site, height in zip(structure, heights, strict=True):
        d = frac - site.frac_coords
        d -= np.round(d)
        out += height * np.exp(-((d @ matrix) ** 2).sum(axis=1) / (2 * sigma_a**2))
    return out.reshape(shape)
