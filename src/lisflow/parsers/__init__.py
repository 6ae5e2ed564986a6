"""Parsers of engine outputs (VASP, Bader, LOBSTER, CP2K) into small frozen result records.

Submodules: :mod:`.vasp`, :mod:`.bader`, :mod:`.bands`, :mod:`.lobster`, :mod:`.cp2k`.
This module only holds the file helpers they share (gzip-transparent lookup and reading).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from pathlib import Path
from typing import IO

from lisflow.errors import ParseError

COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")


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
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(path.suffix)
    if opener is None:
        return open(path, encoding="utf-8", errors="replace")
    return io.TextIOWrapper(opener(path, "rb"), encoding="utf-8", errors="replace")


def read_text(path: Path) -> str:
    """Whole text of a (possibly compressed) file; ParseError if it is missing or corrupt."""
    try:
        with open_text(path) as handle:
            return handle.read()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise ParseError(path, f"cannot read: {exc}") from exc
