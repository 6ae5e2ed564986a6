"""CP2K input text: a small renderer of nested dicts into CP2K's ``&SECTION ... &END`` text,
dotted-path overrides (``FORCE_EVAL.DFT.MGRID.CUTOFF: 400``) and atom index lists."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from lisflow.errors import InputError


def render(sections: dict[str, Any], indent: int = 0) -> str:
    """Render nested dicts as CP2K input text. ``"_"`` is a section parameter, ``"_lines"``
    raw lines (coordinates), a list of dicts repeats a section, a list of scalars repeats a
    keyword, ``True`` -> ``.TRUE.``."""
    pad = "  " * indent
    lines: list[str] = []
    for key, value in sections.items():
        if key == "_":
            continue
        if key == "_lines":
            lines.extend(pad + line for line in value)
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                head = f"{pad}&{key}" + (f" {_scalar(item['_'])}" if "_" in item else "")
                lines.append(head)
                body = render(item, indent + 1)
                if body:
                    lines.append(body)
                lines.append(f"{pad}&END {key}")
            else:
                lines.append(f"{pad}{key} {_scalar(item)}")
    return "\n".join(lines)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return ".TRUE." if value else ".FALSE."
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):
        return " ".join(_scalar(v) for v in value)
    return str(value)


def apply_overrides(sections: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set ``A.B.KEY: value`` paths (sections created as needed) in a copy of ``sections``."""
    result = copy.deepcopy(sections)
    for path, value in overrides.items():
        parts = path.upper().split(".")
        node = result
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if isinstance(child, list):
                raise InputError(
                    f"overrides.{path}", f"{part} is a repeated section; cannot override"
                )
            node = child
        node[parts[-1]] = value
    return result


def index_ranges(indices: Sequence[int]) -> str:
    """0-based indices -> CP2K 1-based list with ranges (``1..4 7``)."""
    ones = sorted(i + 1 for i in indices)
    parts: list[str] = []
    start: int | None = None
    prev = 0
    for i in ones:
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            parts.append(f"{start}..{prev}" if prev != start else str(start))
            start = prev = i
    if start is not None:
        parts.append(f"{start}..{prev}" if prev != start else str(start))
    return " ".join(parts)
