"""The one small interface every engine (vasp, cp2k, lammps, replay) implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from lisflow.calculation import Calculation, InputSet

if TYPE_CHECKING:
    from pymatgen.core import Structure


@dataclass
class ParsedResult:
    """What a finished run gives the database.

    ``energy_ev`` is the final total energy (eV). ``charges``, ``bands``, ``icohps`` are
    sequences of records (dataclasses or dicts) with the fields of the matching DB tables;
    ``series`` maps ``(analysis, quantity)`` to ``(x, y, x_unit, y_unit)`` and ``scalars`` maps
    a name to ``(value, unit)``. ``files`` maps a label to a path of a large artefact (trajectory,
    CHGCAR) that stays on disk. ``engine_version`` is the engine's own version string.
    """

    energy_ev: float | None = None
    n_atoms: int | None = None
    formula: str | None = None
    engine_version: str | None = None
    charges: list[Any] = field(default_factory=list)
    bands: list[Any] = field(default_factory=list)
    icohps: list[Any] = field(default_factory=list)
    magmoms: list[Any] = field(default_factory=list)  # per site, μB (site_magmoms)
    series: dict[tuple[str, str], tuple[Any, Any, str, str]] = field(default_factory=dict)
    scalars: dict[str, tuple[float, str]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


class Engine(Protocol):
    """An engine writes inputs for a Calculation, runs them, and parses the outputs.

    ``inputs_type`` is the typed input set its calculations carry (``calc.inputs``, built
    by the planner; :class:`~lisflow.calculation.InputSet`). ``final_structure`` is the
    structure the run ended with (relaxed or last MD frame; None when the run has none).

    ``write_inputs`` must be deterministic (same calculation -> same bytes) and atomic.
    ``run`` executes in ``directory`` (through custodian where handlers exist) and raises
    ``lisflow.errors.EngineError`` when it cannot finish; ``walltime_s`` is the time left for
    the job so the run can stop cleanly and leave restart files. ``parse`` raises
    ``lisflow.errors.ParseError`` naming the file when outputs are missing or corrupt.
    """

    name: str
    inputs_type: ClassVar[type[InputSet]]

    def write_inputs(self, calc: Calculation, directory: Path) -> list[str]: ...

    def run(self, calc: Calculation, directory: Path, walltime_s: float | None = None) -> None: ...

    def parse(self, calc: Calculation, directory: Path) -> ParsedResult: ...

    def final_structure(self, calc: Calculation, directory: Path) -> Structure | None: ...
