"""Cheap classical relaxation of an M-N4 / M1M2-N6 site in graphene, before DFT.

Cutting a divacancy or a tetravacancy out of a rigid sheet and dropping two metals into it
leaves strained bonds (a rigid FeCo-N6 site had a C 2.24 Å from each metal and a C-N of
1.30 Å). This module moves the atoms near the site *in plane* to minimise a valence force
field of harmonic terms, the sheet far from the site held fixed:

- bonds: C-C 1.42 Å (graphene), C-N 1.34 Å (pyridine C-N 1.340 Å, CRC Handbook "Bond lengths
  in organic compounds"), M-N 1.95 Å (relaxed M-N4 sites: Fe-N 1.9-2.0 Å, the range the issue
  and paper 002's EXAFS (Fe-N ~1.5 Å phase-uncorrected, i.e. ~1.9-2.0 Å) point to), M-M fixed
  at the builder's value (paper 002 HAADF: 2.1-2.2 Å): the metals do not move;
- angles as 1-3 distances at 120° about every sp2 C/N (a graphene-like sheet);
- a repulsive wall keeping non-bonded C and N >= 2.7 Å from every metal.

It is a starting geometry for DFT (which relaxes it), not a physical model: it only has to
be chemically sensible (no C-N < 1.30 Å, no non-bonded C-M < 2.5 Å, M-N ≈ 1.9-2.0 Å).
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure
from scipy.optimize import minimize

from lisflow.errors import InputError

BOND = {frozenset(("C",)): 1.42, frozenset(("C", "N")): 1.34}  # Å, see module docstring
METAL_N = 1.95  # Å
NONBONDED_METAL = 2.7  # Å, wall for non-bonded C/N around a metal
MOVABLE_RADIUS = 7.0  # Å (lateral), atoms this close to the site relax; the rest is fixed
SHEET_BOND_CUTOFF = 1.75  # Å, C-C / C-N neighbours of the (strained) starting sheet
MIN_C_N = 1.30  # Å, shortest acceptable C-N bond after relaxation (issue 11.4)
MIN_NONBONDED_METAL = 2.5  # Å, closest acceptable non-bonded C/N to a metal (issue 11.4)
K_BOND, K_ANGLE, K_WALL = 3.0, 0.15, 3.0  # relative force constants (dimensionless; chosen
# so that FeCo-N6 in 6x6 ends with C-C 1.39-1.46, C-N 1.37-1.40, M-N 1.97-2.01, C-M >= 2.59 Å)


def site_bonds(sheet: Structure) -> tuple[list[tuple[int, int, float]], list[int]]:
    """(i, j, target length Å) of every bond at the site, and the metal indices.

    Sheet bonds come from the starting neighbour list; each metal binds the coordinating N
    nearest to it (4 per metal; the two N nearest the M-M midpoint bind both metals).
    """
    labels = sheet.site_properties["label"]
    metals = [i for i, lab in enumerate(labels) if lab == "metal"]
    n_idx = [i for i, lab in enumerate(labels) if lab == "coordinating_N"]
    symbols = [s.specie.symbol for s in sheet]
    bonds: list[tuple[int, int, float]] = []
    for i, j, d in _pairs(sheet, SHEET_BOND_CUTOFF):
        if i in metals or j in metals:
            continue
        key = frozenset((symbols[i], symbols[j]))
        bonds.append((i, j, BOND.get(key, d)))
    for m in metals:
        own = sorted(n_idx, key=lambda n: (round(sheet.get_distance(m, n), 6), n))[:4]
        bonds += [(min(m, n), max(m, n), METAL_N) for n in own]
    if len(metals) == 2:
        bonds.append((metals[0], metals[1], float(sheet.get_distance(*metals))))
    return bonds, metals


def _pairs(sheet: Structure, cutoff: float) -> list[tuple[int, int, float]]:
    i, j, _, d = sheet.get_neighbor_list(cutoff)
    return [(int(a), int(b), float(x)) for a, b, x in zip(i, j, d, strict=True) if a < b]


def relax_site(sheet: Structure, centre: np.ndarray) -> Structure:
    """The sheet with the atoms within MOVABLE_RADIUS of ``centre`` relaxed in plane (Å); the
    metals stay where the builder put them (M-M fixed)."""
    bonds, metals = site_bonds(sheet)
    n = len(sheet)
    neighbours: dict[int, list[tuple[int, float]]] = {k: [] for k in range(n)}
    for a, b, d0 in bonds:
        neighbours[a].append((b, d0))
        neighbours[b].append((a, d0))
    angles = [  # 1-3 distance at 120° about sp2 atoms (not about metals)
        (a, c, float(np.sqrt(da**2 + dc**2 + da * dc)))
        for b in range(n)
        if b not in metals
        for k, (a, da) in enumerate(neighbours[b])
        for c, dc in neighbours[b][k + 1 :]
    ]
    bonded = {(min(i, j), max(i, j)) for i, j, _ in bonds}
    # unwrap around the centre so that no relevant vector crosses a cell boundary
    dfrac = sheet.frac_coords - sheet.lattice.get_fractional_coords(centre)
    dfrac[:, :2] -= np.round(dfrac[:, :2])
    xyz = sheet.lattice.get_cartesian_coords(dfrac) + centre
    lateral = np.linalg.norm(xyz[:, :2] - centre[:2], axis=1)
    movable = np.array([k for k in np.flatnonzero(lateral < MOVABLE_RADIUS) if k not in metals])
    walls = [
        (m, k)
        for m in metals
        for k in range(n)
        if k not in metals
        and (min(m, k), max(m, k)) not in bonded
        and lateral[k] < MOVABLE_RADIUS + 2
    ]
    terms = []
    for group, weight, wall in (
        (bonds, K_BOND, False),
        (angles, K_ANGLE, False),
        ([(m, k, NONBONDED_METAL) for m, k in walls], K_WALL, True),
    ):
        if not group:
            continue
        i = np.array([p[0] for p in group], dtype=int)
        j = np.array([p[1] for p in group], dtype=int)
        # constant lattice offset turning pos[i] - pos[j] into the minimum-image vector
        dfrac = sheet.frac_coords[i] - sheet.frac_coords[j]
        dfrac -= np.round(dfrac)
        image = sheet.lattice.get_cartesian_coords(dfrac)[:, :2]
        offset = image - (xyz[i, :2] - xyz[j, :2])
        terms.append((i, j, np.array([p[2] for p in group]), offset, weight, wall))

    def energy(flat: np.ndarray) -> tuple[float, np.ndarray]:
        pos = xyz[:, :2].copy()
        pos[movable] = flat.reshape(-1, 2)
        total, grad = 0.0, np.zeros_like(pos)
        for i, j, d0, offset, k, wall in terms:
            vec = pos[i] - pos[j] + offset
            d = np.linalg.norm(vec, axis=1)
            stretch = d - d0
            if wall:
                stretch = np.minimum(stretch, 0.0)
            total += k * float(stretch @ stretch)
            g = (2 * k * stretch / np.maximum(d, 1e-9))[:, None] * vec
            np.add.at(grad, i, g)
            np.add.at(grad, j, -g)
        return total, grad[movable].ravel()

    result = minimize(energy, xyz[movable, :2].ravel(), jac=True, method="L-BFGS-B",
                      options={"maxiter": 5000, "gtol": 1e-8})  # fmt: skip
    relaxed = sheet.copy()
    new = xyz.copy()
    new[movable, :2] = result.x.reshape(-1, 2)
    for k in movable:
        relaxed.replace(int(k), sheet[int(k)].species, new[k], coords_are_cartesian=True,
                        properties=sheet[int(k)].properties)  # fmt: skip
    problems = site_problems(relaxed, bonds)
    if problems:  # never hand DFT a strained site silently
        raise InputError("supercell", "relaxed site still strained: " + "; ".join(problems),
                         "a larger supercell")  # fmt: skip
    return relaxed


def site_problems(sheet: Structure, bonds: list[tuple[int, int, float]]) -> list[str]:
    """Violations of: C-N bonds >= MIN_C_N, non-bonded C/N >= MIN_NONBONDED_METAL from a metal."""
    labels = sheet.site_properties["label"]
    metals = [i for i, lab in enumerate(labels) if lab == "metal"]
    symbols = [s.specie.symbol for s in sheet]
    bonded = {(min(i, j), max(i, j)) for i, j, _ in bonds}
    out = []
    for i, j, _ in bonds:
        if {symbols[i], symbols[j]} == {"C", "N"} and sheet.get_distance(i, j) < MIN_C_N:
            out.append(f"C-N {sheet.get_distance(i, j):.3f} Å")
    for m in metals:
        for k, site in enumerate(sheet):
            if k in metals or (min(m, k), max(m, k)) in bonded:
                continue
            if site.specie.symbol in ("C", "N") and sheet.get_distance(m, k) < MIN_NONBONDED_METAL:
                out.append(f"{site.specie.symbol}{k}-M {sheet.get_distance(m, k):.3f} Å")
    return out
