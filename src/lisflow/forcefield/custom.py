"""MD species not shipped with lisflow: a force-field file plus its structure file.

A user names a solvent (e.g. ``THF``) in an MD study; lisflow finds ``THF.yaml`` (same format
as ``inputs/forcefields/*.yaml``) and ``THF.xyz`` (atoms in the order of the YAML ``atoms``)
next to the study file or on the search path, validates them (one-line errors naming the
field) and carries their *contents* in the calculation parameters, so the engine host needs
no copy of the files. :func:`register` makes a validated species visible to
:func:`lisflow.forcefield.params.load_forcefield` and
:func:`lisflow.structures.molecules.molecule` in this process.
Units as in the shipped files: kcal/mol, Å, degree, e.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml
from pymatgen.core import Element

from lisflow.errors import InputError

#: Tolerance (e) of the check "atom charges sum to the molecule's charge".
CHARGE_TOLERANCE = 1.0e-6
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
_TYPE_KEYS = ("element", "class", "sigma", "epsilon", "source")
_COEFF_KEYS = {
    "bond_coeffs": ("k", "r0"),
    "angle_coeffs": ("k", "theta0"),
    "dihedral_coeffs": ("k",),
}

_REGISTRY: dict[str, CustomSpecies] = {}


@dataclass(frozen=True)
class CustomSpecies:
    """A validated user species: parsed force-field mapping, xyz text, where they came from."""

    name: str
    forcefield: dict
    xyz: str
    origin: str

    def to_dict(self) -> dict:
        return asdict(self)


def find_files(name: str, directories: list[Path]) -> tuple[Path, Path]:
    """``<name>.yaml`` and ``<name>.xyz`` from the first directory holding the YAML."""
    for directory in directories:
        ff = Path(directory) / f"{name}.yaml"
        if ff.is_file():
            xyz = ff.with_suffix(".xyz")
            if not xyz.is_file():
                raise InputError(
                    f"solvents.{name}", f"{ff} has no structure file {xyz.name} next to it"
                )
            return ff, xyz
    where = ", ".join(str(d) for d in directories) or "(no directory)"
    raise InputError(f"solvents.{name}", f"no force-field file {name}.yaml in {where}"[:300])


def load_custom_species(name: str, directories: list[Path]) -> CustomSpecies:
    """Find, read and validate the files of ``name``; InputError (one line) when wrong."""
    if not _NAME.match(name):
        raise InputError("solvents", f"species name {name!r} must match {_NAME.pattern}")
    ff_path, xyz_path = find_files(name, directories)
    try:
        data = yaml.safe_load(ff_path.read_text())
    except yaml.YAMLError as exc:
        raise InputError(
            f"forcefield.{name}", f"{ff_path.name} is not valid YAML ({exc})"[:300]
        ) from None
    species = CustomSpecies(name, data, xyz_path.read_text(), f"{ff_path} + {xyz_path.name}")
    validate(species)
    return species


def _field(name: str, where: str, message: str) -> InputError:
    return InputError(f"forcefield.{name}.{where}" if where else f"forcefield.{name}", message)


def parse_xyz(name: str, text: str) -> tuple[list[str], list[tuple[float, float, float]]]:
    """Element symbols and Cartesian coordinates (Å) of an xyz text."""
    lines = text.splitlines()
    try:
        n = int(lines[0].split()[0])
        rows = [line.split() for line in lines[2 : 2 + n]]
        symbols = [r[0] for r in rows]
        coords = [(float(r[1]), float(r[2]), float(r[3])) for r in rows]
    except (IndexError, ValueError):
        raise InputError(
            f"solvents.{name}.xyz", "not an xyz file (count, comment, 'El x y z' rows)"
        ) from None
    if len(symbols) != n:
        raise InputError(
            f"solvents.{name}.xyz", f"header says {n} atoms, {len(symbols)} rows follow"
        )
    return symbols, coords


def validate(species: CustomSpecies) -> None:
    """Check the force field of ``species`` against itself and its structure.

    Required: ``species`` = the name, integer ``charge``, ``types`` each with element, class,
    sigma (Å, > 0), epsilon (kcal/mol, ≥ 0) and source; ``atoms`` (type, charge) whose types
    are defined and whose charges sum to ``charge``; the xyz with the same elements in the same
    order; ``bonds`` by atom index; coefficients with a source for every bond, angle and
    dihedral that the bonds imply.
    """
    name, data = species.name, species.forcefield
    if not isinstance(data, dict):
        raise _field(name, "", "a force-field file must be a YAML mapping")
    for key in ("species", "charge", "types", "atoms"):
        if key not in data:
            raise _field(name, key, "missing (required: species, charge, types, atoms, bonds)")
    if data["species"] != name:
        raise _field(name, "species", f"is {data['species']!r}, the file is {name}.yaml")
    if "composed_of" in data:
        raise _field(name, "composed_of", "not supported for user species")
    if not isinstance(data["charge"], int):
        raise _field(name, "charge", f"must be an integer (e), got {data['charge']!r}")
    types = data["types"]
    if not isinstance(types, dict) or not types:
        raise _field(name, "types", "must map type names to element, class, sigma, epsilon, source")
    for key, t in types.items():
        missing = [k for k in _TYPE_KEYS if not isinstance(t, dict) or k not in t]
        if missing:
            raise _field(name, f"types.{key}", f"missing {', '.join(missing)}")
        try:
            Element(t["element"])
        except ValueError:
            raise _field(
                name, f"types.{key}.element", f"unknown element {t['element']!r}"
            ) from None
        if not (float(t["sigma"]) > 0 and float(t["epsilon"]) >= 0):
            raise _field(name, f"types.{key}", "sigma must be > 0 A and epsilon >= 0 kcal/mol")
    atoms = data["atoms"]
    if not isinstance(atoms, list) or not atoms:
        raise _field(name, "atoms", "must list {type, charge} per atom")
    for i, atom in enumerate(atoms):
        if not isinstance(atom, dict) or "type" not in atom or "charge" not in atom:
            raise _field(name, f"atoms[{i}]", "needs type and charge")
        if atom["type"] not in types:
            raise _field(
                name,
                f"atoms[{i}].type",
                f"unknown atom type {atom['type']!r} (defined: {', '.join(types)})",
            )
        if not math.isfinite(float(atom["charge"])):
            raise _field(name, f"atoms[{i}].charge", "must be a finite number (e)")
    total = sum(float(a["charge"]) for a in atoms)
    if abs(total - data["charge"]) > CHARGE_TOLERANCE:
        raise _field(
            name,
            "atoms",
            f"charges sum to {total:+.6f} e, the molecule's charge is {data['charge']} e",
        )
    symbols, _ = parse_xyz(name, species.xyz)
    if len(symbols) != len(atoms):
        raise InputError(
            f"solvents.{name}.xyz", f"{len(symbols)} atoms, the force field lists {len(atoms)}"
        )
    for i, (symbol, atom) in enumerate(zip(symbols, atoms, strict=True)):
        if symbol != types[atom["type"]]["element"]:
            raise InputError(
                f"solvents.{name}.xyz",
                f"atom {i} is {symbol}, type {atom['type']} is {types[atom['type']]['element']}",
            )
    n = len(atoms)
    for i, bond in enumerate(data.get("bonds") or []):
        if (
            len(bond) != 2
            or not all(isinstance(j, int) and 0 <= j < n for j in bond)
            or bond[0] == bond[1]
        ):
            raise _field(name, f"bonds[{i}]", f"must be two different atom indices 0..{n - 1}")
    for table, keys in _COEFF_KEYS.items():
        for i, row in enumerate(data.get(table) or []):
            missing = [k for k in ("classes", *keys, "source") if k not in row]
            if missing:
                raise _field(name, f"{table}[{i}]", f"missing {', '.join(missing)}")
    _check_terms(species)


def _check_terms(species: CustomSpecies) -> None:
    """Every bond/angle/dihedral of the bond graph has coefficients (via the real loader)."""
    from lisflow.forcefield.params import ForceField, load_species_data

    sp, types = load_species_data(species.forcefield)
    ff = ForceField(types=dict(types), species={sp.name: sp})
    for kind, items in (("bond", sp.bonds), ("angle", sp.angles), ("dihedral", sp.dihedrals)):
        for atoms in items:
            ff.coeff(sp.name, kind, atoms)


def register(species: CustomSpecies | dict) -> CustomSpecies:
    """Validate and make ``species`` loadable by name in this process; return it."""
    if isinstance(species, dict):
        species = CustomSpecies(**species)
    from lisflow.forcefield.params import SPECIES

    if species.name in SPECIES:
        raise InputError(
            f"solvents.{species.name}", "is shipped with lisflow; rename the user species"
        )
    validate(species)
    _REGISTRY[species.name] = species
    return species


def registered(name: str) -> CustomSpecies | None:
    """The user species ``name`` registered in this process, if any."""
    return _REGISTRY.get(name)
