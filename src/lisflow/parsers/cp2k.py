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
from lisflow.parsers import open_text, read_text

# CODATA 2018 (scipy.constants): 1 Hartree = 27.211386245988 eV
HARTREE_TO_EV = physical_constants["Hartree energy in eV"][0]

_VERSION = re.compile(r"CP2K\| version string:\s+CP2K version\s+(\S+)")
_RUN_TYPE = re.compile(r"GLOBAL\| Run type\s+(\S+)")
_N_ATOMS = re.compile(r"- Atoms:\s+(\d+)")
_ENERGY = re.compile(r"ENERGY\| Total FORCE_EVAL \( QS \) energy [\[(]a\.u\.[\])]:\s+(\S+)")
_PROJECT = re.compile(r"GLOBAL\| Project name\s+(\S+)")
_MULLIKEN = "Mulliken Population Analysis"
_HIRSHFELD = "Hirshfeld Charges"


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
    them (one per SCF'd geometry / MD step). Charges are those of the last printout.
    ``converged``: the program ended normally, no SCF failed and, for GEO_OPT/CELL_OPT,
    the optimisation completed. Raises :class:`ParseError` on missing or energy-less files.
    """
    path = Path(output_file)
    text = read_text(path)
    energies = tuple(float(x) * HARTREE_TO_EV for x in _ENERGY.findall(text))
    if not energies:
        raise ParseError(path, "no 'ENERGY| Total FORCE_EVAL' line: truncated or not CP2K output")
    n_atoms = _N_ATOMS.search(text)
    if n_atoms is None:
        raise ParseError(path, "no '- Atoms:' line in the header")
    run_type = _RUN_TYPE.search(text)
    version = _VERSION.search(text)
    ended = "PROGRAM ENDED AT" in text
    scf_ok = "SCF run NOT converged" not in text
    kind = run_type.group(1) if run_type else None
    opt_ok = kind not in ("GEO_OPT", "CELL_OPT") or "OPTIMIZATION COMPLETED" in text
    return Cp2kResult(
        final_energy=energies[-1],
        step_energies=energies,
        mulliken=_last_block(text, _MULLIKEN, _mulliken_row, path),
        hirshfeld=_last_block(text, _HIRSHFELD, _hirshfeld_row, path),
        converged=ended and scf_ok and opt_ok,
        scf_converged=scf_ok,
        cp2k_version=version.group(1) if version else None,
        n_atoms=int(n_atoms.group(1)),
        run_type=kind,
        trajectory=_find_trajectory(path, text),
        source=str(path),
    )


def _last_block(
    text: str, title: str, row_parser: Any, path: Path
) -> tuple[AtomCharge, ...] | None:
    start = text.rfind(title)
    if start < 0:
        return None
    rows = []
    lines = text[start:].splitlines()[2:]
    for line in lines:
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            if rows:
                break
            continue
        if not fields[0].isdigit():
            break
        rows.append(row_parser(fields))
    if not rows:
        raise ParseError(path, f"empty or truncated '{title}' block")
    return tuple(rows)


def _mulliken_row(f: list[str]) -> AtomCharge:
    # non-polarised: idx el kind pop net; spin-polarised: idx el kind pop_a pop_b net spin
    population = float(f[3]) + float(f[4]) if len(f) >= 7 else float(f[3])
    net = float(f[5]) if len(f) >= 7 else float(f[4])
    return AtomCharge(int(f[0]) - 1, f[1], population, net)


def _hirshfeld_row(f: list[str]) -> AtomCharge:
    # non-polarised: idx el kind ref pop net; spin: idx el kind ref pop_a pop_b spin net
    population = float(f[4]) + float(f[5]) if len(f) >= 8 else float(f[4])
    return AtomCharge(int(f[0]) - 1, f[1], population, float(f[-1]))


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
