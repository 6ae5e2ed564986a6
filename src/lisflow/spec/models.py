"""Pydantic models of the DFT/AIMD study definitions (``kind: adsorption|polymorphs|aimd``).

Every model forbids unknown keys. Defaults come from the papers (see the presets in
``inputs/presets/``); ``overrides`` may set any engine parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pymatgen.core.periodic_table import Element

#: A study id: lower-case letters, digits, _; at most 100 characters (it names directories).
STUDY_ID = r"^[a-z][a-z0-9_]{0,99}$"
#: A name that becomes a path component: no leading dot (so never . or ..), no separator.
SAFE_NAME = r"^[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,99}$"
#: Free text (description, source): one line, no control characters.
ONE_LINE = r"^[^\x00-\x1f\x7f]{0,1000}$"
#: d-block metals a DASC/SASC site may hold (3d, 4d, 5d; paper 002 screens M1–M2 pairs).
TRANSITION_METALS = (
    "Sc Ti V Cr Mn Fe Co Ni Cu Zn Y Zr Nb Mo Tc Ru Rh Pd Ag Cd La Hf Ta W Re Os Ir Pt Au Hg"
).split()
#: Metals a DASC/SASC site may hold: every metal up to Bi (see structures.support.SITE_METALS).
SITE_METALS = tuple(
    e.symbol for e in (Element.from_Z(z) for z in range(1, 84)) if e.is_metal
)
#: Mo cluster sizes of paper 000 Methods DFT.
MO_CLUSTER_SIZES = (1, 4, 9)
#: Named adsorbates (``lisflow.structures.molecule``); a single element symbol is an atom.
NAMED_ADSORBATES = ("Li2S", "Li2S2", "Li2S4", "Li2S6", "Li2S8", "S8")

#: Vacuum / box sizes (Å): > 5 so images do not interact, <= 50 so a cell stays buildable.
MAX_VACUUM_A = 50.0


class StrictModel(BaseModel):
    """Unknown keys refused; every float finite (no NaN, no ±inf)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    vacuum: float = Field(15.0, gt=5.0, le=MAX_VACUUM_A)
    #: 2S+1 of the slab and its adslabs in DFT (CP2K UKS); None: lowest of the electron parity
    multiplicity: int | None = Field(None, ge=1, le=11)

    @field_validator("metals")
    @classmethod
    def _transition_metals(cls, value: list[str]) -> list[str]:
        for symbol in value:
            if symbol not in SITE_METALS:
                raise ValueError(
                    f"{symbol!r} is not a metal of Z <= 83 (allowed: {', '.join(SITE_METALS)})"
                )
        return value


class TiSubstrate(StrictModel):
    """hcp Ti(001) slab (paper 000: six layers, a = 2.93 Å)."""

    builder: Literal["ti0001"]
    layers: int = Field(6, ge=2, le=12)
    a: float = Field(2.93, gt=2.0, lt=4.0)
    size: tuple[Annotated[int, Field(ge=1, le=12)], Annotated[int, Field(ge=1, le=12)]] = (4, 4)
    vacuum: float = Field(15.0, gt=5.0, le=MAX_VACUUM_A)


class MoleculeSubstrate(StrictModel):
    """An isolated molecule as the 'substrate' (small, cheap models: CP2K demo, clusters)."""

    builder: Literal["molecule"]
    name: str
    box: float = Field(14.0, gt=5.0, le=MAX_VACUUM_A)

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
    path: str = Field(min_length=1, max_length=4096, pattern=ONE_LINE)
    name: str = Field(pattern=SAFE_NAME)


RoleKey = Annotated[
    str, Field(pattern=r"^(slab|adslab|molecule)(\.(relax|static|geo_opt|energy))?$")
]

Substrate = Annotated[
    MoNGrapheneSubstrate | DascSubstrate | TiSubstrate | MoleculeSubstrate | FileSubstrate,
    Field(discriminator="builder"),
]


#: One k-mesh division: 1–32 (32³ k-points is beyond any slab or bulk study here).
KMesh = Annotated[int, Field(ge=1, le=32)]


class KpointRule(StrictModel):
    """``length``: n_i = max(1, round(length / a_i)) along periodic axes (paper 000:
    k-points × lattice length ≈ 20 Å); ``mesh``: a fixed Γ-centred mesh (paper 002: 2×2×1)."""

    rule: Literal["length", "mesh"]
    length: float | None = Field(None, gt=0, le=100.0)  # Å; k × L ≈ 20 Å in paper 000
    mesh: tuple[KMesh, KMesh, KMesh] | None = None

    @model_validator(mode="after")
    def _complete(self) -> KpointRule:
        if self.rule == "length" and self.length is None:
            raise ValueError("rule 'length' needs 'length' (Å, > 0)")
        if self.rule == "mesh" and (self.mesh is None or min(self.mesh) < 1):
            raise ValueError("rule 'mesh' needs 'mesh' of three integers >= 1")
        return self


class StudyBase(StrictModel):
    study: str = Field(pattern=STUDY_ID)
    description: str = Field("", pattern=ONE_LINE)
    source: str = Field("", pattern=ONE_LINE)
    preset: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,100}$")
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
        raise ValueError(f"preset: unknown VASP preset {preset!r} (allowed: {', '.join(names)})")


def check_overrides(tags: dict[str, Any]) -> dict[str, Any]:
    """Type and range of every override per tag (see :mod:`lisflow.spec.overrides`)."""
    from lisflow.spec.overrides import check_overrides as check

    return check(tags)


class CustomAdsorbate(StrictModel):
    """An adsorbate beyond the shipped catalogue: a structure ``file`` (xyz, POSCAR, CIF;
    relative to the study file) or ``ase`` (a name of ASE's molecule collection), with its
    total charge (e) and spin multiplicity 2S+1 (None: the lowest of the electron parity)."""

    file: str | None = Field(None, max_length=4096, pattern=ONE_LINE)
    ase: str | None = Field(None, pattern=SAFE_NAME)
    name: str | None = Field(None, pattern=SAFE_NAME)
    charge: int = Field(0, ge=-8, le=8)
    multiplicity: int | None = Field(None, ge=1, le=11)

    @model_validator(mode="after")
    def _one_source(self) -> CustomAdsorbate:
        if (self.file is None) == (self.ase is None):
            raise ValueError("give exactly one of 'file' or 'ase'")
        if self.file is not None and self.name is None:
            raise ValueError("an adsorbate from a file needs a 'name'")
        return self

    @property
    def key(self) -> str:
        """The name used in calc ids and the ``adsorbate`` label."""
        return self.name or str(self.ase)


def _adsorbate_form(value: Any) -> str:
    return "adsorbate[name]" if isinstance(value, str) else "adsorbate[mapping]"


#: A shipped name (``Li2S4``), an element symbol, ``ase:<name>``, or a :class:`CustomAdsorbate`.
#: (Tags hold "[" so that error paths read ``adsorbates[1].file``, see spec.field_path.)
Adsorbate = Annotated[
    Annotated[str, Tag("adsorbate[name]"), Field(pattern=r"^[A-Za-z0-9_:+-]{1,100}$")]
    | Annotated[CustomAdsorbate, Tag("adsorbate[mapping]")],
    Discriminator(_adsorbate_form),
]


def adsorbate_key(entry: Adsorbate) -> str:
    """``Li2S4`` -> ``Li2S4``; ``ase:CO2`` -> ``CO2``; a mapping -> its ``name``."""
    if isinstance(entry, CustomAdsorbate):
        return entry.key
    return entry.removeprefix("ase:")


class MlipOptions(StrictModel):
    """``engine: mlip`` runs the study with a universal MLIP (``model``); ``prerelax: mlip``
    relaxes every structure with it before the DFT relaxation (inputs/presets/mlip.yaml)."""

    model: Literal["chgnet", "sevennet"] = "chgnet"
    prerelax: Literal["mlip"] | None = None


class AdsorptionStudy(StudyBase, MlipOptions):
    """E_ads = E_adslab − E_slab − E_molecule (paper 000 eq. 6) for every substrate × adsorbate."""

    kind: Literal["adsorption"]
    engine: Literal["vasp", "cp2k", "mlip"] = "vasp"
    substrates: list[Substrate] = Field(min_length=1, max_length=50)
    adsorbates: list[Adsorbate] = Field(min_length=1, max_length=50)
    configurations: int = Field(2, ge=1, le=12)
    placement: Literal["active_site", "site_finder"] = "active_site"
    li_towards_n: bool = False
    relax: bool = True  # false: single points only (VASP static, CP2K ENERGY_FORCE)
    static: bool = True
    bader: bool = True
    lobster: bool = False
    molecule_box: float = Field(20.0, gt=5.0, le=MAX_VACUUM_A)
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

    @field_validator("substrates")
    @classmethod
    def _distinct_sites(cls, value: list[Any]) -> list[Any]:
        seen: dict[tuple, int] = {}
        for index, sub in enumerate(value):
            key = (
                sub.builder,
                getattr(sub, "n_mo", None),
                tuple(getattr(sub, "metals", ()) or ()),
                getattr(sub, "name", None),
            )
            if key in seen:
                raise ValueError(
                    f"substrates[{index}] names the same site as substrates[{seen[key]}] "
                    "(two calculations would share one id)"
                )
            seen[key] = index
        return value

    @model_validator(mode="after")
    def _references_match(self) -> AdsorptionStudy:
        keys = [adsorbate_key(a) for a in self.adsorbates]
        for element, reference in self.references.items():
            if element not in keys or not _is_element(element):
                raise ValueError(
                    f"references: {element!r} is not an element adsorbate of this study "
                    f"(allowed: {', '.join(a for a in keys if _is_element(a))})"
                )
            if reference.rstrip("0123456789") != element:
                raise ValueError(f"references: {reference} is no reference for {element}")
        return self

    @field_validator("adsorbates")
    @classmethod
    def _known_adsorbates(cls, value: list[Adsorbate]) -> list[Adsorbate]:
        for name in value:
            if isinstance(name, CustomAdsorbate) or name.startswith("ase:"):
                continue
            if name not in NAMED_ADSORBATES and not _is_element(name):
                raise ValueError(
                    f"{name!r} is not a known adsorbate (allowed: {', '.join(NAMED_ADSORBATES)}"
                    ", an element symbol, 'ase:<name>' or {file: ..., name: ...})"
                )
        keys = [adsorbate_key(entry) for entry in value]
        if len(set(keys)) != len(keys):
            raise ValueError("adsorbates are listed twice")
        return value


class PolymorphStudy(StudyBase, MlipOptions):
    """Formation energy per atom E_f = E_crystal / n of Li2S2 polymorphs (paper 000 eq. 5)."""

    kind: Literal["polymorphs"]
    engine: Literal["vasp", "mlip"] = "vasp"
    polymorphs: list[Annotated[str, Field(pattern=SAFE_NAME)]] = Field(min_length=1, max_length=50)
    kpoints: KpointRule | None = None
    diffraction: bool = True

    @field_validator("polymorphs")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("polymorph names must be unique (each names one calculation)")
        return value

    @model_validator(mode="after")
    def _preset_exists(self) -> PolymorphStudy:
        check_preset(self.engine, self.preset)
        return self


class AimdStage(StrictModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,99}$")
    time_ps: float = Field(gt=0, le=1000.0)  # AIMD of paper 000: 20 + 8 ps
    electrode_li: bool


class AimdStudy(StudyBase):
    """Two-stage CP2K AIMD of Mo4/N-G + solution layer (paper 000 Methods DFT, ED Fig. 8g)."""

    kind: Literal["aimd"]
    engine: Literal["cp2k"] = "cp2k"
    # molecule counts: paper 000 uses 3/3/12/12 and 6 Li; bounds keep the cell DFT-sized
    n_li2s6: int = Field(3, ge=1, le=50)
    n_litfsi: int = Field(3, ge=0, le=50)
    n_dol: int = Field(12, ge=0, le=200)
    n_dme: int = Field(12, ge=0, le=200)
    electrode_li: int = Field(6, ge=0, le=100)
    deuterate: bool = True
    temperature_k: float = Field(350.0, gt=0, le=5000.0)
    timestep_fs: float = Field(1.0, ge=0.01, le=10.0)
    langevin_gamma_per_fs: float = Field(0.001, gt=0, le=1e7)
    region_gamma_mo_per_fs: float = Field(5e5, gt=0, le=1e7)
    region_gamma_other_per_fs: float = Field(2.1e4, gt=0, le=1e7)
    stages: list[AimdStage] = Field(min_length=1, max_length=20)

    @field_validator("stages")
    @classmethod
    def _unique(cls, value: list[AimdStage]) -> list[AimdStage]:
        names = [stage.name for stage in value]
        if len(set(names)) != len(names):
            raise ValueError("stage names must be unique (each names one calculation)")
        return value


def with_engine(spec: StudyBase, engine: str, model: str | None = None) -> StudyBase:
    """The same study run by another engine (``engine: mlip`` override), renamed
    ``<study>_<engine>`` so its results never mix with the original engine's."""
    update: dict[str, Any] = {"engine": engine, "study": f"{spec.study}_{engine}", "prerelax": None}
    if model is not None:
        update["model"] = model
    data = spec.model_dump() | update
    return type(spec).model_validate(data)


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
