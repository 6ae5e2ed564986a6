"""Engine lookup by name: ``vasp``, ``cp2k``, ``lammps``, ``lobster`` and ``replay`` (VASP and
LOBSTER replayed)."""

from __future__ import annotations

from lisflow.engines.base import Engine
from lisflow.errors import InputError

ENGINES = ("vasp", "cp2k", "lammps", "lobster", "replay", "mlip")


def get_engine(name: str, **options) -> Engine:
    """A fresh engine object; ``options`` go to its constructor (e.g. replay's reference map)."""
    if name == "vasp":
        from lisflow.engines.vasp import VaspEngine

        return VaspEngine()
    if name == "cp2k":
        from lisflow.engines.cp2k import Cp2kEngine

        return Cp2kEngine()
    if name == "lammps":
        from lisflow.engines.lammps import LammpsEngine

        return LammpsEngine()
    if name == "lobster":
        from lisflow.engines.lobster import LobsterEngine

        return LobsterEngine()
    if name == "replay":
        from lisflow.engines.replay import ReplayEngine

        return ReplayEngine(**options)
    if name == "mlip":
        from lisflow.engines.mlip import MlipEngine

        return MlipEngine()
    raise InputError("engine", f"unknown engine {name!r}", ", ".join(ENGINES))
