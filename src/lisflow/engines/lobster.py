"""LOBSTER engine: a LOBSTER run on the outputs of a finished VASP static (issue 11.7).

``write_inputs`` writes the lobsterin of pymatgen's standard settings (``lisflow.io.lobster``)
from the planned structure and the static's INCAR. ``run`` links the static's outputs
(WAVECAR, vasprun.xml, POSCAR, INCAR, KPOINTS, POTCAR; the parent run directory comes from the
Firework spec, ``LobsterInputs.parent_run_dir``) and runs ``LISFLOW_LOBSTER_CMD`` (profile
``engine_commands.lobster``) through custodian's LOBSTER job and validators. ``parse`` refuses
runs whose charge spilling exceeds 5 % and stores the ICOHPs with their translations and the
Mulliken and Loewdin charges of CHARGE.lobster. ``LobsterReplay`` replays real LOBSTER
outputs after checking the lobsterin against the reference (the VASP replay's strictness).
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from lisflow.calculation import Calculation, InputSet
from lisflow.engines.base import ParsedResult
from lisflow.engines.common import engine_command, run_custodian, write_files
from lisflow.errors import EngineError
from lisflow.io.lobster import LobsterInputs

#: VASP outputs LOBSTER reads from the static's run directory.
VASP_FILES = ("WAVECAR", "vasprun.xml", "POSCAR", "INCAR", "KPOINTS", "POTCAR")
#: lobsterin keywords compared in replay (lower case).
CHECKED_KEYWORDS = ("basisset", "basisfunctions")


def inputs_of(calc: Calculation) -> LobsterInputs:
    if not isinstance(calc.inputs, LobsterInputs):
        raise EngineError(f"{calc.calc_id}: lobster needs LobsterInputs, got {calc.inputs!r}")
    return calc.inputs


def lobsterin_for(calc: Calculation) -> str:
    """lobsterin text for ``calc`` (from the INCAR of the parent static's VASP inputs)."""
    from lisflow.io.lobster import lobsterin_text
    from lisflow.io.vasp import potcar_symbols

    structure = calc.periodic_structure()
    # only ISMEAR and SIGMA are read (lobsterin_text): no per-site INCAR tags needed
    incar = inputs_of(calc).vasp.incar(structure, per_site=False)
    return lobsterin_text(structure, incar, potcar_symbols(structure))


def parse_lobster_run(calc: Calculation, directory: Path) -> ParsedResult:
    """Charge spilling (checked), ICOHPs with translations, Mulliken/Loewdin charges."""
    from lisflow.engines.common import labelled_site_rows, site_labels
    from lisflow.parsers.lobster import (
        check_charge_spilling,
        lobster_summary,
        read_charge_lobster,
        read_icohplist,
    )

    summary = lobster_summary(directory)
    check_charge_spilling(summary)
    icohps = [b.to_dict() for b in read_icohplist(directory)]
    charges = read_charge_lobster(directory)
    charges = labelled_site_rows(charges, site_labels(calc, len(charges) // 2))
    scalars = {
        f"charge_spilling_spin{i + 1}": (value, "fraction")
        for i, value in enumerate(summary.charge_spilling)
    }
    scalars |= {
        f"total_spilling_spin{i + 1}": (value, "fraction")
        for i, value in enumerate(summary.total_spilling)
    }
    return ParsedResult(
        n_atoms=len(charges) // 2,
        formula=calc.formula or None,
        engine_version=f"LOBSTER {summary.lobster_version}",
        charges=charges,
        icohps=icohps,
        scalars=scalars,
    )


def link_vasp_outputs(calc: Calculation, directory: Path) -> list[str]:
    """Symlink the parent static's outputs into ``directory``; EngineError if one is missing."""
    parent = inputs_of(calc).parent_run_dir
    if not parent or not Path(parent).is_dir():
        raise EngineError(f"{calc.calc_id}: no finished VASP static to run LOBSTER on ({parent!r})")
    missing = [name for name in VASP_FILES if not (Path(parent) / name).exists()]
    if missing:
        raise EngineError(f"{calc.calc_id}: the static in {parent} has no {', '.join(missing)}")
    for name in VASP_FILES:
        target = directory / name
        if target.is_symlink() or not target.exists():
            target.unlink(missing_ok=True)
            target.symlink_to(Path(parent).resolve() / name)
    return list(VASP_FILES)


@dataclass
class LobsterEngine:
    """``LISFLOW_LOBSTER_CMD`` (e.g. ``lobster-5.1.1``) on the parent static's outputs."""

    name: str = "lobster"
    inputs_type: ClassVar[type[InputSet]] = LobsterInputs

    def input_files(self, calc: Calculation) -> dict[str, str]:
        """lobsterin and the POSCAR of the structure it is for (the lobsterin alone is the same
        for every structure with the same elements: the POSCAR keeps input hashes distinct)."""
        from lisflow.io.vasp import poscar_text

        structure = calc.periodic_structure()
        poscar = poscar_text(structure, structure.composition.formula)  # = Poscar(bare(...))
        return {"lobsterin": lobsterin_for(calc), "POSCAR": poscar}

    def write_inputs(self, calc: Calculation, directory: Path) -> list[str]:
        return write_files(directory, self.input_files(calc))

    def run(self, calc: Calculation, directory: Path, walltime_s: float | None = None) -> None:
        from custodian.lobster.handlers import EnoughBandsValidator, LobsterFilesValidator
        from custodian.lobster.jobs import LobsterJob

        link_vasp_outputs(calc, directory)
        command = shlex.split(engine_command("LISFLOW_LOBSTER_CMD", None))
        validators = [LobsterFilesValidator(), EnoughBandsValidator()]
        job = LobsterJob(
            command,  # type: ignore[arg-type]  # custodian runs a list as the argv
            output_file="lobster.out",
            gzipped=False,
        )  # LOBSTER writes lobsterout
        run_custodian(directory, [], [job], validators)

    def parse(self, calc: Calculation, directory: Path) -> ParsedResult:
        return parse_lobster_run(calc, directory)

    def final_structure(self, calc: Calculation, directory: Path) -> None:
        """LOBSTER moves no atom: no final structure of its own."""
        return None


def compare_lobsterin(run_dir: Path, reference: Path) -> list[str]:
    """Differences in basis set and basis functions between our lobsterin and the reference."""
    from lisflow.engines.replay import _find
    from lisflow.io.lobster import read_lobsterin
    from lisflow.parsers import read_text

    ref_file = _find(reference, "lobsterin")
    if ref_file is None:
        return [f"no lobsterin in {reference}"]
    ours = read_lobsterin((run_dir / "lobsterin").read_text())
    theirs = read_lobsterin(read_text(ref_file))
    problems = []
    for key in CHECKED_KEYWORDS:
        a, b = ours.get(key), theirs.get(key)
        norm = (lambda v: sorted(v) if isinstance(v, list) else [v]) if key == "basisfunctions" else (
            lambda v: [str(v).lower()]
        )  # fmt: skip
        if norm(a) != norm(b):
            problems.append(f"lobsterin {key}: lisflow {a!r} != reference {b!r}")
    return problems


def replay_lobster(calc: Calculation, directory: Path, reference: Path) -> None:
    """Check the lobsterin, then copy the reference LOBSTER outputs (not its inputs)."""
    problems = compare_lobsterin(directory, reference)
    if problems:
        raise EngineError(
            f"replay {calc.calc_id}: lobsterin differs from {reference}: " + "; ".join(problems)
        )
    for source in sorted(reference.iterdir()):
        if source.is_file() and source.name.removesuffix(".gz") != "lobsterin":
            shutil.copy2(source, directory / source.name)
