"""Slurm time limits: parse every ``--time`` format, and the seconds left in a running job.

Formats (``man sbatch``, option ``--time``): ``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH``,
``D-HH:MM``, ``D-HH:MM:SS``; ``UNLIMITED``/``INFINITE`` mean no limit and parse to
``math.inf``. ``squeue -o %L`` (time left) prints the same formats. Times are in seconds.

``python -m lisflow.launch.walltime [JOBID]`` prints the seconds left in the Slurm job (from
``squeue``; the limit itself when ``squeue`` is not reachable), which the job script exports as
``LISFLOW_WALLTIME_S`` so custodian/the engines stop cleanly before Slurm kills the job.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys

from lisflow.errors import InputError

FORMATS = "MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, UNLIMITED"
_UNLIMITED = {"UNLIMITED", "INFINITE", "NOT_SET"}
_NUMBER = r"(\d+)"
_DAYS = re.compile(rf"^{_NUMBER}-{_NUMBER}(?::{_NUMBER})?(?::{_NUMBER})?$")
_PLAIN = re.compile(rf"^{_NUMBER}(?::{_NUMBER})?(?::{_NUMBER})?$")


def parse_slurm_time(text: str, field: str = "walltime") -> float:
    """Seconds (float) in a Slurm time string; ``math.inf`` for ``UNLIMITED``.

    Raises ``InputError`` naming ``field`` for anything else (negative, empty, letters,
    too many fields). Minutes/seconds/hours fields are not range-checked, as Slurm accepts
    e.g. ``90`` minutes or ``0:90``.
    """
    value = str(text).strip()
    if value.upper() in _UNLIMITED:
        return math.inf
    days = _DAYS.match(value)
    if days:
        d, h, m, s = (int(g) if g else 0 for g in days.groups())
        return float(((d * 24 + h) * 60 + m) * 60 + s)
    plain = _PLAIN.match(value)
    if plain:
        parts = [int(g) for g in plain.groups() if g is not None]
        if len(parts) == 1:  # MM
            return float(parts[0] * 60)
        if len(parts) == 2:  # MM:SS
            return float(parts[0] * 60 + parts[1])
        return float((parts[0] * 60 + parts[1]) * 60 + parts[2])  # HH:MM:SS
    raise InputError(field, f"not a Slurm time: {text!r}", FORMATS)


def format_slurm_time(seconds: float) -> str:
    """``D-HH:MM:SS`` (whole seconds, rounded up) or ``UNLIMITED``; inverse of the parser."""
    if math.isinf(seconds):
        return "UNLIMITED"
    total = int(math.ceil(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}-{hours:02d}:{minutes:02d}:{secs:02d}"


def seconds_left(job_id: str | None = None) -> float | None:
    """Seconds left in Slurm job ``job_id`` (default ``$SLURM_JOB_ID``); None if unknown."""
    job_id = job_id or os.environ.get("SLURM_JOB_ID")
    if not job_id or not job_id.isdigit():
        return None
    try:
        out = subprocess.run(
            ["squeue", "-h", "-j", job_id, "-o", "%L"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        return parse_slurm_time(out, "squeue %L")
    except (OSError, subprocess.SubprocessError, InputError):
        return None


def main(argv: list[str] | None = None) -> int:
    """Print the seconds left in the job (integer; empty when unlimited or unknown)."""
    argv = sys.argv[1:] if argv is None else argv
    left = seconds_left(argv[0] if argv else None)
    print("" if left is None or math.isinf(left) else int(left))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
