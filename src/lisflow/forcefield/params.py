"""Force-field data of one species (``inputs/forcefields/<name>.yaml``) and of a whole system.

Parameters are kept in their LAMMPS ``units real`` form (kcal/mol, Å, degree, e) because the
only consumer is the LAMMPS input writer; results are converted to eV/ps when read back.
Each species file lists its atoms in the order of ``inputs/molecules/<name>.xyz`` and its
bonds by atom index; angles and dihedrals follow from the bond graph
(:mod:`lisflow.forcefield.topology`) and get their coefficients by atom class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from pymatgen.core import Element

from lisflow import INPUTS_DIR
from lisflow.errors import InputError
from lisflow.forcefield.topology import angles_from_bonds, dihedrals_from_bonds

FORCEFIELD_DIR = INPUTS_DIR / "forcefields"
#: Species with a force-field file (LiTFSI is composed of Li + TFSI).
SPECIES = ("DOL", "DME", "TFSI", "Li", "Li2S6", "LiTFSI", "electrode")


@dataclass(frozen=True)
class AtomType:
    """One LJ type: σ (Å), ε (kcal/mol), mass (u), bonded class, source of the numbers."""

    name: str
    element: str
    bonded_class: str
    sigma: float
    epsilon: float
    source: str

    @property
    def mass(self) -> float:
        """Atomic mass (u) of the element (pymatgen)."""
        return float(Element(self.element).atomic_mass)


@dataclass(frozen=True)
class Coeff:
    """Coefficients of a bonded term for an ordered tuple of atom classes."""

    classes: tuple[str, ...]
    values: tuple[float, ...]
    source: str

    def matches(self, classes: tuple[str, ...]) -> bool:
        return classes in (self.classes, self.classes[::-1])


@dataclass(frozen=True)
class SpeciesFF:
    """Force field of one molecule or ion, atoms in the order of its xyz geometry."""

    name: str
    charge: int
    atom_types: tuple[str, ...]
    charges: tuple[float, ...]
    molecule_offsets: tuple[int, ...]
    bonds: tuple[tuple[int, int], ...]
    bond_coeffs: tuple[Coeff, ...] = ()
    angle_coeffs: tuple[Coeff, ...] = ()
    dihedral_coeffs: tuple[Coeff, ...] = ()

    @property
    def n_atoms(self) -> int:
        return len(self.atom_types)

    @property
    def angles(self) -> list[tuple[int, int, int]]:
        return angles_from_bonds(self.bonds)

    @property
    def dihedrals(self) -> list[tuple[int, int, int, int]]:
        return dihedrals_from_bonds(self.bonds)


@dataclass
class ForceField:
    """All atom types and species of one MD system (the union of their files)."""

    types: dict[str, AtomType] = field(default_factory=dict)
    species: dict[str, SpeciesFF] = field(default_factory=dict)

    def classes(self, species: str, atoms: tuple[int, ...]) -> tuple[str, ...]:
        """Bonded classes of ``atoms`` (indices inside ``species``)."""
        sp = self.species[species]
        return tuple(self.types[sp.atom_types[i]].bonded_class for i in atoms)

    def coeff(self, species: str, kind: str, atoms: tuple[int, ...]) -> Coeff:
        """The bond/angle/dihedral coefficients of ``atoms``; InputError if the file lacks them."""
        sp = self.species[species]
        classes = self.classes(species, atoms)
        table = {"bond": sp.bond_coeffs, "angle": sp.angle_coeffs, "dihedral": sp.dihedral_coeffs}
        for coeff in table[kind]:
            if coeff.matches(classes):
                return coeff
        raise InputError(
            f"forcefield.{species}.{kind}_coeffs",
            f"no parameters for {kind} {'-'.join(classes)}",
        )


def _coeffs(rows: list[dict] | None, keys: tuple[str, ...]) -> tuple[Coeff, ...]:
    out = []
    for row in rows or []:
        values: list[float] = []
        for key in keys:
            value = row[key]
            values.extend(value if isinstance(value, list) else [value])
        out.append(Coeff(tuple(row["classes"]), tuple(float(v) for v in values), row["source"]))
    return tuple(out)


@cache
def _read(name: str, directory: str) -> dict:
    path = Path(directory) / f"{name}.yaml"
    if not path.is_file():
        raise InputError("forcefield", f"no force-field file for {name!r}", ", ".join(SPECIES))
    return yaml.safe_load(path.read_text())


def _data(name: str, directory: Path) -> dict:
    """The parsed file of ``name``: a user species registered in this process
    (:mod:`lisflow.forcefield.custom`) or the shipped ``<directory>/<name>.yaml``."""
    from lisflow.forcefield.custom import registered

    custom = registered(name)
    return custom.forcefield if custom is not None else _read(name, str(directory))


def load_species(
    name: str, directory: Path = FORCEFIELD_DIR
) -> tuple[SpeciesFF, dict[str, AtomType]]:
    """Read one species file; return its :class:`SpeciesFF` and the atom types it defines."""
    return load_species_data(_data(name, directory))


def load_species_data(data: dict) -> tuple[SpeciesFF, dict[str, AtomType]]:
    """:class:`SpeciesFF` and atom types of one parsed species mapping."""
    types = {
        key: AtomType(
            key, t["element"], t["class"], float(t["sigma"]), float(t["epsilon"]), t["source"]
        )
        for key, t in (data.get("types") or {}).items()
    }
    atoms = data.get("atoms") or []
    offsets, mol = [], 0
    for atom in atoms:
        mol = int(atom.get("molecule", 0))
        offsets.append(mol)
    species = SpeciesFF(
        name=data["species"],
        charge=int(data.get("charge", 0)),
        atom_types=tuple(a["type"] for a in atoms),
        charges=tuple(float(a["charge"]) for a in atoms),
        molecule_offsets=tuple(offsets),
        bonds=tuple((int(i), int(j)) for i, j in data.get("bonds") or []),
        bond_coeffs=_coeffs(data.get("bond_coeffs"), ("k", "r0")),
        angle_coeffs=_coeffs(data.get("angle_coeffs"), ("k", "theta0")),
        dihedral_coeffs=_coeffs(data.get("dihedral_coeffs"), ("k",)),
    )
    return species, types


def load_forcefield(
    species: tuple[str, ...] | list[str], directory: Path = FORCEFIELD_DIR
) -> ForceField:
    """Force field of a system: every named species plus the electrode and Li+ types.

    Composite species (``LiTFSI``) pull in their parts. Types defined in two files must be
    identical (e.g. ``Li`` used by ``Li2S6`` and defined in ``Li.yaml``).
    """
    ff = ForceField()
    todo = list(dict.fromkeys([*species, "Li", "electrode"]))
    while todo:
        name = todo.pop(0)
        if name in ff.species:
            continue
        data = _data(name, directory)
        if "composed_of" in data:
            todo.extend(p for p in data["composed_of"] if p not in ff.species)
            continue
        sp, types = load_species(name, directory)
        for key, atom_type in types.items():
            if key in ff.types and ff.types[key] != atom_type:
                raise InputError(f"forcefield.{name}.types.{key}", "redefined with other values")
            ff.types[key] = atom_type
        ff.species[name] = sp
    for sp in ff.species.values():
        missing = [t for t in sp.atom_types if t not in ff.types]
        if missing:
            raise InputError(
                f"forcefield.{sp.name}.atoms", f"undefined types {sorted(set(missing))}"
            )
    return ff
