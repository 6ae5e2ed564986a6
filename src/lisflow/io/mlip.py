"""MLIP input sets: ``mlip.json`` (model, task, optimiser, fmax, steps, D3, fixed atoms, MD)
plus ``POSCAR`` (the starting structure), deterministic for a given calculation.

Settings come from ``inputs/presets/mlip.yaml`` (each value with its source), then the study's
``model:`` field, then any override whose name is a settings field (case-insensitive, e.g.
``FMAX: 0.02``). Other overrides (VASP tags of a study switched to ``engine: mlip``) do not
apply to an MLIP and are listed in ``mlip.json`` under ``ignored_overrides``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from typing import Any, cast

import yaml
from pymatgen.core import Molecule, Structure
from pymatgen.io.vasp import Poscar

from lisflow import INPUTS_DIR
from lisflow.calculation import Calculation, InputSet
from lisflow.errors import InputError
from lisflow.io.mechanism import NebInputs, VibrationInputs

SETTINGS_FILE = "mlip.json"
POSCAR_FILE = "POSCAR"
#: Universal potentials whose weights ship inside their wheels.
MODELS = ("chgnet", "sevennet")
OPTIMIZERS = ("FIRE", "BFGS")
TASKS = ("relax", "static", "md", "vib", "neb")  # vib, neb: engines.mlip_mechanism
THERMOSTATS = ("langevin", "nose_hoover")
DAMPINGS = ("bj", "zero")


@functools.cache
def mlip_presets() -> dict[str, Any]:
    """All MLIP presets (``inputs/presets/mlip.yaml``)."""
    return yaml.safe_load((INPUTS_DIR / "presets" / "mlip.yaml").read_text())


@dataclass(frozen=True)
class MlipSettings(InputSet):
    """One MLIP run, the typed input set of an MLIP calculation (``MlipInputs``). Units: fmax
    eV/Å, cutoffs Å, temperature K, timestep fs, friction fs⁻¹. ``fixed_indices`` planned
    here are fixed in addition to the structure's all-False ``selective_dynamics`` sites."""

    model: str = "chgnet"
    task: str = "relax"
    optimizer: str = "BFGS"
    fmax: float = 0.05
    steps: int = 500
    d3: bool = True
    d3_damping: str = "bj"
    d3_cutoff: float = 20.0
    d3_cn_cutoff: float = 20.0
    relax_cell: bool = False
    fixed_indices: tuple[int, ...] = ()
    temperature_k: float = 350.0
    timestep_fs: float = 1.0
    md_steps: int = 200
    thermostat: str = "langevin"
    friction_per_fs: float = 0.001
    tdamp_fs: float = 100.0
    seed: int = 42
    ignored_overrides: tuple[str, ...] = field(default=())
    #: task ``vib`` / ``neb`` (lisflow.engines.mlip_mechanism); absent from mlip.json when None
    vibrations: VibrationInputs | None = None
    neb: NebInputs | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, value, allowed in (
            ("model", self.model, MODELS),
            ("task", self.task, TASKS),
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("thermostat", self.thermostat, THERMOSTATS),
            ("d3_damping", self.d3_damping, DAMPINGS),
        ):
            if value not in allowed:
                raise InputError(f"mlip.{name}", f"unknown value {value!r}", ", ".join(allowed))
        for name in ("fmax", "d3_cutoff", "d3_cn_cutoff", "temperature_k", "timestep_fs"):
            if not getattr(self, name) > 0:
                raise InputError(f"mlip.{name}", f"must be > 0, got {getattr(self, name)!r}")
        if self.steps < 1 or self.md_steps < 1:
            raise InputError("mlip.steps", "must be >= 1")

    def key_parameters(self, calc: Calculation) -> dict[str, Any]:
        """The scalar settings and the role (the dry-run manifest)."""
        return {**super().key_parameters(calc), "role": calc.role}

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        for name in _MECHANISM_FIELDS:
            if data[name] is None:
                del data[name]
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> MlipSettings:
        data = json.loads(text)
        data["fixed_indices"] = tuple(data.get("fixed_indices", ()))
        data["ignored_overrides"] = tuple(data.get("ignored_overrides", ()))
        for name, kind in _MECHANISM_FIELDS.items():
            if data.get(name) is not None:
                data[name] = kind.from_dict(data[name])
        return cls(**data)


_MECHANISM_FIELDS: dict[str, type[VibrationInputs] | type[NebInputs]] = {
    "vibrations": VibrationInputs,
    "neb": NebInputs,
}
_FIELDS = {f.name for f in dataclasses.fields(MlipSettings)} - {"ignored_overrides", *_MECHANISM_FIELDS}


#: The typed input set of an MLIP calculation.
MlipInputs = MlipSettings


def mlip_settings(
    model: str, task: str, overrides: dict[str, Any], relax_cell: bool = False
) -> MlipSettings:
    """The settings of an MLIP run: preset < model/task < matching overrides (the others are
    listed, sorted, in ``ignored_overrides``)."""
    presets = mlip_presets()
    preset = {k: v for k, v in presets["default"].items() if k != "source"}
    if relax_cell:  # bulk: the longer D3 cutoffs (inputs/presets/mlip.yaml)
        preset.update({k: v for k, v in presets["bulk"].items() if k != "source"})
    params: dict[str, Any] = {**preset, "model": model, "task": task, "relax_cell": relax_cell}
    ignored = []
    for key, value in overrides.items():
        name = key.lower()
        if name in _FIELDS:
            params[name] = value
        else:
            ignored.append(key)
    return MlipSettings(**params, ignored_overrides=tuple(sorted(ignored)))


def fixed_indices(structure: Structure, extra: tuple[int, ...] = ()) -> tuple[int, ...]:
    """Sites fixed in the run: ``selective_dynamics`` all False, plus ``extra`` (sorted)."""
    fixed = set(extra)
    flags = structure.site_properties.get("selective_dynamics")
    if flags is not None:
        fixed |= {i for i, f in enumerate(flags) if f is not None and not any(f)}
    for index in fixed:
        if not 0 <= index < len(structure):
            raise InputError("mlip.fixed_indices", f"site {index} not in a {len(structure)}-site cell")
    return tuple(sorted(fixed))


def as_periodic(structure: Structure | Molecule, box: float = 20.0) -> Structure:
    """MLIPs take periodic cells: a Molecule is boxed (edge ``box`` Å)."""
    if isinstance(structure, Molecule):
        return cast(Structure, structure.get_boxed_structure(box, box, box))
    return structure


@dataclass(frozen=True)
class MlipInputSet:
    """Text of ``mlip.json`` and ``POSCAR`` for one structure (selective dynamics written)."""

    settings: MlipSettings

    def files(self, structure: Structure) -> dict[str, str]:
        fixed = set(self.settings.fixed_indices)
        flags = [[i not in fixed] * 3 for i in range(len(structure))] if fixed else None
        bare = Structure(structure.lattice, structure.species, structure.frac_coords)
        poscar = Poscar(bare, selective_dynamics=flags)
        return {
            SETTINGS_FILE: self.settings.to_json(),
            POSCAR_FILE: poscar.get_str(significant_figures=12),
        }
