"""Pydantic models of the DFT/AIMD study definitions (``kind: adsorption|polymorphs|aimd``).

Every model forbids unknown keys. Defaults come from the papers (see the presets in
``inputs/presets/``); ``overrides`` may set any engine parameter.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pymatgen.core.periodic_table import Element

STUDY_ID = r"^[a-z][a-z0-9_]*$"
#: d-block metals a DASC/SASC site may hold (3d, 4d, 5d; paper 002 screens M1–M2 pairs).
TRANSITION_METALS = (
    "Sc Ti V Cr Mn Fe Co Ni Cu Zn Y Zr Nb Mo Tc Ru Rh Pd Ag Cd La Hf Ta W Re Os Ir Pt Au Hg"
).split()
#: Mo cluster sizes of paper 000 Methods DFT.
MO_CLUSTER_SIZES = (1, 4, 9)
#: Named adsorbates (``lisflow.structures.molecule``); a single element symbol is an atom.
NAMED_ADSORBATES = ("Li2S", "Li2S2", "Li2S4", "Li2S6", "Li2S8", "S8")

#: Numeric VASP tags that must be positive / non-negative when overridden.
_POSITIVE_TAGS = ("ENCUT", "SIGMA", "NELM", "POTIM", "ENAUG")
_NON_NEGATIVE_TAGS = ("NSW", "EDIFF", "LORBIT", "ISPIN")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MoNGrapheneSubstrate(StrictModel):
    """Mo_n on N-doped graphene (106 C + 4 N, two-atom defect; paper 000 Methods)."""

    builder: Literal["mo_ngraphene"]
    n_mo: int

    @field_validator("n_mo")
    @classmethod
    def _buildable(cls, value: int) -> int:
        if value not in MO_CLUSTER_SIZES:
            raise ValueError(
                f"{value} is not a buildable cluster size (allowed: "
                + ", ".join(map(str, MO_CLUSTER_SIZES))
                + ")"
            )
        return value


class DascSubstrate(StrictModel):
    """M–N4 single-atom (one metal) or M1–M2–N6 diatomic site (two metals) on graphene."""

    builder: Literal["dasc"]
    metals: list[str] = Field(min_length=1, max_length=2)
    supercell: int = Field(6, ge=4, le=12)
    a: float = Field(2.47, gt=2.0, lt=3.0)
    vacuum: float = Field(15.0, gt=5.0)

    @field_validator("metals")
    @classmethod
    def _transition_metals(cls, value: list[str]) -> list[str]:
        for symbol in value:
            if symbol not in TRANSITION_METALS:
                raise ValueError(
                    f"{symbol!r} is not a transition metal (allowed: {', '.join(TRANSITION_METALS)})"
                )
        return value


class TiSubstrate(StrictModel):
    """hcp Ti(001) slab (paper 000: six layers, a = 2.93 Å)."""

    builder: Literal["ti0001"]
    layers: int = Field(6, ge=2, le=12)
    a: float = Field(2.93, gt=2.0, lt=4.0)
    size: tuple[int, int] = (4, 4)
    vacuum: float = Field(15.0, gt=5.0)


class MoleculeSubstrate(StrictModel):
    """An isolated molecule as the 'substrate' (small, cheap models: CP2K demo, clusters)."""

    builder: Literal["molecule"]
    name: str
    box: float = Field(14.0, gt=5.0)

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in NAMED_ADSORBATES:
            raise ValueError(
                f"{value!r} is not a known molecule (allowed: {', '.join(NAMED_ADSORBATES)})"
            )
        return value


class FileSubstrate(StrictModel):
    """A slab read from a structure file (POSCAR, CIF, ...), relative to the spec file."""

    builder: Literal["file"]
    path: str
    name: str = Field(pattern=r"^[A-Za-z0-9_.+-]+$")


RoleKey = Annotated[
    str, Field(pattern=r"^(slab|adslab|molecule)(\.(relax|static|geo_opt|energy))?$")
]

Substrate = Annotated[
    MoNGrapheneSubstrate | DascSubstrate | TiSubstrate | MoleculeSubstrate | FileSubstrate,
    Field(discriminator="builder"),
]


class KpointRule(StrictModel):
    """``length``: n_i = max(1, round(length / a_i)) along periodic axes (paper 000:
    k-points × lattice length ≈ 20 Å); ``mesh``: a fixed Γ-centred mesh (paper 002: 2×2×1)."""

    rule: Literal["length", "mesh"]
    length: float | None = Field(None, gt=0)
    mesh: tuple[int, int, int] | None = None

    @model_validator(mode="after")
    def _complete(self) -> KpointRule:
        if self.rule == "length" and self.length is None:
            raise ValueError("rule 'length' needs 'length' (Å, > 0)")
        if self.rule == "mesh" and (self.mesh is None or min(self.mesh) < 1):
            raise ValueError("rule 'mesh' needs 'mesh' of three integers >= 1")
        return self


class StudyBase(StrictModel):
    study: str = Field(pattern=STUDY_ID)
    description: str = ""
    source: str = ""
    preset: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    overrides_by_task: dict[
        Literal["relax", "static", "geo_opt", "energy", "aimd"], dict[str, Any]
    ] = Field(default_factory=dict)

    @field_validator("overrides")
    @classmethod
    def _sane_overrides(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_overrides(value)

    @field_validator("overrides_by_task")
    @classmethod
    def _sane_task_overrides(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {task: check_overrides(tags) for task, tags in value.items()}


def check_preset(engine: str, preset: str | None) -> None:
    """A VASP study names a preset of ``inputs/presets/vasp.yaml``."""
    if engine != "vasp":
        return
    from lisflow.io.vasp import vasp_presets

    names = [k for k in vasp_presets()]
    if preset not in names:
        raise ValueError(f"unknown VASP preset {preset!r} (allowed: {', '.join(names)})")


def check_overrides(tags: dict[str, Any]) -> dict[str, Any]:
    """Reject impossible values of well-known engine parameters (negative cutoff, ...)."""
    for key, value in tags.items():
        name = key.upper()
        if not re.fullmatch(r"[A-Z][A-Z0-9_.]*", name):
            raise ValueError(f"{key!r} is not an engine parameter name (letters, digits, _ .)")
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        last = name.rsplit(".", 1)[-1]
        if last in _POSITIVE_TAGS + ("CUTOFF", "REL_CUTOFF", "TIMESTEP", "TEMPERATURE") and (
            number is None or number <= 0
        ):
            raise ValueError(f"{key} must be a number > 0, got {value!r}")
        if last in _NON_NEGATIVE_TAGS and (number is None or number < 0):
            raise ValueError(f"{key} must be a number >= 0, got {value!r}")
    return tags


class AdsorptionStudy(StudyBase):
    """E_ads = E_adslab − E_slab − E_molecule (paper 000 eq. 6) for every substrate × adsorbate."""

    kind: Literal["adsorption"]
    engine: Literal["vasp", "cp2k"] = "vasp"
    substrates: list[Substrate] = Field(min_length=1)
    adsorbates: list[str] = Field(min_length=1)
    configurations: int = Field(2, ge=1, le=12)
    placement: Literal["active_site", "site_finder"] = "active_site"
    li_towards_n: bool = False
    relax: bool = True  # false: single points only (VASP static, CP2K ENERGY_FORCE)
    static: bool = True
    bader: bool = True
    lobster: bool = False
    molecule_box: float = Field(20.0, gt=5.0)
    #: element adsorbate -> its elemental reference (½H2 for H, ½O2, ½N2, S8/8 for S):
    #: E_ads = E_adslab − E_slab − ν·E_ref (lisflow.structures.stoichiometry)
    references: dict[str, Literal["H2", "N2", "O2", "S8"]] = Field(default_factory=dict)
    kpoints: KpointRule | None = None
    #: keys ``role`` or ``role.task`` (``molecule.static``); the most specific wins.
    kpoints_by_role: dict[RoleKey, KpointRule] = Field(default_factory=dict)
    overrides_by_role: dict[RoleKey, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("overrides_by_role")
    @classmethod
    def _sane_role_overrides(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {key: check_overrides(tags) for key, tags in value.items()}

    @model_validator(mode="after")
    def _preset_exists(self) -> AdsorptionStudy:
        check_preset(self.engine, self.preset)
        return self

    @model_validator(mode="after")
    def _references_match(self) -> AdsorptionStudy:
        for element, reference in self.references.items():
            if element not in self.adsorbates or not _is_element(element):
                raise ValueError(
                    f"references: {element!r} is not an element adsorbate of this study "
                    f"(allowed: {', '.join(a for a in self.adsorbates if _is_element(a))})"
                )
            if reference.rstrip("0123456789") != element:
                raise ValueError(f"references: {reference} is no reference for {element}")
        return self

    @field_validator("adsorbates")
    @classmethod
    def _known_adsorbates(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in NAMED_ADSORBATES and not _is_element(name):
                raise ValueError(
                    f"{name!r} is not a known adsorbate (allowed: {', '.join(NAMED_ADSORBATES)}"
                    " or an element symbol)"
                )
        if len(set(value)) != len(value):
            raise ValueError("adsorbates are listed twice")
        return value


class PolymorphStudy(StudyBase):
    """Formation energy per atom E_f = E_crystal / n of Li2S2 polymorphs (paper 000 eq. 5)."""

    kind: Literal["polymorphs"]
    engine: Literal["vasp"] = "vasp"
    polymorphs: list[str] = Field(min_length=1)
    kpoints: KpointRule | None = None
    diffraction: bool = True

    @model_validator(mode="after")
    def _preset_exists(self) -> PolymorphStudy:
        check_preset(self.engine, self.preset)
        return self


class AimdStage(StrictModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    time_ps: float = Field(gt=0)
    electrode_li: bool


class AimdStudy(StudyBase):
    """Two-stage CP2K AIMD of Mo4/N-G + solution layer (paper 000 Methods DFT, ED Fig. 8g)."""

    kind: Literal["aimd"]
    engine: Literal["cp2k"] = "cp2k"
    n_li2s6: int = Field(3, ge=1)
    n_litfsi: int = Field(3, ge=0)
    n_dol: int = Field(12, ge=0)
    n_dme: int = Field(12, ge=0)
    electrode_li: int = Field(6, ge=0)
    deuterate: bool = True
    temperature_k: float = Field(350.0, gt=0)
    timestep_fs: float = Field(1.0, gt=0)
    langevin_gamma_per_fs: float = Field(0.001, gt=0)
    region_gamma_mo_per_fs: float = Field(5e5, gt=0)
    region_gamma_other_per_fs: float = Field(2.1e4, gt=0)
    stages: list[AimdStage] = Field(min_length=1)


def _is_element(name: str) -> bool:
    try:
        Element(name)
    except ValueError:
        return False
    return True


def resolve_path(spec_file: Path, path: str) -> Path:
    """A path in a spec is relative to the spec file's directory."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (spec_file.parent / candidate).resolve()
