"""The study-kind registry: one :class:`StudyKind` per ``kind:`` of a study file.

A kind owns its pydantic model (validation: the discriminated union of
:mod:`lisflow.spec.kinds`), its planner (spec -> calculations), the Fireworks of its derived
quantities (E_ads, E_f, ...) and its dry-run extras. Everything that asks "which kind of
study is this" asks :func:`study_kind`.

Adding a kind is one new module plus one registration line. The module defines the model
(``kind: Literal["neb"]`` on a :class:`lisflow.spec.models.StudyBase`) and the planner
``plan_neb(spec, spec_file) -> list[Calculation]`` (and, if any, a derived-Fireworks builder
``(spec, calcs, DerivedContext) -> list[Firework]`` and an extras writer
``(spec, directory) -> None``); the line goes at the end of this file::

    register(StudyKind("neb", NebStudy, plan_neb, derived=neb_fireworks))

``register`` also adds the model to :data:`lisflow.spec.kinds.KINDS`, so ``validate_spec``,
``plan``, ``build_workflow`` and ``dry-run`` accept the kind from then on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fireworks import Firework
from pydantic import BaseModel

from lisflow.calculation import Calculation
from lisflow.errors import InputError
from lisflow.spec.kinds import register_model
from lisflow.spec.md import MdStudy
from lisflow.spec.mechanism import FreeEnergyStudy, NebStudy
from lisflow.spec.models import AdsorptionStudy, AimdStudy, PolymorphStudy
from lisflow.workflows.derived import (
    DerivedContext,
    adsorption_energy_fireworks,
    formation_energy_fireworks,
)
from lisflow.workflows.firetasks_mechanism import profile_fireworks
from lisflow.workflows.plan import plan_adsorption, plan_aimd, plan_polymorphs
from lisflow.workflows.plan_md import plan_md
from lisflow.workflows.plan_mechanism import plan_free_energy, plan_neb

#: spec, spec file (relative paths in the spec resolve against it) -> calculations.
Planner = Callable[[Any, Path | None], list[Calculation]]
#: spec, its planned calculations, the build context -> new derived-quantity Fireworks.
DerivedBuilder = Callable[[Any, list[Calculation], DerivedContext], list[Firework]]
#: spec, the study's dry-run directory -> nothing (writes study-level artefacts there).
ExtrasWriter = Callable[[Any, Path], None]


@dataclass(frozen=True)
class StudyKind:
    """Everything lisflow does differently for one ``kind`` of study."""

    name: str
    model: type[BaseModel]
    plan: Planner
    derived: DerivedBuilder | None = None
    extras: ExtrasWriter | None = None

    def derived_fireworks(
        self, spec: Any, calcs: list[Calculation], ctx: DerivedContext
    ) -> list[Firework]:
        return [] if self.derived is None else self.derived(spec, calcs, ctx)

    def write_extras(self, spec: Any, directory: Path) -> None:
        if self.extras is not None:
            self.extras(spec, directory)


#: kind -> StudyKind, in registration order.
STUDY_KINDS: dict[str, StudyKind] = {}


def register(kind: StudyKind) -> StudyKind:
    """Make ``kind`` known to validation, planning, building and dry-run."""
    register_model(kind.name, kind.model)
    STUDY_KINDS[kind.name] = kind
    return kind


def study_kind(spec: Any) -> StudyKind:
    """The registered kind of a validated spec (``spec.kind``) or of a kind name."""
    name = spec if isinstance(spec, str) else getattr(spec, "kind", None)
    if name not in STUDY_KINDS:
        raise InputError("kind", f"unknown study kind {name!r}", ", ".join(STUDY_KINDS))
    return STUDY_KINDS[name]


def diffraction_patterns(spec: PolymorphStudy, directory: Path) -> None:
    """The simulated electron diffraction patterns of paper 000 Fig. 2d,e / ED Fig. 2d-f."""
    if spec.diffraction:
        from lisflow.structures.diffraction import electron_diffraction_patterns

        electron_diffraction_patterns(directory / "diffraction")


register(StudyKind("adsorption", AdsorptionStudy, plan_adsorption, adsorption_energy_fireworks))
register(
    StudyKind(
        "polymorphs", PolymorphStudy, plan_polymorphs, formation_energy_fireworks,
        diffraction_patterns,
    )
)
register(StudyKind("aimd", AimdStudy, plan_aimd))
register(StudyKind("md", MdStudy, plan_md))
register(StudyKind("free_energy", FreeEnergyStudy, plan_free_energy, profile_fireworks))
register(StudyKind("neb", NebStudy, plan_neb))
