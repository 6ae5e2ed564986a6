"""Adsorbate starting configurations over the active site of a slab (deterministic).

The adsorbate is rotated so that one S atom (the one farthest from the molecular centroid,
lowest index on ties) points straight down at the active site: on a diatomic site the metal
with the lower atomic number (paper 002), else the centroid of the ``metal``-labelled sites, or
the lateral cell centre above the topmost atom if there are none.
That S sits ``height`` Å above the topmost active-site atom (lifted in 0.1 Å steps until every
adsorbate–slab distance is at least ``min_distance`` Å). Orientation i is a rotation by
i·360°/n about the vertical axis through that S, or, with ``li_towards_n`` (adsorbates with Li
on slabs with ``coordinating_N``), the S->Li bond of the Li nearest that S is aimed at a point
``LI_ABOVE_N`` Å above the i-th coordinating N (S stays over the metal; on a diatomic site the
N bonded to the central metal come first, those bridging both metals first of all).
"""

from __future__ import annotations

from typing import cast

import numpy as np
from pymatgen.core import Lattice, Molecule, Structure
from scipy.spatial.transform import Rotation

from lisflow.errors import InputError
from lisflow.structures import md_memo
from lisflow.structures.md_memo import copy_structure, structure_from_cartesian
from lisflow.structures.site_fields import SpeciesReader, copied, structure_key

LIFT_STEP = 0.1  # Å, increment when the starting height clashes with the slab
MAX_LIFT = 4.0  # Å, give up lifting beyond height + MAX_LIFT
LI_ABOVE_N = 2.0  # Å, Li aimed this far above a coordinating N (Li-N bond ~2.0-2.1 Å)
LI_DROPS = (2.5, 1.0, 0.0, -1.0)  # Å, tried in turn: max depth of the Li aim below the anchor S
LI_CLEARANCE = 2.0  # Å, first aim whose best spin clears the slab by this much is taken
S_METAL_MARGIN = 0.5  # Å, other S stay >= LI_CLEARANCE + this from every metal (DASC)
SPINS = np.radians(np.arange(0.0, 360.0, 10.0))  # rad, spins tried about the S->Li aim
METAL_N_BOND = 2.3  # Å, a coordinating N this close to a metal is bonded to it (M-N 1.9-2.1 Å)


def _rotation_to(vector: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Smallest rotation matrix taking unit ``vector`` onto unit ``target`` (Rodrigues)."""
    v, t = vector / np.linalg.norm(vector), target / np.linalg.norm(target)
    axis = np.cross(v, t)
    s, c = np.linalg.norm(axis), float(v @ t)
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        # antiparallel: rotate by pi about any axis normal to v
        normal = np.cross(v, [1.0, 0.0, 0.0] if abs(v[0]) < 0.9 else [0.0, 1.0, 0.0])
        normal /= np.linalg.norm(normal)
        return 2 * np.outer(normal, normal) - np.eye(3)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]]) / s
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def _labels(slab: Structure) -> list[str]:
    """The sites' ``label`` property (None where a site has none; all ``support`` when no
    site has one): ``slab.site_properties["label"]`` without building every column."""
    props = [site.properties for site in slab]
    if not any("label" in p for p in props):
        return ["support"] * len(slab)
    return [p.get("label") for p in props]  # type: ignore[misc]


def central_metal(slab: Structure) -> int | None:
    """Index of the metal that binds S on a diatomic site, else None (cluster or SASC: the
    metal centroid). Paper 002: "metal sites with lower atomic numbers act as the central metal
    to interact with sulfur in LiPSs" (Fe in FeCo/FeNi/FeCu); lowest index on a tie."""
    metal = [i for i, lab in enumerate(_labels(slab)) if lab == "metal"]
    elements = {slab[i].specie.symbol for i in metal}
    if len(metal) < 2 or (len(elements) < 2 and slab.properties.get("builder") != "dasc_graphene"):
        return None
    return min(metal, key=lambda i: (slab[i].specie.Z, i))


def _active_site(slab: Structure) -> np.ndarray:
    """Cartesian point (x, y of the site; z of its topmost atom) of the active site in Å: the
    central metal of a diatomic site, else the centroid of the metals."""
    labels = _labels(slab)
    metal = [i for i, lab in enumerate(labels) if lab == "metal"]
    central = central_metal(slab)
    if central is not None:
        return slab.cart_coords[central].copy()
    if metal:
        xyz = slab.cart_coords[metal]
        return np.array([*xyz[:, :2].mean(axis=0), xyz[:, 2].max()])
    centre = slab.lattice.get_cartesian_coords([0.5, 0.5, 0.0])
    return np.array([centre[0], centre[1], slab.cart_coords[:, 2].max()])


def _anchor_frame(adsorbate: Molecule) -> tuple[np.ndarray, int]:
    """Adsorbate coordinates with the anchor atom at the origin pointing down (-z)."""
    xyz = adsorbate.cart_coords - adsorbate.cart_coords.mean(axis=0)
    symbols = [site.specie.symbol for site in adsorbate]
    candidates = [i for i, s in enumerate(symbols) if s == "S"] or list(range(len(symbols)))
    anchor = max(candidates, key=lambda i: (round(float(np.linalg.norm(xyz[i])), 6), -i))
    if len(adsorbate) == 1 or np.linalg.norm(xyz[anchor]) < 1e-8:
        return xyz - xyz[anchor], anchor
    rot = _rotation_to(xyz[anchor], np.array([0.0, 0.0, -1.0]))
    xyz = xyz @ rot.T
    return xyz - xyz[anchor], anchor


def _rot_axis(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix by ``angle`` (rad) about ``axis`` (scipy)."""
    return Rotation.from_rotvec(np.asarray(axis) / np.linalg.norm(axis) * angle).as_matrix()


def _spin_rotations(axis: np.ndarray) -> np.ndarray:
    """``_rot_axis(axis, spin)`` for every spin of :data:`SPINS` in one scipy call (the
    same matrices, element for element)."""
    unit = np.asarray(axis) / np.linalg.norm(axis)
    return Rotation.from_rotvec(unit[None, :] * SPINS[:, None]).as_matrix()


def _rotated_about_z(xyz: np.ndarray, n: int) -> list[np.ndarray]:
    return [xyz @ _rot_axis(np.array([0.0, 0.0, 1.0]), 2 * np.pi * i / n).T for i in range(n)]


def _li_towards_n(
    slab: Structure,
    anchor_point: np.ndarray,
    xyz: np.ndarray,
    symbols: list[str],
    anchor: int,
    n: int,
) -> list[np.ndarray] | None:
    """Orientations whose Li nearest the anchor S points at the i-th nearest coordinating N.

    The S->Li vector is aligned with the direction from the anchor point to LI_ABOVE_N Å above
    that N, clipped to at most LI_DROPS[j] Å below the anchor (j increasing until the slab is
    cleared by LI_CLEARANCE Å, so Li does not dive into a tall cluster); the spin about this direction (10° scan) maximising the clearance to the slab wins.
    Returns None when the adsorbate has no Li or the slab no coordinating N.
    """
    li = [i for i, s in enumerate(symbols) if s == "Li"]
    labels = _labels(slab)
    n_idx = [i for i, lab in enumerate(labels) if lab == "coordinating_N"]
    if not (li and n_idx):
        return None
    if n > len(n_idx):
        raise InputError(
            "n_orientations",
            f"{n} orientations but only {len(n_idx)} coordinating N",
            f"1-{len(n_idx)} with li_towards_n",
        )
    # pymatgen rebuilds these arrays from the sites on every access: read them once
    lattice, slab_frac, slab_cart = slab.lattice, slab.frac_coords, slab.cart_coords
    central = central_metal(slab)
    metal_idx = [i for i, lab in enumerate(labels) if lab == "metal"]
    lateral = slab_cart[n_idx, :2] - anchor_point[:2]
    order = sorted(
        range(len(n_idx)),
        key=lambda k: (
            *_n_rank(slab, n_idx[k], central, metal_idx),
            round(float(np.linalg.norm(lateral[k])), 3),
            k,
        ),
    )
    nearest_li = min(li, key=lambda i: (round(float(np.linalg.norm(xyz[i] - xyz[anchor])), 6), i))
    # on a diatomic site no other S may come closer to a metal than the anchor S to its metal
    other_s = [i for i, s in enumerate(symbols) if s == "S" and i != anchor]
    metal_frac = slab_frac[metal_idx]
    guard = central is not None and bool(other_s)
    # ... and the aimed Li sits nearer its target N than any N the central metal does not bind
    foreign_n = [
        n for n in n_idx if central is not None and slab.get_distance(n, central) > METAL_N_BOND
    ]
    out = []
    for k in order[:n]:
        best: tuple[float, np.ndarray] | None = None
        for drop in LI_DROPS:
            aim = slab_cart[n_idx[k]] + [0.0, 0.0, LI_ABOVE_N]
            aim[2] = max(aim[2], anchor_point[2] - drop)  # tall clusters: aim sideways
            target = aim - anchor_point
            aligned = xyz @ _rotation_to(xyz[nearest_li] - xyz[anchor], target).T
            cands = [aligned @ rot.T for rot in _spin_rotations(target)]
            # the distances of all spins in one call each (row by row the same numbers)
            n_ads = len(aligned)
            fracs = lattice.get_fractional_coords(np.concatenate(cands) + anchor_point)
            to_slab = lattice.get_all_distances(fracs, slab_frac).reshape(len(SPINS), -1)
            if guard:
                picked = fracs.reshape(len(SPINS), n_ads, 3)[:, other_s].reshape(-1, 3)
                to_metal = lattice.get_all_distances(picked, metal_frac)
                to_metal = to_metal.reshape(len(SPINS), -1)
            if foreign_n:
                li_frac = fracs[nearest_li::n_ads]
                to_target = lattice.get_all_distances(li_frac, slab_frac[[n_idx[k]]])
                to_foreign = lattice.get_all_distances(li_frac, slab_frac[foreign_n])
            # each spin's minima in one call per array (a minimum is exact: the same values)
            slab_min = to_slab.min(axis=1).tolist()
            if guard:
                metal_min = to_metal.min(axis=1).tolist()
            if foreign_n:
                margins = (to_foreign.min(axis=1) - to_target.min(axis=1)).tolist()
            for j, cand in enumerate(cands):
                clearance = slab_min[j]  # = float(to_slab[j].min())
                if guard:
                    clearance = min(clearance, metal_min[j] - S_METAL_MARGIN)
                if foreign_n:
                    clearance = min(clearance, LI_CLEARANCE + margins[j])
                if best is None or clearance > best[0] + 1e-6:
                    best = (clearance, cand)
            if best is not None and best[0] >= LI_CLEARANCE:
                break
        assert best is not None
        out.append(best[1])
    return out


def _n_rank(slab: Structure, n: int, central: int | None, metals: list[int]) -> tuple[int, int]:
    """Sort key of a coordinating N for Li: first the N of the central metal, those bridging
    both metals first (paper 002, Suppl. Fig. 13: Li binds "the coordinated nitrogen atoms
    between Fe and Co atoms"); (0, 0) for every N on a site without a central metal
    (``central``: :func:`central_metal` of the slab; ``metals``: its metal indices)."""
    if central is None:
        return (0, 0)
    bonded = [m for m in metals if slab.get_distance(n, m) <= METAL_N_BOND]
    return (0 if central in bonded else 1, -len(bonded))


def _min_distances(
    slab: Structure, frac: np.ndarray, slab_frac: np.ndarray | None = None
) -> tuple[float, float]:
    """Minimum adsorbate–slab (minimum image) and adsorbate–own-image distances (Å);
    ``slab_frac``: the slab's fractional coordinates when the caller has them already."""
    slab_frac = slab.frac_coords if slab_frac is None else slab_frac
    to_slab = float(slab.lattice.get_all_distances(frac, slab_frac).min())
    cart = slab.lattice.get_cartesian_coords(frac)
    images = np.inf
    for shift in ([1, 0, 0], [0, 1, 0], [1, 1, 0], [1, -1, 0], [0, 0, 1]):
        moved = cart + slab.lattice.get_cartesian_coords(shift)
        images = min(images, float(np.linalg.norm(cart[:, None] - moved[None], axis=-1).min()))
    return to_slab, images


def adsorption_configurations(
    slab: Structure,
    adsorbate: Molecule,
    n_orientations: int = 3,
    height: float = 2.4,
    min_distance: float = 1.6,
    li_towards_n: bool = False,
) -> list[Structure]:
    """Return ``n_orientations`` distinct slab + adsorbate structures (lengths in Å).

    A single-atom adsorbate has one configuration (rotations are equivalent). Adsorbate sites get
    ``label = "adsorbate"``; ``properties`` adds ``configuration`` (index), ``adsorbate`` (name)
    and ``slab`` (slab name) to the slab's properties.
    """
    if not isinstance(n_orientations, int) or n_orientations < 1:
        raise InputError("n_orientations", f"{n_orientations!r}", "integer >= 1")
    if height <= 0:
        raise InputError("height", f"height {height} Å must be positive", "> 0 Å")
    if min_distance <= 0:
        raise InputError("min_distance", f"{min_distance} Å must be positive", "> 0 Å")
    if md_memo._CACHE is None:
        return _placed(slab, adsorbate, n_orientations, height, min_distance, li_towards_n)[0]
    # inside a dry-run: each (slab, adsorbate, settings) placed once; a study asking for fewer
    # orientations gets the first ones when they are the same (orientation 0 always; all with
    # Li aimed at the nearest N, whose order does not depend on the count)
    token = repr(("adsorption_configurations", structure_key(slab), structure_key(adsorbate),
                  height, min_distance, li_towards_n))  # fmt: skip
    hit = cast("tuple[int, bool, list[Structure]] | None", md_memo._CACHE.get(token))
    if hit is None or not (
        n_orientations == hit[0] or (n_orientations < hit[0] and (n_orientations == 1 or hit[1]))
    ):
        configs, li_aimed = _placed(
            slab, adsorbate, n_orientations, height, min_distance, li_towards_n
        )
        hit = md_memo._CACHE[token] = (n_orientations, li_aimed, configs)
    return [cast(Structure, copy_structure(c)) for c in hit[2][:n_orientations]]


def _placed(
    slab: Structure,
    adsorbate: Molecule,
    n_orientations: int,
    height: float,
    min_distance: float,
    li_towards_n: bool,
) -> tuple[list[Structure], bool]:
    """The configurations of :func:`adsorption_configurations` and whether Li was aimed at
    the coordinating N."""
    name = str(adsorbate.properties.get("name", adsorbate.composition.reduced_formula))
    site = _active_site(slab)
    xyz, anchor = _anchor_frame(adsorbate)
    symbols = [s.specie.symbol for s in adsorbate]
    anchor_point = site + [0.0, 0.0, height]
    aimed = None
    if len(adsorbate) > 1 and li_towards_n:
        aimed = _li_towards_n(slab, anchor_point, xyz, symbols, anchor, n_orientations)
    if len(adsorbate) == 1:
        orientations = [xyz]
    else:
        orientations = aimed or _rotated_about_z(xyz, n_orientations)
    configs: list[Structure] = []
    slab_frac = slab.frac_coords
    slab_name = slab.properties.get("name", None)
    if slab_name is None and "name" not in slab.properties:
        slab_name = slab.composition.reduced_formula
    reader = SpeciesReader()
    for i, oriented in enumerate(orientations):
        placed = oriented + site
        for lift in np.arange(0.0, MAX_LIFT + 1e-9, LIFT_STEP):
            cart = placed + [0.0, 0.0, height + lift]
            frac = slab.lattice.get_fractional_coords(cart)
            to_slab, to_image = _min_distances(slab, frac, slab_frac)
            if to_image < min_distance:
                raise InputError(
                    "adsorbate",
                    f"{name} overlaps its periodic image ({to_image:.2f} Å)",
                    "a larger slab cell",
                )
            if to_slab >= min_distance:
                break
        else:
            raise InputError(
                "min_distance",
                f"cannot place {name} {min_distance} Å from every slab atom (cell too short along z?)",
                f"<= {to_slab:.2f} Å or a taller cell",
            )
        config = copied(slab, reader)  # = slab.copy()
        if "label" not in config.site_properties:  # unlabelled input slab: all "slab"
            config.add_site_property("label", ["slab"] * len(config))
        for symbol, xyz_i in zip(symbols, cart, strict=True):
            config.append(
                symbol, xyz_i, coords_are_cartesian=True, properties={"label": "adsorbate"}
            )
        config.properties = {
            **dict(slab.properties),
            "builder": "adsorption_configurations",
            "slab": slab_name,
            "name": f"{name}@{slab_name}#{i}",
            "configuration": i,
            "adsorbate": name,
            "height": float(height + lift),
        }
        configs.append(config)
    return configs, bool(aimed)


# --- vacuum along z: where it is, and enough of it -------------------------------------------


def vacuum_gap(structure: Structure) -> tuple[float, float, float]:
    """Largest empty stretch along c on the periodic circle: (thickness Å, fractional z of its
    midpoint in [0, 1), fractional z of the lowest atom above it). For a slab this is the
    vacuum, whether or not the slab (or an adsorbate) crosses the cell top."""
    z = np.sort(structure.frac_coords[:, 2] % 1.0)
    gaps = np.diff(np.append(z, z[0] + 1.0))
    k = int(np.argmax(gaps))
    bottom = float(z[(k + 1) % len(z)])
    return float(gaps[k] * _height(structure)), float((z[k] + gaps[k] / 2) % 1.0), bottom


def _height(structure: Structure) -> float:
    """Cell height along z (Å): the z component of c (c must be normal to a and b)."""
    alpha, beta, _ = structure.lattice.angles
    if abs(alpha - 90.0) > 1e-6 or abs(beta - 90.0) > 1e-6:
        raise InputError("structure", "the vacuum axis c is not normal to a and b", "α = β = 90°")
    return float(structure.lattice.matrix[2, 2])


def _thickness(structure: Structure) -> float:
    """Extent of the atoms along z (Å), measured across the vacuum gap."""
    return _height(structure) - vacuum_gap(structure)[0]


def with_vacuum(structures: list[Structure], min_vacuum: float) -> list[Structure]:
    """The same structures in one common cell height with >= ``min_vacuum`` Å above the highest
    atom of each, every one unwrapped along z (an adsorbate that crossed the cell top sits
    contiguous above the surface again).

    The common height is max(c, thickness_i + min_vacuum); the lowest atom of each structure
    keeps its z (the clean slab and its adslabs share a frame) unless the tallest would then
    cross the top, in which case all move down together to z = min_vacuum / 2. Cartesian x, y
    are unchanged; ``properties["c_grown_from"]`` records the old height when it grew.
    """
    if not structures:
        return []
    c_old = _height(structures[0])
    gaps = [vacuum_gap(s) for s in structures]  # (each structure's gap read once)
    thickness = [_height(s) - gap[0] for s, gap in zip(structures, gaps, strict=True)]
    tallest = max(thickness)  # = max(_thickness(s) for s in structures)
    c_new = max(c_old, tallest + min_vacuum)
    bottoms = [gap[2] * c_old for gap in gaps]
    shift = 0.0
    if max(b + t for t, b in zip(thickness, bottoms, strict=True)) > c_new - 1e-6:
        shift = min_vacuum / 2 - min(bottoms)  # would still cross the top: move the set down
    out = []
    reader = SpeciesReader()
    for s, bottom in zip(structures, bottoms, strict=True):
        if abs(_height(s) - c_old) > 1e-6:
            raise InputError("structures", "slab and adslabs differ in cell height", "one cell")
        frac_bottom = bottom / c_old
        rel = (s.frac_coords[:, 2] - frac_bottom) % 1.0 * c_old  # Å above the lowest atom
        cart = s.cart_coords.copy()
        cart[:, 2] = rel + bottom + shift
        matrix = s.lattice.matrix.copy()
        matrix[2] = [0.0, 0.0, c_new]
        # = Structure(matrix, s.species, cart, coords_are_cartesian=True, site_properties=...)
        species = [reader.specie(site) for site in s]  # = s.species
        moved = structure_from_cartesian(Lattice(matrix), species, cart, s.site_properties)
        moved.properties = dict(s.properties)
        if c_new > c_old + 1e-6:
            moved.properties["c_grown_from"] = round(c_old, 6)
        moved.properties["min_vacuum"] = float(min_vacuum)
        out.append(moved)
    return out
