"""DCD reader that reads only the atoms the analyses need (e.g. the S block), not whole frames.

A DCD frame stores the unit cell, then all x, then all y, then all z (Fortran records of
float32). With :meth:`BlockDCDReader.read_only` set to some atom indices, each frame reads the
unit cell and, per axis, the contiguous index ranges covering those atoms (``os.pread``, no
seek state) straight into the timestep; every other atom's position is NaN, so nothing can
silently use a stale value.
Without it, or for files this layout does not cover (fixed atoms, 4-D, other byte order), it
reads whole frames like MDAnalysis' ``DCDReader``. 150,000 atoms of which 18,360 S + 2,000
electrode: 14 % of the bytes per frame.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
from MDAnalysis.coordinates.DCD import DCDReader

#: MDAnalysis format name of :class:`BlockDCDReader` (``mda.Universe(..., format=FORMAT)``).
FORMAT = "LISFLOW_DCD"
_MARKER = np.dtype("<i4")
#: Merge two index ranges when the gap between them is at most this many atoms (one read).
_MERGE_GAP = 4096


class _Frame(NamedTuple):
    xyz: np.ndarray
    unitcell: np.ndarray


def index_ranges(indices: np.ndarray, merge_gap: int = _MERGE_GAP) -> list[tuple[int, int]]:
    """Sorted half-open ranges ``[start, stop)`` covering ``indices`` (gaps <= merge_gap merged)."""
    idx = np.unique(np.asarray(indices, dtype=np.int64))
    if len(idx) == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > merge_gap + 1)
    starts = np.r_[idx[0], idx[breaks + 1]]
    stops = np.r_[idx[breaks], idx[-1]] + 1
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


class BlockDCDReader(DCDReader):
    """``DCDReader`` that can restrict reading to the blocks of atoms holding given indices."""

    format = FORMAT

    def __init__(self, filename, **kwargs) -> None:
        super().__init__(filename, **kwargs)
        self._ranges: list[tuple[int, int]] | None = None
        self._fd: int | None = None

    def read_only(self, indices) -> bool:
        """Read only the atoms in ``indices`` (plus neighbours in their ranges) from now on;
        the others become NaN. Returns False (whole frames stay) if the layout is unsupported."""
        f = self._file
        n = self.n_atoms
        cell = 56 if f.header["is_periodic"] else 0
        plain = f.ndims == 3 and f._firstframesize == f._framesize == cell + 3 * (4 * n + 8)
        if not plain or not self._markers_ok(cell):
            return False
        self._ranges = index_ranges(indices)
        self._cell = cell
        self._xyz = np.full((n, 3), np.nan, dtype=np.float32)
        self._frame_to_ts(self._read_blocks(self.ts.frame), self.ts)
        return True

    def _markers_ok(self, cell: int) -> bool:
        """Little-endian record markers where this layout expects them (frame 0)."""
        fd = self._descriptor()
        start = self._file._header_size
        want = [(start + cell, 4 * self.n_atoms)] + ([(start, 48)] if cell else [])
        return all(
            int(np.frombuffer(os.pread(fd, 4, offset), _MARKER)[0]) == value
            for offset, value in want
        )

    def _descriptor(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.filename, os.O_RDONLY)
        return self._fd

    def _read_blocks(self, i: int, xyz: np.ndarray | None = None) -> _Frame:
        """Frame ``i``'s unit cell and the atom ranges' coordinates, written into ``xyz``
        (n_atoms × 3 float32; default the reader's NaN-initialised buffer)."""
        xyz = self._xyz if xyz is None else xyz
        if self._ranges is None:
            raise RuntimeError(f"{self.filename}: block reads need the atom ranges of a stream")
        f, fd, n = self._file, self._descriptor(), self.n_atoms
        offset = f._header_size + (0 if i == 0 else f._firstframesize + f._framesize * (i - 1))
        unitcell = np.zeros(6)
        if self._cell:
            unitcell = np.frombuffer(os.pread(fd, 48, offset + 4), np.float64).copy()
        record = 4 * n + 8
        for axis in range(3):
            base = offset + self._cell + axis * record + 4
            for start, stop in self._ranges:
                data = os.pread(fd, 4 * (stop - start), base + 4 * start)
                if len(data) != 4 * (stop - start):
                    raise OSError(f"{self.filename}: frame {i} is truncated")
                xyz[start:stop, axis] = np.frombuffer(data, np.float32)
        return _Frame(xyz, unitcell)

    def _read_next_timestep(self, ts=None):
        if self._ranges is None:
            return super()._read_next_timestep(ts)
        if self._frame == self.n_frames - 1:
            raise OSError("trying to go over trajectory limit")
        ts = self.ts if ts is None else ts  # in place: a stream needs no per-frame copy
        # straight into the reader's own timestep (no copy of the whole frame): its other
        # atoms keep the NaN that read_only() gave them; another timestep gets a full copy
        frame = self._read_blocks(self._frame + 1, ts.positions if ts is self.ts else None)
        self._frame += 1
        self._frame_to_ts(frame, ts)
        ts.data["step"] = self._frame + 1
        self.ts = ts
        return ts

    def close(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)
            self._fd = None
        super().close()


def read_only(universe, *atomgroups) -> bool:
    """Restrict a :class:`BlockDCDReader` trajectory to the atoms of ``atomgroups``; False if
    the trajectory is another reader or its layout is unsupported (whole frames are read)."""
    reader = universe.trajectory
    indices = np.concatenate([ag.indices for ag in atomgroups if ag is not None])
    parts = getattr(reader, "readers", None)  # ChainReader of restart segments
    if parts is not None:
        return all([isinstance(r, BlockDCDReader) and r.read_only(indices) for r in parts])
    if not isinstance(reader, BlockDCDReader):
        return False
    return reader.read_only(indices)
