"""LOBSTER outputs: bond ICOHPs (ICOHPLIST.lobster) and run summary (lobsterout).

Units: ICOHP in eV (LOBSTER's sign: negative = bonding), lengths in Å, spilling as a
fraction (0.008 = 0.80 % as printed by LOBSTER). Parsing is done by pymatgen
(``Icohplist``, ``Lobsterout``); files may be gzipped.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lisflow.errors import ParseError
from lisflow.parsers import find_output, read_text, require_finite

_ATOM = re.compile(r"^([A-Z][a-z]?)(\d+)(?:_|$)")


@dataclass(frozen=True)
class BondIcohp:
    """One bond of ICOHPLIST.lobster: ICOHP (eV, negative = bonding) integrated up to E_F,
    summed over spins, bond length (Å) and the lattice translation of ``atom2``: the one record
    type from the parser to the ``bond_icohps`` table."""

    label: str
    atom1: str
    atom2: str
    icohp_ev: float
    length_a: float | None = None
    icohp_up: float | None = None
    icohp_down: float | None = None
    translation: tuple[int, int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LobsterSummary:
    """Finished-run summary of lobsterout: spillings per spin channel (fractions)."""

    lobster_version: str
    charge_spilling: tuple[float, ...]
    total_spilling: tuple[float, ...]
    has_cohpcar: bool
    has_doscar: bool
    warnings: tuple[str, ...]
    source: str

    @property
    def max_charge_spilling(self) -> float:
        return max(self.charge_spilling)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_icohplist(path: Path, structure: Any = None) -> list[BondIcohp]:
    """Bonds of an ICOHPLIST.lobster (plain or .gz), in file order.

    The file must be complete: each spin block numbered 1..N with the same rows, as many
    rows as COHPCAR.lobster beside it announces (its second line), every value finite, and,
    when ``structure`` (the run's pymatgen structure) is given, every atom name (``Na1``,
    ``Cl5_3p_x``) an atom of that structure (element and 1-based index). ParseError otherwise.
    """
    from pymatgen.electronic_structure.core import Spin
    from pymatgen.io.lobster import Icohplist

    path = Path(path)
    if path.is_dir():
        path = find_output(path, "ICOHPLIST.lobster")
    text = read_text(path)
    first_line = text.splitlines()[0] if text.strip() else ""
    if "COHP#" not in first_line:
        raise ParseError(path, "empty or not an ICOHPLIST.lobster (no 'COHP#' header)")
    _check_complete(path, text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            collection = Icohplist(filename=str(path)).icohpcollection
    except Exception as exc:
        raise ParseError(path, f"truncated or corrupt ICOHPLIST: {exc}") from exc
    if collection is None:
        raise ParseError(path, "pymatgen read no ICOHP values")
    bonds = []
    # pymatgen keeps atom names only in the collection's (private) per-bond lists.
    for i, label in enumerate(collection._list_labels):
        spins = collection._list_icohp[i]
        up = float(spins[Spin.up])
        down = float(spins[Spin.down]) if Spin.down in spins else None
        ta, tb, tc = (int(t) for t in collection._list_translation[i])
        bonds.append(
            BondIcohp(
                label=str(label),
                atom1=str(collection._list_atom1[i]),
                atom2=str(collection._list_atom2[i]),
                length_a=float(collection._list_length[i]),
                icohp_ev=up + (down or 0.0),
                icohp_up=up if down is not None else None,
                icohp_down=down,
                translation=(ta, tb, tc),
            )
        )
    if not bonds:
        raise ParseError(path, "no bond lines")
    for bond in bonds:
        require_finite(path, (bond.icohp_ev, bond.length_a), f"bond {bond.label} ICOHP/length")
    if structure is not None:
        _check_atoms(path, bonds, structure)
    return bonds


def _check_complete(path: Path, text: str) -> None:
    """Row counts of the spin blocks agree with each other and with COHPCAR.lobster."""
    blocks: list[list[tuple[str, ...]]] = []
    for line in text.splitlines():
        fields = line.split()
        if "COHP#" in line:
            blocks.append([])
        elif fields and fields[0].isdigit() and blocks:
            blocks[-1].append(tuple(fields[:3]))
    numbers = [int(row[0]) for row in blocks[0]] if blocks else []
    steps = [b - a for a, b in zip(numbers, numbers[1:], strict=False)]
    if not numbers or numbers[0] != 1 or any(step not in (0, 1) for step in steps):
        raise ParseError(path, "bond numbers are not 1, 2, ... N: cut or corrupt")
    if any(block != blocks[0] for block in blocks[1:]):
        raise ParseError(path, "spin blocks list different bonds: cut or corrupt")
    cohpcar = find_output(path.parent, "COHPCAR.lobster", required=False)
    if cohpcar is None:
        return
    try:  # line 2: number of COHPs (+ 1 for the average), number of spins, ...
        counts = read_text(cohpcar).splitlines()[1].split()
        announced, spins = int(counts[0]) - 1, int(counts[1])
    except (IndexError, ValueError):
        raise ParseError(cohpcar, "no COHP and spin counts on line 2 (cut or corrupt)") from None
    if len(blocks) != spins:
        raise ParseError(path, f"{len(blocks)} spin blocks, but {cohpcar.name} announces {spins}")
    if len(blocks[0]) != announced:
        raise ParseError(
            path, f"{len(blocks[0])} rows per spin, but {cohpcar.name} announces {announced}"
        )


def _check_atoms(path: Path, bonds: list[BondIcohp], structure: Any) -> None:
    """Every atom name must be an atom of ``structure`` (``Na1`` = site 0, element Na)."""
    for bond in bonds:
        for name in (bond.atom1, bond.atom2):
            match = _ATOM.match(name)
            index = int(match.group(2)) - 1 if match else -1
            if not match or not 0 <= index < len(structure):
                raise ParseError(path, f"atom {name!r} is not in the run's {len(structure)}-atom structure")
            element = structure[index].specie.symbol
            if element != match.group(1):
                raise ParseError(path, f"atom {name!r} is {element} in the run's structure")


def lobster_summary(run_dir: Path) -> LobsterSummary:
    """Summary of ``run_dir``/lobsterout(.gz) (or of that file given directly).

    Raises :class:`ParseError` when LOBSTER did not finish (no ``finished in`` line: a
    crashed or still-running job) or no spilling is printed.
    """
    from pymatgen.io.lobster import Lobsterout

    run_dir = Path(run_dir)
    path = run_dir if run_dir.is_file() else find_output(run_dir, "lobsterout")
    text = read_text(path)
    if "finished in" not in text:
        raise ParseError(path, "LOBSTER did not finish (crashed or still running)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = Lobsterout(str(path))
    except Exception as exc:
        raise ParseError(path, f"corrupt lobsterout: {exc}") from exc
    if not out.charge_spilling:
        raise ParseError(path, "no charge spilling printed")
    return LobsterSummary(
        lobster_version=str(out.lobster_version),
        charge_spilling=tuple(float(x) for x in out.charge_spilling),
        total_spilling=tuple(float(x) for x in out.total_spilling),
        has_cohpcar=bool(out.has_cohpcar),
        has_doscar=bool(out.has_doscar),
        warnings=tuple(out.warning_lines),
        source=str(path),
    )


# --- CHARGE.lobster and the charge-spilling check (issue 11.7) --------------------------------

#: Largest accepted charge spilling (fraction, per spin channel): custodian's
#: ``custodian.lobster.handlers.ChargeSpillingValidator`` default ``charge_spilling_limit=0.05``.
MAX_CHARGE_SPILLING = 0.05


def read_charge_lobster(path: Path) -> list[dict[str, Any]]:
    """Mulliken and Loewdin charges (e) of every atom of CHARGE.lobster (plain or .gz), one
    record per atom and method (``site_index`` 0-based, ``method`` mulliken | loewdin)."""
    from pymatgen.io.lobster import Charge

    path = Path(path)
    if path.is_dir():
        path = find_output(path, "CHARGE.lobster")
    text = read_text(path)
    if "Mulliken" not in text or "Loewdin" not in text:
        raise ParseError(path, "not a CHARGE.lobster (no Mulliken/Loewdin header)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            charge = Charge(filename=str(path))
    except Exception as exc:
        raise ParseError(path, f"corrupt CHARGE.lobster: {exc}") from exc
    if not charge.atomlist or len(charge.mulliken) != len(charge.atomlist):
        raise ParseError(path, "no atom lines")
    records = []
    for method, values in (("mulliken", charge.mulliken), ("loewdin", charge.loewdin)):
        for i, (atom, element, q) in enumerate(
            zip(charge.atomlist, charge.types, values, strict=True)
        ):
            records.append(
                {"site_index": i, "element": str(element), "atom": str(atom), "method": method,
                 "net_charge": float(q)}
            )  # fmt: skip
    return records


def check_charge_spilling(summary: LobsterSummary, limit: float = MAX_CHARGE_SPILLING) -> None:
    """``ParseError`` when any spin channel's charge spilling exceeds ``limit`` (fraction): the
    local basis misses that much of the occupied PAW density, and ICOHPs/charges are refused."""
    worst = summary.max_charge_spilling
    if worst > limit:
        raise ParseError(
            Path(summary.source),
            f"charge spilling {worst:.2%} > {limit:.0%} (custodian ChargeSpillingValidator "
            "limit): basis too small for these bands; ICOHPs and charges not stored",
        )
