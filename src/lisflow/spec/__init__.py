"""Study definitions: one YAML file per study in ``workflows/``, validated by pydantic.

``load_spec(path)`` returns the validated model; any problem becomes one
``InputError`` line naming the field (``substrates[0].n_mo``) and the allowed values.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from lisflow import WORKFLOWS_DIR
from lisflow.errors import InputError

#: kind -> "module:Model"; ``md`` lives with the LAMMPS code.
KINDS = {
    "adsorption": "lisflow.spec.models:AdsorptionStudy",
    "polymorphs": "lisflow.spec.models:PolymorphStudy",
    "aimd": "lisflow.spec.models:AimdStudy",
    "md": "lisflow.spec.md:MdStudy",
    "free_energy": "lisflow.spec.mechanism:FreeEnergyStudy",
    "neb": "lisflow.spec.mechanism:NebStudy",
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


#: Longest error line (the field first, then the message, cut at a word boundary).
MAX_ERROR = 200


def one_line(field: str, message: str, allowed: str | None = None) -> InputError:
    """An ``InputError`` of at most ``MAX_ERROR`` characters on one line, naming ``field``."""
    import textwrap

    field = field if len(field) <= 80 else field[:77] + "..."
    text = " ".join(str(message).split())
    room = MAX_ERROR - len(field) - 2 - (len(allowed) + 12 if allowed else 0)
    if allowed and room < 40:
        allowed, room = None, MAX_ERROR - len(field) - 2
    if len(text) > room:
        text = textwrap.shorten(text, width=max(room, 20), placeholder=" ...")
    return InputError(field, text, allowed)


def _one_line(error: dict[str, Any]) -> InputError:
    from lisflow.spec.overrides import short_repr

    field = field_path(tuple(error["loc"]))
    message = error["msg"].removeprefix("Value error, ")
    allowed = None
    ctx = error.get("ctx") or {}
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif "expected" in ctx:
        allowed = str(ctx["expected"])
    if field == "<root>" and (named := re.match(r"([a-z_][\w.\[\]]*): (.+)", message)):
        field, message = named.groups()  # a model-level check names its field first
    if error["type"] not in ("extra_forbidden", "missing") and not isinstance(
        error.get("input"), dict
    ):
        if "got" not in message:
            message = f"{message} (got {short_repr(error.get('input'))})"
    return one_line(field, message, allowed)


def validate_spec(data: Any, source: str = "<spec>") -> BaseModel:
    """Validate a parsed YAML mapping; raise ``InputError`` with one line on any problem."""
    if not isinstance(data, dict):
        raise one_line("spec", f"{Path(source).name}: a study definition must be a YAML mapping")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise one_line("kind", f"unknown study kind {_short(kind)}", ", ".join(KINDS))
    try:
        return _model_for(kind).model_validate(data)
    except ValidationError as exc:
        raise _one_line(exc.errors()[0]) from None
    except RecursionError:
        raise one_line("spec", "nested too deeply") from None


def _short(value: Any) -> str:
    from lisflow.spec.overrides import short_repr

    return short_repr(value)


def load_spec(path: str | Path) -> BaseModel:
    """Read and validate one study YAML (safe-loaded with size, depth and alias bounds; see
    :mod:`lisflow.spec.yamlsafe`). The model's ``study`` names it."""
    from lisflow.spec.yamlsafe import read_yaml

    spec_file = Path(path)
    if not spec_file.is_file():
        raise one_line("spec", f"no such study file {_short(str(spec_file))}")
    return validate_spec(read_yaml(spec_file), str(spec_file))


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
