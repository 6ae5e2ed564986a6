"""Read a user's YAML file with bounds: size, UTF-8, nesting depth and alias expansion.

``yaml.safe_load`` builds any object graph the file describes; a 10-level alias "bomb"
describes 10^9 nodes that later code walks forever, 5000 nested brackets overflow the
recursion of the composer, and a 50 MB file is read whole. ``read_yaml`` refuses all of these
with one ``InputError`` line before anything is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lisflow.errors import InputError

#: Largest study file read (bytes); the shipped specs are < 4 kB.
MAX_BYTES = 1 << 20
#: Deepest nesting of mappings/sequences.
MAX_DEPTH = 32
#: Most nodes the document may describe, counting every alias at its full expanded size.
MAX_NODES = 100_000


class _Bounded(yaml.SafeLoader):
    """SafeLoader whose composer tracks depth and expanded node count."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            size = self._sizes.get(id(node), 1) if node is not None else 1
            self._count(size, event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise _Limit(f"is nested deeper than {MAX_DEPTH} levels at line {mark.line + 1}")
        try:
            before = self._nodes
            node = super().compose_node(parent, index)
            self._count(1, None)
            self._sizes[id(node)] = self._nodes - before
            return node
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        keys = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in keys:
                line = key_node.start_mark.line + 1
                raise _Limit(f"repeats the key {str(key)[:40]!r} at line {line}")
            keys.add(key)
        return super().construct_mapping(node, deep=deep)

    def _count(self, size: int, mark) -> None:
        self._nodes += size
        if self._nodes > MAX_NODES:
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise _Limit(f"describes more than {MAX_NODES} values (YAML aliases?){where}")


class _Limit(Exception):
    pass


def read_yaml(path: Path, field: str = "spec") -> Any:
    """The parsed YAML of ``path`` (size, encoding, depth, aliases bounded)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(field, f"{path.name} is {size} bytes (at most {MAX_BYTES})")
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(field, f"cannot read {path.name}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(field, f"{path.name} is not UTF-8 text (byte {exc.start})") from None
    if (depth := _bracket_depth(text)) > MAX_DEPTH:
        raise InputError(field, f"{path.name} is nested deeper than {MAX_DEPTH} levels ({depth})")
    loader = _Bounded(text)
    try:
        return loader.get_single_data()
    except _Limit as exc:
        raise InputError(field, f"{path.name} {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(field, f"{path.name} is not valid YAML{where}") from None
    except RecursionError:
        raise InputError(field, f"{path.name} is nested too deeply") from None
    finally:
        loader.dispose()


def _bracket_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting of flow collections (quoted text and comments skipped);
    PyYAML's scanner is quadratic in it, so thousands of brackets are refused before parsing."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    quote = None
    comment = False
    for char in text:
        if comment:
            comment = char != "\n"
        elif quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            comment = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest
