"""Basis sets and GTH pseudopotentials from CP2K's own data files (``BASIS_MOLOPT``,
``GTH_POTENTIALS``): the kind of each element for a functional, and valence electron counts."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymatgen.core import Molecule, Structure

from lisflow.errors import InputError

#: Where CP2K's own data files are read: ``$CP2K_DATA_DIR`` first, then Debian's cp2k-data.
CP2K_DATA_DIRS = ("/usr/share/cp2k", "/usr/share/cp2k/data")
BASIS_FILE = "BASIS_MOLOPT"  # VandeVondele & Hutter, J. Chem. Phys. 127, 114105 (2007)
POTENTIAL_FILE = "GTH_POTENTIALS"  # Goedecker-Teter-Hutter; family GTH-<functional>
BASIS_SET = "DZVP-MOLOPT-SR-GTH"  # paper 000 Methods: "DZVP-MOLOPT-SR-GTH basis set"
FUNCTIONAL = "PBE"  # paper 000 Methods: PBE; the GTH family follows the functional
#: Override paths that set the XC functional (the GTH family follows it).
FUNCTIONAL_KEYS = ("FORCE_EVAL.DFT.XC.XC_FUNCTIONAL", "FORCE_EVAL.DFT.XC.XC_FUNCTIONAL._")


def cp2k_data_file(name: str) -> Path:
    """A CP2K data file (``BASIS_MOLOPT``, ``GTH_POTENTIALS``) from ``$CP2K_DATA_DIR`` or the
    cp2k-data package's directories."""
    env = os.environ.get("CP2K_DATA_DIR")
    dirs = ([env] if env else []) + list(CP2K_DATA_DIRS)
    for directory in dirs:
        path = Path(directory) / name
        if path.is_file():
            return path
    raise InputError(
        "CP2K_DATA_DIR",
        f"CP2K data file {name} not found in {', '.join(dirs)} "
        "(install cp2k-data or set CP2K_DATA_DIR)",
    )


@functools.cache
def _data_headers(path: Path) -> dict[str, list[tuple[tuple[str, ...], list[int]]]]:
    """element -> [(names, integers of the line after the header)] of a CP2K basis or GTH
    potential file. For a GTH potential the next line holds electrons per l (sum = qN)."""
    entries: dict[str, list[tuple[tuple[str, ...], list[int]]]] = {}
    lines = [ln.split("#", 1)[0].split() for ln in path.read_text(errors="replace").splitlines()]
    for row, after in zip(lines, lines[1:] + [[]], strict=True):
        if len(row) >= 2 and re.fullmatch(r"[A-Z][a-z]?", row[0]):
            numbers = [int(x) for x in after if re.fullmatch(r"-?\d+", x)]
            entries.setdefault(row[0], []).append((tuple(row[1:]), numbers))
    return entries


@dataclass(frozen=True)
class GthKind:
    """Basis set and GTH pseudopotential of one element; ``valence`` = qN (electrons)."""

    element: str
    basis_set: str
    potential: str
    valence: int


@functools.cache
def gth_kind(element: str, functional: str = FUNCTIONAL, basis: str = BASIS_SET) -> GthKind:
    """The ``basis``-qN basis (BASIS_MOLOPT) and GTH-<functional>-qN potential
    (GTH_POTENTIALS) of ``element`` with the same valence qN, read from CP2K's data files.
    Several valences: the family's default (the entry also named ``GTH-<functional>``)."""
    family = f"GTH-{functional.upper()}"
    potentials = _data_headers(cp2k_data_file(POTENTIAL_FILE)).get(element, [])
    valences: dict[int, bool] = {}  # qN -> is the family default
    for names, electrons in potentials:
        for name in names:
            match = re.fullmatch(re.escape(family) + r"-q(\d+)", name)
            if match and int(match[1]) == sum(electrons):
                valences[int(match[1])] = family in names
    if not valences:
        have = sorted(
            {m[1] for n, _ in potentials for x in n if (m := re.fullmatch(r"GTH-(.+)-q\d+", x))}
        )
        raise InputError(
            "FORCE_EVAL.DFT.XC.XC_FUNCTIONAL",
            f"no {family} pseudopotential for {element} in {POTENTIAL_FILE} "
            f"(functional {functional})",
            ", ".join(have) or "none for this element",
        )
    bases = {
        name
        for names, _ in _data_headers(cp2k_data_file(BASIS_FILE)).get(element, [])
        for name in names
    }
    usable = [q for q in valences if f"{basis}-q{q}" in bases]
    if not usable:
        raise InputError(
            "basis",
            f"no {basis} basis for {element} with valence "
            + "/".join(f"q{q}" for q in sorted(valences))
            + f" in {BASIS_FILE}",
        )
    q = max(usable, key=lambda v: (valences[v], v))
    return GthKind(element, f"{basis}-q{q}", f"{family}-q{q}", q)


def functional_of(overrides: dict[str, Any]) -> str:
    """The XC functional: ``FORCE_EVAL.DFT.XC.XC_FUNCTIONAL`` (or ``..._``) override, else PBE."""
    for key, value in overrides.items():
        if key.upper() in FUNCTIONAL_KEYS:
            return str(value).upper()
    return FUNCTIONAL


def electron_count(
    structure: Structure | Molecule, charge: float = 0.0, functional: str = FUNCTIONAL
) -> int:
    """Valence electrons with the GTH-<functional> pseudopotentials (sum of qN minus charge)."""
    return int(sum(gth_kind(s.specie.symbol, functional).valence for s in structure) - charge)
