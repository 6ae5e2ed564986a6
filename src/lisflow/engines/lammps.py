"""LAMMPS engine: MD boxes of paper 000 through packmol, custodian and the log parser.

``calc.inputs`` (a :class:`~lisflow.io.lammps.LammpsInputs` made by
:func:`lisflow.workflows.plan_md.plan_md`) holds ``system`` (builder keyword arguments, see
:func:`lisflow.structures.md_boxes.build_system`) and the run settings. ``write_inputs`` writes the packmol input, the
molecule files, ``in.lammps`` and the run state ``lisflow_md.json`` (deterministic bytes; the
box is packed in ``run``, which can take long for the full-size boxes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np
from custodian import Custodian
from custodian.custodian import ErrorHandler

from lisflow.calculation import Calculation, InputSet
from lisflow.engines.base import ParsedResult
from lisflow.engines.lammps_handlers import (
    INPUT,
    LOG,
    STATE,
    LammpsJob,
    default_handlers,
    elapsed_ps,
    latest_restart,
    restart_with,
    save_state,
    write_script,
)
from lisflow.errors import EngineError, ParseError
from lisflow.io.lammps import LammpsInputs, merged, plan_stages
from lisflow.io.lammps_packmol import write_pack_inputs
from lisflow.parsers.lammps_log import (
    LammpsLog,
    parse_log,
    require_finite_thermo,
    to_si_units,
)
from lisflow.structures.md_boxes import build_system, pack, shared_system

logger = logging.getLogger(__name__)
DATA = "system.data"
WALLTIME_MARGIN_S = 120.0  # leave time to write the restart file and exit


def progress(directory: str | Path) -> tuple[int, int]:
    """(current step, final step) from the thermo lines written so far.

    The final step follows the time-step segments of the run state: after a restart with a
    smaller time step the remaining stages need more steps."""
    directory = Path(directory)
    state = json.loads((directory / STATE).read_text())
    segments = state["segments"]
    start = segments[-1]["from_step"] if segments else 0
    stages = plan_stages(merged(state["params"]), start, elapsed_ps(segments, start))
    total = max([s.end_step for s in stages] + [0])
    path = directory / LOG
    if not path.is_file():
        return 0, total
    steps = parse_log(path, strict=False).series("Step")
    return (int(steps[-1]) if len(steps) else 0), total


class ProgressMonitor(ErrorHandler):
    """custodian monitor that never finds an error; it reports the step reached."""

    is_monitor = True

    def __init__(self, report: Callable[[str], None] | None = None) -> None:
        self.report = report

    def check(self, directory: str | Path = "./") -> bool:
        step, total = progress(directory)
        message = f"LAMMPS step {step} of {total} ({100.0 * step / max(total, 1):.1f} %)"
        (self.report or logger.info)(message)
        return False

    def correct(self, directory: str | Path = "./") -> dict:
        return {"errors": [], "actions": []}


def _all_logs(directory: Path) -> list[Path]:
    old = sorted(directory.glob("log.*.lammps"), key=lambda p: int(p.name.split(".")[1]))
    return [*old, directory / LOG]


def inputs_of(calc: Calculation) -> LammpsInputs:
    if not isinstance(calc.inputs, LammpsInputs):
        raise EngineError(f"{calc.calc_id}: lammps needs LammpsInputs, got {calc.inputs!r}")
    return calc.inputs


class LammpsEngine:
    """The :class:`~lisflow.engines.base.Engine` for ``engine: lammps``."""

    name = "lammps"
    inputs_type: ClassVar[type[InputSet]] = LammpsInputs

    def __init__(
        self,
        handlers: list | None = None,
        max_errors: int = 5,
        polling_time_step: float = 1.0,
        on_progress: Callable[[str], None] | None = None,
        walltime_margin_s: float = WALLTIME_MARGIN_S,
    ):
        self.walltime_margin_s = walltime_margin_s
        self.handlers = handlers
        self.max_errors = max_errors
        self.polling_time_step = polling_time_step
        self.on_progress = on_progress

    def write_inputs(self, calc: Calculation, directory: Path) -> list[str]:
        directory = Path(directory)
        inputs = inputs_of(calc)
        system = shared_system(inputs.system)  # read only here
        write_pack_inputs(system, directory)
        params = inputs.run_parameters(periodic_z=system.periodic_z)
        state = {
            "calc_id": calc.calc_id,
            "params": params,
            "segments": [{"from_step": 0, "dt_fs": params["timestep_fs"]}],
        }
        save_state(directory, state)
        write_script(directory, state, None)
        names = [
            STATE,
            INPUT,
            "packmol.inp",
            *(f"{s}.xyz" for s in dict.fromkeys(system.species_order)),
        ]
        if system.electrode is not None:
            names.append("electrode.xyz")
        return sorted(names)

    def run(self, calc: Calculation, directory: Path, walltime_s: float | None = None) -> None:
        directory = Path(directory)
        if not (directory / STATE).is_file():
            self.write_inputs(calc, directory)
        if not (directory / DATA).is_file():
            system = build_system(inputs_of(calc).system)
            pack(system, directory, progress=self.on_progress)
        if (directory / LOG).is_file():
            step, total = progress(directory)
            if step >= total and parse_log(directory / LOG, strict=False).complete:
                return  # finished earlier
            if step < total and latest_restart(directory) is not None:
                # an earlier run stopped at its walltime: continue from the restart file
                restart_with(directory, {}, f"resume at step {step} after walltime")
        wall = None if walltime_s is None else max(1.0, walltime_s - self.walltime_margin_s)
        handlers = self.handlers if self.handlers is not None else default_handlers()
        custodian = Custodian(
            [*handlers, ProgressMonitor(self.on_progress)],
            [LammpsJob(walltime_s=wall)],
            max_errors=self.max_errors,
            polling_time_step=self.polling_time_step,
            monitor_freq=5,
            directory=str(directory),
        )
        try:
            custodian.run()
        except Exception as exc:  # custodian raises its own error types
            raise EngineError(f"LAMMPS run in {directory} failed: {exc}") from exc
        step, total = progress(directory)
        if step < total:
            raise EngineError(
                f"LAMMPS in {directory} stopped at step {step} of {total} (walltime); "
                "restart files are kept, run again to continue"
            )

    def final_structure(self, calc: Calculation, directory: Path) -> None:
        """The packed box lives in ``system.data`` and the trajectory: no pymatgen structure."""
        return None

    def parse(self, calc: Calculation, directory: Path) -> ParsedResult:
        directory = Path(directory)
        logs = [
            parse_log(p, strict=(p.name == LOG))
            for p in _all_logs(directory)
            if p.is_file() or p.name == LOG
        ]
        final = logs[-1]
        if final.errors:
            raise ParseError(directory / LOG, f"LAMMPS stopped with {final.errors[0]}")
        result = result_from_logs(logs, directory)
        from lisflow.analysis.md_run import analyse_lammps_run

        series, scalars = analyse_lammps_run(directory, inputs_of(calc).dump_every_ps)
        result.series.update(series)
        result.scalars.update(scalars)
        return result


def result_from_logs(logs: list[LammpsLog], directory: Path) -> ParsedResult:
    """ParsedResult: final total energy (eV), thermo series vs time (ps), files."""
    final = logs[-1]
    for log in logs:
        require_finite_thermo(log)
    md_blocks = [
        b for log in logs for b in log.blocks if not ("KinEng" in b and np.all(b["KinEng"] == 0))
    ]  # drop minimisation
    merged_log = LammpsLog(final.path, final.version, md_blocks)
    time_fs = merged_log.series("Time")
    time_ps, _ = to_si_units("Time", time_fs)
    series = {}
    for column in ("Temp", "Press", "PotEng", "KinEng", "TotEng", "Volume"):
        values = merged_log.series(column)
        if len(values) == len(time_ps) and len(values):
            converted, unit = to_si_units(column, values)
            series[("thermo", column.lower())] = (time_ps, converted, "ps", unit)
    etot = merged_log.series("TotEng")
    if not len(etot):
        raise ParseError(final.path, "no TotEng column in the thermo output")
    files = {"log": str(directory / LOG), "data": str(directory / DATA)}
    trajs = sorted(directory.glob("traj*.dcd"), key=lambda p: (p.name != "traj.dcd", p.name))
    for i, path in enumerate(trajs):
        files["trajectory" if i == 0 else f"trajectory_{i}"] = str(path)
    if (directory / "final.restart").is_file():
        files["restart"] = str(directory / "final.restart")
    n_atoms = None
    if (directory / DATA).is_file():
        with (directory / DATA).open() as handle:
            for line in handle:
                if line.strip().endswith("atoms"):
                    n_atoms = int(line.split()[0])
                    break
    scalars = {"wall_time": (float(sum(log.wall_time_s or 0 for log in logs)), "s")}
    if len(time_ps):
        scalars["simulated_time"] = (float(time_ps[-1]), "ps")
    return ParsedResult(
        energy_ev=float(to_si_units("TotEng", np.array([etot[-1]]))[0][0]),
        n_atoms=n_atoms,
        engine_version=final.version,
        series=series,
        scalars=scalars,
        files=files,
    )
