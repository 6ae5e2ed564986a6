"""Packmol inputs and runs for :class:`~lisflow.structures.md_boxes.MdSystem` boxes.

The PyPI ``packmol`` executable in the venv's ``bin/`` is used; packing is deterministic for
a fixed seed. Lengths Å.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from lisflow.errors import EngineError
from lisflow.fsutil import atomic_write_text
from lisflow.structures.md_charges import element_symbols
from lisflow.structures.md_memo import cart_coords, memo
from lisflow.structures.molecules import molecule


def packmol_binary() -> str:
    """The PyPI ``packmol`` executable next to the running Python (venv ``bin/``), else PATH."""
    local = Path(sys.executable).parent / "packmol"
    found = str(local) if local.is_file() else shutil.which("packmol")
    if not found:
        raise EngineError("packmol executable not found (pip install packmol)")
    return found


def write_pack_inputs(system, workdir: Path) -> Path:
    """Write the molecule xyz files, the electrode xyz (for viewing) and ``packmol.inp``."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for name in dict.fromkeys(system.species_order):
        mol = molecule(name)
        rows = [
            f"{s.specie} {x:.6f} {y:.6f} {z:.6f}"
            for s, (x, y, z) in zip(mol, mol.cart_coords, strict=True)
        ]
        atomic_write_text(workdir / f"{name}.xyz", f"{len(mol)}\n{name}\n" + "\n".join(rows) + "\n")
    if system.electrode is not None:
        atomic_write_text(workdir / "electrode.xyz", electrode_xyz(system.electrode))
    return atomic_write_text(workdir / "packmol.inp", system.packmol_input())


def electrode_xyz(electrode) -> str:
    """xyz text of an electrode (Å, 6 decimals). Inside
    :func:`lisflow.structures.md_memo.cached_builds` each distinct text is formatted once
    (keyed by a digest of the symbols and coordinate bits: the systems of one dry-run that
    share an electrode differ only in its charges)."""
    symbols, xyz = element_symbols(electrode), cart_coords(electrode)
    digest = hashlib.sha256(xyz.tobytes() + "\0".join(symbols).encode()).hexdigest()
    return memo(("electrode_xyz", len(symbols), digest), lambda: _xyz_text(symbols, xyz), str)


def _xyz_text(symbols: list[str], xyz) -> str:
    rows = [  # (Python floats format as numpy's do, faster)
        f"{s} {x:.6f} {y:.6f} {z:.6f}" for s, (x, y, z) in zip(symbols, xyz.tolist(), strict=True)
    ]
    return f"{len(symbols)}\nelectrode\n" + "\n".join(rows) + "\n"


def run_packmol(system, workdir: Path, progress=None) -> Path:
    """Write the inputs and run packmol in ``workdir``; return the packed xyz (region order).

    ``progress`` (optional callable taking one line of packmol output) shows progress.
    """
    workdir = Path(workdir)
    inp = write_pack_inputs(system, workdir)
    with inp.open() as stdin, (workdir / "packmol.log").open("w") as log:
        proc = subprocess.Popen(
            [packmol_binary()],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if progress is not None:
                progress(line.rstrip())
        rc = proc.wait()
    packed = workdir / "packed.xyz"
    if rc != 0 or not packed.is_file():
        raise EngineError(f"packmol failed in {workdir} (exit {rc}); see packmol.log")
    return packed
