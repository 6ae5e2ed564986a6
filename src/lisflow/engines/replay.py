"""``replay``: atomate2's mock-VASP idea, strict. For each calculation a reference run
directory (real VASP outputs) is named; ``run`` first checks the inputs lisflow wrote against
the reference inputs — named INCAR tags, the k-point mesh, the POSCAR (same structure within
tolerance, up to a lattice translation) and the POTCAR symbols — and fails loudly listing
every mismatch, then copies the reference outputs into the run directory. Parsing is the
VASP engine's own."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Kpoints

from lisflow.calculation import Calculation, InputSet
from lisflow.engines.base import ParsedResult
from lisflow.engines.vasp import VaspEngine, final_vasp_structure, parse_vasp_run
from lisflow.errors import EngineError

#: INCAR tags compared by default (a tag missing on both sides matches).
CHECKED_TAGS = (
    "ENCUT",
    "GGA",
    "ISPIN",
    "IBRION",
    "ISIF",
    "NSW",
    "EDIFFG",
    "ISMEAR",
    "SIGMA",
    "LORBIT",
    "LAECHG",
    "IVDW",
    "LDAU",
    "METAGGA",
)
#: VASP's own defaults, used when a tag is absent on one side (VASP wiki, tag pages).
VASP_DEFAULTS = {
    "LDAU": False,
    "IVDW": 0,
    "LAECHG": False,
    "ISPIN": 1,
    "NSW": 0,
    "ISMEAR": 1,
    "SIGMA": 0.2,
    "IBRION": -1,
    "EDIFFG": None,
    "LORBIT": None,
    "METAGGA": None,
}
INPUT_NAMES = ("INCAR", "KPOINTS", "POSCAR", "POTCAR", "POTCAR.spec")


def _find(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.exists():
            return candidate
    return None


def _reference_file(directory: Path, name: str) -> Path:
    """``name`` (or ``name.gz``) in the reference directory; EngineError if absent."""
    path = _find(directory, name)
    if path is None:
        raise EngineError(f"{directory}: no reference {name}")
    return path


def _same(a, b) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    return a == b


def compare_inputs(
    run_dir: Path, reference: Path, tags: tuple[str, ...] = CHECKED_TAGS, position_tol: float = 1e-3
) -> list[str]:
    """Every difference between the inputs in ``run_dir`` and those of ``reference``."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    problems: list[str] = []
    ours, theirs = Incar.from_file(run_dir / "INCAR"), Incar.from_file(_reference_file(reference, "INCAR"))
    for tag in tags:
        default = VASP_DEFAULTS.get(tag)
        if not _same(ours.get(tag, default), theirs.get(tag, default)):
            problems.append(
                f"INCAR {tag}: lisflow {ours.get(tag)!r} != reference {theirs.get(tag)!r}"
            )
    k_ours = Kpoints.from_file(run_dir / "KPOINTS")
    k_theirs = Kpoints.from_file(_reference_file(reference, "KPOINTS"))
    if [list(k) for k in k_ours.kpts] != [
        list(k) for k in k_theirs.kpts
    ] or k_ours.style.name != k_theirs.style.name:
        problems.append(
            f"KPOINTS: lisflow {k_ours.style.name} {k_ours.kpts} != reference "
            f"{k_theirs.style.name} {k_theirs.kpts}"
        )
    s_ours = Structure.from_file(run_dir / "POSCAR")
    s_theirs = Structure.from_file(_reference_file(reference, "POSCAR"))
    matcher = StructureMatcher(
        ltol=position_tol,
        stol=position_tol,
        angle_tol=0.1,
        primitive_cell=False,
        scale=False,
        attempt_supercell=False,
    )
    if len(s_ours) != len(s_theirs) or not matcher.fit(s_ours, s_theirs):
        problems.append(
            f"POSCAR: lisflow {s_ours.composition.formula} does not match reference "
            f"{s_theirs.composition.formula} within {position_tol}"
        )
    symbols_ours = _potcar_symbols(run_dir)
    symbols_theirs = _potcar_symbols(reference)
    if symbols_theirs is not None and symbols_ours != symbols_theirs:
        problems.append(f"POTCAR symbols: lisflow {symbols_ours} != reference {symbols_theirs}")
    return problems


def _potcar_symbols(directory: Path) -> list[str] | None:
    spec = _find(directory, "POTCAR.spec")
    if spec is not None:
        from lisflow.parsers import read_text

        return read_text(spec).split()  # plain or .gz
    potcar = _find(directory, "POTCAR")
    if potcar is not None:
        from pymatgen.io.vasp import Potcar

        return [p.symbol for p in Potcar.from_file(str(potcar))]
    return None


@dataclass
class ReplayEngine:
    """``references`` maps calc ids to reference run directories; ``tags`` are compared."""

    references: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = CHECKED_TAGS
    name: str = "replay"
    inputs_type: ClassVar[type[InputSet]] = InputSet  # a VASP or LOBSTER calculation's

    def write_inputs(self, calc: Calculation, directory: Path) -> list[str]:
        if calc.engine == "lobster":
            from lisflow.engines.lobster import LobsterEngine

            return LobsterEngine().write_inputs(calc, directory)
        return VaspEngine().write_inputs(calc, directory)

    def reference(self, calc: Calculation) -> Path:
        if calc.calc_id not in self.references:
            raise EngineError(f"replay: no reference run for {calc.calc_id}")
        return Path(self.references[calc.calc_id])

    def run(self, calc: Calculation, directory: Path, walltime_s: float | None = None) -> None:
        reference = self.reference(calc)
        if calc.engine == "lobster":  # LOBSTER step: lobsterin checked, outputs copied
            from lisflow.engines.lobster import replay_lobster

            return replay_lobster(calc, directory, reference)
        problems = compare_inputs(directory, reference, tuple(self.tags))
        if problems:
            raise EngineError(
                f"replay {calc.calc_id}: inputs differ from {reference}: " + "; ".join(problems)
            )
        for source in sorted(reference.iterdir()):
            stem = source.name.removesuffix(".gz")
            if stem in INPUT_NAMES or not source.is_file():
                continue
            shutil.copy2(source, directory / source.name)

    def parse(self, calc: Calculation, directory: Path) -> ParsedResult:
        if calc.engine == "lobster":
            from lisflow.engines.lobster import parse_lobster_run

            return parse_lobster_run(calc, directory)
        return parse_vasp_run(calc, directory)

    def final_structure(self, calc: Calculation, directory: Path):
        return None if calc.engine == "lobster" else final_vasp_structure(calc, directory)
