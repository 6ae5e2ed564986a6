"""Run a shipped study with another engine without editing it: ``--engine mlip [--model M]``
on ``lisflow submit`` / ``dry-run``, or ``engine_override: {engine: mlip, model: M}`` in a run
profile (configs/profiles). Applied to the validated spec before planning; the study is
renamed ``<study>_<engine>`` (:func:`lisflow.spec.models.with_engine`) so its results never
mix with the original engine's in the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel

from lisflow.errors import InputError
from lisflow.spec.models import MlipOptions, StudyBase, with_engine

#: Engines a study may be switched to, and the study kinds that can run with them.
OVERRIDE_ENGINES = ("mlip",)
OVERRIDE_KINDS = ("adsorption", "polymorphs")
#: ``model:`` values of the MLIP (the spec's own Literal, so the two never disagree).
MLIP_MODELS: tuple[str, ...] = get_args(MlipOptions.model_fields["model"].annotation)


@dataclass(frozen=True)
class EngineOverride:
    """Engine (and MLIP model; None: the study's own / the preset default) to run studies with."""

    engine: str
    model: str | None = None
    source: str = "--engine"  # where it came from, for error messages

    def __post_init__(self) -> None:
        if self.engine not in OVERRIDE_ENGINES:
            raise InputError(
                self.source, f"cannot switch studies to {self.engine!r}", ", ".join(OVERRIDE_ENGINES)
            )
        if self.model is not None and self.model not in MLIP_MODELS:
            field = "--model" if self.source == "--engine" else f"{self.source}.model"
            raise InputError(field, f"unknown model {self.model!r}", ", ".join(MLIP_MODELS))


def engine_override(
    engine: str | None, model: str | None, profile_override: dict[str, Any] | None = None
) -> EngineOverride | None:
    """The override in force: the CLI flags win over the profile's ``engine_override``.
    ``--model`` without ``--engine`` (and no profile override) is refused."""
    if engine is not None:
        return EngineOverride(engine, model)
    if profile_override:
        unknown = set(profile_override) - {"engine", "model"}
        if unknown or "engine" not in profile_override:
            field = f"profile.engine_override.{sorted(unknown)[0]}" if unknown else (
                "profile.engine_override.engine")  # fmt: skip
            raise InputError(field, "unknown key or engine missing", "engine, model")
        return EngineOverride(
            str(profile_override["engine"]),
            model if model is not None else profile_override.get("model"),
            source="profile.engine_override",
        )
    if model is not None:
        raise InputError("--model", "only with --engine mlip (or a profile engine_override)")
    return None


def apply_engine_override(spec: BaseModel, override: EngineOverride | None) -> BaseModel:
    """``spec`` run by ``override.engine`` (unchanged when there is no override). A study kind
    that cannot run with that engine is refused (InputError naming the kind)."""
    if override is None:
        return spec
    kind = getattr(spec, "kind", "")
    if kind not in OVERRIDE_KINDS or not isinstance(spec, StudyBase):
        raise InputError(
            override.source,
            f"study {getattr(spec, 'study', '?')!r} of kind {kind!r} cannot run with engine {override.engine}",
            "studies of kind " + ", ".join(OVERRIDE_KINDS),
        )
    if getattr(spec, "engine", None) == override.engine and override.model in (None, getattr(spec, "model", None)):
        return spec  # already runs with it
    return with_engine(spec, override.engine, override.model)
