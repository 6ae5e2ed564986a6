"""CP2K stdout -> :class:`Cp2kResult`; streaming reader of ``*-pos-1.xyz`` trajectories.

Units: energies eV (CP2K prints Hartree; converted with CODATA's Hartree energy in eV from
``scipy.constants.physical_constants``), populations and charges in e, positions Å.
A small regex parser is used instead of pymatgen's ``Cp2kOutput``, which took minutes on
the 1.1 MB rutile GEO_OPT fixture; CP2K 7.1 to 2024.3 output formats are covered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.constants import physical_constants

from lisflow.errors import ParseError
from lisflow.parsers import open_text, read_text, to_float

# CODATA 2018 (scipy.constants): 1 Hartree = 27.211386245988 eV
HARTREE_TO_EV = physical_constants["Hartree energy in eV"][0]

_VERSION = re.compile(r"CP2K\| version string:\s+CP2K version\s+(\S+)")
_RUN_TYPE = re.compile(r"GLOBAL\| Run type\s+(\S+)")
_N_ATOMS = re.compile(r"- Atoms:\s+(\d+)")
_ENERGY = re.compile(r"ENERGY\| Total FORCE_EVAL \( QS \) energy [\[(]a\.u\.[\])]:\s+(\S+)")
_PROJECT = re.compile(r"GLOBAL\| Project name\s+(\S+)")
_MULLIKEN = "Mulliken Population Analysis"
_HIRSHFELD = "Hirshfeld Charges"
_SCF_END = re.compile(r"SCF run (?:NOT )?converged")
#: The footer CP2K prints when it stops normally (also after a GLOBAL/WALLTIME stop).
FOOTER = "PROGRAM ENDED AT"
#: The line ending a completed GEO_OPT / CELL_OPT.
OPT_COMPLETED = {
    "GEO_OPT": "GEOMETRY OPTIMIZATION COMPLETED",
    "CELL_OPT": "OPTIMIZATION COMPLETED",
}


@dataclass(frozen=True)
class AtomCharge:
    """Population analysis of one atom: population (e) and net charge (e, + = cation)."""

    site_index: int
    element: str
    population: float
    net_charge: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Cp2kResult:
    """Summary of one CP2K run; energies in eV."""

    final_energy: float
    step_energies: tuple[float, ...]
    mulliken: tuple[AtomCharge, ...] | None
    hirshfeld: tuple[AtomCharge, ...] | None
    converged: bool
    scf_converged: bool
    cp2k_version: str | None
    n_atoms: int
    run_type: str | None
    trajectory: Path | None
    source: str
    failure: str | None = None  # why the run is not converged/complete (None when it is)

    @property
    def energy_ev(self) -> float:
        """Alias of ``final_energy`` (eV), the name the engine wrappers use."""
        return self.final_energy

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["trajectory"] = str(self.trajectory) if self.trajectory else None
        return data


def parse_cp2k(output_file: Path) -> Cp2kResult:
    """Parse a CP2K stdout file (plain or .gz).

    ``final_energy`` is the last ``ENERGY| Total FORCE_EVAL`` value; ``step_energies`` all of
    them (one per SCF'd geometry / MD step). Charges are those printed in the last SCF cycle
    (one row per atom, checked against the block's own total). ``converged``: the program
    ended normally (footer), no SCF failed and, for GEO_OPT/CELL_OPT, the optimisation
    completed; ``failure`` says which of these is missing. Raises :class:`ParseError` naming
    the file on missing, energy-less, corrupt or incomplete output (a ``*****`` or NaN number,
    a cut table, an energy line without its SCF cycle).
    """
    path = Path(output_file)
    text = read_text(path)
    tokens = _ENERGY.findall(text)
    if not tokens:
        raise ParseError(path, "no 'ENERGY| Total FORCE_EVAL' line: truncated or not CP2K output")
    energies = tuple(
        to_float(path, x, f"ENERGY| Total FORCE_EVAL (line {i + 1} of {len(tokens)})")
        * HARTREE_TO_EV
        for i, x in enumerate(tokens)
    )
    scf_ends = list(_SCF_END.finditer(text))
    if len(scf_ends) != len(energies):
        raise ParseError(
            path,
            f"{len(energies)} 'ENERGY| Total FORCE_EVAL' lines but {len(scf_ends)} SCF cycles "
            "ended: corrupt or cut output",
        )
    n_atoms = _N_ATOMS.search(text)
    if n_atoms is None:
        raise ParseError(path, "no '- Atoms:' line in the header")
    atoms = int(n_atoms.group(1))
    run_type = _RUN_TYPE.search(text)
    version = _VERSION.search(text)
    kind = run_type.group(1) if run_type else None
    failure = _failure(text, kind)
    last_cycle = text[scf_ends[-1].start() :]
    return Cp2kResult(
        final_energy=energies[-1],
        step_energies=energies,
        mulliken=_charges(text, last_cycle, _MULLIKEN, _mulliken_row, path, atoms),
        hirshfeld=_charges(text, last_cycle, _HIRSHFELD, _hirshfeld_row, path, atoms),
        converged=failure is None,
        scf_converged="SCF run NOT converged" not in text,
        cp2k_version=version.group(1) if version else None,
        n_atoms=atoms,
        run_type=kind,
        trajectory=_find_trajectory(path, text),
        source=str(path),
        failure=failure,
    )


def _failure(text: str, kind: str | None) -> str | None:
    """Why the run cannot be used (None when it ended normally and converged)."""
    if FOOTER not in text:
        return f"no '{FOOTER}' footer: CP2K was killed, crashed or is still running"
    if "SCF run NOT converged" in text:
        return "SCF run NOT converged"
    needed = OPT_COMPLETED.get(kind or "")
    if needed and needed not in text:
        return f"{kind} did not reach '{needed}' (optimisation stopped before convergence)"
    return None


def _charges(
    text: str, last_cycle: str, title: str, row_parser: Any, path: Path, n_atoms: int
) -> tuple[AtomCharge, ...] | None:
    """The ``title`` table of the last SCF cycle; None if the run never printed one."""
    if title not in text:
        return None
    if title not in last_cycle:
        raise ParseError(path, f"no '{title}' table after the last SCF cycle: cut or corrupt")
    return _last_block(last_cycle, title, row_parser, path, n_atoms)


def _last_block(
    text: str, title: str, row_parser: Any, path: Path, n_atoms: int | None = None
) -> tuple[AtomCharge, ...]:
    """Rows of the last ``title`` table: one per atom, numbered 1..n, then its total line,
    whose population / net charge must equal the sums of the rows (printed precision)."""
    start = text.rfind(title)
    rows: list[AtomCharge] = []
    total: list[str] | None = None
    for k, line in enumerate(text[start:].splitlines()[1:]):
        fields = line.split()
        if not fields:  # blank lines around the header and before Hirshfeld's total
            continue
        if not fields[0].isdigit():
            if rows:
                total = fields
                break
            if k > 4:  # no row within the header lines
                break
            continue
        try:
            rows.append(row_parser(fields, path))
        except (IndexError, ValueError) as exc:
            raise ParseError(path, f"corrupt '{title}' row {fields[0]}: {exc}") from None
    if n_atoms is not None and len(rows) != n_atoms:
        raise ParseError(path, f"'{title}' table has {len(rows)} rows for {n_atoms} atoms")
    if not rows or [r.site_index for r in rows] != list(range(len(rows))):
        raise ParseError(path, f"empty, truncated or misnumbered '{title}' table")
    _check_total(path, title, rows, total)
    return tuple(rows)


def _check_total(path: Path, title: str, rows: list[AtomCharge], total: list[str] | None) -> None:
    """The table's closing total line must be there and agree with the rows."""
    if title == _HIRSHFELD:
        # "Total Charge  <net>" (a blank line precedes it)
        if not total or total[:2] != ["Total", "Charge"]:
            raise ParseError(path, f"'{title}' table has no closing 'Total Charge' line")
        net = to_float(path, total[-1], f"{title} total")
        expected = [(net, sum(r.net_charge for r in rows), "net charge")]
    else:
        # "# Total charge <pop> <net>" or "# Total charge and spin <a> <b> <net> <spin>"
        if not total or total[:3] != ["#", "Total", "charge"]:
            raise ParseError(path, f"'{title}' table has no closing '# Total charge' line")
        numbers = [to_float(path, x, f"{title} total") for x in total[3:] if x not in ("and", "spin")]
        population = numbers[0] + numbers[1] if len(numbers) >= 4 else numbers[0]
        net = numbers[2] if len(numbers) >= 4 else numbers[1]
        expected = [
            (population, sum(r.population for r in rows), "population"),
            (net, sum(r.net_charge for r in rows), "net charge"),
        ]
    decimals = min(len(x.partition(".")[2]) for x in total if "." in x) if total else 6
    tolerance = (len(rows) + 1) * 0.5 * 10.0**-decimals  # rounding of the printed values
    for printed, summed, what in expected:
        if abs(printed - summed) > tolerance:
            raise ParseError(
                path, f"'{title}' rows sum to {what} {summed:.6f}, the table's total is {printed}"
            )


def _mulliken_row(f: list[str], path: Path) -> AtomCharge:
    # non-polarised: idx el kind pop net; spin-polarised: idx el kind pop_a pop_b net spin
    if len(f) not in (5, 7):
        raise ValueError(f"{len(f)} fields (expected 5 or 7)")
    what = f"Mulliken row {f[0]}"
    numbers = [to_float(path, x, what) for x in f[3:]]
    population = numbers[0] + numbers[1] if len(f) == 7 else numbers[0]
    net = numbers[2] if len(f) == 7 else numbers[1]
    return AtomCharge(int(f[0]) - 1, f[1], population, net)


def _hirshfeld_row(f: list[str], path: Path) -> AtomCharge:
    # non-polarised: idx el kind ref pop net; spin: idx el kind ref pop_a pop_b spin net
    if len(f) not in (6, 8):
        raise ValueError(f"{len(f)} fields (expected 6 or 8)")
    what = f"Hirshfeld row {f[0]}"
    numbers = [to_float(path, x, what) for x in f[3:]]
    population = numbers[1] + numbers[2] if len(f) == 8 else numbers[1]
    return AtomCharge(int(f[0]) - 1, f[1], population, numbers[-1])


def _find_trajectory(path: Path, text: str) -> Path | None:
    project = _PROJECT.search(text)
    names = [f"{project.group(1)}-pos-1.xyz"] if project else []
    for candidate in [path.parent / n for n in names] + sorted(path.parent.glob("*-pos-1.xyz")):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class TrajectoryFrame:
    """One xyz frame: step index, time (fs, as CP2K prints it), energy (eV), positions (Å)."""

    step: int | None
    time_fs: float | None
    energy: float | None
    symbols: tuple[str, ...]
    positions: np.ndarray


_COMMENT = re.compile(r"i\s*=\s*(\d+)(?:,\s*time\s*=\s*([^,\s]+))?(?:,\s*E\s*=\s*([^,\s]+))?")


def read_cp2k_trajectory(path: Path) -> Iterator[TrajectoryFrame]:
    """Yield the frames of a CP2K ``-pos-1.xyz`` file one at a time (plain or .gz)."""
    path = Path(path)
    with open_text(path) as handle:
        while True:
            header = handle.readline()
            if not header.strip():
                return
            try:
                n = int(header)
            except ValueError as exc:
                raise ParseError(path, f"bad atom-count line {header.strip()!r}") from exc
            comment = handle.readline()
            rows = [handle.readline().split() for _ in range(n)]
            if len(rows) != n or any(len(r) < 4 for r in rows):
                raise ParseError(path, "truncated frame")
            match = _COMMENT.search(comment)
            step = time_fs = energy = None
            if match:
                step = int(match.group(1))
                time_fs = float(match.group(2)) if match.group(2) else None
                energy = float(match.group(3)) * HARTREE_TO_EV if match.group(3) else None
            yield TrajectoryFrame(
                step=step,
                time_fs=time_fs,
                energy=energy,
                symbols=tuple(r[0] for r in rows),
                positions=np.array([r[1:4] for r in rows], dtype=float),
            )
