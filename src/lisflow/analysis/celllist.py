"""Compiled cell-list kernels of the S clustering (:mod:`lisflow.analysis.clusters`).

Binning into cells ≥ the cutoff wide (atoms counting-sorted by cell, wrapped float64
coordinates in slot order), the half-stencil scan of x-slab ranges (in parallel, each range
owning its slots) with close pairs buffered and joined by Rem's union–find, and the cluster
sizes of the resulting forest. All arrays are the caller's, reused frame after frame.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _rem_union(parent: np.ndarray, i: int, j: int) -> None:
    """Rem's union with splicing: every link points to a smaller index (so each root is the
    smallest slot of its tree) and paths are shortened on the way; no size array, ~3× faster
    than union by size + path halving on 41,000 S–S pairs."""
    while parent[i] != parent[j]:
        if parent[i] > parent[j]:
            if parent[i] == i:
                parent[i] = parent[j]
                return
            k = parent[i]
            parent[i] = parent[j]
            i = k
        else:
            if parent[j] == j:
                parent[j] = parent[i]
                return
            k = parent[j]
            parent[j] = parent[i]
            j = k


@numba.njit(cache=True)
def _bin_cells(pos, box, periodic, cutoff, start, atoms, sx, sy, sz, cell_of, scratch):
    """Cell list: returns ``(start, ncell)``.

    Cells are ≥ cutoff wide, flat index (cx·ny + cy)·nz + cz; atoms are counting-sorted by
    cell into slots (``atoms``: slot → atom, ``sx, sy, sz``: wrapped slot coordinates,
    float64; ``start``: cell → first slot). The caller's arrays are reused frame after
    frame; ``start`` is replaced by a larger one when the grid outgrows it.
    """
    n = pos.shape[0]
    ncell = np.empty(3, np.int64)
    lo = np.empty(3)
    inv_width = np.empty(3)
    for k in range(3):
        if periodic[k]:
            lo[k] = 0.0
            span = box[k]
        else:
            lo[k] = np.float64(pos[:, k].min())
            span = np.float64(pos[:, k].max()) - lo[k]
        ncell[k] = max(1, int(span / cutoff))
        inv_width[k] = ncell[k] / max(span, 1e-12)
    n_cells = ncell[0] * ncell[1] * ncell[2]
    if start.shape[0] < n_cells + 2:
        start = np.empty(n_cells + 2, np.int64)
    start[: n_cells + 2] = 0
    # wrapped coordinates go to sx/sy/sz by atom first
    for i in range(n):
        flat = 0
        for k in range(3):
            x = np.float64(pos[i, k]) - lo[k]
            if periodic[k]:
                x -= box[k] * np.floor(x / box[k])
            if k == 0:
                sx[i] = x
            elif k == 1:
                sy[i] = x
            else:
                sz[i] = x
            c = min(max(int(x * inv_width[k]), 0), ncell[k] - 1)
            flat = flat * ncell[k] + c
        cell_of[i] = flat
        start[flat + 2] += 1
    for c in range(n_cells):
        start[c + 2] += start[c + 1]
    for i in range(n):  # start[c + 1] is the fill pointer of cell c
        slot = start[cell_of[i] + 1]
        atoms[slot] = i
        start[cell_of[i] + 1] = slot + 1
    # now start[c] is the first slot of cell c; coordinates into slot order
    _permute(sx, atoms, scratch)
    _permute(sy, atoms, scratch)
    _permute(sz, atoms, scratch)
    return start, ncell


#: Close pairs buffered per slab range before they are joined (two int64 arrays of this
#: length, 64 KiB: stays in cache).
_PAIR_BUFFER = 4096


@numba.njit(cache=True)
def _scan_slabs(x0, x1, boundary, ncell, start, sx, sy, sz, parent, box, periodic, cutoff2,
                pa, pb):
    """Union the close pairs found from source cells in x-slabs ``x0:x1``.

    The half stencil (13 neighbour cells) is walked as the cell above in the own column plus
    three-cell z runs of four neighbour columns, each run one contiguous slot range; a cell
    reached through a periodic face carries a fixed image shift subtracted from the source
    atom. With ``boundary`` false, only pairs whose both cells lie in slabs x0:x1 are joined
    (so concurrent calls on disjoint slab ranges write disjoint parts of ``parent``); with
    ``boundary`` true, only the pairs from slab x1 − 1 into a slab outside x0:x1. Every
    candidate is written to the pair buffer ``pa, pb`` and kept only if close (no branch on
    the distance test); full buffers are joined with Rem's union.
    """
    nx, ny, nz = ncell[0], ncell[1], ncell[2]
    wrap_z = periodic[2]
    other = np.empty(4, np.int64)  # first cell of each neighbour column, −1 if skipped
    shift = np.zeros((4, 2))
    r0 = np.empty(13, np.int64)  # slot ranges of the neighbour cells of one source cell
    r1 = np.empty(13, np.int64)
    rsh = np.empty((13, 3))
    capacity = pa.shape[0]
    n_pairs = 0
    for cx in range(x1 - 1 if boundary else x0, x1):
        for cy in range(ny):
            column = (cx * ny + cy) * nz
            if start[column] == start[column + nz]:
                continue
            for k in range(4):  # neighbour columns (0,1), (1,-1), (1,0), (1,1)
                ox = cx + (0 if k == 0 else 1)
                oy = cy + (1 if k == 0 else k - 2)
                other[k] = -1
                shift[k, 0] = 0.0
                shift[k, 1] = 0.0
                if ox >= nx:
                    if not periodic[0]:
                        continue
                    ox -= nx
                    shift[k, 0] = box[0]
                if (x0 <= ox < x1) == boundary:
                    continue
                if oy >= ny or oy < 0:
                    if not periodic[1]:
                        continue
                    shift[k, 1] = box[1] if oy >= ny else -box[1]
                    oy = oy - ny if oy >= ny else oy + ny
                other[k] = (ox * ny + oy) * nz
            for cz in range(nz):
                c0, c1 = start[column + cz], start[column + cz + 1]
                if c0 == c1:
                    continue
                # own cell and the cell above in this column: slots a+1..upper, no shift
                upper = c0
                if not boundary:
                    upper = start[column + cz + 2] if cz + 1 < nz else c1
                n_ranges = 0
                if not boundary and wrap_z and cz + 1 == nz:
                    n_ranges = _add_range(r0, r1, rsh, n_ranges, start[column],
                                          start[column + 1], 0.0, 0.0, box[2])
                z0 = max(cz - 1, 0)
                z1 = min(cz + 1, nz - 1)
                for k in range(4):
                    o = other[k]
                    if o < 0:
                        continue
                    shx = shift[k, 0]
                    shy = shift[k, 1]
                    n_ranges = _add_range(r0, r1, rsh, n_ranges, start[o + z0],
                                          start[o + z1 + 1], shx, shy, 0.0)
                    if wrap_z and cz == 0:
                        n_ranges = _add_range(r0, r1, rsh, n_ranges, start[o + nz - 1],
                                              start[o + nz], shx, shy, -box[2])
                    if wrap_z and cz + 1 == nz:
                        n_ranges = _add_range(r0, r1, rsh, n_ranges, start[o],
                                              start[o + 1], shx, shy, box[2])
                candidates = upper - c0
                for r in range(n_ranges):
                    candidates += r1[r] - r0[r]
                for a in range(c0, c1):
                    if n_pairs + candidates > capacity:
                        _join_pairs(parent, pa, pb, n_pairs)
                        n_pairs = 0
                    xa = sx[a]
                    ya = sy[a]
                    za = sz[a]
                    if candidates > capacity:  # one atom with more candidates than fit
                        _join_close(a, a + 1, upper, xa, ya, za, sx, sy, sz, cutoff2, parent)
                        for r in range(n_ranges):
                            _join_close(a, r0[r], r1[r], xa - rsh[r, 0], ya - rsh[r, 1],
                                        za - rsh[r, 2], sx, sy, sz, cutoff2, parent)
                        continue
                    for b in range(a + 1, upper):
                        dx = xa - sx[b]
                        dy = ya - sy[b]
                        dz = za - sz[b]
                        pa[n_pairs] = a
                        pb[n_pairs] = b
                        n_pairs += dx * dx + dy * dy + dz * dz < cutoff2
                    for r in range(n_ranges):
                        xs = xa - rsh[r, 0]
                        ys = ya - rsh[r, 1]
                        zs = za - rsh[r, 2]
                        for b in range(r0[r], r1[r]):
                            dx = xs - sx[b]
                            dy = ys - sy[b]
                            dz = zs - sz[b]
                            pa[n_pairs] = a
                            pb[n_pairs] = b
                            n_pairs += dx * dx + dy * dy + dz * dz < cutoff2
    _join_pairs(parent, pa, pb, n_pairs)


@numba.njit(cache=True, inline="always")
def _add_range(r0, r1, rsh, n_ranges, b0, b1, shx, shy, shz):
    """Append the slot range b0:b1 with its image shift if it is not empty."""
    if b0 == b1:
        return n_ranges
    r0[n_ranges] = b0
    r1[n_ranges] = b1
    rsh[n_ranges, 0] = shx
    rsh[n_ranges, 1] = shy
    rsh[n_ranges, 2] = shz
    return n_ranges + 1


@numba.njit(cache=True)
def _join_pairs(parent, pa, pb, n_pairs):
    for p in range(n_pairs):
        _rem_union(parent, pa[p], pb[p])


@numba.njit(cache=True)
def _join_close(a, b0, b1, xs, ys, zs, sx, sy, sz, cutoff2, parent):
    """Union slot a (shifted coordinates xs, ys, zs) with every close slot in b0:b1."""
    for b in range(b0, b1):
        dx = xs - sx[b]
        dy = ys - sy[b]
        dz = zs - sz[b]
        if dx * dx + dy * dy + dz * dz < cutoff2:
            _rem_union(parent, a, b)


@numba.njit(cache=True, parallel=True)
def _link_slabs(n_chunks, ncell, start, sx, sy, sz, parent, box, periodic, cutoff, pairs):
    """Union–find (Rem's union over slots in ``parent``) of all close pairs: ``n_chunks``
    ranges of x-slabs in parallel (each owns its slots and rows 2t, 2t+1 of the ``pairs``
    buffer), then the pairs across ranges."""
    for a in range(parent.shape[0]):
        parent[a] = a
    nx = ncell[0]
    cutoff2 = cutoff * cutoff
    for t in numba.prange(n_chunks):
        _scan_slabs(t * nx // n_chunks, (t + 1) * nx // n_chunks, False, ncell, start,
                    sx, sy, sz, parent, box, periodic, cutoff2, pairs[2 * t], pairs[2 * t + 1])
    for t in range(n_chunks):
        _scan_slabs(t * nx // n_chunks, (t + 1) * nx // n_chunks, True, ncell, start,
                    sx, sy, sz, parent, box, periodic, cutoff2, pairs[0], pairs[1])


@numba.njit(cache=True)
def _permute(values, atoms, scratch):
    """values[a] ← values[atoms[a]] (atom order → slot order), int64 scratch of the bits."""
    bits = values.view(np.int64)
    for a in range(values.shape[0]):
        scratch[a] = bits[atoms[a]]
    for a in range(values.shape[0]):
        bits[a] = scratch[a]


@numba.njit(cache=True)
def _root_sizes(parent, count):
    """Sizes of all clusters (trees of ``parent``), largest first; ``count`` is scratch."""
    n = parent.shape[0]
    count[:n] = 0
    n_roots = 0
    for a in range(n):
        r = a
        while parent[r] != r:
            r = parent[r]
        if r == a:
            n_roots += 1
        count[r] += 1
    sizes = np.empty(n_roots, np.int64)
    r = 0
    for a in range(n):
        if parent[a] == a:
            sizes[r] = count[a]
            r += 1
    return np.sort(sizes)[::-1]
