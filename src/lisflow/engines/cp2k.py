"""CP2K engine: inputs from ``lisflow.io.cp2k``, Debian's ``cp2k.psmp`` through custodian."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from lisflow.calculation import Calculation
from lisflow.engines.base import ParsedResult
from lisflow.engines.common import engine_command, run_custodian, write_files
from lisflow.errors import EngineError
from lisflow.io.cp2k import AimdSettings, Cp2kInputGenerator

INPUT_FILE = "cp2k.inp"
OUTPUT_FILE = "cp2k.out"
PROJECT = "lisflow"
#: What CP2K prints when it stops at GLOBAL/WALLTIME.
WALLTIME_STOP = "exceeded requested execution time"


def generator(calc: Calculation) -> Cp2kInputGenerator:
    params = calc.params
    aimd = (
        AimdSettings(**{**params["aimd"], "fixed_indices": tuple(params["aimd"]["fixed_indices"])})
        if params.get("aimd")
        else None
    )
    properties = getattr(calc.structure, "properties", None) or {}
    charge = int(round(properties.get("charge", getattr(calc.structure, "charge", 0)) or 0))
    return Cp2kInputGenerator(
        task=params["task"],
        project=PROJECT,
        periodic=params["periodic"],
        charge=charge,
        multiplicity=properties.get("spin_multiplicity"),
        overrides=params.get("overrides", {}),
        aimd=aimd,
    )


@dataclass
class Cp2kEngine:
    """``LISFLOW_CP2K_CMD`` (default ``cp2k.psmp``; e.g. ``mpirun -n 64 cp2k.psmp``)."""

    name: str = "cp2k"

    def input_files(self, calc: Calculation) -> dict[str, str]:
        return {INPUT_FILE: generator(calc).text(calc.structure)}

    def write_inputs(self, calc: Calculation, directory: Path) -> list[str]:
        return write_files(directory, self.input_files(calc))

    def run(self, calc: Calculation, directory: Path, walltime_s: float | None = None) -> None:
        """Run through custodian. With ``walltime_s`` CP2K stops itself before the limit
        (GLOBAL/WALLTIME) keeping its restart file; a later run in the same directory continues
        from it (EXT_RESTART). A walltime stop raises EngineError so the Firework is rerun."""
        from custodian.cp2k.jobs import Cp2kJob

        from lisflow.engines.handlers import cp2k_handlers
        from lisflow.launch.walltime import prepare_cp2k_continuation

        command = shlex.split(engine_command("LISFLOW_CP2K_CMD", "cp2k.psmp"))
        prepare_cp2k_continuation(directory / INPUT_FILE, walltime_s, PROJECT)
        job = Cp2kJob(
            command, input_file=INPUT_FILE, output_file=OUTPUT_FILE, final=True, backup=True
        )
        handlers = cp2k_handlers(INPUT_FILE, OUTPUT_FILE, walltime_s=walltime_s)
        run_custodian(directory, handlers, [job])
        output = directory / OUTPUT_FILE
        if output.exists() and WALLTIME_STOP in output.read_text(errors="replace"):
            raise EngineError(f"{calc.calc_id}: stopped at the walltime; restart file kept")

    def parse(self, calc: Calculation, directory: Path) -> ParsedResult:
        from lisflow.parsers.cp2k import parse_cp2k

        result = parse_cp2k(directory / OUTPUT_FILE)
        labels = (
            [str(s.properties.get("label", "")) for s in calc.structure] if calc.structure else []
        )
        charges = []
        for method, rows in (("mulliken", result.mulliken), ("hirshfeld", result.hirshfeld)):
            for row in rows or []:
                record = row if isinstance(row, dict) else row.to_dict()
                index = record["site_index"]
                charges.append(
                    {
                        **record,
                        "method": method,
                        "label": labels[index] if index < len(labels) else "",
                    }
                )
        parsed = ParsedResult(
            energy_ev=result.energy_ev,
            n_atoms=result.n_atoms,
            formula=calc.formula,
            engine_version=result.cp2k_version,
            charges=charges,
        )
        trajectory = directory / f"{PROJECT}-pos-1.xyz"
        if trajectory.exists():
            parsed.files["trajectory"] = str(trajectory)
        return parsed
