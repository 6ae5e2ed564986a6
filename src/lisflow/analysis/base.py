"""Streaming trajectory analyses: MDAnalysis ``AnalysisBase`` hooks driven by one shared pass.

Every analysis here subclasses :class:`StreamingAnalysis` (itself an MDAnalysis
``AnalysisBase``), so it can run alone with ``.run()``; :func:`run_analyses` instead reads the
trajectory ONCE and feeds every analysis each frame. Analyses keep only per-frame scalars and
fixed-size accumulators in memory, never per-frame copies of all atoms.

Units: length Å, time ps (MDAnalysis conventions).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from MDAnalysis.analysis.base import AnalysisBase

from lisflow.errors import InputError

#: ``(analysis, quantity) -> (x, y, x_unit, y_unit)``, the shape of ``ParsedResult.series``.
Series = dict[tuple[str, str], tuple[np.ndarray, np.ndarray, str, str]]


class StreamingAnalysis(AnalysisBase):
    """An ``AnalysisBase`` whose results are plain arrays plus :meth:`to_series`.

    Subclasses implement ``_prepare`` / ``_single_frame`` / ``_conclude`` and read the current
    frame from ``self._ts`` and ``self._frame_index``.
    """

    name: str = "analysis"  # per instance where one class runs with several settings
    #: Set by :func:`run_analyses` for its pass: per-frame values shared by all analyses.
    _frame_cache: FrameCache | None = None

    def _positions(self, atomgroup) -> np.ndarray:
        """Current positions (Å, float32, n × 3) of ``atomgroup``; inside a shared pass one
        read-only array per frame for all analyses (do not keep it past the frame)."""
        if self._frame_cache is None:
            return atomgroup.positions
        return self._frame_cache.positions(atomgroup)

    def _box(self) -> np.ndarray:
        """Orthorhombic box lengths (Å) of the current frame (InputError if triclinic/absent)."""
        if self._frame_cache is None:
            return orthorhombic_box(self._ts.dimensions)
        return self._frame_cache.shared(("box",), lambda: orthorhombic_box(self._ts.dimensions))

    def _shared(self, key: tuple, compute):
        """``compute()`` of the current frame, computed once per frame for the whole pass."""
        if self._frame_cache is None:
            return compute()
        return self._frame_cache.shared(key, compute)

    def to_series(self) -> Series:
        """Results as ``{(analysis, quantity): (x, y, x_unit, y_unit)}``."""
        raise NotImplementedError


class FrameCache:
    """Per-frame values shared by the analyses of one pass (positions of a selection, box,
    derived quantities), cleared whenever the pass moves to the next frame."""

    def __init__(self) -> None:
        self._values: dict = {}
        self._layout: dict[int, tuple] = {}  # id(atomgroup) -> (atomgroup, slice | None)

    def next_frame(self) -> None:
        self._values.clear()

    def shared(self, key: tuple, compute):
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]

    def positions(self, atomgroup) -> np.ndarray:
        """Read-only positions of ``atomgroup``: a view of the frame for a contiguous index
        range (no copy), else one gather per frame."""
        key = ("positions", id(atomgroup))
        found = self._values.get(key)
        if found is not None:
            return found
        layout = self._layout.get(id(atomgroup))
        if layout is None or layout[0] is not atomgroup:
            ix = atomgroup.ix
            run = len(ix) > 0 and int(ix[-1]) - int(ix[0]) + 1 == len(ix)
            run = run and bool(np.all(np.diff(ix) == 1))
            layout = (atomgroup, slice(int(ix[0]), int(ix[-1]) + 1) if run else ix)
            self._layout[id(atomgroup)] = layout
        frame = atomgroup.universe.trajectory.ts.positions
        if isinstance(layout[1], slice):
            found = frame[layout[1]].view()
        else:  # np.take: same values as frame[ix], ~4x faster on 18,360 of 150,000 atoms
            found = np.take(frame, layout[1], axis=0)
        found.flags.writeable = False
        self._values[key] = found
        return found


def numba_threads() -> int:
    """Threads of numba's parallel loops (NUMBA_NUM_THREADS), starting its pool on first use.

    numba's OpenMP threads (libgomp) busy-wait after each parallel region by default; on a
    shared machine that spinning takes the CPU the rest of the pass and other jobs need
    (with freud in the same pass on a loaded 2-core machine, the clustering median fell from
    10.4 to 6.7 ms/frame with passive waiting). So the pool starts under
    ``OMP_WAIT_POLICY=PASSIVE`` unless the user set a policy, and the variable is removed
    again: libraries loaded later (e.g. torch's own OpenMP) see the environment unchanged.
    """
    import os

    import numba

    if "OMP_WAIT_POLICY" in os.environ:
        return numba.get_num_threads()
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        return numba.get_num_threads()  # starts the pool: libgomp reads the policy now
    finally:
        os.environ.pop("OMP_WAIT_POLICY", None)


def orthorhombic_box(dimensions: np.ndarray | None, field_name: str = "box") -> np.ndarray:
    """Box lengths (Å) of an orthorhombic cell; raises InputError for a triclinic/missing box."""
    if dimensions is None or not np.all(np.asarray(dimensions[:3]) > 0):
        raise InputError(field_name, "the trajectory has no periodic box", "orthorhombic box")
    if not np.allclose(dimensions[3:6], 90.0, atol=1e-3):
        raise InputError(
            field_name, f"triclinic box angles {dimensions[3:6]}", "orthorhombic (90/90/90)"
        )
    return np.asarray(dimensions[:3], dtype=np.float64)


def save_series(store, calc_id: str, series: Series) -> int:
    """Store every series of ``calc_id`` through ``ResultStore.store_series``; returns points."""
    return sum(
        store.store_series(calc_id, analysis, quantity, x, y, x_unit, y_unit)
        for (analysis, quantity), (x, y, x_unit, y_unit) in series.items()
    )


@dataclass
class StreamReport:
    """What one shared pass cost: median seconds per frame of reading and of each analysis'
    ``_single_frame``, seconds of each ``_conclude``, and the wall time of the whole pass; the
    ``min_`` fields hold the fastest frame (the cost without waiting for a shared core)."""

    n_frames: int
    read_s_per_frame: float
    s_per_frame: dict[str, float] = field(default_factory=dict)
    conclude_s: dict[str, float] = field(default_factory=dict)
    total_s: float = 0.0
    min_read_s_per_frame: float = 0.0
    min_s_per_frame: dict[str, float] = field(default_factory=dict)


def run_analyses(
    universe,
    analyses: list[AnalysisBase],
    start: int | None = None,
    stop: int | None = None,
    step: int | None = None,
    progress: bool = True,
    frames: np.ndarray | None = None,
    times: np.ndarray | None = None,
) -> StreamReport:
    """Iterate ``universe.trajectory[start:stop:step]`` once, feeding every analysis each frame.

    Any MDAnalysis ``AnalysisBase`` with the usual hooks can join the pass (a name is taken
    from its ``name`` attribute or class). ``frames`` (indices, instead of start/stop/step)
    and ``times`` (ps, one per frame; default the reader's) serve runs read across restart
    segments (:mod:`lisflow.analysis.segments`). Returns a :class:`StreamReport`.
    """
    if times is not None and (frames is None or len(times) != len(frames)):
        raise InputError("times", "one time per frame of frames= is needed")
    if not analyses:
        raise InputError("analyses", "no analysis given", "clusters,msd,slices,surface,dense")
    traj = universe.trajectory
    cache = FrameCache()
    for analysis in analyses:
        if isinstance(analysis, StreamingAnalysis):
            analysis._frame_cache = cache
        if not hasattr(analysis, "name"):
            analysis.name = type(analysis).__name__
        if analysis._trajectory is not traj:
            raise InputError("analyses", f"{analysis.name} belongs to another universe")
        if frames is None:
            analysis._setup_frames(traj, start, stop, step)
        else:
            analysis._setup_frames(traj, frames=frames)
        analysis._prepare()
    sliced = traj[start:stop:step] if frames is None else traj[np.asarray(frames)]
    n_frames = len(sliced)
    frame_times = np.zeros((n_frames, len(analyses)))
    read_times = np.zeros(n_frames)
    t_begin = time.perf_counter()
    progress_bar = _progress(progress, n_frames)
    iterator = iter(sliced)
    try:
        for index in range(n_frames):
            t0 = time.perf_counter()
            ts = next(iterator)
            read_times[index] = time.perf_counter() - t0
            cache.next_frame()
            for column, analysis in enumerate(analyses):
                t1 = time.perf_counter()
                analysis._frame_index = index
                analysis._ts = ts
                analysis.frames[index] = ts.frame
                analysis.times[index] = ts.time if times is None else times[index]
                analysis._single_frame()
                frame_times[index, column] = time.perf_counter() - t1
            if progress_bar is not None:
                progress_bar[0].update(progress_bar[1], advance=1)
    except BaseException:
        for analysis in analyses:  # e.g. remove the MSD's temporary coordinate file
            getattr(analysis, "_abort", lambda: None)()
        raise
    finally:
        if progress_bar is not None:
            progress_bar[0].stop()
        cache.next_frame()
        for analysis in analyses:
            if isinstance(analysis, StreamingAnalysis):
                analysis._frame_cache = None
    report = StreamReport(
        n_frames=n_frames,
        read_s_per_frame=float(np.median(read_times)) if n_frames else 0.0,
        min_read_s_per_frame=float(read_times.min()) if n_frames else 0.0,
    )
    for column, analysis in enumerate(analyses):
        t0 = time.perf_counter()
        analysis._conclude()
        report.conclude_s[analysis.name] = time.perf_counter() - t0
        report.s_per_frame[analysis.name] = (
            float(np.median(frame_times[:, column])) if n_frames else 0.0
        )
        report.min_s_per_frame[analysis.name] = (
            float(frame_times[:, column].min()) if n_frames else 0.0
        )
    report.total_s = time.perf_counter() - t_begin
    return report


def _progress(enabled: bool, total: int):
    """A started rich progress bar and its task id, or None."""
    if not enabled:
        return None
    from rich.progress import BarColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        "{task.completed}/{task.total} frames",
        TimeRemainingColumn(),
        transient=True,
    )
    task = bar.add_task("analysing", total=total)
    bar.start()
    return bar, task
