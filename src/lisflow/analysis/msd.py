"""Mean squared displacement, 3-D or along one axis (paper 000, eq. 8), in one streaming pass.

Memory approach: the stream writes each frame's (unwrapped) coordinates of the selected atoms
to a temporary binary file on disk (``n_frames × n_atoms × n_dims``; float32 as read, float64
when unwrapping accumulates), nothing else.
``_conclude`` then reads it back block by block (plain reads, no mmap) and runs the FFT MSD with all time origins
(Calandrini et al., Collection SFN 12, 201 (2011); the algorithm of MDAnalysis
``EinsteinMSD(fft=True)``) over blocks of atoms sized so that one block needs at most
``memory_budget_mb`` of RAM. Peak RAM is therefore ``memory_budget_mb`` + O(n_frames) scalars
+ one frame of the selection, whatever the trajectory length; the disk file is removed after.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import scipy.fft
from scipy import stats

from lisflow.analysis.base import Series, StreamingAnalysis, numba_threads
from lisflow.errors import InputError, ParseError

DIMENSIONS = {
    "xyz": [0, 1, 2],
    "xy": [0, 1],
    "xz": [0, 2],
    "yz": [1, 2],
    "x": [0],
    "y": [1],
    "z": [2],
}
#: 1 Å²/ps = 1e-16 cm² / 1e-12 s = 1e-4 cm²/s.
A2_PER_PS_TO_CM2_PER_S = 1.0e-4
#: Budget bytes per (frame × coordinate) of a block of atoms. It sets the blocks whose sums are
#: accumulated together, i.e. the floating-point summation order: keep it, or results change
#: in the last bits. Held per (frame × coordinate): raw coordinates (≤ 8) and x² (≤ 8), plus
#: FFT work arrays of :data:`_FFT_COLUMNS` columns, well within it.
_BYTES_PER_FRAME_COORD = 48


def msd_fft_sums(x: np.ndarray, workers: int = 1) -> np.ndarray:
    """Σ over columns of the all-origin MSD numerator of ``x`` (T × M), before dividing by T−m.

    Returns ``S(m) = Σ_cols Σ_k (x(k+m) − x(k))²`` for lags m = 0..T−1 (Å² when x is in Å).
    The autocorrelation part uses one zero-padded real FFT per column and, since only the sum
    over columns is needed, a single inverse FFT of the summed power spectrum.
    """
    n_t, n_cols = x.shape
    n_fft = scipy.fft.next_fast_len(2 * n_t, real=True)
    padded = np.zeros((min(n_cols, _FFT_COLUMNS), n_fft))
    return _fft_sums(x, np.square(x, dtype=np.float64), padded, workers)


#: Columns transformed per FFT call: padded input and spectrum (~2 × 16 B × T each) of a few
#: MB stay in cache; the summed spectrum does not depend on it (rows are added in order).
_FFT_COLUMNS = 1024


def _fft_sums(x: np.ndarray, squares: np.ndarray, padded: np.ndarray, workers: int):
    """:func:`msd_fft_sums` of ``x`` (T × M) given ``squares`` (T × M, x² in float64) and a
    zeroed ``padded`` work array (≤ M columns × n_fft), which this fills with transposed
    columns and leaves zero past row T; both can be reused block after block."""
    n_t, n_cols = x.shape
    sq = squares.sum(axis=1)
    # S1 part: Σ_k x(k+m)² + x(k)² = 2 Σ sq − Σ_{k<m} (sq[k] + sq[T−1−k])
    head_tail = np.concatenate(([0.0], np.cumsum(sq[: n_t - 1] + sq[::-1][: n_t - 1])))
    s1 = 2.0 * sq.sum() - head_tail
    # S2 part: Σ_cols Σ_k x(k) x(k+m) = irfft(Σ_cols |rfft(x_col)|²), columns in groups
    n_fft = padded.shape[1]
    power = np.zeros(n_fft // 2 + 1)
    for first in range(0, n_cols, padded.shape[0]):
        k = min(padded.shape[0], n_cols - first)
        padded[:k, :n_t] = x[:, first : first + k].T
        spectrum = scipy.fft.rfft(padded[:k], axis=-1, workers=workers)
        _add_power(spectrum, power, first == 0)
    acf = scipy.fft.irfft(power, n=n_fft)[:n_t]
    return s1 - 2.0 * acf


@numba.njit(cache=True)
def _add_power(spectrum, total, first):
    """Add Σ over rows of |spectrum|² (re² + im²) to ``total``, rows in order; ``first``:
    ``total`` starts as row 0 (numpy's axis-0 sum, continued over later groups of rows)."""
    n_rows, n_freq = spectrum.shape
    begin = 0
    if first:
        for f in range(n_freq):
            re, im = spectrum[0, f].real, spectrum[0, f].imag
            total[f] = re * re + im * im
        begin = 1
    for r in range(begin, n_rows):
        for f in range(n_freq):
            re, im = spectrum[r, f].real, spectrum[r, f].imag
            total[f] += re * re + im * im


def _read_atom_block(handle, out, n_atoms, first) -> np.ndarray:
    """Atoms ``first:first+m`` of every frame from the frame-major coordinate file into
    ``out[:, :m]`` (n_t × m × n_dims, the file's dtype); returns that view. Plain reads (no
    mmap), so mapped pages never count in RSS."""
    n_t, block, n_dims = out.shape
    m = min(block, n_atoms - first)
    itemsize = out.dtype.itemsize
    row = n_atoms * n_dims * itemsize
    for t in range(n_t):
        handle.seek(t * row + first * n_dims * itemsize)
        target = memoryview(out[t, :m]).cast("B")
        if handle.readinto(target) != target.nbytes:
            raise ParseError(handle.name, "temporary MSD coordinate file is truncated")
    return out[:, :m]


class MeanSquaredDisplacement(StreamingAnalysis):
    """MSD(t) = ⟨|r(t0+t) − r(t0)|²⟩ over atoms and all origins t0; Å² against lag time in ps.

    ``msd_type`` is ``"xyz"`` (3-D) or ``"z"`` (eq. 8) etc.; ``results.timeseries`` is the sum over its
    axes and ``results.timeseries_by_axis`` (n_frames × n_axes) the per-axis MSD, so one ``"xyz"`` pass
    also gives MSD_z. If ``unwrap`` is true the wrapped
    trajectory is unwrapped frame to frame in the stream (minimum image of each step; requires
    steps shorter than half the box). ``workdir`` holds the temporary coordinate file; ``workers``
threads run the FFTs.
    """

    name = "msd"

    def __init__(
        self,
        atomgroup,
        msd_type: str = "xyz",
        unwrap: bool = False,
        memory_budget_mb: float = 64.0,
        workdir: str | os.PathLike | None = None,
        workers: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(atomgroup.universe.trajectory, **kwargs)
        if msd_type not in DIMENSIONS:
            raise InputError("msd_type", f"unknown value {msd_type!r}", ", ".join(DIMENSIONS))
        if len(atomgroup) == 0:
            raise InputError("atomgroup", "selection is empty", "a non-empty selection")
        self.atomgroup = atomgroup
        self.msd_type = msd_type
        self.dims = DIMENSIONS[msd_type]
        self.unwrap = unwrap
        self.memory_budget_mb = float(memory_budget_mb)
        self.workdir = workdir
        # FFT threads (each column's transform is the same whatever the count); None: as many
        # as numba uses (NUMBA_NUM_THREADS), one knob for the whole pass
        self.workers = numba_threads() if workers is None else int(workers)
        self.name = f"msd_{msd_type}"

    def _prepare(self) -> None:
        fd, path = tempfile.mkstemp(prefix="lisflow_msd_", suffix=".f64", dir=self.workdir)
        self._path = Path(path)
        self._file = os.fdopen(fd, "wb")
        self._previous_wrapped: np.ndarray | None = None
        self._previous_unwrapped: np.ndarray | None = None

    def _single_frame(self) -> None:
        current = self._positions(self.atomgroup)
        if len(self.dims) < 3:
            current = current[:, self.dims]
        if self.unwrap:
            current = current.astype(np.float64)
            if self._previous_wrapped is not None:
                box = self._box()[self.dims]
                step = current - self._previous_wrapped
                step -= box * np.round(step / box)
                self._previous_wrapped = current
                current = self._previous_unwrapped + step
            else:
                self._previous_wrapped = current
            self._previous_unwrapped = current
        self._file.write(np.ascontiguousarray(current).data.cast("B"))

    def _abort(self) -> None:
        """Close and remove the temporary coordinate file after a failed pass."""
        self._file.close()
        self._path.unlink(missing_ok=True)

    def _conclude(self) -> None:
        self._file.close()
        n_t, n_atoms, n_dims = self.n_frames, len(self.atomgroup), len(self.dims)
        dtype = np.dtype(np.float64 if self.unwrap else np.float32)
        per_atom = max(1, n_t * n_dims * _BYTES_PER_FRAME_COORD)
        block = max(1, int(self.memory_budget_mb * 2**20 // per_atom))
        block = min(block, n_atoms)
        by_axis = np.zeros((n_t, n_dims))
        try:
            # buffers reused by every block: raw coordinates, x², zero-padded columns
            raw = np.empty((n_t, block, n_dims), dtype)
            squares = np.empty((n_t, block))
            n_fft = scipy.fft.next_fast_len(2 * n_t, real=True)
            padded = np.zeros((min(block, _FFT_COLUMNS), n_fft))
            with self._path.open("rb") as handle:
                for first in range(0, n_atoms, block):
                    chunk = _read_atom_block(handle, raw, n_atoms, first)
                    m = chunk.shape[1]
                    for axis in range(n_dims):
                        x = chunk[:, :, axis]
                        np.square(x, out=squares[:, :m], dtype=np.float64)
                        by_axis[:, axis] += _fft_sums(x, squares[:, :m], padded, self.workers)
            del raw, squares, padded
        finally:
            self._path.unlink(missing_ok=True)
        by_axis = by_axis / (n_t - np.arange(n_t))[:, None] / n_atoms
        by_axis[0] = 0.0  # by definition; the FFT leaves ~1e-14 round-off
        dt = float(self.times[1] - self.times[0]) if n_t > 1 else 0.0
        self.results.timeseries_by_axis = by_axis
        self.results.timeseries = by_axis.sum(axis=1)
        self.results.lagtimes = np.arange(n_t) * dt

    def axis_msd(self, axis: str) -> np.ndarray:
        """MSD (Å²) along one axis ``"x"``, ``"y"`` or ``"z"`` of this analysis' ``msd_type``."""
        index = DIMENSIONS[axis][0]
        if index not in self.dims:
            raise InputError(
                "axis", f"{axis!r} is not in msd_type {self.msd_type!r}", self.msd_type
            )
        return self.results.timeseries_by_axis[:, self.dims.index(index)]

    def to_series(self) -> Series:
        lags = self.results.lagtimes
        series = {(self.name, "msd"): (lags, self.results.timeseries, "ps", "Å^2")}
        if len(self.dims) > 1:
            for axis in self.msd_type:
                series[(self.name, f"msd_{axis}")] = (
                    lags,
                    self.axis_msd(axis),
                    "ps",
                    "Å^2",
                )
        return series


@dataclass(frozen=True)
class LinearFit:
    """Least-squares line y = slope·x + intercept over ``window`` (x units) with ``n_points``."""

    slope: float
    intercept: float
    r_squared: float
    window: tuple[float, float]
    n_points: int


def linear_fit(x: np.ndarray, y: np.ndarray, window: tuple[float, float] | None) -> LinearFit:
    """Fit y(x) over ``window = (start, end)`` (inclusive, x units; None = all points)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lo, hi = (float(x.min()), float(x.max())) if window is None else map(float, window)
    mask = (x >= lo) & (x <= hi) & np.isfinite(y)
    if mask.sum() < 2:
        raise InputError(
            "window", f"({lo}, {hi}) holds {int(mask.sum())} points", "a range with >= 2 points"
        )
    reg = stats.linregress(x[mask], y[mask])
    return LinearFit(
        float(reg.slope), float(reg.intercept), float(reg.rvalue**2), (lo, hi), int(mask.sum())
    )


def diffusion_coefficient(
    lagtimes_ps: np.ndarray,
    msd_a2: np.ndarray,
    dim: int,
    window: tuple[float, float] | None = None,
) -> tuple[float, LinearFit]:
    """Einstein D (cm²/s) = slope / (2·dim) of MSD (Å²) vs lag (ps) fitted over ``window`` (ps)."""
    if dim not in (1, 2, 3):
        raise InputError("dim", f"{dim}", "1, 2 or 3")
    fit = linear_fit(lagtimes_ps, msd_a2, window)
    return fit.slope / (2 * dim) * A2_PER_PS_TO_CM2_PER_S, fit
