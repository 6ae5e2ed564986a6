"""z-resolved analyses of an electrolyte on an electrode (paper 000, Fig. 4e,f and ED Fig. 8d,e).

- :class:`SliceChargeDensity`: S6²⁻ centres counted in 0.5 Å slices along z each frame,
  averaged per 1 ns block, ρ_Q = q_S6 · Σ n_S6 / V_slice with q_S6 = 2 e (eq. 9).
- :class:`SurfaceSulfurCount`: S atoms with z in [0, 15] Å above the electrode surface.
- :class:`DensePhaseDistance`: z-distance of the dense phase from the electrode surface.

The electrode surface is the topmost atomic plane of the electrode in each frame
(:func:`surface_z`: the graphene sheet of Mo NCs/N-G, the top Ti layer). Memory: one
frame of the selections plus fixed-size accumulators (one profile per finished block).
"""

from __future__ import annotations

import numba
import numpy as np

from lisflow.analysis.base import Series, StreamingAnalysis, orthorhombic_box
from lisflow.errors import InputError

#: Slice width, Å (paper 000, Methods, eq. 9: "0.5 Å slices").
SLICE_WIDTH_A = 0.5
#: Averaging block, ps (paper 000, Methods: "averaged every 1 ns").
BLOCK_PS = 1000.0
#: Charge of one S6 centre, e (paper 000, eq. 9: q_S6 = 2).
Q_S6_E = 2.0
#: Surface shell, Å above the electrode's top atomic plane (paper 000, Methods: "z coordinate
#: 0–15 Å"; measured from the sheet / top-layer plane, :func:`surface_z`).
SURFACE_SHELL_A = (0.0, 15.0)
#: Atoms per S6 unit.
S_PER_S6 = 6


def group_indices(sulfur, grouping: str, group_size: int = S_PER_S6) -> np.ndarray:
    """Indices into ``sulfur`` arranged (n_groups, group_size): one row per S6 unit.

    ``grouping="residues"`` groups by residue (molecule ID of a LAMMPS data file);
    ``"consecutive"`` takes consecutive runs of ``group_size`` atoms in selection order.
    """
    n = len(sulfur)
    if grouping == "consecutive":
        if n % group_size:
            raise InputError("sulfur", f"{n} atoms is not a multiple of {group_size}")
        return np.arange(n).reshape(-1, group_size)
    if grouping == "residues":
        resids = sulfur.resindices
        order = np.argsort(resids, kind="stable")
        _, counts = np.unique(resids, return_counts=True)
        if not np.all(counts == group_size):
            raise InputError(
                "sulfur", f"residues hold {sorted(set(counts.tolist()))} S atoms", f"{group_size}"
            )
        return order.reshape(-1, group_size)
    raise InputError("grouping", f"unknown value {grouping!r}", "residues, consecutive")


def group_centres_z(z: np.ndarray, groups: np.ndarray, box_z: float | None) -> np.ndarray:
    """z of the geometric centre (= centre of mass, all S) of each group, made whole by
    minimum image along z (x and y do not change a centre's z)."""
    zg = z[groups].astype(np.float64)
    delta = zg - zg[:, :1]
    if box_z is not None:
        delta -= box_z * np.round(delta / box_z)
    return zg[:, 0] + delta.mean(axis=1)


@numba.njit(cache=True)
def _slice_counts(z, groups, box_z, z0, bin_width, n_bins):
    """Centres per slice: :func:`group_centres_z` (periodic z) binned from ``z0`` in
    ``bin_width`` slices, in one loop with the same float64 operations in the same order."""
    counts = np.zeros(n_bins, np.int64)
    size = groups.shape[1]
    for g in range(groups.shape[0]):
        first = np.float64(z[groups[g, 0]])
        total = 0.0
        for j in range(1, size):
            delta = np.float64(z[groups[g, j]]) - first
            total += delta - box_z * np.rint(delta / box_z)
        slot = np.floor((first + total / size - z0) / bin_width)
        if slot >= 0 and slot < n_bins:
            counts[int(slot)] += 1
    return counts


class SliceChargeDensity(StreamingAnalysis):
    """Charge density ρ_Q (e/Å³) of S6²⁻ centres in z slices, averaged per ``block_ps`` block.

    Each centre is the geometric centre of ``group_size`` S atoms (one S6 unit, made whole by
    minimum image). Slices of ``bin_width`` Å span ``z_range`` (default: 0 to the first frame's box z). The
    slice volume uses each frame's x·y area. Results: ``block_start_ps`` (n_blocks),
    ``density`` (n_blocks × n_bins), ``mean_density`` (all frames) and bin ``centres``.
    """

    name = "slices"

    def __init__(
        self,
        sulfur,
        grouping: str = "residues",
        group_size: int = S_PER_S6,
        bin_width: float = SLICE_WIDTH_A,
        z_range: tuple[float, float] | None = None,
        block_ps: float = BLOCK_PS,
        charge: float = Q_S6_E,
        **kwargs,
    ) -> None:
        super().__init__(sulfur.universe.trajectory, **kwargs)
        if bin_width <= 0 or block_ps <= 0:
            raise InputError("bin_width/block_ps", "must be positive", "> 0")
        self.sulfur = sulfur
        self.groups = group_indices(sulfur, grouping, group_size)
        self.bin_width = float(bin_width)
        self.z_range = z_range
        self.block_ps = float(block_ps)
        self.charge = float(charge)

    def _prepare(self) -> None:
        if self.z_range is None:
            box = orthorhombic_box(self._trajectory.ts.dimensions)
            self.z_range = (0.0, float(box[2]))
        z0, z1 = self.z_range
        self.n_bins = int(np.ceil((z1 - z0) / self.bin_width - 1e-9))
        self.edges = z0 + self.bin_width * np.arange(self.n_bins + 1)
        self.centres = 0.5 * (self.edges[1:] + self.edges[:-1])
        self._blocks: list[np.ndarray] = []
        self._block_starts: list[float] = []
        self._block_sum = np.zeros(self.n_bins)
        self._block_frames = 0
        self._block_index = -1
        self._total = np.zeros(self.n_bins)
        self._t_first: float | None = None

    def _close_block(self) -> None:
        if self._block_frames:
            if self._t_first is None:
                raise RuntimeError("charge profile: a block has frames but no start time")
            self._blocks.append(self.charge * self._block_sum / self._block_frames)
            self._block_starts.append(self._t_first + self._block_index * self.block_ps)
        self._block_sum = np.zeros(self.n_bins)
        self._block_frames = 0

    def _single_frame(self) -> None:
        box = self._box()
        time_ps = float(self._ts.time)
        if self._t_first is None:
            self._t_first = time_ps
        # 1e-6 of a block tolerates float32 time stamps (DCD) right at a block boundary
        block = int(np.floor((time_ps - self._t_first) / self.block_ps + 1e-6))
        if block != self._block_index:
            self._close_block()
            self._block_index = block
        counts = _slice_counts(
            self._positions(self.sulfur)[:, 2], self.groups, float(box[2]),
            float(self.edges[0]), self.bin_width, self.n_bins,
        )  # fmt: skip
        per_volume = counts / (box[0] * box[1] * self.bin_width)
        self._block_sum += per_volume
        self._block_frames += 1
        self._total += per_volume

    def _conclude(self) -> None:
        self._close_block()
        self.results.block_start_ps = np.asarray(self._block_starts)
        self.results.density = np.asarray(self._blocks).reshape(-1, self.n_bins)
        self.results.mean_density = self.charge * self._total / max(self.n_frames, 1)
        self.results.centres = self.centres

    def to_series(self) -> Series:
        series: Series = {
            (self.name, "rho_q_mean"): (self.centres, self.results.mean_density, "Å", "e/Å^3")
        }
        blocks = zip(self.results.block_start_ps, self.results.density, strict=True)
        for start, profile in blocks:
            key = (self.name, f"rho_q_block_{start:.0f}ps")
            series[key] = (self.centres, profile, "Å", "e/Å^3")
        return series


#: An atomic plane holds at least this fraction of the electrode atoms (graphene sheet ~99 %,
#: each of six Ti layers 1/6; the Mo clusters, ~1 % of the Mo NCs/N-G atoms, are not a plane).
PLANE_MIN_FRACTION = 0.10
PLANE_TOLERANCE_A = 0.5  # Å, atoms within this of a plane's z belong to it


def surface_z(electrode) -> float:
    """Electrode surface height (Å): mean z of the topmost atomic plane of the electrode in
    the current frame (the graphene sheet of Mo NCs/N-G, not the top of its Mo clusters; the
    top layer of Ti(001)). "0–15 Å above the surface" (paper 000) is measured from it."""
    return _top_plane_z(electrode.positions[:, 2])


def _top_plane_z(electrode_z: np.ndarray) -> float:
    """:func:`surface_z` from the electrode atoms' z (Å)."""
    z = np.sort(electrode_z.astype(np.float64))[::-1]
    need = max(1, int(np.ceil(PLANE_MIN_FRACTION * len(z))))
    for top in z:
        plane = z[np.abs(z - top) <= PLANE_TOLERANCE_A]
        if len(plane) >= need:
            return float(plane.mean())
    return float(z[0])


def _shared_surface_z(analysis: StreamingAnalysis, electrode) -> float:
    """:func:`surface_z` of the current frame, once per frame for all analyses of a pass."""
    return analysis._shared(
        ("surface_z", id(electrode)),
        lambda: _top_plane_z(analysis._positions(electrode)[:, 2]),
    )


class SurfaceSulfurCount(StreamingAnalysis):
    """Number of S atoms with z − z_surface in ``shell`` (Å, inclusive) per frame (ED Fig. 8d)."""

    name = "surface"

    def __init__(self, sulfur, electrode, shell=SURFACE_SHELL_A, **kwargs) -> None:
        super().__init__(sulfur.universe.trajectory, **kwargs)
        if len(electrode) == 0:
            raise InputError("electrode", "selection is empty", "a selection of electrode atoms")
        self.sulfur = sulfur
        self.electrode = electrode
        self.shell = (float(shell[0]), float(shell[1]))

    def _prepare(self) -> None:
        self.results.counts = np.zeros(self.n_frames, dtype=np.int64)
        self.results.surface_z = np.zeros(self.n_frames)

    def _single_frame(self) -> None:
        z_surf = _shared_surface_z(self, self.electrode)
        height = self._positions(self.sulfur)[:, 2] - z_surf
        i = self._frame_index
        inside = (height >= self.shell[0]) & (height <= self.shell[1])
        self.results.counts[i] = np.count_nonzero(inside)
        self.results.surface_z[i] = z_surf

    def _conclude(self) -> None:
        pass  # the per-frame arrays in ``results`` are complete

    def to_series(self) -> Series:
        t = np.asarray(self.times, dtype=float)
        return {(self.name, "n_sulfur_0_15A"): (t, self.results.counts.astype(float), "ps", "count")}


class DensePhaseDistance(StreamingAnalysis):
    """z-distance (Å) of the dense S phase from the electrode surface per frame (ED Fig. 8e).

    Two definitions are reported: ``edge`` = the ``edge_percentile``-th percentile (lower order
    statistic, numpy ``method="lower"``) of the S z coordinates minus z_surface — the lower edge
    of the dense phase, robust to a few stray ions — and ``centre`` = mean S z − z_surface.
    """

    name = "dense"

    def __init__(self, sulfur, electrode, edge_percentile: float = 5.0, **kwargs) -> None:
        super().__init__(sulfur.universe.trajectory, **kwargs)
        if len(electrode) == 0:
            raise InputError("electrode", "selection is empty", "a selection of electrode atoms")
        if not 0 <= edge_percentile <= 100:
            raise InputError("edge_percentile", f"{edge_percentile}", "0..100")
        self.sulfur = sulfur
        self.electrode = electrode
        self.edge_percentile = float(edge_percentile)

    def _prepare(self) -> None:
        self.results.edge = np.zeros(self.n_frames)
        self.results.centre = np.zeros(self.n_frames)

    def _single_frame(self) -> None:
        z = self._positions(self.sulfur)[:, 2].astype(np.float64)
        z_surf = _shared_surface_z(self, self.electrode)
        # lower-rank order statistic (numpy percentile method "lower"): one partition, O(N)
        rank = int(np.floor(self.edge_percentile / 100.0 * (len(z) - 1)))
        self.results.edge[self._frame_index] = np.partition(z, rank)[rank] - z_surf
        self.results.centre[self._frame_index] = z.mean() - z_surf

    def _conclude(self) -> None:
        pass  # the per-frame arrays in ``results`` are complete

    def to_series(self) -> Series:
        t = np.asarray(self.times, dtype=float)
        return {
            (self.name, "edge_distance"): (t, self.results.edge, "ps", "Å"),
            (self.name, "centre_distance"): (t, self.results.centre, "ps", "Å"),
        }
