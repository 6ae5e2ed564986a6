"""Substrates: Mo_n clusters on N-doped graphene, SASC/DASC graphene sites, hcp Ti(0001).

Lengths in Å. Site labels (``site.properties["label"]``): ``support`` (substrate atoms away from
the active site), ``metal`` (active metal atoms), ``coordinating_N`` (pyridinic N bonded to an
active metal), ``slab`` (metal-surface atoms).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from ase.build import graphene, hcp0001
from pymatgen.core import Element, Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from lisflow.errors import InputError
from lisflow.structures.md_memo import copy_structure, memo
from lisflow.structures.site_relax import relax_site

# Paper 000, Methods DFT: Mo NCs/N-G cell 17.09 x 17.22 x 22 A, 106 C + 4 N, two-atom defect,
# Mo clusters of 1, 4 and 9 atoms.
MO_NG_CELL = (17.09, 17.22, 22.0)
MO_CLUSTER_SIZES = (1, 4, 9)
MO_MO = 2.70  # A, nearest-neighbour distance in bcc Mo (a = 3.147 A: sqrt(3)/2 a = 2.725 A)
MO_N_TARGET = 2.10  # A, Mo-N bond of the bottom Mo atoms to the pyridinic N (starting value)
MIN_CLUSTER_SUPPORT = 2.00  # A, closest allowed Mo-C/N distance when placing a cluster
GRAPHENE_Z_FRACTION = 0.25  # the sheet lies at z = c/4: room below (AIMD Li layer) and above
# Å of vacuum kept above the highest atom of every slab/adslab. Paper 002 (Methods DFT): "a
# vacuum layer of about 15 Å in thickness was introduced for all the surfaces". Paper 000 states
# only the 22 Å Mo NCs/N-G cell (clean Mo9/N-G: ~17 Å vacuum); lisflow keeps 15 Å there too.
MIN_VACUUM = 15.0

# Paper 002, main text (HAADF-STEM, Suppl. Fig. 8): M-M of the DASCs 2.1-2.2 A; we start at 2.15.
DASC_M_M = 2.15

#: d-block transition metals accepted for SASC/DASC sites (3d Sc-Zn, 4d Y-Cd, 5d La, Hf-Hg).
TRANSITION_METALS: tuple[str, ...] = tuple(
    Element.from_Z(z).symbol for z in [*range(21, 31), *range(39, 49), 57, *range(72, 81)]
)
#: Metals accepted for SASC/DASC sites: every metal up to Bi (Z <= 83; pymatgen's
#: ``Element.is_metal``: alkali, alkaline-earth, d-block, lanthanides, Al Ga In Sn Tl Pb Bi).
#: Each has a PBE POTCAR (VASP) and a GTH-PBE pseudopotential in CP2K's GTH_POTENTIALS; a CP2K
#: input for one without a DZVP-MOLOPT-SR-GTH basis (lanthanides) stops with an InputError.
SITE_METALS: tuple[str, ...] = tuple(
    Element.from_Z(z).symbol for z in range(1, 84) if Element.from_Z(z).is_metal
)

_BOND_CUTOFF = 1.6  # A, C-C neighbour cutoff in graphene (bond 1.42 A, second shell 2.46 A)


def _orthogonal_graphene(nx: int, ny: int, lx: float, ly: float, c: float) -> Structure:
    """Rectangular graphene sheet: x along armchair (period sqrt(3) a), y along zigzag (a).

    The 4-atom rectangular cell (fractional (0,0), (1/6,1/2), (1/2,1/2), (2/3,0)) is repeated
    nx x ny times and scaled to lx x ly, the sheet at z = c/4.
    """
    basis = [(0.0, 0.0), (1 / 6, 0.5), (0.5, 0.5), (2 / 3, 0.0)]
    frac = [
        ((i + u) / nx, (j + v) / ny, GRAPHENE_Z_FRACTION)
        for i in range(nx)
        for j in range(ny)
        for u, v in basis
    ]
    return Structure(Lattice.orthorhombic(lx, ly, c), ["C"] * len(frac), frac)


def _hexagonal_graphene(supercell: int, a: float, c: float) -> Structure:
    """n x n x 1 supercell of the 2-atom graphene cell (ase.build.graphene), sheet at z = c/4."""
    atoms = graphene(formula="C2", a=a, size=(supercell, supercell, 1), vacuum=c / 2)
    atoms.pbc = True
    sheet = cast(Structure, AseAtomsAdaptor.get_structure(atoms))
    sheet.translate_sites(range(len(sheet)), [0, 0, GRAPHENE_Z_FRACTION - 0.5], frac_coords=True)
    return sheet


def _neighbours(sheet: Structure, index: int) -> list[int]:
    return sorted(int(n.index) for n in sheet.get_neighbors(sheet[index], _BOND_CUTOFF))


def _central_atom(sheet: Structure) -> int:
    centre = sheet.lattice.get_cartesian_coords([0.5, 0.5, GRAPHENE_Z_FRACTION])
    return int(np.argmin([np.linalg.norm(site.coords - centre) for site in sheet]))


def _vacancy_chain(sheet: Structure, n_removed: int) -> list[int]:
    """Indices of the C atoms removed from the sheet centre.

    n_removed = 2: divacancy (a C-C dimer). n_removed = 4: a trans (zigzag) chain A-B-C-D whose
    six dangling C atoms form the M1M2-N6 site: each metal binds the two outer N of its end and
    the two N on the B and C sides are shared by both metals (edge-sharing MN4 units).
    """
    b = _central_atom(sheet)
    c = _neighbours(sheet, b)[0]
    if n_removed == 2:
        return [b, c]
    a = [k for k in _neighbours(sheet, b) if k != c][0]
    # trans chain: D is the neighbour of C farthest from A
    d = max((k for k in _neighbours(sheet, c) if k != b), key=lambda k: sheet.get_distance(a, k))
    return [a, b, c, d]


def _dope_vacancy(sheet: Structure, removed: list[int]) -> tuple[Structure, np.ndarray, np.ndarray]:
    """Remove ``removed``, turn every dangling C into pyridinic N; label sites.

    Returns the doped sheet, the Cartesian centre of the vacancy and the Cartesian positions
    of the removed atoms (unwrapped around the centre).
    """
    origin = sheet[removed[0]]
    dfrac = np.array([sheet[k].frac_coords - origin.frac_coords for k in removed])
    pos = origin.coords + sheet.lattice.get_cartesian_coords(dfrac - np.round(dfrac))
    dangling = sorted({n for k in removed for n in _neighbours(sheet, k)} - set(removed))
    labels = ["support"] * len(sheet)
    for k in dangling:
        sheet.replace(k, "N")
        labels[k] = "coordinating_N"
    sheet.add_site_property("label", labels)
    sheet.remove_sites(removed)
    return sheet, pos.mean(axis=0), pos


def _cluster_shape(n_mo: int) -> np.ndarray:
    """Compact Mo_n geometry (Cartesian, bottom-layer centroid at the origin, bottom at z = 0).

    Mo1: one atom. Mo4: tetrahedron (triangle + apex). Mo9: two close-packed layers, a 6-atom
    triangle (rows of 3, 2, 1) below and 3 atoms in its hollow sites above. Mo-Mo = MO_MO.
    """
    u = np.array([MO_MO, 0.0, 0.0])
    v = np.array([MO_MO / 2, MO_MO * np.sqrt(3) / 2, 0.0])
    dz = MO_MO * np.sqrt(2 / 3)  # interlayer spacing of close-packed layers
    if n_mo == 1:
        return np.zeros((1, 3))
    if n_mo == 4:
        bottom = np.array([0 * u, u, v])
        top = [(u + v) / 3 + [0, 0, dz]]
    else:
        bottom = np.array([i * u + j * v for i in range(3) for j in range(3 - i)])
        top = [i * u + j * v + (u + v) / 3 + [0, 0, dz] for i, j in ((0, 0), (1, 0), (0, 1))]
    centroid = bottom.mean(axis=0)
    return np.vstack([bottom, np.array(top)]) - centroid


def _place_cluster(sheet: Structure, centre: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Rotate/lift ``shape`` over ``centre`` (deterministic scan over z-rotations, 5° steps).

    The height of the bottom layer is the lowest at which no Mo is closer than
    MIN_CLUSTER_SUPPORT to the sheet, and at least the height giving Mo-N = MO_N_TARGET to the
    nearest pyridinic N. Among rotations, the lowest (best anchored) one wins.
    """
    n_idx = [i for i, s in enumerate(sheet) if s.properties["label"] == "coordinating_N"]
    best: tuple[float, np.ndarray] | None = None
    for angle in np.radians(np.arange(0.0, 120.0, 5.0)):
        rot = np.array(
            [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
        )
        xyz = shape @ rot.T + centre
        bottom = xyz[np.isclose(shape[:, 2], shape[:, 2].min())]
        # lateral distances (minimum image) between bottom Mo and every sheet atom
        frac_b = sheet.lattice.get_fractional_coords(bottom)
        dfrac = frac_b[:, None, :] - sheet.frac_coords[None, :, :]
        dfrac -= np.round(dfrac)
        lateral = np.linalg.norm(sheet.lattice.get_cartesian_coords(dfrac)[..., :2], axis=-1)
        need_clear = np.sqrt(np.clip(MIN_CLUSTER_SUPPORT**2 - lateral**2, 0, None)).max()
        lat_n = lateral[:, n_idx].min()
        need_bond = np.sqrt(max(MO_N_TARGET**2 - lat_n**2, 0.0))
        height = max(need_clear, need_bond)
        if best is None or height < best[0] - 1e-6:
            best = (height, xyz + [0, 0, height])
    assert best is not None
    return best[1]


def mo_ngraphene(n_mo: int) -> Structure:
    """Mo_n cluster on N-doped graphene with a divacancy (paper 000, Methods DFT).

    Cell exactly 17.09 x 17.22 x 22 Å: orthogonal 112-atom graphene (4 x 7 rectangular cells,
    x armchair, y zigzag; a = 2.467/2.460 Å after scaling) minus a C2 dimer at the centre = 110
    sites, whose four dangling C become pyridinic N: 106 C + 4 N + n Mo, n in {1, 4, 9}.
    """
    if isinstance(n_mo, bool) or n_mo not in MO_CLUSTER_SIZES:
        raise InputError(
            "substrates[].n_mo", f"no Mo_{n_mo} model", ", ".join(map(str, MO_CLUSTER_SIZES))
        )
    lx, ly, c = MO_NG_CELL
    sheet = _orthogonal_graphene(4, 7, lx, ly, c)
    sheet, centre, _ = _dope_vacancy(sheet, _vacancy_chain(sheet, 2))
    for xyz in _place_cluster(sheet, centre, _cluster_shape(n_mo)):
        sheet.append("Mo", xyz, coords_are_cartesian=True, properties={"label": "metal"})
    sheet.properties = {
        "name": f"Mo{n_mo}/N-G",
        "builder": "mo_ngraphene",
        "vacuum_axis": 2,
        "metals": ["Mo"] * n_mo,
        "n_mo": n_mo,
        "min_vacuum": MIN_VACUUM,
        "source": "Zhou et al., Nature 621, 75 (2023), Methods DFT",
    }
    return sheet


def _check_metals(metals: Sequence[str]) -> list[str]:
    if isinstance(metals, str) or len(metals) not in (1, 2):
        raise InputError(
            "metals", f"need one (SASC) or two (DASC) metals, got {metals!r}", "1 or 2 symbols"
        )
    for m in metals:
        if m not in SITE_METALS:
            raise InputError(
                "metals", f"{m!r} is not a metal of Z <= 83", ", ".join(SITE_METALS)
            )
    # paper 002: the lower-atomic-number metal binds S; it comes first
    return sorted(metals, key=lambda m: Element(m).Z)


def _dasc_axis(sheet: Structure, centre: np.ndarray, chain: np.ndarray) -> np.ndarray:
    """Unit M-M direction of the N6 site: from the centre towards the centroid of one metal's N4.

    The two N nearest the centre bridge both metals; the other four split into the two N of
    each chain end (sign of their projection on the chain vector A - D). By inversion symmetry
    the N4 centroid of the first metal lies along the mean of its two end N.
    """
    n_xyz = np.array([s.coords for s in sheet if s.properties["label"] == "coordinating_N"])
    rel = n_xyz - centre
    outer = rel[np.argsort(np.linalg.norm(rel, axis=1))[2:]]
    own = outer[outer @ chain > 0].mean(axis=0)
    return own / np.linalg.norm(own)


def dasc_graphene(
    metals: Sequence[str], supercell: int = 6, a: float = 2.47, vacuum: float = 15.0
) -> Structure:
    """Single-atom (M-N4) or diatomic (M1M2-N6) site in an n x n graphene supercell (paper 002).

    One metal: divacancy (2 C removed), its 4 dangling C become N, M in plane at the vacancy
    centre (Fe-N4 in 6x6: 66 C + 4 N + Fe = 71 sites). Two metals: tetravacancy (trans chain of
    4 C removed), its 6 dangling C become N (2 bridging, 2 per metal), M1 and M2 in plane,
    DASC_M_M apart, each displaced from the centre towards the centroid of its N4 (FeCo-N6 in
    6x6: 62 C + 6 N + 2 M = 70 sites). The sheet around the site is then relaxed in plane with a
    small valence force field (``site_relax``: C-N, M-N ≈ 1.95 Å, no C closer than 2.5 Å to a
    metal), so that DFT starts from sensible bonds. Flat sheet, so c = ``vacuum`` (Å);
    a = 2.47 Å (paper 002 Methods). Metals ordered by atomic number (lower Z first). Inside
    :func:`lisflow.structures.md_memo.cached_builds` (a dry-run) each distinct site is built
    once; callers get copies.
    """
    key = ("dasc_graphene", tuple(metals), supercell, a, vacuum)
    built = memo(key, lambda: _dasc_graphene(metals, supercell, a, vacuum), copy_structure)
    return cast(Structure, built)


def _dasc_graphene(metals: Sequence[str], supercell: int, a: float, vacuum: float) -> Structure:
    ordered = _check_metals(metals)
    if not isinstance(supercell, int) or supercell < 4:
        raise InputError(
            "supercell", f"supercell {supercell!r} too small for the vacancy", "integer >= 4"
        )
    if not 2.0 < a < 3.0:
        raise InputError("a", f"graphene lattice constant {a} Å is unphysical", "2.0-3.0 Å")
    if vacuum < 8.0:
        raise InputError("vacuum", f"vacuum {vacuum} Å too thin", ">= 8 Å")
    sheet = _hexagonal_graphene(supercell, a, vacuum)
    removed = _vacancy_chain(sheet, 2 * len(ordered))
    sheet, centre, pos = _dope_vacancy(sheet, removed)
    if len(ordered) == 1:
        sites = [centre]
    else:
        axis = _dasc_axis(sheet, centre, pos[0] - pos[-1])
        sites = [centre + axis * DASC_M_M / 2, centre - axis * DASC_M_M / 2]
    for metal, xyz in zip(ordered, sites, strict=True):
        sheet.append(metal, xyz, coords_are_cartesian=True, properties={"label": "metal"})
    sheet = relax_site(sheet, centre)  # chemically sensible bond lengths before DFT
    kind = "N4" if len(ordered) == 1 else "N6"
    sheet.properties = {
        "name": f"{''.join(ordered)}-{kind}/G",
        "builder": "dasc_graphene",
        "vacuum_axis": 2,
        "metals": ordered,
        "supercell": supercell,
        "min_vacuum": float(vacuum),
        "source": "Han et al., Nat. Commun. (2024), Methods DFT (6x6x1, a = 2.47 A, ~15 A vacuum)",
    }
    return sheet


def ti0001(
    layers: int = 6,
    a: float = 2.93,
    c: float = 4.68,
    size: tuple[int, int] = (4, 4),
    vacuum: float = 15.0,
) -> Structure:
    """hcp Ti(0001) slab (ABAB stacking, ase.build.hcp0001), all sites labelled ``slab``.

    a = 2.93 Å: paper 000 (Methods MD). c = 4.68 Å: experimental hcp Ti, c = 4.6855 Å
    (c/a = 1.587; Wyckoff, Crystal Structures vol. 1 (1963)). The cell height is the slab
    thickness (layers - 1) c/2 plus ``vacuum``; the bottom layer lies at z = vacuum/2.
    """
    if not isinstance(layers, int) or layers < 2:
        raise InputError("layers", f"{layers!r} layers", "integer >= 2")
    if len(size) != 2 or any(not isinstance(n, int) or n < 1 for n in size):
        raise InputError("size", f"lateral repetition {size!r}", "two positive integers")
    if vacuum < 8.0:
        raise InputError("vacuum", f"vacuum {vacuum} Å too thin", ">= 8 Å")
    atoms = hcp0001("Ti", size=(size[0], size[1], layers), a=a, c=c, vacuum=vacuum / 2)
    atoms.pbc = True  # periodic along z too (VASP/CP2K slab cell), as the graphene supports
    slab = cast(Structure, AseAtomsAdaptor.get_structure(atoms))
    slab.add_site_property("label", ["slab"] * len(slab))
    slab = slab.get_sorted_structure(key=lambda s: s.coords[2])
    slab.properties = {
        "name": f"Ti(0001) {layers}L {size[0]}x{size[1]}",
        "builder": "ti0001",
        "vacuum_axis": 2,
        "layers": layers,
        "min_vacuum": float(vacuum),
        "source": "Zhou et al., Nature 621, 75 (2023), Methods MD (six-layer hcp Ti(001), a = 2.93 A)",
    }
    return slab
