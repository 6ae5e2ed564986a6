"""The engine registry: engine name -> engine class, one line per engine.

Each engine class declares ``inputs_type``, the typed input set
(:class:`~lisflow.calculation.InputSet`) its calculations carry. A new engine is one module
in ``engines/`` (its input set in ``io/``) plus one line in :data:`ENGINE_CLASSES`. The
classes are imported on first use (``"module:Class"``), so listing the engines imports none.
``replay`` replays real VASP and LOBSTER outputs.
"""

from __future__ import annotations

import importlib
from typing import Any

from lisflow.calculation import Calculation, InputSet
from lisflow.calculation import calc_from_dict as _calc_from_dict
from lisflow.engines.base import Engine
from lisflow.errors import InputError

#: engine name -> its class.
ENGINE_CLASSES: dict[str, str] = {
    "vasp": "lisflow.engines.vasp:VaspEngine",
    "cp2k": "lisflow.engines.cp2k:Cp2kEngine",
    "lammps": "lisflow.engines.lammps:LammpsEngine",
    "lobster": "lisflow.engines.lobster:LobsterEngine",
    "replay": "lisflow.engines.replay:ReplayEngine",
    "mlip": "lisflow.engines.mlip:MlipEngine",
}
#: The engine names (FireWorks categories).
ENGINES = tuple(ENGINE_CLASSES)


def engine_class(name: str) -> type[Engine]:
    """The class of engine ``name`` (InputError naming the allowed engines if none)."""
    if name not in ENGINE_CLASSES:
        raise InputError("engine", f"unknown engine {name!r}", ", ".join(ENGINE_CLASSES))
    module, attr = ENGINE_CLASSES[name].split(":")
    cls: type[Engine] = getattr(importlib.import_module(module), attr)
    return cls


def get_engine(name: str, **options: Any) -> Engine:
    """A fresh engine object; ``options`` go to its constructor (e.g. replay's reference map)."""
    return engine_class(name)(**options)


def calc_from_dict(data: dict[str, Any]) -> Calculation:
    """:func:`lisflow.calculation.calc_from_dict`, also for a Firework written before typed
    inputs (an untyped ``params`` dict instead of ``inputs``)."""
    if "params" in data and "inputs" not in data:
        rest = {k: v for k, v in data.items() if k != "params"}
        inputs = legacy_inputs(data["engine"], data["params"] or {})
        return _calc_from_dict({**rest, "inputs": inputs})
    return _calc_from_dict(data)


def legacy_inputs(engine: str, params: dict[str, Any]) -> InputSet | None:
    """The typed input set of the untyped ``params`` the planner wrote before typed inputs
    (the five engines of that time; ``role`` now lives on the Calculation only)."""
    from lisflow.io.cp2k import AimdSettings, Cp2kInputs
    from lisflow.io.lammps import LammpsInputs
    from lisflow.io.lobster import LobsterInputs
    from lisflow.io.mlip import MlipSettings
    from lisflow.io.vasp import VaspInputGenerator

    if not params:
        return None

    def vasp() -> VaspInputGenerator:
        return VaspInputGenerator(
            preset_name=params["preset"], task=params["task"], role=params["role"],
            extra_blocks=tuple(params.get("extra_blocks", ())),
            overrides=params.get("overrides", {}), kpoints=params.get("kpoints"),
        )  # fmt: skip

    if engine in ("vasp", "replay"):
        return vasp()
    if engine == "lobster":
        return LobsterInputs(vasp(), params.get("parent_run_dir"))
    if engine == "cp2k":
        aimd = params.get("aimd")
        extra = {k: params[k] for k in ("basis_set", "cutoff_ry") if k in params}
        return Cp2kInputs(
            task=params["task"], periodic=params["periodic"],
            overrides=params.get("overrides", {}),
            aimd=AimdSettings(**aimd) if aimd else None, **extra,
        )  # fmt: skip
    if engine == "mlip":
        return MlipSettings(**{k: v for k, v in params.items() if k != "role"})
    if engine == "lammps":
        return LammpsInputs(**params)
    raise InputError("engine", f"no untyped params reader for engine {engine!r}")
