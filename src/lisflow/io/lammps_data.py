"""LAMMPS data file (``atom_style full``) of a packed :class:`~lisflow.structures.md_boxes.MdSystem`.

:func:`layout` fixes the numbering of atom, bond, angle and dihedral types from the system
alone (before packing), so the input script and the data file agree. Units ``real``:
kcal/mol, Å, degree, e, u.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lisflow.errors import ParseError
from lisflow.forcefield.params import AtomType, Coeff, ForceField, load_forcefield
from lisflow.fsutil import atomic_write_text
from lisflow.structures.md_charges import element_symbols

#: Electrode element → force-field type (inputs/forcefields/electrode.yaml).
ELECTRODE_TYPES = {"C": "E_C", "N": "E_N", "Mo": "E_Mo", "Ti": "E_Ti", "Li": "Li"}


@dataclass
class Layout:
    """Type numbering (1-based in LAMMPS) shared by the data file and the input script."""

    ff: ForceField
    atom_types: list[AtomType] = field(default_factory=list)
    bond_types: list[Coeff] = field(default_factory=list)
    angle_types: list[Coeff] = field(default_factory=list)
    dihedral_types: list[Coeff] = field(default_factory=list)
    electrode_types: list[int] = field(default_factory=list)
    #: species group -> 1-based inclusive atom id ranges (one Nose-Hoover thermostat each)
    thermostat_groups: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def type_id(self, name: str) -> int:
        return [t.name for t in self.atom_types].index(name) + 1

    def ids_of_element(self, element: str, solution_only: bool = True) -> list[int]:
        """Type ids (1-based) whose element is ``element`` (solution atoms only by default)."""
        return [
            i
            for i, t in enumerate(self.atom_types, 1)
            if t.element == element and not (solution_only and i in self.electrode_types)
        ]


def _add(table: list[Coeff], coeff: Coeff) -> int:
    """1-based position of ``coeff`` in ``table``, appended if new (one scan)."""
    try:
        return table.index(coeff) + 1
    except ValueError:
        table.append(coeff)
        return len(table)


def layout(system) -> Layout:
    """Types used by ``system`` in a deterministic order (species order, then electrode)."""
    species = list(dict.fromkeys(system.species_order))
    ff = load_forcefield(species)
    out = Layout(ff)
    names: list[str] = []
    for sp in species:
        s = ff.species[sp]
        for t in s.atom_types:
            if t not in names:
                names.append(t)
        for b in s.bonds:
            _add(out.bond_types, ff.coeff(sp, "bond", b))
        for a in s.angles:
            _add(out.angle_types, ff.coeff(sp, "angle", a))
        for d in s.dihedrals:
            _add(out.dihedral_types, ff.coeff(sp, "dihedral", d))
    electrode = []
    if system.electrode is not None:
        for el in sorted(set(element_symbols(system.electrode))):
            electrode.append(f"E_{el}")
            if f"E_{el}" not in names:
                names.append(f"E_{el}")
    out.atom_types = [ff.types[n] for n in names]
    out.electrode_types = [names.index(n) + 1 for n in electrode]
    out.thermostat_groups = thermostat_groups(system, ff)
    return out


#: Packed species -> thermostat group. Paper 000 Methods MD: "coupling LiTFSI, Li2S6, DOL and
#: DME molecules to a Nose-Hoover thermostat with a time constant of 0.1 ps, respectively".
THERMOSTAT_GROUP = {"Li": "LiTFSI", "TFSI": "LiTFSI", "Li2S6": "Li2S6", "DOL": "DOL", "DME": "DME"}


def thermostat_groups(system, ff: ForceField) -> dict[str, list[tuple[int, int]]]:
    """Atom id ranges of each species group in data-file order (electrode first)."""
    first = 1 + (0 if system.electrode is None else len(system.electrode))
    groups: dict[str, list[tuple[int, int]]] = {}
    for region in system.regions:
        n = region.count * ff.species[region.species].n_atoms
        if n == 0:
            continue
        name = THERMOSTAT_GROUP.get(region.species, region.species)
        ranges = groups.setdefault(name, [])
        if ranges and ranges[-1][1] + 1 == first:
            ranges[-1] = (ranges[-1][0], first + n - 1)
        else:
            ranges.append((first, first + n - 1))
        first += n
    return groups


def read_xyz(path: Path) -> np.ndarray:
    """Cartesian coordinates (Å) of an xyz file; ParseError if it is truncated."""
    lines = Path(path).read_text().splitlines()
    try:
        n = int(lines[0])
        xyz = np.array([[float(v) for v in line.split()[1:4]] for line in lines[2 : 2 + n]])
    except (IndexError, ValueError) as exc:
        raise ParseError(path, f"not a complete xyz file ({exc})") from None
    if xyz.shape != (n, 3):
        raise ParseError(path, f"expected {n} atoms, found {len(xyz)}")
    return xyz


def data_text(system, coords: np.ndarray, lay: Layout | None = None) -> str:
    """Data file text for ``system`` with packed molecule ``coords`` (region order)."""
    lay = lay or layout(system)
    ff = lay.ff
    atoms, bonds, angles, dihedrals = [], [], [], []
    notes: list[str] = []  # per-atom comments (electrode charge motifs)
    mol_id = 0
    if system.electrode is not None:
        mol_id = 1
        for site, q in zip(
            system.electrode, system.electrode.site_properties["charge"], strict=True
        ):
            t = lay.type_id(ELECTRODE_TYPES[str(site.specie)] if str(site.specie) != "Li" else "Li")
            atoms.append((mol_id, t, float(q), *site.coords))
            notes.append(f"  # electrode {site.properties.get('motif', site.specie.symbol)}")
    k = 0
    for region in system.regions:
        sp = ff.species[region.species]
        tids = [lay.type_id(t) for t in sp.atom_types]
        for _ in range(region.count):
            base = len(atoms) + 1
            first_mol = mol_id + 1
            for i in range(sp.n_atoms):
                atoms.append(
                    (first_mol + sp.molecule_offsets[i], tids[i], sp.charges[i], *coords[k])
                )
                k += 1
            mol_id = first_mol + max(sp.molecule_offsets)
            for b in sp.bonds:
                bonds.append(
                    (_add(lay.bond_types, ff.coeff(sp.name, "bond", b)), *(base + i for i in b))
                )
            for a in sp.angles:
                angles.append(
                    (_add(lay.angle_types, ff.coeff(sp.name, "angle", a)), *(base + i for i in a))
                )
            for d in sp.dihedrals:
                dihedrals.append(
                    (
                        _add(lay.dihedral_types, ff.coeff(sp.name, "dihedral", d)),
                        *(base + i for i in d),
                    )
                )
    if k != len(coords):
        raise ParseError("packed.xyz", f"{len(coords)} packed atoms, system needs {k}")
    lx, ly, lz = system.box
    out = [
        f"LAMMPS data file: {system.name} ({system.kind}), written by lisflow; units real",
        *charge_comments(system),
        "",
        f"{len(atoms)} atoms",
        f"{len(bonds)} bonds",
        f"{len(angles)} angles",
        f"{len(dihedrals)} dihedrals",
        "0 impropers",
        f"{len(lay.atom_types)} atom types",
        f"{max(1, len(lay.bond_types))} bond types",
        f"{max(1, len(lay.angle_types))} angle types",
        f"{max(1, len(lay.dihedral_types))} dihedral types",
        "",
        f"0.0 {lx:.6f} xlo xhi",
        f"0.0 {ly:.6f} ylo yhi",
        f"0.0 {lz:.6f} zlo zhi",
        "",
        "Masses",
        "",
    ]
    out += [f"{i} {t.mass:.4f}  # {t.name}" for i, t in enumerate(lay.atom_types, 1)]
    for title, table in (
        ("Bond Coeffs # harmonic", lay.bond_types),
        ("Angle Coeffs # harmonic", lay.angle_types),
        ("Dihedral Coeffs # opls", lay.dihedral_types),
    ):
        if table:
            out += ["", title, ""]
            out += [
                f"{i} " + " ".join(f"{v:.4f}" for v in c.values) + f"  # {'-'.join(c.classes)}"
                for i, c in enumerate(table, 1)
            ]
    out += ["", "Atoms # full", ""]
    # electrode charges with 10 decimals so that the written charges stay neutral to 1e-6 e
    out += [
        f"{i} {m} {t} {q:.10f} {x:.6f} {y:.6f} {z:.6f}" + notes[i - 1]
        if i <= len(notes)
        else f"{i} {m} {t} {q:.6f} {x:.6f} {y:.6f} {z:.6f}"
        for i, (m, t, q, x, y, z) in enumerate(atoms, 1)
    ]
    for title, rows in (("Bonds", bonds), ("Angles", angles), ("Dihedrals", dihedrals)):
        if rows:
            out += ["", title, ""]
            out += [f"{i} " + " ".join(map(str, r)) for i, r in enumerate(rows, 1)]
    return "\n".join(out) + "\n"


def charge_comments(system) -> list[str]:
    """``#`` header lines saying where the electrode charges came from (LAMMPS ignores them)."""
    if system.electrode is None:
        return []
    rec = system.electrode.properties.get("charges", {})
    lines = [f"# electrode charges: {rec.get('source', 'not recorded')}"]
    if rec.get("method"):
        lines.append(f"# method: {rec['method']}")
    if rec.get("mapping"):
        lines.append(f"# mapping: {rec['mapping']}")
    for key, m in rec.get("motifs", {}).items():
        lines.append(
            f"#   {key:<16} {m['charge']:+.5f} e  mean of {m['n_reference']} reference sites"
        )
    if rec.get("unmatched_element_mean"):
        lines.append(f"# element mean (motif not in reference): {rec['unmatched_element_mean']}")
    if rec.get("neutralisation"):
        lines.append(f"# neutral: {rec['neutralisation']}")
    if "mo_total_charge" in rec:
        lines.append(
            f"# Mo total {rec['mo_total_charge']:+.4f} e, per Mo4 centre "
            f"{rec['mo_per_centre_charge']:+.4f} e (paper 000: +7.37 e)"
        )
    return lines


def types_record(system, lay: Layout | None = None) -> dict:
    """Type ids → names, electrode type ids and the S6(2-) sulfur type ids (for analysis:
    TFSI also contains S, so select polysulfide S by type, not by element)."""
    lay = lay or layout(system)
    return {
        "atom_types": {str(i): t.name for i, t in enumerate(lay.atom_types, 1)},
        "electrode_types": lay.electrode_types,
        "s6_sulfur_types": [
            lay.type_id(n) for n in ("S6_ST", "S6_SI") if n in {t.name for t in lay.atom_types}
        ],
        "n_electrode_atoms": 0 if system.electrode is None else len(system.electrode),
        "box": list(system.box),
        "periodic_z": system.periodic_z,
        "electrode_charges": (
            None if system.electrode is None else system.electrode.properties.get("charges")
        ),
    }


def write_data(system, packed_xyz: Path, path: Path) -> Path:
    """Read packmol's output and write the data file atomically, plus ``<stem>.types.json``
    (:func:`types_record`) next to it; return the data file path."""
    lay = layout(system)
    text = data_text(system, read_xyz(packed_xyz), lay)
    atomic_write_text(
        Path(path).with_suffix(".types.json"),
        json.dumps(types_record(system, lay), indent=1) + "\n",
    )
    return atomic_write_text(path, text)
