"""custodian error-handler sets for the VASP and CP2K engine wrappers, and a post-mortem
:func:`diagnose` that reports which handler would fire on a finished/failed run directory.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from custodian.cp2k import handlers as cp2k_h
from custodian.custodian import ErrorHandler, Validator
from custodian.vasp import handlers as vasp_h
from custodian.vasp.validators import VaspFilesValidator, VasprunXMLValidator

from lisflow.errors import InputError

# Handlers that judge a *running* job by wall-clock time or file age; meaningless post mortem.
_TIME_BASED = ("FrozenJobErrorHandler", "WalltimeHandler")


class MaxForceHandler(ErrorHandler):
    """Residual max |F| above ``max_force_threshold`` (eV/Å) in the last ionic step.

    custodian dropped its ``MaxForceErrorHandler``; this restores the check. Correction:
    continue from CONTCAR with a force criterion ``EDIFFG = -max_force_threshold``.
    """

    is_monitor = False

    def __init__(self, output_filename: str = "vasprun.xml", max_force_threshold: float = 0.25):
        self.output_filename = output_filename
        self.max_force_threshold = max_force_threshold  # eV/Å, custodian's former default

    def check(self, directory: str = "./") -> bool:
        from pymatgen.io.vasp import Vasprun

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run = Vasprun(
                    str(Path(directory) / self.output_filename),
                    parse_dos=False,
                    parse_eigen=False,
                    parse_potcar_file=False,
                )
            forces = np.asarray(run.ionic_steps[-1]["forces"], dtype=float)
            selective = run.final_structure.site_properties.get("selective_dynamics")
        except Exception:
            return False
        if selective is not None:
            forces = forces * np.asarray(selective, dtype=float)
        return bool(np.linalg.norm(forces, axis=1).max() > self.max_force_threshold)

    def correct(self, directory: str = "./") -> dict[str, Any]:
        from custodian.utils import backup
        from custodian.vasp.interpreter import VaspModder

        backup(
            ["INCAR", "KPOINTS", "POSCAR", "OUTCAR", "CONTCAR", "vasprun.xml"], directory=directory
        )
        actions = [
            {"file": "CONTCAR", "action": {"_file_copy": {"dest": "POSCAR"}}},
            {"dict": "INCAR", "action": {"_set": {"EDIFFG": -self.max_force_threshold}}},
        ]
        VaspModder(directory=directory).apply_actions(actions)
        return {"errors": ["MaxForce"], "actions": actions}


class Cp2kAbortReportHandler(ErrorHandler):
    """Any CP2K ``[ABORT]`` box (e.g. executable built without libint for a hybrid run).

    custodian's AbortHandler only corrects known aborts (Cholesky, ...); this one reports
    the abort message and applies no correction, so the job stops with a clear reason.
    """

    is_monitor = False

    def __init__(self, output_file: str = "cp2k.out") -> None:
        self.output_file = output_file
        self.message = ""

    def check(self, directory: str = "./") -> bool:
        text = (Path(directory) / self.output_file).read_text(errors="replace")
        start = text.rfind("[ABORT]")
        if start < 0:
            return False
        box = text[start:].split("*****")[0]
        self.message = " ".join(
            part.strip(" *|/\\O_") for part in box.splitlines()[1:] if part.strip(" *|/\\O_")
        )
        return True

    def correct(self, directory: str = "./") -> dict[str, Any]:
        return {"errors": [f"CP2K abort: {self.message}"], "actions": []}


def vasp_handlers(
    walltime_s: float | None = None, output_filename: str = "vasp.out"
) -> list[ErrorHandler]:
    """Handler set for VASP jobs (``output_filename`` = redirected stdout).

    Run-time monitors (VaspErrorHandler, StdErrHandler, FrozenJob, Walltime) plus post-run
    checks (electronic/ionic non-convergence, positive energy, POTIM, smearing, max force).
    """
    handlers: list[ErrorHandler] = [
        vasp_h.VaspErrorHandler(output_filename=output_filename),
        vasp_h.StdErrHandler(output_filename="std_err.txt"),
        vasp_h.UnconvergedErrorHandler(),
        # nionic_steps=3 as in custodian's own NonConvergingErrorHandler test
        vasp_h.NonConvergingErrorHandler(nionic_steps=3),
        vasp_h.PositiveEnergyErrorHandler(),
        vasp_h.PotimErrorHandler(),
        vasp_h.LargeSigmaHandler(),
        vasp_h.IncorrectSmearingHandler(),
        MaxForceHandler(),
        vasp_h.FrozenJobErrorHandler(output_filename=output_filename),
    ]
    if walltime_s is not None:
        handlers.append(vasp_h.WalltimeHandler(wall_time=walltime_s))
    return handlers


def vasp_validators() -> list[Validator]:
    """Validators run after a VASP job: output files exist and vasprun.xml is complete."""
    return [VaspFilesValidator(), VasprunXMLValidator()]


def cp2k_handlers(
    input_file: str = "cp2k.inp",
    output_file: str = "cp2k.out",
    walltime_s: float | None = None,
    std_err: str = "std_err.txt",
) -> list[ErrorHandler]:
    """custodian's CP2K handler set. ``walltime_s`` adds custodian's CP2K WalltimeHandler,
    which reads the job's limit from the environment (``CUSTODIAN_WALLTIME_START`` etc.)."""
    handlers: list[ErrorHandler] = [
        # custodian's CP2K StdErrHandler opens std_err relative to the cwd: pass a full path
        cp2k_h.StdErrHandler(std_err=std_err),
        cp2k_h.UnconvergedScfErrorHandler(input_file=input_file, output_file=output_file),
        cp2k_h.DivergingScfErrorHandler(output_file=output_file, input_file=input_file),
        cp2k_h.AbortHandler(input_file=input_file, output_file=output_file),
        # max_same=3 (custodian default 5): flags an OT SCF stuck on one value for >3 steps
        cp2k_h.NumericalPrecisionHandler(
            input_file=input_file, output_file=output_file, max_same=3
        ),
        cp2k_h.UnconvergedRelaxationErrorHandler(input_file=input_file, output_file=output_file),
        Cp2kAbortReportHandler(output_file=output_file),
        cp2k_h.FrozenJobErrorHandler(input_file=input_file, output_file=output_file),
    ]
    if walltime_s is not None:
        handlers.append(cp2k_h.WalltimeHandler(output_file=output_file))
    return handlers


@dataclass(frozen=True)
class Detection:
    """A handler whose ``check()`` fired; ``actions`` = what its ``correct()`` would do."""

    handler: str
    errors: tuple[str, ...] = ()
    actions: tuple[dict[str, Any], ...] | None = None
    corrected_files: dict[str, str] = field(default_factory=dict)


def diagnose(
    engine: str, run_dir: Path, with_corrections: bool = False, stdout_name: str | None = None
) -> list[Detection]:
    """Run every handler's ``check()`` on ``run_dir`` and report those that fire.

    ``run_dir`` is never modified: the checks run in a temporary copy in which ``.gz`` files
    are decompressed (custodian opens fixed names such as ``vasprun.xml``). With
    ``with_corrections`` the firing handler's ``correct()`` is applied to its own fresh
    copy, and the returned actions plus the corrected INCAR/input text are reported.
    Time-based monitors (frozen job, walltime) are skipped. A handler whose input files
    are missing counts as not firing.
    """
    run_dir = Path(run_dir)
    if engine not in ("vasp", "cp2k"):
        raise InputError("engine", f"unknown engine {engine!r}", "vasp, cp2k")
    if not run_dir.is_dir():
        raise InputError("run_dir", f"{run_dir} is not a directory")
    detections = []
    with tempfile.TemporaryDirectory(prefix="lisflow-diagnose-") as tmp:
        scratch = Path(tmp) / "check"
        _decompressed_copy(run_dir, scratch)
        stdout = stdout_name or _guess_stdout(scratch, engine)
        for handler in _handlers_for(engine, stdout, scratch):
            name = type(handler).__name__
            if name in _TIME_BASED:
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fired = bool(handler.check(directory=str(scratch)))
            except Exception:  # custodian raises on absent files: not applicable here
                continue
            if not fired:
                continue
            errors = tuple(sorted(str(e) for e in getattr(handler, "errors", []) or []))
            if not with_corrections:
                detections.append(Detection(name, errors))
                continue
            fix_dir = Path(tmp) / f"fix-{len(detections)}"
            _decompressed_copy(run_dir, fix_dir)
            fresh = next(
                h for h in _handlers_for(engine, stdout, fix_dir) if type(h).__name__ == name
            )
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fresh.check(directory=str(fix_dir))
                    result = fresh.correct(directory=str(fix_dir)) or {}
            except Exception as exc:  # correct() needs files this run does not have
                detections.append(Detection(name, errors + (f"correct() failed: {exc}",)))
                continue
            inputs = {
                p.name: p.read_text()
                for p in fix_dir.iterdir()
                if p.name in ("INCAR", "cp2k.inp") and p.is_file()
            }
            errors = tuple(str(e) for e in result.get("errors", errors))
            detections.append(Detection(name, errors, tuple(result.get("actions") or ()), inputs))
    return detections


def _handlers_for(engine: str, stdout: str, directory: Path) -> list[ErrorHandler]:
    if engine == "vasp":
        return vasp_handlers(output_filename=stdout)
    return cp2k_handlers(output_file=stdout, std_err=str(directory / "std_err.txt"))


def _guess_stdout(directory: Path, engine: str) -> str:
    names = ("vasp.out", "error.out") if engine == "vasp" else ("cp2k.out",)
    for name in names:
        if (directory / name).is_file():
            return name
    outs = sorted(p.name for p in directory.glob("*.out"))
    return outs[0] if outs else names[0]


def _decompressed_copy(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True)
    for path in src.iterdir():
        if not path.is_file():
            continue
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fin, open(dest / path.stem, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        else:
            shutil.copy2(path, dest / path.name)
