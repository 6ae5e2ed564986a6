"""CP2K restart files: the final MD state from ``<project>-1.restart`` (CP2K input syntax),
and the input edits that stop a run before the walltime and continue it from that file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from lisflow.fsutil import atomic_write_text


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


#: Seconds left for CP2K to write its restart file and exit before Slurm kills the job.
CP2K_MARGIN_S = 60.0


def prepare_cp2k_continuation(
    input_file: Path, walltime_s: float | None, project: str, margin_s: float = CP2K_MARGIN_S
) -> bool:
    """Make a CP2K input stop cleanly before the walltime and continue from a restart file.

    Sets ``GLOBAL/WALLTIME`` (s) to ``walltime_s - margin_s`` (CP2K then writes
    ``<project>-1.restart`` and stops with "exceeded requested execution time"), and, if an
    earlier job left ``<project>-1.restart`` next to the input, adds ``&EXT_RESTART`` so this
    run continues from that state (positions, step counters; CP2K manual, EXT_RESTART) and
    reuses the wavefunction (``SCF_GUESS RESTART`` with ``<project>-RESTART.wfn``).
    Returns True when the run continues from a restart file. Edits the file atomically.
    """
    input_file = Path(input_file)
    directory = input_file.parent
    lines = [
        line
        for line in input_file.read_text().splitlines()
        if line.strip().split()[:1] != ["WALLTIME"]
    ]
    text = "\n".join(lines)
    if "&EXT_RESTART" in text:  # continued before: start from the current restart file again
        text = text[: text.index("&EXT_RESTART")].rstrip()
        lines = text.splitlines()
    if walltime_s is not None and not math.isinf(walltime_s):
        seconds = max(1, int(walltime_s - margin_s))
        index = next(i for i, line in enumerate(lines) if line.strip().upper() == "&GLOBAL")
        lines.insert(index + 1, f"  WALLTIME {seconds}")
    restart = directory / f"{project}-1.restart"
    continuing = restart.is_file()
    if continuing:
        wfn = directory / f"{project}-RESTART.wfn"
        lines = [
            line.replace("SCF_GUESS ATOMIC", "SCF_GUESS RESTART") if wfn.is_file() else line
            for line in lines
        ]
        lines += ["&EXT_RESTART", f"  RESTART_FILE_NAME {restart.name}", "&END EXT_RESTART"]
    atomic_write_text(input_file, "\n".join(lines) + "\n")
    return continuing
