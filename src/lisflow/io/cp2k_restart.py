"""Final MD state of a CP2K run from its ``<project>-1.restart`` file (CP2K input syntax)."""

from __future__ import annotations

from typing import Any


def read_restart(path) -> dict[str, Any]:
    """Final state of a CP2K MD from its restart file: ``symbols`` (kind names), ``positions``
    (Å, n × 3), ``velocities`` (bohr / a.u. time, n × 3, or None), ``cell`` (Å, 3 × 3),
    ``step`` (MD STEP_START_VAL). ParseError if a section is missing or inconsistent."""
    from pathlib import Path

    from lisflow.errors import ParseError

    path = Path(path)
    if not path.is_file():
        raise ParseError(path, "no CP2K restart file")
    lines = path.read_text(errors="replace").splitlines()

    def block(name: str, after: str | None = None) -> list[str] | None:
        start = 0
        if after is not None:
            start = next((i for i, ln in enumerate(lines) if ln.strip().upper() == after), -1)
            if start < 0:
                return None
        for i in range(start, len(lines)):
            words = lines[i].strip().split()
            if words[:1] == [f"&{name}"]:
                end = next(
                    (j for j in range(i + 1, len(lines))
                     if lines[j].strip().upper().startswith(f"&END {name}")
                     or lines[j].strip().upper() == "&END"),
                    None,
                )
                if end is None:
                    raise ParseError(path, f"&{name} is not closed (truncated file)")
                return [ln.strip() for ln in lines[i + 1 : end]]
        return None

    coord = block("COORD")
    if not coord:
        raise ParseError(path, "no &COORD section")
    symbols, positions = [], []
    for row in coord:
        words = row.split()
        if not words or words[0].upper() in ("SCALED", "UNIT"):
            continue
        symbols.append(words[0])
        positions.append([float(w) for w in words[1:4]])
    vel_rows = block("VELOCITY")
    velocities = None
    if vel_rows:
        velocities = [[float(w) for w in row.split()[:3]] for row in vel_rows if row]
        if len(velocities) != len(positions):
            raise ParseError(path, f"{len(velocities)} velocities for {len(positions)} atoms")
    cell_rows = block("CELL") or []
    cell = [[float(w) for w in row.split()[1:4]] for row in cell_rows
            if row.split()[:1] and row.split()[0] in ("A", "B", "C")]
    step = next((int(float(ln.split()[1])) for ln in lines
                 if ln.strip().startswith("STEP_START_VAL")), 0)
    return {
        "symbols": symbols,
        "positions": positions,
        "velocities": velocities,
        "cell": cell or None,
        "step": step,
    }
