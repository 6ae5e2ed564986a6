"""MLIP engine: universal machine-learned potentials (CHGNet 0.3.0, SevenNet-0) + D3 in ASE.

Runs in-process (no external program): ``write_inputs`` writes ``mlip.json`` + ``POSCAR``
(``lisflow.io.mlip``); ``run`` reads them back, relaxes with FIRE/BFGS (fixed atoms as
``FixAtoms``, cell with ``FrechetCellFilter`` when ``relax_cell``), or runs NVT MD (Langevin /
Nosé–Hoover chain), writes ``mlip.traj``, ``CONTCAR`` and ``mlip_result.json``. A relaxation
whose largest force is still above ``fmax`` after ``steps`` raises ``EngineError`` (the
calculation is FAILED, never stored as converged). Weights are read from the installed wheels
(no network); their SHA-256 goes into the provenance (``engine_version``). CPU unless
``torch.cuda.is_available()``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import resource
import time
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
from pymatgen.core import Structure

from lisflow.calculation import Calculation, InputSet
from lisflow.engines.base import ParsedResult
from lisflow.engines.common import write_files
from lisflow.errors import EngineError, ParseError
from lisflow.fsutil import atomic_write_text
from lisflow.io.mlip import (
    POSCAR_FILE,
    SETTINGS_FILE,
    MlipInputSet,
    MlipSettings,
    as_periodic,
    fixed_indices,
)

RESULT_FILE = "mlip_result.json"
TRAJECTORY_FILE = "mlip.traj"
CONTCAR_FILE = "CONTCAR"
LOG_FILE = "mlip.log"
#: (package, model version, weights path inside the package) of each model.
WEIGHTS = {
    "chgnet": ("chgnet", "0.3.0", "pretrained/0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar"),
    "sevennet": (
        "sevenn",
        "SevenNet-0 (11Jul2024)",
        "pretrained_potentials/SevenNet_0__11Jul2024/checkpoint_sevennet_0.pth",
    ),
}


def device() -> str:
    """``cuda`` when torch sees a GPU, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def weights_path(model: str) -> Path:
    """The weights file shipped inside the model's wheel (raises if the package is missing)."""
    import importlib

    package, _, relative = WEIGHTS[model]
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise EngineError(f"mlip: model {model!r} needs the {package!r} package") from None
    path = Path(str(module.__file__)).parent / relative
    if not path.is_file():
        raise EngineError(f"mlip: weights of {model!r} not found at {path}")
    return path


@functools.cache
def weights_sha256(model: str) -> str:
    return hashlib.sha256(weights_path(model).read_bytes()).hexdigest()


def provenance(settings: MlipSettings) -> str:
    """``chgnet 0.4.2 model 0.3.0 sha256:… + torch-dftd 0.5.3 D3(BJ) pbe``."""
    package, model_version, _ = WEIGHTS[settings.model]
    text = (
        f"{package} {package_version(package)} model {model_version} "
        f"sha256:{weights_sha256(settings.model)}"
    )
    if settings.d3:
        text += f" + torch-dftd {package_version('torch-dftd')} D3({settings.d3_damping.upper()}) pbe"
    return text


@functools.cache
def _ml_calculator(model: str, where: str):
    """The model's ASE calculator (cached: loading takes seconds)."""
    weights_path(model)
    if model == "chgnet":
        from chgnet.model import CHGNet
        from chgnet.model.dynamics import CHGNetCalculator

        return CHGNetCalculator(CHGNet.load(model_name="0.3.0", verbose=False), use_device=where)
    import warnings

    from sevenn.calculator import SevenNetCalculator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no tensor-product accelerator": fine on CPU
        return SevenNetCalculator(str(weights_path("sevennet")), device=where)


def calculator(settings: MlipSettings):
    """Model (+ D3 when ``settings.d3``) as one ASE calculator."""
    ml = _ml_calculator(settings.model, device())
    if not settings.d3:
        return ml
    import torch
    from torch_dftd.torch_dftd3_calculator import TorchDFTD3Calculator

    d3 = TorchDFTD3Calculator(
        damping=settings.d3_damping,
        xc="pbe",
        device=device(),
        cutoff=settings.d3_cutoff,
        cnthr=settings.d3_cn_cutoff,
        dtype=torch.float64,
    )
    return _with_d3(ml, d3)


def _with_d3(ml, d3):
    """E, F, σ (Voigt) of the model plus D3; ``d3_energy`` kept apart for the record."""
    from ase.calculators.calculator import Calculator, all_changes
    from ase.stress import full_3x3_to_voigt_6_stress

    def voigt(stress) -> np.ndarray:
        stress = np.asarray(stress, dtype=float)
        return full_3x3_to_voigt_6_stress(stress) if stress.shape == (3, 3) else stress

    class ModelPlusD3(Calculator):
        implemented_properties = ["energy", "free_energy", "forces", "stress"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            wanted = ["energy", "forces"] + (["stress"] if "stress" in properties else [])
            ml.calculate(self.atoms.copy(), wanted, all_changes)
            d3.calculate(self.atoms.copy(), wanted, all_changes)
            energy = float(ml.results["energy"]) + float(d3.results["energy"])
            self.results = {
                "energy": energy,
                "free_energy": energy,
                "forces": np.asarray(ml.results["forces"]) + np.asarray(d3.results["forces"]),
                "d3_energy": float(d3.results["energy"]),
            }
            if "stress" in properties:
                self.results["stress"] = voigt(ml.results["stress"]) + voigt(d3.results["stress"])

    return ModelPlusD3()


def settings_of(calc: Calculation) -> MlipSettings:
    """The planned settings, fixing also the structure's all-False selective-dynamics sites."""
    if not isinstance(calc.inputs, MlipSettings):
        raise EngineError(f"{calc.calc_id}: mlip needs MlipSettings, got {calc.inputs!r}")
    if calc.structure is None:
        raise EngineError(f"{calc.calc_id}: mlip needs a structure")
    structure = as_periodic(calc.structure)
    fixed = fixed_indices(structure, calc.inputs.fixed_indices)
    return dataclasses.replace(calc.inputs, fixed_indices=fixed)


def max_force(forces: np.ndarray, fixed: tuple[int, ...]) -> float:
    """Largest force norm (eV/Å) over the free atoms."""
    free = np.ones(len(forces), dtype=bool)
    free[list(fixed)] = False
    norms = np.linalg.norm(forces[free], axis=1)
    return float(norms.max()) if len(norms) else 0.0


def run_settings(settings: MlipSettings, structure: Structure, directory: Path) -> dict[str, Any]:
    """Run one MLIP calculation in ``directory``; returns (and writes) the result record."""
    from ase.constraints import FixAtoms
    from ase.io import Trajectory
    from pymatgen.io.ase import AseAtomsAdaptor

    start = time.perf_counter()
    atoms = AseAtomsAdaptor.get_atoms(
        Structure(structure.lattice, structure.species, structure.frac_coords)
    )
    atoms.set_constraint()
    if settings.fixed_indices:
        atoms.set_constraint(FixAtoms(indices=list(settings.fixed_indices)))
    atoms.calc = calculator(settings)
    trajectory_path = directory / TRAJECTORY_FILE
    trajectory = Trajectory(str(trajectory_path), "w", atoms)
    steps, fmax_target = 0, 0.0
    try:
        if settings.task in ("vib", "neb"):  # mechanism runs (lisflow.engines.mlip_mechanism)
            return _mechanism(settings, structure, directory)
        if settings.task == "relax":
            steps, fmax_target = _relax(settings, atoms, trajectory, directory / LOG_FILE)
        elif settings.task == "md":
            steps = _md(settings, atoms, trajectory, directory / LOG_FILE)
        else:
            trajectory.write()
    finally:
        trajectory.close()
    energy = float(atoms.get_potential_energy())
    fmax = max_force(atoms.get_forces(apply_constraint=False), settings.fixed_indices)
    # a cell relaxation converges on the filter's generalised forces (atomic forces in the
    # deformed cell + stress × volume), the criterion ASE's optimiser itself stops on
    criterion = fmax_target if settings.relax_cell else fmax
    converged = settings.task != "relax" or criterion < settings.fmax
    final = AseAtomsAdaptor.get_structure(atoms)
    atomic_write_text(directory / CONTCAR_FILE, cast(str, final.to(fmt="poscar")))
    record = {
        "energy_ev": energy,
        "fmax_ev_per_a": fmax,
        "fmax_optimizer_ev_per_a": fmax_target,
        "steps": steps,
        "converged": converged,
        "task": settings.task,
        "model": settings.model,
        "provenance": provenance(settings),
        "device": device(),
        "wall_time_s": time.perf_counter() - start,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "n_atoms": len(atoms),
        "final_structure": final.as_dict(),
    }
    if settings.d3:
        record["d3_energy_ev"] = float(atoms.calc.results["d3_energy"])
    atomic_write_text(directory / RESULT_FILE, json.dumps(record, default=float))
    return record


def _mechanism(settings: MlipSettings, structure: Structure, directory: Path) -> dict[str, Any]:
    from lisflow.engines import mlip_mechanism

    start = time.perf_counter()
    run = mlip_mechanism.run_vibrations if settings.task == "vib" else mlip_mechanism.run_neb
    record = run(settings, structure, directory)
    record.update(task=settings.task, model=settings.model, provenance=provenance(settings),
                  device=device(), wall_time_s=time.perf_counter() - start, n_atoms=len(structure),
                  peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)  # fmt: skip
    atomic_write_text(directory / RESULT_FILE, json.dumps(record, default=float))
    return record


def _relax(settings: MlipSettings, atoms, trajectory, log: Path) -> tuple[int, float]:
    """Optimiser steps taken and the largest generalised force (eV/Å) it converged on."""
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS, FIRE

    target = FrechetCellFilter(atoms) if settings.relax_cell else atoms
    optimizer = {"FIRE": FIRE, "BFGS": BFGS}[settings.optimizer](target, logfile=str(log))
    optimizer.attach(trajectory.write, interval=1)
    optimizer.run(fmax=settings.fmax, steps=settings.steps)
    forces = target.get_forces()
    return int(optimizer.get_number_of_steps()), float(np.sqrt((forces**2).sum(axis=1).max()))


def _md(settings: MlipSettings, atoms, trajectory, log: Path) -> int:
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.md import MolecularDynamics
    from ase.md.nose_hoover_chain import NoseHooverChainNVT
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    rng = np.random.default_rng(settings.seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=settings.temperature_k, rng=rng)
    timestep = settings.timestep_fs * units.fs
    dynamics: MolecularDynamics
    if settings.thermostat == "langevin":
        dynamics = Langevin(
            atoms,
            timestep,
            temperature_K=settings.temperature_k,
            friction=settings.friction_per_fs / units.fs,
            rng=rng,
            logfile=str(log),
        )
    else:
        dynamics = NoseHooverChainNVT(
            atoms,
            timestep,
            temperature_K=settings.temperature_k,
            tdamp=settings.tdamp_fs * units.fs,
            logfile=str(log),
        )
    dynamics.attach(trajectory.write, interval=1)
    dynamics.run(settings.md_steps)
    return settings.md_steps


def read_result(directory: Path) -> dict[str, Any]:
    path = directory / RESULT_FILE
    if not path.is_file():
        raise ParseError(path, "no MLIP result (the run did not finish)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        raise ParseError(path, "corrupt MLIP result file") from None


@dataclass
class MlipEngine:
    """In-process MLIP runs (``mlip.json`` + ``POSCAR`` in, ``mlip_result.json`` out)."""

    name: str = "mlip"
    inputs_type: ClassVar[type[InputSet]] = MlipSettings

    def input_files(self, calc: Calculation) -> dict[str, str]:
        if calc.structure is None:
            raise EngineError(f"{calc.calc_id}: the mlip engine needs a structure")
        return MlipInputSet(settings_of(calc)).files(as_periodic(calc.structure))

    def write_inputs(self, calc: Calculation, directory: Path) -> list[str]:
        return write_files(directory, self.input_files(calc))

    def run(self, calc: Calculation, directory: Path, walltime_s: float | None = None) -> None:
        """Run from the input files in ``directory``; an unconverged relaxation raises."""
        settings = MlipSettings.from_json((directory / SETTINGS_FILE).read_text())
        structure = Structure.from_file(directory / POSCAR_FILE)
        record = run_settings(settings, structure, directory)
        if not record["converged"]:
            raise EngineError(
                f"{calc.calc_id}: not converged, max force {record['fmax_ev_per_a']:.3f} eV/Å "
                f"> fmax {settings.fmax} after {record['steps']} steps"
            )

    def parse(self, calc: Calculation, directory: Path) -> ParsedResult:
        record = read_result(directory)
        if not record.get("converged"):
            raise ParseError(
                directory / RESULT_FILE,
                f"relaxation not converged (max force {record.get('fmax_ev_per_a')} eV/Å)",
            )
        scalars = {
            "mlip_fmax": (record["fmax_ev_per_a"], "eV/Å"),
            "mlip_steps": (float(record["steps"]), "steps"),
            "mlip_wall_time": (record["wall_time_s"], "s"),
            "mlip_peak_rss": (record["peak_rss_mb"], "MB"),
        }
        if "d3_energy_ev" in record:
            scalars["mlip_d3_energy"] = (record["d3_energy_ev"], "eV")
        for name, value in record.get("extra_scalars", {}).items():  # vib / neb results
            scalars[name] = (float(value[0]), str(value[1]))
        series = {tuple(k.split("|")): tuple(v) for k, v in record.get("extra_series", {}).items()}
        files = {"trajectory": str(directory / TRAJECTORY_FILE)}
        files["final_structure"] = str(directory / CONTCAR_FILE)
        return ParsedResult(
            energy_ev=record["energy_ev"],
            n_atoms=record["n_atoms"],
            formula=calc.formula,
            engine_version=record["provenance"],
            scalars=scalars,
            series=series,
            files=files,
        )

    def final_structure(self, calc: Calculation, directory: Path) -> Structure | None:
        """The relaxed (or last MD) structure, for a child calculation (DFT after prerelax)."""
        record = read_result(directory)
        return Structure.from_dict(record["final_structure"])
