"""The unit of work every layer passes along: one engine run on one structure."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from pymatgen.core import Molecule, Structure

#: Tasks an engine knows how to set up.
TASKS = ("relax", "static", "geo_opt", "aimd", "md", "vib", "freq", "neb")
#: What a calculation is for inside its study.
ROLES = ("bulk", "slab", "molecule", "adslab", "interface", "box")


_Set = TypeVar("_Set", bound="InputSet")


class InputSet:
    """Base of the typed engine inputs a Calculation carries (``VaspInputGenerator``,
    ``Cp2kInputs``, ``LammpsInputs``, ``MlipSettings``, ``LobsterInputs``: frozen dataclasses
    in ``lisflow.io.<engine>``), built once by the planner and read by attribute downstream.

    ``as_dict`` is JSON-safe and tagged with ``@module``/``@class`` (monty's convention, so
    FireWorks' MontyDecoder rebuilds the object too); :func:`input_set_from_dict` reads it
    back equal. Fields annotated ``tuple[...]`` hold tuples, other list/dict fields plain JSON
    values (normalised on construction, so a round trip through JSON is exact).
    """

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, InputSet) or value is None:
                continue
            if f.name in _tuple_fields(type(self)) and isinstance(value, list | tuple):
                value = tuple(json.loads(json.dumps(list(value))))
            elif isinstance(value, dict | list | tuple):
                value = json.loads(json.dumps(value))
            object.__setattr__(self, f.name, value)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"@module": type(self).__module__, "@class": type(self).__name__}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            data[f.name] = value.as_dict() if isinstance(value, InputSet) else _jsonable(value)
        return data

    def key_parameters(self, calc: Calculation) -> dict[str, Any]:
        """The parameters a reader checks first (the dry-run manifest): the scalar fields."""
        return {
            f.name: value
            for f in fields(self)  # type: ignore[arg-type]
            if isinstance(value := getattr(self, f.name), str | int | float | bool)
        }

    @classmethod
    def from_dict(cls: type[_Set], data: dict[str, Any]) -> _Set:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        kwargs = {
            k: input_set_from_dict(v) if _is_input_set_dict(v) else v
            for k, v in data.items()
            if k in names
        }
        return cls(**kwargs)


_TUPLE_FIELDS: dict[type, frozenset[str]] = {}


def _tuple_fields(cls: type) -> frozenset[str]:
    """Names of the fields annotated ``tuple[...]`` (cached per class)."""
    if cls not in _TUPLE_FIELDS:
        _TUPLE_FIELDS[cls] = frozenset(
            f.name for f in fields(cls) if str(f.type).startswith("tuple[")
        )
    return _TUPLE_FIELDS[cls]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value)) if isinstance(value, dict | list | tuple) else value


def _is_input_set_dict(value: Any) -> bool:
    """A tagged lisflow input set (not e.g. a pymatgen Structure dict inside one)."""
    return isinstance(value, dict) and str(value.get("@module", "")).startswith("lisflow.")


def input_set_from_dict(data: dict[str, Any] | InputSet) -> InputSet:
    """The input set of ``InputSet.as_dict`` (an object FireWorks already decoded passes)."""
    if isinstance(data, InputSet):
        return data
    module, name = str(data.get("@module", "")), str(data.get("@class", ""))
    try:  # (FireWorks' MontyDecoder imports the same tag when it loads a Firework)
        cls = getattr(importlib.import_module(module), name, None)
    except (ImportError, ValueError):
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, InputSet)):
        from lisflow.errors import LisflowError

        raise LisflowError(f"not a lisflow input set: {module}.{name}")
    return cls.from_dict(data)


@dataclass
class Calculation:
    """One engine run.

    ``calc_id`` is unique across all studies (``<study>/<name>``), stable across runs and
    safe as a directory name. ``inputs`` is the engine's typed input set (an
    :class:`InputSet` of ``engine``, the preset merged with the spec's overrides); ``labels`` carry what queries filter on (site, adsorbate,
    substrate, configuration, ...). ``parents`` name calculations whose results this one needs
    (e.g. an AIMD stage that restarts from the previous stage).
    """

    calc_id: str
    study: str
    engine: str
    task: str
    role: str
    structure: Structure | Molecule | None
    inputs: InputSet | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    parents: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """Directory-safe name inside the study (``calc_id`` without the study prefix)."""
        return self.calc_id.split("/", 1)[1]

    @property
    def formula(self) -> str:
        if self.structure is None:
            return ""
        return "".join(
            f"{element}{int(n) if n != 1 else ''}" for element, n in self.structure.composition.items()
        )

    @property
    def n_atoms(self) -> int:
        return 0 if self.structure is None else len(self.structure)

    def periodic_structure(self) -> Structure:
        """``structure`` in its periodic cell (Å), for engines that need a lattice.
        LisflowError if the calculation has none or only a Molecule."""
        if not isinstance(self.structure, Structure):
            from lisflow.errors import LisflowError

            got = "no structure" if self.structure is None else "a Molecule without a cell"
            raise LisflowError(f"{self.calc_id}: {self.engine} needs a periodic structure, got {got}")
        return self.structure


def calc_to_dict(calc: Calculation) -> dict[str, Any]:
    """JSON-safe form (for a Firework's spec)."""
    return {
        "calc_id": calc.calc_id,
        "study": calc.study,
        "engine": calc.engine,
        "task": calc.task,
        "role": calc.role,
        "inputs": None if calc.inputs is None else calc.inputs.as_dict(),
        "labels": calc.labels,
        "parents": list(calc.parents),
        "structure": None if calc.structure is None else calc.structure.as_dict(),
    }


def calc_from_dict(data: dict[str, Any]) -> Calculation:
    """The Calculation of :func:`calc_to_dict`. The untyped ``params`` of Fireworks written
    before typed inputs are read by :func:`lisflow.engines.registry.calc_from_dict`."""
    if "params" in data and "inputs" not in data:
        from lisflow.errors import LisflowError

        raise LisflowError(
            f"{data.get('calc_id')}: untyped params (an older Firework); read it with "
            "lisflow.engines.registry.calc_from_dict"
        )
    inputs = data.get("inputs")
    structure = data.get("structure")
    if isinstance(structure, dict):  # FireWorks may already have deserialised it
        cls = Structure if "lattice" in structure else Molecule
        structure = cls.from_dict(structure)
    return Calculation(
        calc_id=data["calc_id"],
        study=data["study"],
        engine=data["engine"],
        task=data["task"],
        role=data["role"],
        structure=structure,
        inputs=None if inputs is None else input_set_from_dict(inputs),
        labels=data.get("labels", {}),
        parents=tuple(data.get("parents", ())),
    )
