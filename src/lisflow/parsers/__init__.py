"""Parsers of engine outputs (VASP, Bader, LOBSTER, CP2K) into small frozen result records.

Submodules: :mod:`.vasp`, :mod:`.bader`, :mod:`.bands`, :mod:`.lobster`, :mod:`.cp2k`.
This module only holds the file helpers they share (gzip-transparent lookup and reading).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, Literal, overload

import numpy as np

from lisflow.errors import ParseError

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")


@overload
def find_output(run_dir: Path, name: str, required: Literal[True] = True) -> Path: ...
@overload
def find_output(run_dir: Path, name: str, required: bool) -> Path | None: ...
def find_output(run_dir: Path, name: str, required: bool = True) -> Path | None:
    """Return ``run_dir/name`` or its compressed twin (``name.gz``/``.bz2``/``.xz``).

    Raises :class:`ParseError` naming the expected file when ``required`` and none exists.
    """
    run_dir = Path(run_dir)
    for candidate in [run_dir / name] + [run_dir / f"{name}{s}" for s in COMPRESSED_SUFFIXES]:
        if candidate.is_file():
            return candidate
    if required:
        raise ParseError(run_dir / name, "file not found (also looked for .gz/.bz2/.xz)")
    return None


def open_text(path: Path) -> IO[str]:
    """Open a text file for reading, decompressing ``.gz``/``.bz2``/``.xz`` transparently."""
    path = Path(path)
    if not path.is_file():
        raise ParseError(path, "file not found")
    openers: dict[str, Callable[..., Any]] = {
        ".gz": gzip.open,
        ".bz2": bz2.open,
        ".xz": lzma.open,
    }
    opener = openers.get(path.suffix)
    if opener is None:
        return open(path, encoding="utf-8", errors="replace")
    return io.TextIOWrapper(opener(path, "rb"), encoding="utf-8", errors="replace")


def read_text(path: Path) -> str:
    """Whole text of a (possibly compressed) file; ParseError if it is missing or corrupt
    (unreadable, or holding bytes that are not text: see :func:`check_text`)."""
    try:
        with open_text(path) as handle:
            text = handle.read()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise ParseError(path, f"cannot read: {exc}") from exc
    check_text(path, text)
    return text


#: NUL and other C0 control characters (tab, newline, carriage return, form feed allowed).
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def check_text(path: Path, text: str) -> None:
    """Refuse text with bytes that were not valid UTF-8 (decoded as U+FFFD) or with control
    characters: engine outputs are plain text, so such bytes mean a corrupt file."""
    bad = text.find("\ufffd")
    if bad < 0 and (match := _CONTROL.search(text)) is not None:
        bad = match.start()
    if bad >= 0:
        line = text.count("\n", 0, bad) + 1
        raise ParseError(path, f"corrupt file: non-text byte on line {line}")


def check_file_text(path: Path, chunk_chars: int = 1 << 22) -> None:
    """:func:`check_text` on a (possibly compressed, possibly large) file, read in chunks."""
    try:
        with open_text(path) as handle:
            offset_lines = 0
            while chunk := handle.read(chunk_chars):
                try:
                    check_text(path, chunk)
                except ParseError:
                    bad = _first_bad(chunk)
                    line = offset_lines + chunk.count("\n", 0, bad) + 1
                    raise ParseError(path, f"corrupt file: non-text byte on line {line}") from None
                offset_lines += chunk.count("\n")
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise ParseError(path, f"cannot read: {exc}") from exc


def _first_bad(text: str) -> int:
    positions = [text.find("\ufffd")]
    if (match := _CONTROL.search(text)) is not None:
        positions.append(match.start())
    return min(p for p in positions if p >= 0)


def to_float(path: Path, token: str, what: str) -> float:
    """A finite float from ``token`` (Fortran ``D`` exponents allowed); ParseError naming
    ``path`` and ``what`` for ``*****`` overflow fields, NaN, inf or garbage."""
    try:
        value = float(token.replace("D", "E").replace("d", "e"))
    except ValueError:
        raise ParseError(path, f"{what}: not a number ({token[:20]!r})") from None
    if not math.isfinite(value):
        raise ParseError(path, f"{what}: non-finite value {token[:20]!r}")
    return value


def require_finite(path: Path, values: Iterable[float | None] | float | None, what: str) -> None:
    """ParseError naming ``path`` and ``what`` if any value is NaN or infinite (None is skipped)."""
    if values is None or isinstance(values, int | float):
        values = [values]
    array = np.asarray([v for v in values if v is not None], dtype=float)
    if array.size and not np.isfinite(array).all():
        bad = array[~np.isfinite(array)].flat[0]
        raise ParseError(path, f"{what}: non-finite value {bad}")
