"""Analysis windows of MD trajectories (times in ns, sampling in ps).

Paper 000 (Methods MD; Fig. 4e caption): the dense-phase statistics run from 42 to 82 ns at
350 K, counted every 10 ps and averaged every 1 ns. A window picks the frames
``start_ns <= t <= stop_ns`` (frame k at t = k · dt_ps, the first DCD frame at t = 0), every
``sample_every_ps``; ``average_every_ns`` block-averages time series.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from lisflow.errors import InputError

_EPS = 1e-9


@dataclass(frozen=True)
class AnalysisWindow:
    """Frames from ``start_ns`` to ``stop_ns`` (None: the end), every ``sample_every_ps``."""

    start_ns: float = 0.0
    stop_ns: float | None = None
    sample_every_ps: float | None = None
    average_every_ns: float | None = None

    def __post_init__(self) -> None:
        if self.start_ns < 0:
            raise InputError("analysis.start_ns", f"{self.start_ns}", ">= 0")
        if self.stop_ns is not None and self.stop_ns <= self.start_ns:
            raise InputError("analysis.stop_ns", f"{self.stop_ns}", f"> start_ns {self.start_ns}")
        for name in ("sample_every_ps", "average_every_ns"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InputError(f"analysis.{name}", f"{value}", "> 0")

    @classmethod
    def from_dict(cls, data: dict | None, time_scale: float = 1.0) -> AnalysisWindow:
        """Window of a study's ``analysis`` block; start/stop scaled by ``time_scale``
        (CI runs tiny versions of the protocol, the window shrinks with it)."""
        data = dict(data or {})
        stop = data.get("stop_ns")
        return cls(
            float(data.get("start_ns", 0.0)) * time_scale,
            None if stop is None else float(stop) * time_scale,
            data.get("sample_every_ps"),
            None if data.get("average_every_ns") is None
            else float(data["average_every_ns"]) * time_scale,
        )

    def frames(self, dt_ps: float, n_frames: int) -> tuple[int, int, int]:
        """``(start, stop, step)`` frame slice for frames written every ``dt_ps``."""
        if dt_ps <= 0:
            raise InputError("dt_ps", f"{dt_ps}", "> 0")
        step = 1
        if self.sample_every_ps is not None:
            ratio = self.sample_every_ps / dt_ps
            step = round(ratio)
            if step < 1 or abs(ratio - step) > 1e-6:
                raise InputError(
                    "analysis.sample_every_ps",
                    f"{self.sample_every_ps} ps with frames every {dt_ps} ps",
                    "a whole multiple of the dump interval",
                )
        start = math.ceil(self.start_ns * 1000.0 / dt_ps - _EPS)
        stop = n_frames
        if self.stop_ns is not None:
            stop = min(n_frames, math.floor(self.stop_ns * 1000.0 / dt_ps + _EPS) + 1)
        if stop - start < 1:
            raise InputError(
                "analysis window",
                f"{self.start_ns}-{self.stop_ns} ns holds no frame of a "
                f"{(n_frames - 1) * dt_ps / 1000.0:.4g} ns trajectory",
            )
        return start, stop, step

    def scalars(self, dt_ps: float, n_frames: int) -> dict[str, tuple[float, str]]:
        """What the stored statistics used: window start/stop (ns) and sampling (ps)."""
        start, stop, step = self.frames(dt_ps, n_frames)
        return {
            "window_start_ns": (start * dt_ps / 1000.0, "ns"),
            "window_stop_ns": ((stop - 1) * dt_ps / 1000.0, "ns"),
            "window_sample_ps": (step * dt_ps, "ps"),
            "window_n_frames": (float(len(range(start, stop, step))), "frames"),
        }

    def to_dict(self) -> dict:
        return asdict(self)


def block_average(x_ps: np.ndarray, y: np.ndarray, every_ns: float) -> tuple[np.ndarray, np.ndarray]:
    """Means of ``y`` over consecutive blocks of ``every_ns`` starting at ``x_ps[0]``
    (returned x: block centre, ps). Incomplete blocks (fewer samples than a full block) are
    dropped, e.g. the single frame at 82.00 ns of a 42-82 ns window sampled every 10 ps."""
    x_ps, y = np.asarray(x_ps, float), np.asarray(y, float)
    if len(x_ps) < 2:
        return np.array([]), np.array([])
    width = every_ns * 1000.0
    dt = float(np.median(np.diff(x_ps)))
    full = max(1, round(width / dt))
    index = np.floor((x_ps - x_ps[0]) / width + _EPS).astype(int)
    xs, ys = [], []
    for b in range(int(index.max()) + 1):
        mask = index == b
        if mask.sum() == full:
            xs.append(x_ps[0] + (b + 0.5) * width)
            ys.append(float(y[mask].mean()))
    return np.array(xs), np.array(ys)
