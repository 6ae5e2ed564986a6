"""Sulfur clusters: S atoms closer than a cutoff are connected (paper 000, Methods MD; ED Fig. 8b).

Per frame: a compiled (numba) cell list (:mod:`lisflow.analysis.celllist`) finds all S–S
pairs closer than the cutoff, with minimum-image distances in the periodic directions, and a
union–find (Rem's union) joins them; connected components are the clusters, labelled by their
smallest atom index. Cost O(N) per frame, x-slab ranges in parallel on numba's threads;
memory O(N + cells), the work arrays reused from frame to frame.
"""

from __future__ import annotations

import numba
import numpy as np

from lisflow.analysis.base import Series, StreamingAnalysis, numba_threads
from lisflow.analysis.celllist import _PAIR_BUFFER, _bin_cells, _link_slabs, _root_sizes
from lisflow.errors import InputError

#: S–S connection cutoff, Å (paper 000, Methods: "distance ... less than 3.5 Å").
S_S_CUTOFF_A = 3.5
#: Number of largest clusters averaged (paper 000, Methods: "the five largest S6 clusters").
N_LARGEST = 5


@numba.njit(cache=True, inline="always")
def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@numba.njit(cache=True, inline="always")
def _union(parent: np.ndarray, size: np.ndarray, i: int, j: int) -> None:
    """Union by size (keeps trees shallow; linking by index made chains ~30× slower)."""
    ri = _find(parent, i)
    rj = _find(parent, j)
    if ri == rj:
        return
    if size[ri] < size[rj]:
        ri, rj = rj, ri
    parent[rj] = ri
    size[ri] += size[rj]


@numba.njit(cache=True, inline="always")
def _close(pos, i, j, box, periodic, cutoff2) -> bool:
    d2 = 0.0
    for k in range(3):
        d = pos[i, k] - pos[j, k]
        if periodic[k]:
            d -= box[k] * np.floor(d / box[k] + 0.5)
        d2 += d * d
    return d2 < cutoff2


@numba.njit(cache=True)
def _labels_brute_force(pos, box, periodic, cutoff):
    n = pos.shape[0]
    parent = np.arange(n)
    size = np.ones(n, np.int64)
    cutoff2 = cutoff * cutoff
    for i in range(n):
        for j in range(i + 1, n):
            if _close(pos, i, j, box, periodic, cutoff2):
                _union(parent, size, i, j)
    return _min_index_labels(parent, np.arange(n))


@numba.njit(cache=True)
def _min_index_labels(parent, atoms):
    """Label of slot a's atom ``atoms[a]`` = smallest atom index in its tree."""
    n = parent.shape[0]
    labels = np.empty(n, np.int64)
    root_atom = np.full(n, n, np.int64)
    for a in range(n):
        r = _find(parent, a)
        if atoms[a] < root_atom[r]:
            root_atom[r] = atoms[a]
    for a in range(n):
        labels[atoms[a]] = root_atom[_find(parent, a)]
    return labels


class CellListClusters:
    """Reusable cell-list clustering: the work arrays live from frame to frame (one pass
    allocates them once for its selection size)."""

    def __init__(
        self,
        periodic: tuple[bool, bool, bool] = (True, True, False),
        cutoff: float = S_S_CUTOFF_A,
        threads: int | None = None,
    ) -> None:
        self.periodic = np.asarray(periodic, dtype=np.bool_)
        self.cutoff = float(cutoff)
        self.threads = threads  # x-slab ranges scanned in parallel; None: numba's threads
        self._n = -1
        self._start = np.zeros(0, np.int64)
        self._pairs = np.zeros((0, _PAIR_BUFFER), np.int64)

    def _brute_force(self, box: np.ndarray) -> bool:
        """A periodic axis with fewer than 3 cells: a half stencil would visit a cell twice."""
        return any(p and b / self.cutoff < 3 for p, b in zip(self.periodic, box, strict=True))

    def _link(self, positions: np.ndarray, box: np.ndarray) -> None:
        pos = positions
        if pos.dtype not in (np.float32, np.float64) or not pos.flags.c_contiguous:
            pos = np.ascontiguousarray(pos, dtype=np.float64)
        n = len(pos)
        if n != self._n:
            self._n = n
            self._atoms = np.empty(n, np.int64)
            self._parent = np.empty(n, np.int64)
            self._scratch = np.empty(n, np.int64)
            self._sx, self._sy, self._sz = np.empty(n), np.empty(n), np.empty(n)
        self._start, ncell = _bin_cells(
            pos, box, self.periodic, self.cutoff, self._start, self._atoms,
            self._sx, self._sy, self._sz, self._parent, self._scratch,
        )  # fmt: skip
        threads = numba_threads()  # first: starts numba's pool with passive waiting
        n_chunks = max(1, min(self.threads or threads, int(ncell[0])))
        if self._pairs.shape[0] < 2 * n_chunks:
            self._pairs = np.empty((2 * n_chunks, _PAIR_BUFFER), np.int64)
        _link_slabs(
            n_chunks, ncell, self._start, self._sx, self._sy, self._sz, self._parent,
            box, self.periodic, self.cutoff, self._pairs,
        )  # fmt: skip

    def labels(self, positions: np.ndarray, box: np.ndarray) -> np.ndarray:
        """Cluster label (smallest atom index of its cluster) of every atom."""
        box = np.asarray(box, dtype=np.float64)
        if len(positions) == 0:
            return np.empty(0, np.int64)
        if self._brute_force(box):
            pos = np.ascontiguousarray(positions, dtype=np.float64)
            return _labels_brute_force(pos, box, self.periodic, self.cutoff)
        self._link(positions, box)
        return _min_index_labels(self._parent, self._atoms)

    def sizes(self, positions: np.ndarray, box: np.ndarray) -> np.ndarray:
        """Sizes (atoms) of all clusters, largest first (== ``cluster_sizes(labels(...))``)."""
        box = np.asarray(box, dtype=np.float64)
        if len(positions) == 0 or self._brute_force(box):
            return cluster_sizes(self.labels(positions, box))
        self._link(positions, box)
        return _root_sizes(self._parent, self._scratch)


def cluster_labels(
    positions: np.ndarray,
    box: np.ndarray,
    periodic: tuple[bool, bool, bool] = (True, True, False),
    cutoff: float = S_S_CUTOFF_A,
) -> np.ndarray:
    """Cluster label (root atom index) of every atom; atoms closer than ``cutoff`` (Å) connect.

    ``box`` holds the orthorhombic lengths (Å); minimum images are used along ``periodic``
    axes. A periodic axis with fewer than 3 cells falls back to the O(N²) loop (a half stencil
    would visit a neighbour cell twice).
    """
    return CellListClusters(periodic, cutoff).labels(positions, box)


def cluster_sizes(labels: np.ndarray) -> np.ndarray:
    """Sizes (atoms) of all clusters, largest first."""
    counts = np.bincount(labels)
    return np.sort(counts[counts > 0])[::-1]


class SulfurClusters(StreamingAnalysis):
    """Cluster count, largest size and mean size of the ``n_largest`` largest S clusters per frame.

    Sizes are in S atoms (divide by 6 for S6 units). ``periodic`` defaults to x and y only
    (interface/slab boxes); use ``(True, True, True)`` for bulk electrolyte boxes.
    """

    name = "clusters"

    def __init__(
        self,
        sulfur,
        cutoff: float = S_S_CUTOFF_A,
        periodic: tuple[bool, bool, bool] = (True, True, False),
        n_largest: int = N_LARGEST,
        **kwargs,
    ) -> None:
        super().__init__(sulfur.universe.trajectory, **kwargs)
        if len(sulfur) == 0:
            raise InputError("sulfur", "selection is empty", "a selection with S atoms")
        if cutoff <= 0:
            raise InputError("cutoff", f"{cutoff} Å", "> 0")
        self.sulfur = sulfur
        self.cutoff = float(cutoff)
        if len(periodic) != 3:
            raise InputError("periodic", f"{periodic!r}", "three booleans (x, y, z)")
        self.periodic = (bool(periodic[0]), bool(periodic[1]), bool(periodic[2]))
        self.n_largest = int(n_largest)

    def _prepare(self) -> None:
        self.results.n_clusters = np.zeros(self.n_frames, dtype=np.int64)
        self.results.largest = np.zeros(self.n_frames, dtype=np.int64)
        self.results.mean_largest = np.zeros(self.n_frames)
        self._clusters = CellListClusters(self.periodic, self.cutoff)

    def _single_frame(self) -> None:
        box = self._box() if any(self.periodic) else np.ones(3)  # unused if none periodic
        sizes = self._clusters.sizes(self._positions(self.sulfur), box)
        i = self._frame_index
        self.results.n_clusters[i] = len(sizes)
        self.results.largest[i] = sizes[0]
        self.results.mean_largest[i] = sizes[: self.n_largest].mean()

    def _conclude(self) -> None:
        pass  # the per-frame arrays in ``results`` are complete

    def to_series(self) -> Series:
        t = np.asarray(self.times, dtype=float)
        return {
            (self.name, "n_clusters"): (t, self.results.n_clusters.astype(float), "ps", "count"),
            (self.name, "largest_size"): (t, self.results.largest.astype(float), "ps", "S atoms"),
            (self.name, f"mean_size_top{self.n_largest}"): (
                t, self.results.mean_largest, "ps", "S atoms"
            ),
        }
