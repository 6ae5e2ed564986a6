"""LAMMPS log files: thermo blocks, version, wall time, errors and warnings.

Values are returned in LAMMPS' own units (the log does not say which); convert with
:func:`to_si_units` for ``units real`` (kcal/mol → eV, fs → ps, atm → bar).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lisflow.errors import ParseError
from lisflow.parsers import check_text

KCAL_PER_MOL_EV = 0.0433641153  # eV per kcal/mol (CODATA 2018 via scipy.constants)
ATM_BAR = 1.01325
_VERSION = re.compile(r"^LAMMPS \((?P<v>[^)]+)\)")
_WALL = re.compile(r"^Total wall time: (?P<h>\d+):(?P<m>\d+):(?P<s>\d+)")
_LOOP = re.compile(r"^Loop time of (?P<t>\S+) on (?P<p>\d+) procs for (?P<n>\d+) steps")
_ENERGY_COLUMNS = (
    "PotEng",
    "KinEng",
    "TotEng",
    "E_pair",
    "E_mol",
    "Enthalpy",
    "E_bond",
    "E_coul",
    "E_vdwl",
    "E_long",
)


@dataclass
class LammpsLog:
    """Parsed log: ``blocks`` is one dict of column → numpy array per thermo block."""

    path: Path
    version: str | None = None
    blocks: list[dict[str, np.ndarray]] = field(default_factory=list)
    wall_time_s: float | None = None
    loop_times_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timeout: bool = False  # LAMMPS stopped at its ``timer timeout`` (walltime)

    @property
    def complete(self) -> bool:
        return self.wall_time_s is not None

    def series(self, column: str) -> np.ndarray:
        """One column over all blocks. A continued run restarts from its last restart file, an
        earlier step than the killed run reached: its rows supersede every earlier row from its
        first step on, so each step appears once."""
        values_out: list[float] = []
        steps_out: list[float] = []
        for block in self.blocks:
            if column not in block:
                continue
            values, steps = block[column], block.get("Step")
            if steps is None or not len(steps):
                values_out.extend(values)
                continue
            keep = sum(1 for step in steps_out if step < steps[0])
            del values_out[keep:], steps_out[keep:]
            values_out.extend(values)
            steps_out.extend(steps)
        return np.asarray(values_out, dtype=float)

    @property
    def non_finite(self) -> list[tuple[int, str]]:
        """(block index, column) where a thermo value is nan or inf."""
        return [
            (i, c)
            for i, b in enumerate(self.blocks)
            for c, v in b.items()
            if not np.all(np.isfinite(v))
        ]


def _number(token: str) -> float:
    try:
        return float(token)
    except ValueError:
        if token.strip("*+-") == "":  # a Fortran-style overflow field: kept, flagged non-finite
            return math.nan
        low = token.lower()
        if low in ("nan", "-nan", "+nan"):
            return math.nan
        if low.lstrip("+-") in ("inf", "infinity"):
            return -math.inf if low.startswith("-") else math.inf
        raise


def parse_log(path: str | Path, strict: bool = True) -> LammpsLog:
    """Read a LAMMPS log. ``strict``: ParseError if missing, empty, or truncated (no
    "Total wall time" line and no ERROR, i.e. the process died or is still running)."""
    path = Path(path)
    if not path.is_file():
        raise ParseError(path, "LAMMPS log does not exist")
    out = LammpsLog(path)
    header: list[str] | None = None
    rows: list[list[float]] = []
    cut: list[str] = []  # thermo blocks not closed by their "Loop time of" line

    def close(line: str) -> None:
        nonlocal header, rows
        if header is not None and rows:
            arr = np.array(rows, dtype=float)
            out.blocks.append({name: arr[:, i] for i, name in enumerate(header)})
            if not line.startswith("Loop time of"):
                cut.append(f"thermo block {len(out.blocks)} ends at {line[:60]!r}")
        header, rows = None, []

    with path.open(errors="replace") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if strict:
                try:
                    check_text(path, line)
                except ParseError:
                    raise ParseError(path, f"corrupt file: non-text byte on line {number}") from None
            if header is not None:
                tokens = line.split()
                if len(tokens) == len(header):
                    try:
                        rows.append([_number(t) for t in tokens])
                        continue
                    except ValueError:
                        pass
                if line.startswith("WARNING"):  # printed between thermo rows; block goes on
                    out.warnings.append(line)
                    out.timeout = out.timeout or "Wall time limit reached" in line
                    continue
                close(line)
            if line.startswith("Step ") or line == "Step":
                header = line.split()
                continue
            if m := _VERSION.match(line):
                out.version = m["v"]
            elif m := _LOOP.match(line):
                out.loop_times_s.append(float(m["t"]))
            elif m := _WALL.match(line):
                out.wall_time_s = int(m["h"]) * 3600 + int(m["m"]) * 60 + int(m["s"])
            elif line.startswith("ERROR"):
                out.errors.append(line)
            elif line.startswith("WARNING"):
                out.warnings.append(line)
                out.timeout = out.timeout or "Wall time limit reached" in line
    close("<end of file>")
    if strict:
        if not out.blocks and not out.errors:
            raise ParseError(path, "no thermo output in LAMMPS log (empty or not a log)")
        if not out.complete and not out.errors:
            raise ParseError(path, "LAMMPS log is truncated (no 'Total wall time' line)")
        if cut and not out.errors and not out.timeout:
            raise ParseError(path, f"cut or corrupt thermo output: {cut[0]}")
    return out


def require_finite_thermo(log: LammpsLog) -> None:
    """ParseError naming the log if a thermo value is nan, inf or a ``*****`` overflow."""
    if bad := log.non_finite:
        block, column = bad[0]
        raise ParseError(
            log.path, f"non-finite thermo value in column {column} of block {block + 1}"
        )


def to_si_units(column: str, values: np.ndarray) -> tuple[np.ndarray, str]:
    """Convert a ``units real`` thermo column to lisflow units (eV, ps, bar, K, Å^3)."""
    if column in _ENERGY_COLUMNS:
        return values * KCAL_PER_MOL_EV, "eV"
    if column == "Time":
        return values / 1000.0, "ps"
    if column == "Press":
        return values * ATM_BAR, "bar"
    if column == "Temp":
        return values, "K"
    if column == "Volume":
        return values, "A^3"
    return values, ""
