"""The frames of a LAMMPS run continued from restart files, read as one trajectory.

A run killed at its walltime (or restarted by an error handler) continues from its newest
``restart.<S>`` file into a new DCD, ``traj.<S>.dcd`` (:func:`lisflow.io.lammps.trajectory_name`);
the killed segment ``traj.dcd`` holds frames past S that the continuation recomputes. As for
the thermo rows (:meth:`lisflow.parsers.lammps_log.LammpsLog.series`), a later segment
supersedes every earlier frame from its restart step on, so each step appears once and in
order. The segments and their time steps come from the run state ``lisflow_md.json``
(``segments``: ``[{from_step, dt_fs}]``); each frame's MD step is ``ISTART + k · NSAVC`` from
its DCD header (LAMMPS writes the first dumped step and the dump interval there) and its time
(ps) follows from the steps and time steps of the segments before it.

The segments are read through one MDAnalysis ``ChainReader`` (one open file per segment, one
frame in memory at a time): :class:`SegmentedRun` lists the kept global frame indices and
their steps and times; nothing is copied or concatenated on disk.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lisflow.errors import ParseError

STATE = "lisflow_md.json"
TRAJECTORY = "traj.dcd"


@dataclass(frozen=True)
class Segment:
    """One DCD of a run: its file, first step of the segment, time step (fs), frame steps."""

    path: Path
    from_step: int
    dt_fs: float
    steps: np.ndarray  # MD step of each frame in the file


@dataclass(frozen=True)
class SegmentedRun:
    """Kept frames of all segments in order: global ChainReader index, step, time (ps)."""

    segments: tuple[Segment, ...]
    frames: np.ndarray
    steps: np.ndarray
    times_ps: np.ndarray

    @property
    def paths(self) -> list[Path]:
        return [s.path for s in self.segments]

    @property
    def n_frames(self) -> int:
        return len(self.frames)


def dcd_steps(path: Path, n_frames: int) -> np.ndarray:
    """MD steps of the ``n_frames`` frames of a DCD (header ISTART, NSAVC; CHARMM layout)."""
    with open(path, "rb") as handle:
        head = handle.read(4 + 4 + 12)
    if len(head) < 20 or head[4:8] != b"CORD":
        raise ParseError(path, "not a DCD file (no CORD header)")
    (marker,) = struct.unpack("<i", head[:4])
    endian = "<" if marker == 84 else ">"
    _nset, istart, nsavc = struct.unpack(endian + "3i", head[8:20])
    if nsavc <= 0:
        raise ParseError(path, f"DCD header has dump interval NSAVC = {nsavc}")
    return istart + nsavc * np.arange(n_frames, dtype=np.int64)


def _elapsed_ps(segments: list[dict], step: int) -> float:
    """Simulated time (ps) at ``step`` from the ``[{from_step, dt_fs}]`` segments."""
    t = 0.0
    for i, seg in enumerate(segments):
        end = segments[i + 1]["from_step"] if i + 1 < len(segments) else None
        last = step if end is None else min(step, end)
        if last > seg["from_step"]:
            t += (last - seg["from_step"]) * seg["dt_fs"] / 1000.0
        if end is not None and step <= end:
            break
    return t


def run_segments(directory: Path, n_frames_of) -> SegmentedRun | None:
    """The segments of the run in ``directory`` and the frames to keep; None without a DCD.

    ``n_frames_of(path)`` gives the number of complete frames of one DCD (the reader's count).
    Segments listed in the state but without a DCD (killed before the first dump) are skipped.
    """
    directory = Path(directory)
    state_path = directory / STATE
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    default_dt = float(state.get("params", {}).get("timestep_fs", 1.0))
    listed = state.get("segments") or [{"from_step": 0, "dt_fs": default_dt}]
    segments: list[Segment] = []
    for seg in listed:
        start = int(seg["from_step"])
        path = directory / (TRAJECTORY if start == 0 else f"traj.{start}.dcd")
        if not path.is_file():
            continue
        n = n_frames_of(path)
        segments.append(Segment(path, start, float(seg["dt_fs"]), dcd_steps(path, n)))
    if not segments:
        return None
    frames, steps = [], []
    offset = 0
    for i, seg in enumerate(segments):
        cut = segments[i + 1].from_step if i + 1 < len(segments) else None
        for k, step in enumerate(seg.steps):
            if cut is None or step < cut:
                frames.append(offset + k)
                steps.append(int(step))
        offset += len(seg.steps)
    steps_arr = np.asarray(steps, dtype=np.int64)
    if len(steps_arr) > 1 and not np.all(np.diff(steps_arr) > 0):
        raise ParseError(
            directory, "trajectory segments overlap after superseding (steps not increasing)"
        )
    times = np.array([_elapsed_ps(listed, int(s)) for s in steps_arr])
    return SegmentedRun(tuple(segments), np.asarray(frames, dtype=np.int64), steps_arr, times)


def load_run_universe(directory: Path, data: Path):
    """(Universe over every DCD segment in order, :class:`SegmentedRun`) of the run in
    ``directory``; (None, None) without a trajectory. One segment: a plain block-DCD reader."""
    import MDAnalysis as mda

    from lisflow.analysis.dcdblock import FORMAT

    def count(path: Path) -> int:
        from lisflow.analysis.dcdblock import BlockDCDReader

        reader = BlockDCDReader(str(path))
        try:
            return reader.n_frames
        finally:
            reader.close()

    run = run_segments(directory, count)
    if run is None:
        return None, None
    files = [str(p) for p in run.paths]
    universe = mda.Universe(
        str(data),
        files if len(files) > 1 else files[0],
        topology_format="DATA",
        atom_style="id resid type charge x y z",
        format=FORMAT,
    )
    return universe, run
