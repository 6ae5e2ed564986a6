"""Gas-phase starting geometries of polysulfides, S8 and the electrolyte species.

Geometries live in ``inputs/molecules/<name>.xyz``; the comment line holds
``charge=<e> multiplicity=<2S+1> source=<how it was made>`` (see
``inputs/molecules/generate_molecules.py``). Coordinates in Å, charges in e.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

from pymatgen.core import Molecule, Structure

from lisflow import INPUTS_DIR
from lisflow.errors import InputError

MOLECULE_DIR = INPUTS_DIR / "molecules"

#: Lithium polysulfides and elemental sulfur studied in paper 000 (Methods DFT) and 002 (Fig. 3).
POLYSULFIDES: tuple[str, ...] = ("Li2S", "Li2S2", "Li2S4", "Li2S6", "Li2S8", "S8")
#: Electrolyte species of the LiTFSI/DOL/DME electrolyte (paper 000, Methods MD); "Li" is Li+.
ELECTROLYTE: tuple[str, ...] = ("DOL", "DME", "TFSI", "Li")
MOLECULES: tuple[str, ...] = POLYSULFIDES + ELECTROLYTE

_HEADER = re.compile(
    r"charge=(?P<charge>[-+]?\d+)\s+multiplicity=(?P<mult>\d+)\s+source=(?P<src>.*)"
)


@dataclass(frozen=True)
class _XyzRecord:
    species: tuple[str, ...]
    coords: tuple[tuple[float, float, float], ...]
    charge: int
    multiplicity: int
    source: str


@cache
def _read(name: str) -> _XyzRecord:
    path = MOLECULE_DIR / f"{name}.xyz"
    lines = path.read_text().splitlines()
    header = _HEADER.match(lines[1].strip())
    if header is None:
        raise ValueError(f"{path}: comment line must read 'charge=.. multiplicity=.. source=..'")
    rows = [line.split()[:4] for line in lines[2 : 2 + int(lines[0])]]
    return _XyzRecord(
        species=tuple(r[0] for r in rows),
        coords=tuple((float(r[1]), float(r[2]), float(r[3])) for r in rows),
        charge=int(header["charge"]),
        multiplicity=int(header["mult"]),
        source=header["src"].strip(),
    )


def molecule(name: str) -> Molecule:
    """Return a new copy of the starting geometry of ``name`` (Å; charge in e).

    ``name`` is one of :data:`MOLECULES`. Every site carries ``label = "adsorbate"``;
    ``properties`` holds ``name``, ``builder`` and ``source``. Note: pymatgen's
    ``Molecule.copy()`` drops ``charge`` in some versions; rebuild with ``Molecule(...)``.
    """
    from lisflow.forcefield.custom import registered

    custom = registered(name)
    if custom is not None:
        return _custom_molecule(custom)
    if name not in MOLECULES:
        raise InputError("molecule", f"unknown molecule {name!r}", ", ".join(MOLECULES))
    rec = _read(name)
    mol = Molecule(
        list(rec.species),
        [list(c) for c in rec.coords],
        charge=rec.charge,
        spin_multiplicity=rec.multiplicity,
        site_properties={"label": ["adsorbate"] * len(rec.species)},
    )
    mol.properties = {"name": name, "builder": "molecule", "source": rec.source}
    return mol


def _custom_molecule(custom) -> Molecule:
    """Molecule of a user MD species (:mod:`lisflow.forcefield.custom`), charge from its
    force field, closed shell."""
    from lisflow.forcefield.custom import parse_xyz

    symbols, coords = parse_xyz(custom.name, custom.xyz)
    mol = Molecule(
        symbols,
        [list(c) for c in coords],
        charge=int(custom.forcefield["charge"]),
        site_properties={"label": ["adsorbate"] * len(symbols)},
    )
    mol.properties = {"name": custom.name, "builder": "user species", "source": custom.origin}
    return mol


def _labelled(
    species: list[str], coords: list[list[float]], name: str, charge: int,
    multiplicity: int | None, builder: str, source: str, field: str,
) -> Molecule:
    try:
        mol = Molecule(
            species,
            coords,
            charge=charge,
            spin_multiplicity=multiplicity,
            site_properties={"label": ["adsorbate"] * len(species)},
        )
    except ValueError as exc:  # pymatgen: multiplicity inconsistent with the electron count
        raise InputError(field, f"{name}: {exc}") from None
    mol.properties = {"name": name, "builder": builder, "source": source}
    if multiplicity is not None:  # given by the study: the isolated molecule's spin state
        mol.properties["multiplicity"] = multiplicity
    return mol


def molecule_from_file(
    path: Path, name: str, charge: int = 0, multiplicity: int | None = None
) -> Molecule:
    """An adsorbate read from a structure file (xyz, POSCAR/CONTCAR, CIF, pymatgen JSON; Å).

    Periodic files give their sites' Cartesian coordinates as written (the molecule must be
    whole in the cell). ``multiplicity`` None: the lowest one of the electron count's parity.
    """
    if not path.is_file():
        raise InputError("adsorbates[].file", f"no such structure file {str(path)!r}")
    try:
        if path.suffix.lower() in (".xyz", ".json", ".mol", ".gjf", ".yaml"):
            read: Molecule | Structure = cast(Molecule, Molecule.from_file(path))
        else:
            read = Structure.from_file(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad input file
        raise InputError(
            "adsorbates[].file", f"cannot read {str(path)!r} as a structure ({exc})"
        ) from None
    return _labelled(
        [site.specie.symbol for site in read],
        [list(map(float, site.coords)) for site in read],
        name, charge, multiplicity, "file", str(path), "adsorbates[].file",
    )


def ase_molecule(name: str, charge: int = 0, multiplicity: int | None = None) -> Molecule:
    """A molecule of ASE's collection (``ase.build.molecule``: G2 set + extras; Å)."""
    from ase.build import molecule as ase_build
    from ase.collections import g2

    try:
        atoms = ase_build(name)
    except KeyError:
        raise InputError(
            "adsorbates[]", f"{name!r} is not in ASE's molecule collection",
            "ase.collections.g2 names, e.g. " + ", ".join(sorted(g2.names)[:8]) + ", ...",
        ) from None
    return _labelled(
        atoms.get_chemical_symbols(),
        atoms.get_positions().tolist(),
        name, charge, multiplicity, "ase", f"ase.build.molecule({name!r})", "adsorbates[]",
    )
