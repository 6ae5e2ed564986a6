"""Reference of every study field, generated from the pydantic models.

``python -m lisflow.spec.reference --out docs/studies`` writes ``schema.json`` (JSON Schema of
all study kinds, discriminated by ``kind``), one Markdown page per kind (every field: type,
default, allowed values/bounds, notes from the model source) and ``README.md`` (an index).
``--check`` compares instead of writing and exits 1 when the committed docs are stale.
Values that validators enforce beyond JSON Schema (e.g. the site metals) are listed as well
(``x-lisflow-allowed`` in the schema).
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import re
import sys
import tokenize
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from lisflow.spec.kinds import study_adapter, study_models


def _models() -> dict[str, type[BaseModel]]:
    return study_models()


def _validator_allowed() -> dict[tuple[str, str], list[Any]]:
    """(model, field) -> values a validator accepts (not expressible in JSON Schema)."""
    from lisflow.io.vasp import vasp_presets
    from lisflow.spec import models

    presets = [*vasp_presets(), "(VASP studies only)"]
    return {
        ("AdsorptionStudy", "preset"): presets,
        ("PolymorphStudy", "preset"): presets,
        ("DascSubstrate", "metals"): list(models.SITE_METALS),
        ("MoNGrapheneSubstrate", "n_mo"): list(models.MO_CLUSTER_SIZES),
        ("MoleculeSubstrate", "name"): list(models.NAMED_ADSORBATES),
        ("AdsorptionStudy", "adsorbates"): [
            *models.NAMED_ADSORBATES, "<element symbol>", "ase:<name>", "{file|ase, ...}"
        ],
    }


def study_schema() -> dict[str, Any]:
    """JSON Schema of a study file (any kind), with validator-enforced allowed values."""
    schema = study_adapter().json_schema()
    for (model, name), allowed in _validator_allowed().items():
        field = schema["$defs"].get(model, {}).get("properties", {}).get(name)
        if field is not None:
            field["x-lisflow-allowed"] = allowed
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "lisflow study",
        "description": "A study file of lisflow (workflows/*.yaml); generated, do not edit.",
        **schema,
    }


def field_notes(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> the comments next to it in the model's source (``# ...`` on the line,
    ``#: ...`` lines above), base classes included."""
    notes: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if cls is not BaseModel and issubclass(cls, BaseModel) and cls.__module__ != "pydantic":
            notes.update(_own_notes(cls))
    return notes


def _own_notes(model: type[BaseModel]) -> dict[str, str]:
    notes: dict[str, str] = {}
    try:
        source = inspect.getsource(model)
    except (OSError, TypeError):
        return notes
    pending: list[str] = []
    line_field: dict[int, str] = {}
    for number, line in enumerate(source.splitlines(), 1):
        match = re.match(r"\s{4}(\w+)\s*:", line)
        if match and match[1] in model.model_fields:
            line_field[number] = match[1]
            if pending:
                notes[match[1]] = " ".join(pending)
            pending = []
        elif line.strip().startswith("#:"):
            pending.append(line.strip()[2:].strip())
        elif line.strip():
            pending = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and token.start[0] in line_field:
            name = line_field[token.start[0]]
            text = token.string.lstrip("#").strip()
            notes[name] = f"{notes[name]} {text}".strip() if name in notes else text
    return notes


# --- Markdown ---------------------------------------------------------------------------------


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(node: dict[str, Any]) -> str:
    if "$ref" in node:
        return _ref_name(node["$ref"])
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    for key in ("anyOf", "oneOf"):
        if key in node:
            parts = [_type(p) for p in node[key] if p.get("type") != "null"]
            optional = any(p.get("type") == "null" for p in node[key])
            text = " \\| ".join(parts)
            return f"{text} \\| null" if optional else text
    kind = node.get("type")
    if kind == "array":
        if "prefixItems" in node:
            return "[" + ", ".join(_type(p) for p in node["prefixItems"]) + "]"
        return f"list of {_type(node.get('items', {}))}"
    if kind == "object":
        extra = node.get("additionalProperties")
        return f"mapping to {_type(extra)}" if isinstance(extra, dict) and extra else "mapping"
    return str(kind or "any")


def _bounds(node: dict[str, Any], allowed: list[Any] | None) -> str:
    parts = []
    for key, symbol in (
        ("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"),
    ):  # fmt: skip
        if key in node:
            parts.append(f"{symbol} {node[key]}")
    for key, text in (("minItems", "≥ {} items"), ("maxItems", "≤ {} items"),
                      ("minLength", "≥ {} chars"), ("maxLength", "≤ {} chars")):
        if key in node:
            parts.append(text.format(node[key]))
    if "enum" in node:
        parts.append(", ".join(f"`{v}`" for v in node["enum"]))
    if "pattern" in node:
        parts.append(f"pattern `{node['pattern']}`")
    for key in ("anyOf", "oneOf"):
        for member in node.get(key, []):
            inner = _bounds(member, None)
            if inner:
                parts.append(inner)
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        inner = _bounds(node["items"], None)
        if inner:
            parts.append(f"each {inner}")
    if allowed:
        parts.append("one of " + ", ".join(f"`{v}`" for v in allowed))
    return "; ".join(parts)


def _default(node: dict[str, Any], required: bool) -> str:
    if required:
        return "**required**"
    if "default" not in node:
        return ""
    return f"`{json.dumps(node['default'], ensure_ascii=False)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if "\\|" not in text else text


def _submodels(node: dict[str, Any]) -> list[str]:
    refs = []
    if "$ref" in node:
        refs.append(_ref_name(node["$ref"]))
    for key in ("anyOf", "oneOf", "prefixItems"):
        for member in node.get(key, []):
            refs += _submodels(member)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            refs += _submodels(node[key])
    return refs


def _table(
    name: str, defs: dict[str, Any], classes: dict[str, type[BaseModel]]
) -> tuple[list[str], list[str]]:
    model = defs[name]
    cls = classes.get(name)
    notes = field_notes(cls) if cls else {}
    allowed = _validator_allowed()
    required = set(model.get("required", []))
    lines = [
        "| field | type | default | allowed values / bounds | notes |",
        "|---|---|---|---|---|",
    ]
    nested: list[str] = []
    for field, node in model.get("properties", {}).items():
        row = (
            f"`{field}`",
            _type(node),
            _default(node, field in required),
            _bounds(node, allowed.get((name, field))),
            notes.get(field, ""),
        )
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        nested += [r for r in _submodels(node) if r not in nested]
    return lines, nested


def _all_classes() -> dict[str, type[BaseModel]]:
    classes: dict[str, type[BaseModel]] = {}
    for model in _models().values():
        module = sys.modules[model.__module__]
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, BaseModel):
                classes[value.__name__] = value
    return classes


def kind_page(kind: str, schema: dict[str, Any]) -> str:
    """Markdown reference of one study kind (its model and every nested model)."""
    defs = schema["$defs"]
    model = _models()[kind]
    classes = _all_classes()
    out = [
        f"# `kind: {kind}` studies",
        "",
        "Generated from `" + model.__module__ + "." + model.__name__ + "` by "
        "`python -m lisflow.spec.reference --out docs/studies`; do not edit by hand.",
        "",
    ]
    queue, seen = [model.__name__], set()
    while queue:
        name = queue.pop(0)
        if name in seen or name not in defs:
            continue
        seen.add(name)
        cls = classes.get(name)
        where = f"`{cls.__module__}.{name}`" if cls else f"`{name}`"
        out += [f"## {name}", "", f"Source: {where}.", ""]
        if defs[name].get("description"):
            out += [" ".join(defs[name]["description"].split()), ""]
        table, nested = _table(name, defs, classes)
        out += table + [""]
        queue += nested
    return "\n".join(out).rstrip() + "\n"


def index_page() -> str:
    lines = [
        "# Study reference",
        "",
        "Every field of every study kind, generated from the pydantic models "
        "(`python -m lisflow.spec.reference --out docs/studies`; a test checks these files "
        "match the code). `schema.json` is the JSON Schema of a study file (editors can "
        "validate `workflows/*.yaml` with it).",
        "",
    ]
    for kind, model in _models().items():
        summary = " ".join((model.__doc__ or "").split())
        lines.append(f"- [`kind: {kind}`]({kind}.md): {summary}")
    return "\n".join(lines) + "\n"


def render_all() -> dict[str, str]:
    """File name -> text of the whole reference."""
    schema = study_schema()
    files = {"schema.json": json.dumps(schema, indent=2, ensure_ascii=False) + "\n"}
    files["README.md"] = index_page()
    for kind in _models():
        files[f"{kind}.md"] = kind_page(kind, schema)
    return files


def stale_files(out: Path) -> list[str]:
    """Names of the reference files in ``out`` that differ from the generated ones."""
    return [
        name
        for name, text in render_all().items()
        if not (out / name).is_file() or (out / name).read_text() != text
    ]


def write_all(out: Path) -> list[Path]:
    from lisflow.fsutil import atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    return [atomic_write_text(out / name, text) for name, text in render_all().items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lisflow.spec.reference")
    parser.add_argument("--out", type=Path, default=Path("docs/studies"))
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
