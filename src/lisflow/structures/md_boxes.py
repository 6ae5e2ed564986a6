"""Classical-MD boxes of paper 000 (Methods MD): bulk electrolyte, interfaces, dense phase.

Builders return an :class:`MdSystem` (counts, box, electrode, packmol input) without running
anything; :func:`pack` runs the PyPI ``packmol`` binary and writes the LAMMPS data file.
Lengths Å, masses u, charges e. ``scale`` shrinks molecule counts (``max(1, round(n*scale))``)
and the x–y area (by √scale, snapped to the electrode lattice); bulk boxes follow from the
packed mass at :data:`PACK_DENSITY`. LiTFSI and Li2S6 are neutral units, so scaled boxes stay
neutral.

Electrodes (fixed atoms, charges from Bader via :mod:`lisflow.forcefield.charges`):

* ``mo_ngraphene``: a rectangular graphene sheet spanning the box (x zigzag, a = 2.46 Å;
  98.4 = 40 a and 76.695 = 18 √3 a, so the paper's box is a whole number of graphene cells)
  carrying ``n_clusters`` copies of the DFT active centre of ``mo_ngraphene(4)`` (Mo4 on the
  N-doped divacancy). Each copy is the part of the DFT cell within :data:`MOTIF_RADIUS` of its
  N centroid, mirrored x↔y (the DFT cell has x along armchair) and translated onto the sheet
  registry; the sheet atoms it replaces are removed. 10 centres = 40 Mo (paper: 40 Mo).
  Charges: the DFT cell's Bader charges mapped by local motif
  (:func:`lisflow.forcefield.charges.map_by_motif`; default the shipped CP2K + baderkit set
  ``builtin:mo4ng_bader_cp2k``); the whole box is made neutral by spreading its residual
  evenly over the electrode C atoms (:func:`neutralise`, recorded in the data file).
* ``ti0001``: orthogonal six-layer hcp Ti(0001) slab, a = 2.93 Å, c = 4.68 Å
  (``ase.build.hcp0001``, orthogonal cells need an even row count): 34 × 30 rows =
  99.62 × 76.12 Å ("a box size similar to that of the Mo NCs/N-G model").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase.build import hcp0001
from pymatgen.core import Lattice, Structure
from scipy.spatial import cKDTree

from lisflow.errors import InputError
from lisflow.forcefield.charges import DEFAULT_MO_NGRAPHENE, ChargeSource
from lisflow.forcefield.params import load_forcefield
from lisflow.structures.md_charges import _assign_charges, neutralise, site_charges
from lisflow.structures.md_memo import (
    cart_coords,
    copy_electrode,
    copy_system,
    memo,
    structure_from_cartesian,
)
from lisflow.structures.molecules import molecule

#: Molar masses (g/mol) for concentration checks (SCIENCE.md, paper 000 Methods MD).
MOLAR_MASS = {"Li2S6": 206.24, "LiTFSI": 287.09, "DOL": 74.08, "DME": 90.12}
#: Packed species of each unit: LiTFSI is packed as separate Li+ and TFSI- ions.
UNITS = {"Li2S6": ("Li2S6",), "LiTFSI": ("Li", "TFSI"), "DOL": ("DOL",), "DME": ("DME",)}
PACK_DENSITY = 1.0  # g/cm^3, initial density of packed solution (relaxed by NPT / NVT later)
DENSE_DENSITY = 1.5  # g/cm^3, compact Li2S6 layer of the dense-phase model (assumption)
AMU_PER_A3 = 0.602214  # u/Å^3 for 1 g/cm^3
GRAPHENE_A = 2.46  # Å; 98.4 = 40 a, 76.695 = 18 sqrt(3) a (paper 000 box)
TI_A, TI_C = 2.93, 4.68  # Å, paper 000 / experimental hcp Ti c (c/a 1.597)
SHEET_Z = 5.0  # Å, z of the graphene sheet (bottom of a p p f box at 0)
SLAB_Z0 = 2.0  # Å, z of the lowest Ti layer
GAP = 2.5  # Å between the electrode top and the packing region
MOTIF_RADIUS = 5.5  # Å, lateral radius of the transplanted Mo4/N-G active centre
PACKMOL_TOLERANCE = 2.0  # Å
MARGIN = 1.0  # Å from region faces (half the packmol tolerance)


@dataclass(frozen=True)
class PackRegion:
    """``count`` copies of ``species`` inside the box ``lo``–``hi`` (Å)."""

    species: str
    count: int
    lo: tuple[float, float, float]
    hi: tuple[float, float, float]


@dataclass
class MdSystem:
    """One MD box before packing. ``electrode`` carries site properties label and charge."""

    name: str
    kind: str
    counts: dict[str, int]
    box: tuple[float, float, float]
    regions: list[PackRegion]
    electrode: Structure | None = None
    electrode_name: str | None = None
    seed: int = 20231001
    notes: list[str] = field(default_factory=list)

    @property
    def periodic_z(self) -> bool:
        return self.electrode is None

    @property
    def species_order(self) -> list[str]:
        return [r.species for r in self.regions]

    @property
    def n_atoms(self) -> int:
        n = sum(r.count * len(molecule(r.species)) for r in self.regions)
        return n + (0 if self.electrode is None else len(self.electrode))

    @property
    def mass(self) -> float:
        """Total mass (u) from the element masses (pymatgen)."""
        m = sum(r.count * float(molecule(r.species).composition.weight) for r in self.regions)
        return m + (0.0 if self.electrode is None else float(self.electrode.composition.weight))

    @property
    def total_charge(self) -> float:
        """Net charge (e) from the force-field charges and electrode charges."""
        ff = load_forcefield(list(dict.fromkeys(self.species_order)))
        q = sum(r.count * sum(ff.species[r.species].charges) for r in self.regions)
        if self.electrode is not None:
            q += float(sum(site_charges(self.electrode)))
        return q

    def packmol_input(self, output: str = "packed.xyz") -> str:
        """Packmol input (deterministic; molecule files ``<species>.xyz`` next to it)."""
        lines = [
            f"# {self.name}: {self.kind}, box {self.box[0]:.3f} x {self.box[1]:.3f} x {self.box[2]:.3f} A",
            f"tolerance {PACKMOL_TOLERANCE}",
            "filetype xyz",
            f"output {output}",
            f"seed {self.seed}",
            "nloop 200",
        ]
        # the fixed electrode is not packed: every region starts GAP above its top
        for r in self.regions:
            lo, hi = " ".join(f"{v:.3f}" for v in r.lo), " ".join(f"{v:.3f}" for v in r.hi)
            lines += [
                f"structure {r.species}.xyz",
                f"  number {r.count}",
                f"  inside box {lo} {hi}",
                "end structure",
            ]
        return "\n".join(lines) + "\n"


def scaled_count(n: int, scale: float) -> int:
    """``max(1, round(n * scale))`` for n > 0, else 0."""
    if scale <= 0:
        raise InputError("scale", f"must be > 0, got {scale}")
    return 0 if n <= 0 else max(1, round(n * scale))


def li2s6_weight_percent(counts: dict[str, int]) -> float:
    """Li2S6 mass fraction (wt%) of a box with ``counts`` of Li2S6, LiTFSI, DOL, DME."""
    total = sum(MOLAR_MASS[k] * n for k, n in counts.items())
    return 100.0 * MOLAR_MASS["Li2S6"] * counts.get("Li2S6", 0) / total


def _unit_mass(counts: dict[str, int]) -> float:
    return sum(
        float(molecule(s).composition.weight) * n for u, n in counts.items() for s in _unit(u)
    )


def _unit(name: str) -> tuple[str, ...]:
    """Packed species of a unit (a user solvent is its own single species)."""
    return UNITS.get(name, (name,))


def _regions(counts: dict[str, int], lo, hi) -> list[PackRegion]:
    lo = tuple(v + MARGIN for v in lo)
    hi = tuple(v - MARGIN for v in hi)
    return [PackRegion(s, n, lo, hi) for u, n in counts.items() if n > 0 for s in _unit(u)]


def _counts(n_li2s6, n_litfsi, n_dol, n_dme, scale, solvents=None) -> dict[str, int]:
    raw = {"Li2S6": n_li2s6, "LiTFSI": n_litfsi, "DOL": n_dol, "DME": n_dme}
    for key, n in (solvents or {}).items():
        if key in raw or key in ("Li", "TFSI"):
            raise InputError(f"solvents.{key}", "is shipped: give its count with n_* instead")
        raw[key] = n
    for key, n in raw.items():
        if n < 0:
            raise InputError(f"counts.{key}", f"must be >= 0, got {n}")
    return {k: scaled_count(n, scale) for k, n in raw.items()}


def electrolyte_bulk(
    n_li2s6: int,
    n_litfsi: int = 255,
    n_dol: int = 1020,
    n_dme: int = 1020,
    scale: float = 1.0,
    name: str = "bulk",
    density: float = PACK_DENSITY,
    solvents: dict[str, int] | None = None,
) -> MdSystem:
    """Cubic periodic box of Li2S6 in LiTFSI/DOL/DME at ``density`` g/cm^3 (paper: 255 LiTFSI,
    1,020 DOL, 1,020 DME and N = 30/65/125/255 Li2S6); ``solvents``: counts of registered
    user species (:mod:`lisflow.forcefield.custom`)."""
    counts = _counts(n_li2s6, n_litfsi, n_dol, n_dme, scale, solvents)
    side = (_unit_mass(counts) / (density * AMU_PER_A3)) ** (1 / 3)
    box = (side, side, side)
    return MdSystem(
        name,
        "bulk",
        counts,
        box,
        _regions(counts, (0, 0, 0), box),
        notes=[f"cubic box from the mass at {density} g/cm^3"],
    )


# ----------------------------------------------------------------------------- electrodes
def graphene_sheet(nx: int, ny: int, a: float = GRAPHENE_A, z: float = SHEET_Z) -> np.ndarray:
    """Cartesian C positions of an orthogonal sheet, x zigzag (period a), y armchair (√3 a)."""
    d = a / math.sqrt(3)
    basis = np.array([[0, 0], [0, d], [a / 2, 1.5 * d], [a / 2, 2.5 * d]])
    cells = np.array([[i * a, j * 3 * d] for i in range(nx) for j in range(ny)])
    xy = (cells[:, None, :] + basis[None, :, :]).reshape(-1, 2)
    return np.column_stack([xy, np.full(len(xy), z)])


def _cluster_sites(n: int, lx: float, ly: float) -> np.ndarray:
    """Centres of ``n`` active sites on a full ncol × nrow grid (ncol · nrow = n) whose
    spacing is as square as possible (10 on 98.4 × 76.695 Å: 5 × 2)."""
    pairs = [(c, n // c) for c in range(1, n + 1) if n % c == 0]
    ncol, nrow = min(pairs, key=lambda p: abs(math.log((p[0] / p[1]) / (lx / ly))))
    return np.array(
        [((i + 0.5) * lx / ncol, (j + 0.5) * ly / nrow) for j in range(nrow) for i in range(ncol)]
    )


def mo_ngraphene_electrode(
    n_clusters: int, nx: int, ny: int, charges: ChargeSource = DEFAULT_MO_NGRAPHENE
) -> tuple[Structure, tuple[float, float]]:
    """Mo4/N-G sheet of nx × ny rectangular cells with ``n_clusters`` active centres; site
    property ``charge`` from ``charges`` mapped by local motif (``None``/``"neutral"``: 0 e).
    The electrode is not neutralised here: see :func:`neutralise`."""
    from lisflow.structures.support import mo_ngraphene

    dft = mo_ngraphene(4)
    lx, ly = nx * GRAPHENE_A, ny * GRAPHENE_A * math.sqrt(3)
    sheet = graphene_sheet(nx, ny)
    labels = np.array(dft.site_properties["label"])
    xyz = dft.cart_coords[:, [1, 0, 2]]  # mirror x<->y: DFT armchair x -> MD armchair y
    xyz[:, 2] += SHEET_Z - np.median(dft.cart_coords[labels == "support", 2])
    centre = xyz[labels == "coordinating_N", :2].mean(axis=0)
    near = np.linalg.norm(xyz[:, :2] - centre, axis=1) <= MOTIF_RADIUS
    keep_dft = near | (labels != "support")
    tree = cKDTree(sheet[:, :2], boxsize=(lx, ly))
    support = xyz[labels == "support", :2]
    species, coords, lab = [], [], []
    dft_species = [str(s.specie) for s in dft]  # (once, not per centre)
    drop = np.zeros(len(sheet), bool)
    for site in _cluster_sites(n_clusters, lx, ly):
        shift0 = site - centre
        _, cand = tree.query(np.mod(support[0] + shift0, (lx, ly)), k=6)
        best = max(
            cand,
            key=lambda m: np.sum(
                tree.query(np.mod(support + sheet[m, :2] - support[0], (lx, ly)))[0] < 0.2
            ),
        )
        shift = sheet[best, :2] - support[0]
        moved = xyz[keep_dft].copy()
        moved[:, :2] = np.mod(moved[:, :2] + shift, (lx, ly))
        for idx in tree.query_ball_point(moved[:, :2], r=1.0):
            drop[idx] = True
        species += [el for el, keep in zip(dft_species, keep_dft, strict=True) if keep]
        coords.append(moved)
        lab += list(labels[keep_dft])
    plain = sheet[~drop]
    species = ["C"] * len(plain) + species
    all_coords = np.vstack([plain, *coords]) if coords else plain
    lab = ["support"] * len(plain) + lab
    s = structure_from_cartesian(  # = Structure(..., coords_are_cartesian=True), faster
        Lattice.orthorhombic(lx, ly, 100.0), species, all_coords, {"label": lab}
    )
    _assign_charges(s, charges, dft)
    return s, (lx, ly)


def ti_electrode(
    nx: int, ny: int, layers: int = 6, charges: ChargeSource = None
) -> tuple[Structure, tuple[float, float]]:
    """Orthogonal hcp Ti(0001) slab (nx × ny rows, ny even), bottom layer at SLAB_Z0.
    Without ``charges`` every Ti is 0 e (no Ti Bader set is shipped)."""
    ny += ny % 2
    atoms = hcp0001("Ti", size=(nx, ny, layers), a=TI_A, c=TI_C, orthogonal=True, vacuum=0.0)
    xyz = atoms.get_positions()
    xyz[:, 2] += SLAB_Z0 - xyz[:, 2].min()
    lx, ly = float(atoms.cell[0, 0]), float(atoms.cell[1, 1])
    s = structure_from_cartesian(  # = Structure(..., coords_are_cartesian=True), faster
        Lattice.orthorhombic(lx, ly, 100.0), ["Ti"] * len(xyz), xyz, {"label": ["slab"] * len(xyz)}
    )
    _assign_charges(s, charges, None)
    return s, (lx, ly)


def _electrode(electrode: str, area_cells: tuple[float, float], n_mo: int, scale: float, charges):
    """(copy of the electrode, (lx, ly)) and the z (Å) of its top atom, each built once."""
    key = ("electrode", electrode, tuple(area_cells), n_mo, scale, charges)
    build = lambda: _build_electrode(electrode, area_cells, n_mo, scale, charges)  # noqa: E731
    slab, size = memo(key, build, copy_electrode)
    top = memo(("electrode_top", *key), lambda: float(cart_coords(slab)[:, 2].max()), float)
    return slab, size, top


def _build_electrode(electrode: str, area_cells, n_mo: int, scale: float, charges):
    if electrode == "mo_ngraphene":
        nx = max(4, round(area_cells[0] / GRAPHENE_A * math.sqrt(scale)))
        ny = max(3, round(area_cells[1] / (GRAPHENE_A * math.sqrt(3)) * math.sqrt(scale)))
        charges = DEFAULT_MO_NGRAPHENE if charges is None else charges
        return mo_ngraphene_electrode(scaled_count(n_mo // 4, scale), nx, ny, charges)
    if electrode == "ti0001":
        nx = max(3, round(area_cells[0] / TI_A * math.sqrt(scale)))
        ny = max(2, round(area_cells[1] / (TI_A * math.sqrt(3) / 2) * math.sqrt(scale)))
        return ti_electrode(nx, ny, charges=charges)
    raise InputError("electrode", f"unknown electrode {electrode!r}", "mo_ngraphene, ti0001")


def _layer(counts: dict[str, int], area: float, density: float) -> float:
    return _unit_mass(counts) / (density * AMU_PER_A3 * area)


def interface(
    electrode: str,
    n_li2s6: int,
    n_litfsi: int = 255,
    n_dol: int = 1020,
    n_dme: int = 1020,
    box: tuple[float, float, float] | list[float] = (98.4, 76.695, 200.0),
    scale: float = 1.0,
    n_mo: int = 40,
    charges: ChargeSource = None,
    name: str = "interface",
    solvents: dict[str, int] | None = None,
) -> MdSystem:
    """Electrolyte layer on a fixed electrode, periodic in x, y; z non-periodic (p p f)."""
    counts = _counts(n_li2s6, n_litfsi, n_dol, n_dme, scale, solvents)
    slab, (lx, ly), top = _electrode(electrode, (box[0], box[1]), n_mo, scale, charges)
    z0 = top + GAP  # (top = float(slab.cart_coords[:, 2].max()))
    z1 = z0 + _layer(counts, lx * ly, PACK_DENSITY)
    if z1 > box[2] - 10.0:
        raise InputError("box", f"solution layer up to z = {z1:.1f} A does not fit in {box[2]} A")
    sys_ = MdSystem(
        name,
        "interface",
        counts,
        (lx, ly, box[2]),
        _regions(counts, (0, 0, z0), (lx, ly, z1)),
        slab,
        electrode,
    )
    sys_.notes.append(f"solution layer {z0:.1f}-{z1:.1f} A at {PACK_DENSITY} g/cm^3")
    neutralise(sys_)
    return sys_


def dense_phase(
    electrode: str,
    box: tuple[float, float, float] | list[float] = (172.2, 153.39, 250.0),
    n_li2s6: int = 3060,
    n_litfsi: int = 1020,
    n_dol: int = 4080,
    n_dme: int = 4080,
    scale: float = 1.0,
    n_mo: int = 140,
    charges: ChargeSource = None,
    name: str = "dense_phase",
    solvents: dict[str, int] | None = None,
) -> MdSystem:
    """Layered compact model: a dense Li2S6 layer on the electrode, electrolyte above it.

    The Li2S6 layer is packed at :data:`DENSE_DENSITY`; ``n_mo`` = 140 keeps the areal density
    of Mo centres of the 98.4 × 76.695 Å interface (40 Mo) on the larger sheet (assumption:
    paper 000 gives no Mo count for this model).
    """
    counts = _counts(n_li2s6, n_litfsi, n_dol, n_dme, scale, solvents)
    slab, (lx, ly), top = _electrode(electrode, (box[0], box[1]), n_mo, scale, charges)
    z0 = top + GAP  # (top = float(slab.cart_coords[:, 2].max()))
    dense = {"Li2S6": counts["Li2S6"]}
    solution = {k: v for k, v in counts.items() if k != "Li2S6"}
    z1 = z0 + _layer(dense, lx * ly, DENSE_DENSITY)
    z2 = z1 + _layer(solution, lx * ly, PACK_DENSITY)
    if z2 > box[2] - 10.0:
        raise InputError("box", f"layers up to z = {z2:.1f} A do not fit in {box[2]} A")
    regions = _regions(dense, (0, 0, z0), (lx, ly, z1)) + _regions(
        solution, (0, 0, z1), (lx, ly, z2)
    )
    sys_ = MdSystem(name, "dense_phase", counts, (lx, ly, box[2]), regions, slab, electrode)
    sys_.notes.append(
        f"Li2S6 layer {z0:.1f}-{z1:.1f} A at {DENSE_DENSITY} g/cm^3; solution to {z2:.1f} A"
    )
    neutralise(sys_)
    return sys_


# ----------------------------------------------------------------------------- packing
def pack(system: MdSystem, workdir: Path, progress=None, data_name: str = "system.data") -> Path:
    """Run packmol in ``workdir`` and write the LAMMPS data file; return its path."""
    from lisflow.io.lammps_data import write_data
    from lisflow.io.lammps_packmol import run_packmol

    packed = run_packmol(system, workdir, progress)
    return write_data(system, packed, Path(workdir) / data_name)


BUILDERS = ("bulk", "interface", "dense_phase")


def build_system(spec: dict) -> MdSystem:
    """MdSystem from a plain dict (``kind`` plus the builder's keyword arguments), built once
    per dry-run (:mod:`lisflow.structures.md_memo`).

    ``custom_species`` (list of :class:`lisflow.forcefield.custom.CustomSpecies` dicts: the
    contents of user force-field and xyz files) are validated and registered first."""
    return memo(_system_key(spec), lambda: _build_system(spec), copy_system)


def shared_system(spec: dict) -> MdSystem:
    """:func:`build_system` for callers that only read the box (writing packmol inputs and
    ``in.lammps``): inside :func:`lisflow.structures.md_memo.cached_builds` the memoised
    object itself, no copy (a 10^4-atom electrode costs ~0.1 s to copy). Do not mutate it."""
    return memo(_system_key(spec), lambda: _build_system(spec), lambda built: built)


def _system_key(spec: dict) -> tuple:
    return ("system", json.dumps(spec, sort_keys=True, default=repr))


def _build_system(spec: dict) -> MdSystem:
    from lisflow.forcefield.custom import register

    args = dict(spec)
    for custom in args.pop("custom_species", None) or []:
        register(custom)
    kind = args.pop("kind", None)
    if kind == "bulk":
        return electrolyte_bulk(**args)
    if kind == "interface":
        return interface(**args)
    if kind == "dense_phase":
        return dense_phase(**args)
    raise InputError("system.kind", f"unknown {kind!r}", ", ".join(BUILDERS))
