"""The unit of work every layer passes along: one engine run on one structure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymatgen.core import Molecule, Structure

#: Tasks an engine knows how to set up.
TASKS = ("relax", "static", "geo_opt", "aimd", "md", "vib", "freq", "neb")
#: What a calculation is for inside its study.
ROLES = ("bulk", "slab", "molecule", "adslab", "interface", "box")


@dataclass
class Calculation:
    """One engine run.

    ``calc_id`` is unique across all studies (``<study>/<name>``), stable across runs and
    safe as a directory name. ``params`` are the engine parameters after merging the preset
    and the spec's overrides; ``labels`` carry what queries filter on (site, adsorbate,
    substrate, configuration, ...). ``parents`` name calculations whose results this one needs
    (e.g. an AIMD stage that restarts from the previous stage).
    """

    calc_id: str
    study: str
    engine: str
    task: str
    role: str
    structure: Structure | Molecule | None
    params: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    parents: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """Directory-safe name inside the study (``calc_id`` without the study prefix)."""
        return self.calc_id.split("/", 1)[1]

    @property
    def formula(self) -> str:
        if self.structure is None:
            return ""
        return "".join(
            f"{element}{int(n) if n != 1 else ''}" for element, n in self.structure.composition.items()
        )

    @property
    def n_atoms(self) -> int:
        return 0 if self.structure is None else len(self.structure)

    def periodic_structure(self) -> Structure:
        """``structure`` in its periodic cell (Å), for engines that need a lattice.
        LisflowError if the calculation has none or only a Molecule."""
        if not isinstance(self.structure, Structure):
            from lisflow.errors import LisflowError

            got = "no structure" if self.structure is None else "a Molecule without a cell"
            raise LisflowError(f"{self.calc_id}: {self.engine} needs a periodic structure, got {got}")
        return self.structure


def calc_to_dict(calc: Calculation) -> dict[str, Any]:
    """JSON-safe form (for a Firework's spec)."""
    return {
        "calc_id": calc.calc_id,
        "study": calc.study,
        "engine": calc.engine,
        "task": calc.task,
        "role": calc.role,
        "params": calc.params,
        "labels": calc.labels,
        "parents": list(calc.parents),
        "structure": None if calc.structure is None else calc.structure.as_dict(),
    }


def calc_from_dict(data: dict[str, Any]) -> Calculation:
    structure = data.get("structure")
    if isinstance(structure, dict):  # FireWorks may already have deserialised it
        cls = Structure if "lattice" in structure else Molecule
        structure = cls.from_dict(structure)
    return Calculation(
        calc_id=data["calc_id"],
        study=data["study"],
        engine=data["engine"],
        task=data["task"],
        role=data["role"],
        structure=structure,
        params=data.get("params", {}),
        labels=data.get("labels", {}),
        parents=tuple(data.get("parents", ())),
    )
