"""Study definitions: one YAML file per study in ``workflows/``, validated by pydantic.

``load_spec(path)`` returns the validated model; any problem becomes one
``InputError`` line naming the field (``substrates[0].n_mo``) and the allowed values.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from lisflow import WORKFLOWS_DIR
from lisflow.errors import InputError

#: kind -> "module:Model"; ``md`` lives with the LAMMPS code.
KINDS = {
    "adsorption": "lisflow.spec.models:AdsorptionStudy",
    "polymorphs": "lisflow.spec.models:PolymorphStudy",
    "aimd": "lisflow.spec.models:AimdStudy",
    "md": "lisflow.spec.md:MdStudy",
}


def _model_for(kind: str) -> type[BaseModel]:
    module, name = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def field_path(loc: tuple[Any, ...]) -> str:
    """``('substrates', 0, 'n_mo')`` -> ``substrates[0].n_mo`` (discriminator tags dropped)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in ("mo_ngraphene", "dasc", "ti0001", "molecule", "file") or "[" in str(part):
            continue  # pydantic's union-member tag, not a user field
        else:
            text += f".{part}" if text else str(part)
    return text or "<root>"


def _one_line(error: dict[str, Any]) -> InputError:
    field = field_path(tuple(error["loc"]))
    message = error["msg"].removeprefix("Value error, ")
    allowed = None
    ctx = error.get("ctx") or {}
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif "expected" in ctx:
        allowed = str(ctx["expected"])
    if error["type"] not in ("extra_forbidden", "missing"):
        message = f"{message} (got {error.get('input')!r})" if "got" not in message else message
    return InputError(field, message.replace("\n", " "), allowed)


def validate_spec(data: Any, source: str = "<spec>") -> BaseModel:
    """Validate a parsed YAML mapping; raise ``InputError`` with one line on any problem."""
    if not isinstance(data, dict):
        raise InputError(source, "a study definition must be a YAML mapping")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InputError("kind", f"unknown study kind {kind!r}", ", ".join(KINDS))
    try:
        return _model_for(kind).model_validate(data)
    except ValidationError as exc:
        raise _one_line(exc.errors()[0]) from None


def load_spec(path: str | Path) -> BaseModel:
    """Read and validate one study YAML (safe-loaded). The model's ``study`` names it."""
    spec_file = Path(path)
    if not spec_file.is_file():
        raise InputError("spec", f"no such study file {str(spec_file)!r}")
    try:
        data = yaml.safe_load(spec_file.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError("spec", f"{spec_file} is not valid YAML{where}") from None
    return validate_spec(data, str(spec_file))


def study_files(directory: Path = WORKFLOWS_DIR) -> list[Path]:
    """The study definitions shipped in ``workflows/`` (sorted)."""
    return sorted(directory.glob("*.yaml"))


def study_search_path(extra: list[Path] | None = None) -> list[Path]:
    """Where study ids are looked up, first match wins: ``extra`` (``--studies DIR``), the
    current directory, each directory of ``$LISFLOW_PATH`` (``:``-separated), then the
    studies shipped with lisflow."""
    import os

    dirs = list(extra or []) + [Path.cwd()]
    dirs += [Path(p) for p in os.environ.get("LISFLOW_PATH", "").split(os.pathsep) if p]
    return dirs + [WORKFLOWS_DIR]


def resolve_study(name: str | Path, extra: list[Path] | None = None) -> Path:
    """A study file from a path (``workflows/x.yaml``) or a study id (``dasc_adsorption``)."""
    candidate = Path(name)
    if candidate.is_file():
        return candidate
    if candidate.suffix not in (".yaml", ".yml") and len(candidate.parts) == 1:
        for directory in study_search_path(extra):
            for suffix in (".yaml", ".yml"):
                path = directory / f"{candidate.name}{suffix}"
                if path.is_file():
                    return path
        shipped = ", ".join(p.stem for p in study_files())
        raise InputError("spec", f"no study file or study id {str(name)[:80]!r}", shipped)
    raise InputError("spec", f"no such study file {str(name)[:120]!r}")
