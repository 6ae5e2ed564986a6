"""Harmonic modes of a VASP finite-difference run (IBRION = 5) from OUTCAR.

OUTCAR prints, after "Eigenvectors and eigenvalues of the dynamical matrix", one line per
mode, ``   1 f  =   15.836563 THz   99.503457 2PiTHz  528.251069 cm-1   65.494674 meV``, and
``f/i=`` for an imaginary mode (VASP wiki, IBRION; the block is printed again after
"Eigenvectors after division by SQRT(mass)": only the first block is read).
"""

from __future__ import annotations

import re
from pathlib import Path

from lisflow.errors import ParseError

_MODE = re.compile(
    r"^\s*(\d+)\s+(f|f/i)\s*=\s*[-\d.]+\s+THz\s+[-\d.]+\s+2PiTHz\s+([-\d.]+)\s+cm-1\s+"
    r"([-\d.]+)\s+meV"
)
_HEADER = "Eigenvectors and eigenvalues of the dynamical matrix"


def vasp_mode_energies(outcar: Path) -> list[complex]:
    """Mode energies (eV) in ``Vibrations.get_energies`` form: real, or imaginary (``1j·|ε|``)
    for ``f/i`` modes. ParseError naming the file when no dynamical-matrix block is there."""
    text = outcar.read_text(errors="replace")
    if _HEADER not in text:
        raise ParseError(outcar, "no dynamical-matrix block (not an IBRION = 5 run, or cut)")
    energies: list[complex] = []
    for line in text.split(_HEADER, 1)[1].splitlines():
        match = _MODE.match(line)
        if not match:
            continue
        index = int(match.group(1))
        if index != len(energies) + 1:  # the second (mass-weighted) block starts again at 1
            break
        mev = float(match.group(4)) / 1000.0
        energies.append(complex(0.0, mev) if match.group(2) == "f/i" else complex(mev, 0.0))
    if not energies:
        raise ParseError(outcar, "dynamical-matrix block holds no modes")
    return energies
