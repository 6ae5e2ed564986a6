"""CP2K inputs: geometry optimisation / single points of molecules and clusters, and the
two-stage SGCPMD/Langevin AIMD of paper 000 (Methods DFT); the final positions and
velocities of a run come from its ``<project>-1.restart`` file
(:func:`lisflow.io.cp2k_restart.read_restart`). The input text is rendered by
:mod:`lisflow.io.cp2k_text` (overrides are dotted paths, ``FORCE_EVAL.DFT.MGRID.CUTOFF: 400``);
basis sets and pseudopotentials come from CP2K's data files (:mod:`lisflow.io.cp2k_data`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymatgen.core import Molecule, Structure

from lisflow.calculation import Calculation, InputSet
from lisflow.errors import InputError
from lisflow.io.cp2k_data import (
    BASIS_SET,
    FUNCTIONAL,
    FUNCTIONAL_KEYS,
    electron_count,
    functional_of,
    gth_kind,
)
from lisflow.io.cp2k_text import apply_overrides, index_ranges, render

#: Mass of deuterium (u), NIST atomic weights (2H: 2.01410177812).
DEUTERIUM_MASS = 2.01410177812
CUTOFF_RY = 400  # lisflow choice (paper silent); REL_CUTOFF 50 likewise


def _kind_name(site) -> str:
    return "D" if site.properties.get("isotope") == "D" else site.specie.symbol


def _kinds(
    structure: Structure | Molecule, functional: str = FUNCTIONAL, basis_set: str = BASIS_SET
) -> list[dict[str, Any]]:
    """One &KIND per kind used (basis/potential of :func:`gth_kind`); deuterium is H with
    the mass of 2H."""
    kinds = []
    for name in sorted({_kind_name(site) for site in structure}):
        element = "H" if name == "D" else name
        kind: dict[str, Any] = {"_": name, "ELEMENT": element}
        if name == "D":
            kind["MASS"] = DEUTERIUM_MASS
        chosen = gth_kind(element, functional, basis_set)
        kinds.append({**kind, "BASIS_SET": chosen.basis_set, "POTENTIAL": chosen.potential})
    return kinds


#: Site property with the CP2K velocities (bohr / a.u. of time, as in CP2K restart files).
VELOCITY_PROPERTY = "cp2k_velocity_au"


def _velocities(structure: Structure | Molecule) -> list[str] | None:
    """&VELOCITY rows (a.u.) when every site carries :data:`VELOCITY_PROPERTY`."""
    values = structure.site_properties.get(VELOCITY_PROPERTY)
    if values is None or any(v is None for v in values):
        return None
    return [f"{v[0]:.16e} {v[1]:.16e} {v[2]:.16e}" for v in values]


def _coords(structure: Structure | Molecule) -> list[str]:
    rows = []
    for site in structure:
        x, y, z = site.coords
        rows.append(f"{_kind_name(site)} {x:.10f} {y:.10f} {z:.10f}")
    return rows


def _subsys(
    structure: Structure | Molecule,
    periodic: str,
    functional: str = FUNCTIONAL,
    basis_set: str = BASIS_SET,
) -> dict[str, Any]:
    if isinstance(structure, Structure):
        a, b, c = (
            tuple(round(float(x), 10) + 0.0 for x in row) for row in structure.lattice.matrix
        )
        cell = {"A": a, "B": b, "C": c, "PERIODIC": periodic}
    else:
        raise InputError("structure", "CP2K inputs need a periodic cell (box molecules first)")
    subsys = {
        "CELL": cell,
        "COORD": {"_lines": _coords(structure)},
        "KIND": _kinds(structure, functional, basis_set),
    }
    velocities = _velocities(structure)
    if velocities is not None:
        subsys["VELOCITY"] = {"_lines": velocities}  # continue a previous MD (a.u.)
    return subsys


@dataclass
class Cp2kInputGenerator:
    """CP2K input for ``task`` geo_opt | energy | aimd of one structure (Quickstep GPW, PBE-D3).

    ``periodic`` NONE uses the wavelet Poisson solver for isolated molecules (box it with
    >= 2x its extent). ``aimd`` options come from :class:`AimdSettings`.
    """

    task: str
    project: str = "lisflow"
    periodic: str = "XYZ"
    charge: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)
    aimd: AimdSettings | None = None
    basis_set: str = BASIS_SET
    cutoff_ry: int = CUTOFF_RY
    multiplicity: int | None = None  # 2S+1; None: 1 or 2 by the electron parity

    def sections(self, structure: Structure) -> dict[str, Any]:
        functional = functional_of(self.overrides)
        electrons = electron_count(structure, self.charge, functional)
        unpaired = electrons % 2
        if self.multiplicity is not None and (self.multiplicity - 1) % 2 != unpaired:
            raise InputError(
                "multiplicity",
                f"multiplicity {self.multiplicity} impossible with {electrons} valence electrons",
            )
        dft: dict[str, Any] = {
            "BASIS_SET_FILE_NAME": "BASIS_MOLOPT",
            "POTENTIAL_FILE_NAME": "GTH_POTENTIALS",
            "CHARGE": self.charge,
            "MGRID": {"CUTOFF": self.cutoff_ry, "REL_CUTOFF": 50, "NGRIDS": 4},
            "QS": {"METHOD": "GPW", "EPS_DEFAULT": 1.0e-12},
            "SCF": {
                "EPS_SCF": 1.0e-6,
                "MAX_SCF": 50,
                "SCF_GUESS": "RESTART",
                "OT": {"MINIMIZER": "DIIS", "PRECONDITIONER": "FULL_SINGLE_INVERSE"},
                "OUTER_SCF": {"EPS_SCF": 1.0e-6, "MAX_SCF": 20},
            },
            "XC": {
                "XC_FUNCTIONAL": {"_": functional},
                "VDW_POTENTIAL": {
                    "POTENTIAL_TYPE": "PAIR_POTENTIAL",
                    "PAIR_POTENTIAL": {
                        "TYPE": "DFTD3",
                        "PARAMETER_FILE_NAME": "dftd3.dat",
                        "REFERENCE_FUNCTIONAL": functional,
                    },
                },
            },
            "PRINT": {"MULLIKEN": {"_": "ON"}, "HIRSHFELD": {"_": "ON"}},
        }
        multiplicity = self.multiplicity or (2 if unpaired else 1)
        if multiplicity > 1:
            dft.update(UKS=True, MULTIPLICITY=multiplicity)
        if self.periodic == "NONE":
            dft["POISSON"] = {"PERIODIC": "NONE", "PSOLVER": "WAVELET"}
        if self.task == "aimd":
            if self.aimd is None:
                raise InputError("aimd", "AIMD task needs AIMD settings")
            self.aimd.sgcpmd_scf(dft)
        run_type = {"geo_opt": "GEO_OPT", "energy": "ENERGY_FORCE", "aimd": "MD"}.get(self.task)
        if run_type is None:
            raise InputError("task", f"unknown CP2K task {self.task!r}", "geo_opt, energy, aimd")
        subsys = _subsys(structure, self.periodic, functional, self.basis_set)
        sections: dict[str, Any] = {
            "GLOBAL": {"PROJECT": self.project, "RUN_TYPE": run_type, "PRINT_LEVEL": "MEDIUM"},
            "FORCE_EVAL": {
                "METHOD": "QUICKSTEP",
                "DFT": dft,
                "SUBSYS": subsys,
                "PRINT": {"FORCES": {"_": "ON"}},
            },
        }
        if self.task == "geo_opt":
            sections["MOTION"] = {
                "GEO_OPT": {"OPTIMIZER": "BFGS", "MAX_ITER": 200, "MAX_FORCE": 4.5e-4}
            }
        if self.task == "aimd":
            if self.aimd is None:
                raise InputError("aimd", "task aimd needs AIMD settings")
            sections["MOTION"] = self.aimd.motion(structure)
            if self.aimd.cube_every_steps:
                dft["PRINT"]["E_DENSITY_CUBE"] = {
                    "STRIDE": self.aimd.cube_stride,
                    "EACH": {"MD": self.aimd.cube_every_steps},
                }
        overrides = {k: v for k, v in self.overrides.items() if k.upper() not in FUNCTIONAL_KEYS}
        sections = apply_overrides(sections, overrides)
        scf = sections["FORCE_EVAL"]["DFT"]["SCF"]
        outer_override = any(k.upper().endswith("OUTER_SCF.EPS_SCF") for k in self.overrides)
        if "OUTER_SCF" in scf and not outer_override:
            scf["OUTER_SCF"]["EPS_SCF"] = scf["EPS_SCF"]  # outer loop converges to the same EPS
        return sections

    def text(self, structure: Structure) -> str:
        return render(self.sections(structure)) + "\n"


@dataclass(frozen=True)
class AimdSettings(InputSet):
    """Second-generation Car–Parrinello MD (SGCPMD) with Langevin NVT, paper 000 Methods:
    350 K, 1 fs, γ_L 0.001 fs⁻¹, region γ 5×10⁵ fs⁻¹ (Mo) and 2.1×10⁴ fs⁻¹ (other atoms) as
    printed, fixed electrode Li.

    SGCPMD as the CP2K 2023.1 manual sets it up (Kühne et al., PRL 98, 066401 (2007), cited
    there): wavefunction predictor ``QS/EXTRAPOLATION ASPC`` of order
    ``aspc_order`` (manual: "typically 2-4", default 3); a full SCF (``SCF/MAX_SCF``) only
    until the ASPC history is filled, then a fixed small number of corrector SCF steps per MD
    step (``SCF/MAX_SCF_HISTORY`` = ``corrector_steps``; Kühne 2007: one corrector step) with
    no outer SCF loop; the dissipation of the inexact forces is compensated by the imaginary
    Langevin friction ``MD/LANGEVIN/NOISY_GAMMA`` ("for LD with noisy forces"), per region
    ``THERMAL_REGION/DEFINE_REGION/NOISY_GAMMA_REGION`` (the paper's region coefficients).
    ``cube_every_steps`` writes the electron density cube every N MD steps (0: never) for the
    layer-resolved Bader charges (ED Fig. 8g).
    """

    time_ps: float
    temperature_k: float = 350.0
    timestep_fs: float = 1.0
    gamma_per_fs: float = 0.001
    region_gamma: dict[str, float] = field(default_factory=dict)  # "Mo" / "other" -> fs⁻¹
    fixed_indices: tuple[int, ...] = ()
    aspc_order: int = 3
    corrector_steps: int = 1
    full_scf_max: int = 50
    cube_every_steps: int = 1000  # 1 ps at 1 fs: 20 + 8 cubes over the two stages
    cube_stride: int = 2
    steps_override: int | None = None  # tiny test runs: run this many MD steps

    def sgcpmd_scf(self, dft: dict[str, Any]) -> None:
        """Set the SGCPMD predictor/corrector keywords in the &DFT dict (see class doc)."""
        if self.corrector_steps < 1:
            raise InputError("aimd.corrector_steps", f"{self.corrector_steps}", ">= 1")
        dft["QS"]["EXTRAPOLATION"] = "ASPC"
        dft["QS"]["EXTRAPOLATION_ORDER"] = self.aspc_order
        scf = dft["SCF"]
        scf["SCF_GUESS"] = "ATOMIC"
        scf["MAX_SCF"] = self.full_scf_max
        scf["MAX_SCF_HISTORY"] = self.corrector_steps
        scf["EPS_SCF_HISTORY"] = scf["EPS_SCF"]
        scf.pop("OUTER_SCF", None)  # a fixed number of corrector steps: no outer loop

    @property
    def steps(self) -> int:
        """MD steps = time / timestep (20 ps at 1 fs = 20000)."""
        if self.steps_override is not None:
            return int(self.steps_override)
        return int(round(self.time_ps * 1000.0 / self.timestep_fs))

    def motion(self, structure: Structure) -> dict[str, Any]:
        md: dict[str, Any] = {
            "ENSEMBLE": "LANGEVIN",
            "STEPS": self.steps,
            "TIMESTEP": self.timestep_fs,
            "TEMPERATURE": self.temperature_k,
            "LANGEVIN": {"GAMMA": self.gamma_per_fs},
        }
        if "other" in self.region_gamma:
            # imaginary friction of SGCPMD for atoms in no region (regions cover the rest)
            md["LANGEVIN"]["NOISY_GAMMA"] = self.region_gamma["other"]
        regions = []
        mo = [i for i, s in enumerate(structure) if s.specie.symbol == "Mo"]
        other = [
            i
            for i, s in enumerate(structure)
            if s.specie.symbol != "Mo" and i not in set(self.fixed_indices)
        ]
        for indices, key in ((mo, "Mo"), (other, "other")):
            if indices and key in self.region_gamma:
                regions.append(
                    {
                        "LIST": index_ranges(indices),
                        "TEMPERATURE": self.temperature_k,
                        "DO_LANGEVIN": True,
                        "NOISY_GAMMA_REGION": self.region_gamma[key],
                    }
                )
        if regions:
            md["THERMAL_REGION"] = {"DO_LANGEVIN_DEFAULT": True, "DEFINE_REGION": regions}
        motion: dict[str, Any] = {
            "MD": md,
            "PRINT": {
                "TRAJECTORY": {"EACH": {"MD": 10}},
                "RESTART": {"EACH": {"MD": 100}},
                "VELOCITIES": {"_": "OFF"},
            },
        }
        if self.fixed_indices:
            motion["CONSTRAINT"] = {"FIXED_ATOMS": {"LIST": index_ranges(self.fixed_indices)}}
        return motion


@dataclass(frozen=True)
class Cp2kInputs(InputSet):
    """The typed input set of a CP2K calculation (built once by the planner).

    ``task`` geo_opt | energy | aimd; ``periodic`` XYZ or NONE (isolated molecule);
    ``overrides`` dotted CP2K paths (``FORCE_EVAL.DFT.MGRID.CUTOFF: 400``); ``aimd`` the
    SGCPMD settings of an AIMD stage; ``cutoff_ry`` the plane-wave cutoff (Ry). Charge and
    multiplicity come from the structure (``properties``: ``charge``, ``spin_multiplicity``).
    """

    task: str
    periodic: str = "XYZ"
    overrides: dict[str, Any] = field(default_factory=dict)
    aimd: AimdSettings | None = None
    basis_set: str = BASIS_SET
    cutoff_ry: int = CUTOFF_RY

    def generator(
        self, structure: Structure | Molecule | None, project: str = "lisflow"
    ) -> Cp2kInputGenerator:
        """The input generator of these settings for ``structure``."""
        properties = getattr(structure, "properties", None) or {}
        charge = int(round(properties.get("charge", getattr(structure, "charge", 0)) or 0))
        return Cp2kInputGenerator(
            task=self.task,
            project=project,
            periodic=self.periodic,
            charge=charge,
            multiplicity=properties.get("spin_multiplicity"),
            overrides=self.overrides,
            aimd=self.aimd,
            basis_set=self.basis_set,
            cutoff_ry=self.cutoff_ry,
        )

    def key_parameters(self, calc: Calculation) -> dict[str, Any]:
        """Run type, cutoff and (AIMD) MD settings a reader checks first (dry-run manifest)."""
        structure = calc.periodic_structure()
        sections = self.generator(structure).sections(structure)
        dft = sections["FORCE_EVAL"]["DFT"]
        params = {
            "run_type": sections["GLOBAL"]["RUN_TYPE"],
            "cutoff_ry": dft["MGRID"]["CUTOFF"],
            "xc": "PBE-D3",
            "basis": "DZVP-MOLOPT-SR-GTH",
        }
        md = sections.get("MOTION", {}).get("MD")
        if md:
            params.update(
                steps=md["STEPS"],
                timestep_fs=md["TIMESTEP"],
                temperature_k=md["TEMPERATURE"],
                ensemble=md["ENSEMBLE"],
                langevin_gamma_per_fs=md["LANGEVIN"]["GAMMA"],
            )
        return params
