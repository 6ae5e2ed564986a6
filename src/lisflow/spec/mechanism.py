"""Pydantic models of paper 002's mechanism studies (``kind: free_energy | neb``).

``free_energy``: Gibbs free-energy profile of sulfur reduction on each site,
S8* → Li2S8* → Li2S6* → Li2S4* → Li2S2* → Li2S* (reaction steps and their balancing:
:mod:`lisflow.workflows.firetasks_mechanism`). ``neb``: CI-NEB barriers of Li diffusion and
of Li2S decomposition (Li2S* → LiS* + Li*) on each site. Paper 002 (Han et al., Nat. Commun.
2024, "relative free energy landscape during the discharge process (Supplementary Fig. 22)",
"Li-S bond breaking and lithium migration barriers") names both; the methods (harmonic
frequencies of the adsorbate for ZPE and TS, CI-NEB) are the standard ones (SCIENCE.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from lisflow.spec.models import (
    KpointRule,
    MlipOptions,
    StrictModel,
    StudyBase,
    Substrate,
    check_preset,
)

#: The sulfur-reduction intermediates in reaction order (paper 002, Supplementary Fig. 22).
INTERMEDIATES = ("S8", "Li2S8", "Li2S6", "Li2S4", "Li2S2", "Li2S")


class VibrationOptions(StrictModel):
    """Finite-difference harmonic frequencies of the adsorbate atoms (slab fixed).

    ``delta`` Å: displacement (VASP POTIM = 0.015 Å, the VASP wiki's advice for IBRION = 5;
    the MLIP uses the same), ``nfree`` 2: central differences (VASP NFREE = 2, ASE
    ``Vibrations(nfree=2)``). ``low_mode_floor_cm1``: modes below it (and imaginary ones)
    enter the entropy at this wavenumber (quasi-harmonic correction of Ribeiro, Marenich,
    Cramer & Truhlar, J. Phys. Chem. B 115, 14556 (2011): 100 cm⁻¹)."""

    delta: float = Field(0.015, gt=0.001, le=0.1)
    nfree: Literal[2, 4] = 2
    low_mode_floor_cm1: float = Field(100.0, ge=0.0, le=500.0)


class MechanismBase(StudyBase, MlipOptions):
    engine: Literal["vasp", "mlip"] = "mlip"
    substrates: list[Substrate] = Field(min_length=1, max_length=20)
    configurations: int = Field(1, ge=1, le=6)  # orientations tried per intermediate
    li_towards_n: bool = True  # paper 002: Li binds the coordinating N
    molecule_box: float = Field(20.0, gt=5.0, le=50.0)
    kpoints: KpointRule | None = None
    relax: bool = True  # (the planner's MLIP helpers read it)

    @model_validator(mode="after")
    def _preset_exists(self) -> MechanismBase:
        check_preset(self.engine, self.preset)
        return self


class FreeEnergyStudy(MechanismBase):
    """ΔG per step = ΔE + ΔZPE − TΔS of S8 → … → Li2S on each substrate (per S8, bulk Li and
    the S8 molecule as references)."""

    kind: Literal["free_energy"]
    intermediates: list[Literal["S8", "Li2S8", "Li2S6", "Li2S4", "Li2S2", "Li2S"]] = Field(
        default_factory=lambda: list(INTERMEDIATES)  # type: ignore[arg-type]
    )
    temperature_k: float = Field(298.15, gt=0, le=2000.0)
    vibrations: VibrationOptions = VibrationOptions()  # type: ignore[call-arg]  # (defaults)
    li_bulk_a: float = Field(3.491, gt=3.0, lt=4.0)  # bcc Li, Å (Kittel, 8th ed., Table 4: 78 K)

    @field_validator("intermediates")
    @classmethod
    def _whole_path(cls, value: list[str]) -> list[str]:
        if list(value) != list(INTERMEDIATES):
            raise ValueError(
                "the profile needs every intermediate in order (allowed: "
                + ", ".join(INTERMEDIATES) + ")"
            )
        return value


class NebPath(StrictModel):
    """One CI-NEB path: ``li_diffusion`` (a Li adatom hops between two N-side hollows of the
    site) or ``li2s_decomposition`` (Li2S* → LiS* + Li*: one Li moves away from S)."""

    name: Literal["li_diffusion", "li2s_decomposition"]
    hop: float = Field(2.5, gt=0.5, le=6.0)  # Å, lateral move of the Li between endpoints


class NebStudy(MechanismBase):
    """CI-NEB barriers on each substrate: endpoints relaxed, IDPP images, climbing image."""

    kind: Literal["neb"]
    paths: list[NebPath] = Field(min_length=1, max_length=4)
    images: int = Field(5, ge=1, le=16)  # intermediate images (VASP IMAGES)
    neb_fmax: float = Field(0.05, gt=0, le=2.0)  # eV/Å on the NEB forces (MLIP)
    neb_steps: int = Field(300, ge=1, le=5000)
    spring: float = Field(5.0, gt=0, le=50.0)  # eV/Å² (VASP SPRING = -5)
    #: VASP only: true = climbing image with the VTST tools (ICHAIN 0, LCLIMB, IOPT; VASP must
    #: be compiled with VTST); false = standard VASP's plain NEB (no climbing image)
    vtst: bool = True

    @field_validator("paths")
    @classmethod
    def _unique(cls, value: list[NebPath]) -> list[NebPath]:
        names = [p.name for p in value]
        if len(set(names)) != len(names):
            raise ValueError("paths are listed twice (each names one calculation)")
        return value
