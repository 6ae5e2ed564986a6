"""CP2K engine: inputs from ``lisflow.io.cp2k``, Debian's ``cp2k.psmp`` through custodian."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from lisflow.calculation import Calculation, InputSet
from lisflow.engines.base import ParsedResult
from lisflow.engines.common import (
    engine_command,
    labelled_site_rows,
    require_planned_atoms,
    require_usable,
    run_custodian,
    site_labels,
    write_files,
)
from lisflow.errors import EngineError, ParseError
from lisflow.io.cp2k import Cp2kInputGenerator, Cp2kInputs

INPUT_FILE = "cp2k.inp"
OUTPUT_FILE = "cp2k.out"
PROJECT = "lisflow"
#: What CP2K prints when it stops at GLOBAL/WALLTIME.
WALLTIME_STOP = "exceeded requested execution time"


def generator(calc: Calculation) -> Cp2kInputGenerator:
    """The CP2K input generator of ``calc`` (its :class:`Cp2kInputs` on its structure)."""
    return inputs_of(calc).generator(calc.structure, PROJECT)


def inputs_of(calc: Calculation) -> Cp2kInputs:
    if not isinstance(calc.inputs, Cp2kInputs):
        raise EngineError(f"{calc.calc_id}: cp2k needs Cp2kInputs, got {calc.inputs!r}")
    return calc.inputs


_OFF = r"(?:OFF|F|FALSE|\.FALSE\.|NO)\b"


def requested_tables(input_file: Path) -> dict[str, bool]:
    """Which charge tables the CP2K input asks for: Mulliken unless ``&MULLIKEN OFF`` or a
    LOW/SILENT ``PRINT_LEVEL`` (CP2K prints it by default); Hirshfeld when ``&HIRSHFELD`` is
    switched on. Nothing is required when the input is not there."""
    if not input_file.is_file():
        return {"Mulliken": False, "Hirshfeld": False}
    text = input_file.read_text(errors="replace").upper()
    quiet = re.search(r"PRINT_LEVEL\s+(LOW|SILENT)\b", text) is not None
    mulliken = re.search(r"&MULLIKEN\b(.*)", text)
    hirshfeld = re.search(r"&HIRSHFELD\b(.*)", text)
    return {
        "Mulliken": not re.match(r"\s*" + _OFF, mulliken.group(1)) if mulliken else not quiet,
        "Hirshfeld": hirshfeld is not None and not re.match(r"\s*" + _OFF, hirshfeld.group(1)),
    }


@dataclass
class Cp2kEngine:
    """``LISFLOW_CP2K_CMD`` (default ``cp2k.psmp``; e.g. ``mpirun -n 64 cp2k.psmp``)."""

    name: str = "cp2k"
    inputs_type: ClassVar[type[InputSet]] = Cp2kInputs

    def input_files(self, calc: Calculation) -> dict[str, str]:
        return {INPUT_FILE: generator(calc).text(calc.periodic_structure())}

    def write_inputs(self, calc: Calculation, directory: Path) -> list[str]:
        return write_files(directory, self.input_files(calc))

    def run(self, calc: Calculation, directory: Path, walltime_s: float | None = None) -> None:
        """Run through custodian. With ``walltime_s`` CP2K stops itself before the limit
        (GLOBAL/WALLTIME) keeping its restart file; a later run in the same directory continues
        from it (EXT_RESTART). A walltime stop raises EngineError so the Firework is rerun."""
        from custodian.cp2k.jobs import Cp2kJob

        from lisflow.engines.handlers import cp2k_handlers
        from lisflow.io.cp2k_restart import prepare_cp2k_continuation

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
        require_usable(result.source, result.failure)
        for title, requested in requested_tables(directory / INPUT_FILE).items():
            if requested and getattr(result, title.lower()) is None:
                raise ParseError(result.source, f"no {title} table although the input asks for it")
        table = result.mulliken or result.hirshfeld
        symbols = [row.element for row in table] if table else None
        require_planned_atoms(calc, result.source, symbols, result.n_atoms)
        labels = site_labels(calc, result.n_atoms)
        charges = []
        for method, rows in (("mulliken", result.mulliken), ("hirshfeld", result.hirshfeld)):
            charges += labelled_site_rows(rows or [], labels, method)
        parsed = ParsedResult(
            energy_ev=result.energy_ev,
            n_atoms=result.n_atoms,
            formula=calc.formula,
            engine_version=result.cp2k_version,
            charges=charges,
        )
        parsed.files.update(md_output_files(directory))
        parsed.series.update(aimd_layer_series(calc, directory))
        return parsed

    def final_structure(self, calc: Calculation, directory: Path):
        """Final structure of an MD run (restart file: positions and, as site property
        ``cp2k_velocity_au``, velocities) with the input's site properties; None otherwise."""
        return final_md_structure(calc, Path(directory))


def md_output_files(directory: Path) -> dict[str, str]:
    """Trajectory, velocities, restart file and density cubes of a CP2K MD in ``directory``."""
    files = {}
    for key, name in (
        ("trajectory", f"{PROJECT}-pos-1.xyz"),
        ("velocities", f"{PROJECT}-vel-1.xyz"),
        ("restart", f"{PROJECT}-1.restart"),
    ):
        if (directory / name).exists():
            files[key] = str(directory / name)
    pattern = f"{PROJECT}-ELECTRON_DENSITY-1_*.cube"
    if any(directory.glob(pattern)):
        files["density_cubes"] = str(directory / pattern)
    return files


def aimd_layer_series(calc: Calculation, directory: Path) -> dict:
    """Layer-resolved Bader charges of the polysulfide ions from the density cubes of an AIMD
    of the Mo4/N-G model (ED Fig. 8g); empty for other runs or without cubes."""
    structure = calc.structure
    if calc.task != "aimd" or structure is None or "molecule" not in structure.site_properties:
        return {}
    cubes = sorted(directory.glob(f"{PROJECT}-ELECTRON_DENSITY-1_*.cube"))
    if not cubes:
        return {}
    from lisflow.analysis.aimd_layers import layer_series
    from lisflow.io.cp2k_data import functional_of, gth_kind

    aimd = inputs_of(calc).aimd
    timestep = 1.0 if aimd is None else float(aimd.timestep_fs)
    run = generator(calc)  # the valences (qN) of the pseudopotentials this run used
    functional = functional_of(run.overrides)
    valence = {
        el.symbol: float(gth_kind(el.symbol, functional, run.basis_set).valence)
        for el in structure.composition.elements
    }
    return layer_series(structure, cubes, timestep, valence)


def final_md_structure(calc: Calculation, directory: Path):
    """Structure from ``<project>-1.restart`` (Å; velocities in a.u.), or None if absent."""
    from pymatgen.core import Lattice, Structure

    from lisflow.io.cp2k import VELOCITY_PROPERTY
    from lisflow.io.cp2k_restart import read_restart

    restart = directory / f"{PROJECT}-1.restart"
    if calc.task != "aimd" or not restart.is_file():
        return None
    state = read_restart(restart)
    reference = calc.structure
    n = len(state["positions"])
    if reference is not None and len(reference) != n:
        raise EngineError(f"{restart}: {n} atoms, the calculation has {len(reference)}")
    species = (
        [site.specie for site in reference]
        if reference is not None
        else ["H" if k == "D" else k for k in state["symbols"]]
    )
    if state["cell"]:
        lattice = Lattice(state["cell"])
    elif isinstance(reference, Structure):
        lattice = reference.lattice
    else:
        raise EngineError(f"{restart}: no cell, and the calculation has no periodic structure")
    props = dict(reference.site_properties) if reference is not None else {}
    if state["velocities"] is not None:
        props[VELOCITY_PROPERTY] = [list(v) for v in state["velocities"]]
    structure = Structure(
        lattice, species, state["positions"], coords_are_cartesian=True,
        site_properties=props, charge=getattr(reference, "charge", 0) or 0,
    )
    structure.properties = {**(reference.properties if reference is not None else {}),
                            "md_step": state["step"]}
    return structure
