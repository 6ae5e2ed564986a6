"""The study models by ``kind``, and the one discriminated union that validates a study file.

This is the spec-layer half of the study-kind registry: ``kind`` -> pydantic model. The
workflow half (planner, derived-quantity Fireworks, dry-run extras) is
:mod:`lisflow.workflows.kinds`, whose ``register`` line also adds the model here, so a new
kind is one new module plus one registration line there. The built-in models are listed
below as import paths (resolved on first use) so that the spec layer validates them on its
own, without the workflows.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field, TypeAdapter

#: kind -> model (a class, or ``"module:Model"`` resolved on first use), in the order the
#: allowed values are listed in error messages. ``md`` lives with the LAMMPS code.
KINDS: dict[str, type[BaseModel] | str] = {
    "adsorption": "lisflow.spec.models:AdsorptionStudy",
    "polymorphs": "lisflow.spec.models:PolymorphStudy",
    "aimd": "lisflow.spec.models:AimdStudy",
    "md": "lisflow.spec.md:MdStudy",
    "free_energy": "lisflow.spec.mechanism:FreeEnergyStudy",
    "neb": "lisflow.spec.mechanism:NebStudy",
}

_adapters: dict[tuple[type[BaseModel], ...], TypeAdapter[Any]] = {}


def register_model(kind: str, model: type[BaseModel]) -> None:
    """Add (or replace) the model of ``kind``; its ``kind`` field must be ``Literal[kind]``."""
    field = model.model_fields.get("kind")
    if field is None or getattr(field.annotation, "__args__", None) != (kind,):
        raise TypeError(f"{model.__name__}.kind must be Literal[{kind!r}]")
    KINDS[kind] = model


def study_model(kind: str) -> type[BaseModel]:
    """The pydantic model of ``kind`` (KeyError if none is registered)."""
    target = KINDS[kind]
    if isinstance(target, str):
        module, name = target.split(":")
        target = KINDS[kind] = getattr(importlib.import_module(module), name)
    return target


def study_models() -> dict[str, type[BaseModel]]:
    """Every registered kind -> its model, in registration order."""
    return {kind: study_model(kind) for kind in list(KINDS)}


def study_adapter() -> TypeAdapter[Any]:
    """``TypeAdapter(Annotated[Union[models...], Field(discriminator="kind")])`` over the
    registered models (rebuilt when a kind is registered)."""
    models = tuple(study_models().values())
    if models not in _adapters:
        union = Union[models]  # type: ignore[valid-type]  # noqa: UP007 - runtime tuple
        _adapters[models] = TypeAdapter(Annotated[union, Field(discriminator="kind")])
    return _adapters[models]
