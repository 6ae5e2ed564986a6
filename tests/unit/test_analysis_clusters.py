"""S clusters against a brute-force O(N²) union count on the same small periodic systems."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lisflow.analysis.base import run_analyses
from lisflow.analysis.clusters import (
    CellListClusters,
    SulfurClusters,
    cluster_labels,
    cluster_sizes,
)
from lisflow.analysis.synthetic import memory_universe


def brute_force_sizes(pos, box, periodic, cutoff=3.5):
    """Independent reference: full distance matrix + iterative label propagation."""
    delta = pos[:, None, :] - pos[None, :, :]
    for k in range(3):
        if periodic[k]:
            delta[..., k] -= box[k] * np.round(delta[..., k] / box[k])
    adjacent = np.sqrt((delta**2).sum(-1)) < cutoff
    labels = np.arange(len(pos))
    while True:
        new = np.array([labels[adjacent[i]].min() for i in range(len(pos))])
        if np.array_equal(new, labels):
            break
        labels = new
    return np.sort(np.bincount(labels)[np.bincount(labels) > 0])[::-1]


@pytest.mark.parametrize(
    "periodic", [(True, True, False), (True, True, True), (False, False, False)]
)
@pytest.mark.parametrize("seed", [0, 1])
def test_random_systems_match_brute_force(periodic, seed):
    rng = np.random.default_rng(seed)
    box = np.array([24.0, 21.0, 30.0])
    pos = rng.uniform(0, 1, (500, 3)) * box
    ours = cluster_sizes(cluster_labels(pos, box, periodic))
    np.testing.assert_array_equal(ours, brute_force_sizes(pos, box, periodic))


def test_cluster_across_x_and_y_boundary_but_not_z():
    box = np.array([20.0, 20.0, 20.0])
    # a chain across the x boundary, one across the y boundary, a pair across z
    pos = np.array(
        [[0.5, 5, 5], [19.0, 5, 5], [17.0, 5, 5],  # x-crossing chain of 3 (1.5 and 2.0 Å)
         [10, 0.2, 10], [10, 18.5, 10],  # y-crossing pair (1.7 Å)
         [5, 15, 0.3], [5, 15, 19.6]]  # z neighbours through the boundary (0.7 Å) only
    )  # fmt: skip
    sizes = cluster_sizes(cluster_labels(pos, box, (True, True, False)))
    np.testing.assert_array_equal(sizes, [3, 2, 1, 1])
    sizes_z = cluster_sizes(cluster_labels(pos, box, (True, True, True)))
    np.testing.assert_array_equal(sizes_z, [3, 2, 2])
    np.testing.assert_array_equal(sizes, brute_force_sizes(pos, box, (True, True, False)))


def test_small_box_uses_brute_force_path():
    box = np.array([8.0, 8.0, 8.0])  # fewer than 3 cells per axis
    pos = np.random.default_rng(4).uniform(0, 8, (60, 3))
    ours = cluster_sizes(cluster_labels(pos, box, (True, True, True)))
    np.testing.assert_array_equal(ours, brute_force_sizes(pos, box, (True, True, True)))


def test_streaming_analysis_per_frame_statistics():
    rng = np.random.default_rng(5)
    box = (30.0, 30.0, 40.0)
    frames = rng.uniform(0, 1, (4, 400, 3)) * box
    u = memory_universe(frames, box, dt_ps=10.0)
    clusters = SulfurClusters(u.atoms)
    run_analyses(u, [clusters], progress=False)
    for i, pos in enumerate(frames.astype(np.float32).astype(float)):
        ref = brute_force_sizes(pos, np.array(box), (True, True, False))
        assert clusters.results.n_clusters[i] == len(ref)
        assert clusters.results.largest[i] == ref[0]
        assert clusters.results.mean_largest[i] == pytest.approx(ref[:5].mean())
    series = clusters.to_series()
    x, y, x_unit, y_unit = series[("clusters", "mean_size_top5")]
    np.testing.assert_allclose(x, [0, 10, 20, 30])
    assert (x_unit, y_unit) == ("ps", "S atoms")


def brute_force_labels(pos, box, periodic, cutoff=3.5):
    """Independent reference labels: full minimum-image distance matrix, scipy connected
    components, each atom labelled by the smallest atom index of its component."""
    from scipy.sparse.csgraph import connected_components

    delta = pos[:, None, :] - pos[None, :, :]
    for k in range(3):
        if periodic[k]:
            delta[..., k] -= box[k] * np.round(delta[..., k] / box[k])
    _, component = connected_components((delta**2).sum(-1) < cutoff**2, directed=False)
    smallest = np.full(component.max() + 1, len(pos))
    np.minimum.at(smallest, component, np.arange(len(pos)))
    return smallest[component]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    lengths=st.tuples(*[st.floats(7.0, 40.0)] * 3),
    periodic=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    n_centres=st.integers(0, 6),
    threads=st.sampled_from([None, 1, 2, 3, 7]),
)
def test_cell_list_labels_equal_brute_force(seed, n, lengths, periodic, n_centres, threads):
    """Labels and sizes on random periodic, slab and open boxes (some axes under 3 cells,
    atoms outside the box, dense clumps), float32 input, any number of slab ranges."""
    rng = np.random.default_rng(seed)
    box = np.array(lengths)
    pos = rng.uniform(-0.5, 1.5, (n, 3)) * box
    if n_centres:  # dense clumps: long chains through cell and box boundaries
        centres = rng.uniform(0, 1, (n_centres, 3)) * box
        pos[: n // 2] = centres[rng.integers(0, n_centres, n // 2)] + rng.normal(0, 2.0, (n // 2, 3))
    pos32 = pos.astype(np.float32)
    ref = brute_force_labels(pos32.astype(np.float64), box, periodic)
    clusters = CellListClusters(periodic, threads=threads)
    np.testing.assert_array_equal(clusters.labels(pos32, box), ref)
    np.testing.assert_array_equal(clusters.sizes(pos32, box), cluster_sizes(ref))
    np.testing.assert_array_equal(cluster_labels(pos32, box, periodic), ref)


def test_workspace_reused_across_frames_and_sizes():
    """One CellListClusters over frames of different atom counts and boxes gives each
    frame's own answer (no state leaks from the previous frame)."""
    rng = np.random.default_rng(11)
    clusters = CellListClusters((True, True, False))
    for n, box in [(400, (30.0, 25.0, 40.0)), (50, (12.0, 40.0, 11.0)), (400, (60.0, 60.0, 60.0))]:
        box = np.array(box)
        pos = rng.uniform(0, 1, (n, 3)) * box
        ref = brute_force_labels(pos, box, (True, True, False))
        np.testing.assert_array_equal(clusters.sizes(pos, box), cluster_sizes(ref))
        np.testing.assert_array_equal(clusters.labels(pos, box), ref)


def test_clump_with_more_candidates_than_the_pair_buffer():
    """5,000 atoms within 1 Å of a point (every atom has > _PAIR_BUFFER candidates) form one
    cluster labelled by its smallest index; 32 atoms 8 Å apart stay single."""
    from lisflow.analysis.clusters import _PAIR_BUFFER

    rng = np.random.default_rng(12)
    box = np.array([60.0, 60.0, 60.0])
    direction = rng.normal(size=(5000, 3))
    radius = rng.uniform(0, 1, (5000, 1))
    clump = 30.0 + direction / np.linalg.norm(direction, axis=1)[:, None] * radius
    grid = np.stack(np.meshgrid(*[np.arange(4) * 8.0 + 2.0] * 2, indexing="ij"), -1).reshape(-1, 2)
    singles = np.r_[np.c_[grid, np.full(16, 2.0)], np.c_[grid, np.full(16, 50.0)]][:32]
    pos = np.r_[singles[:10], clump, singles[10:]]
    assert 5000 > _PAIR_BUFFER
    for threads in (1, 2):
        clusters = CellListClusters((True, True, True), threads=threads)
        labels = clusters.labels(pos, box)
        np.testing.assert_array_equal(labels[10:5010], np.full(5000, 10))
        others = np.delete(np.arange(len(pos)), np.s_[10:5010])
        np.testing.assert_array_equal(labels[others], others)
        np.testing.assert_array_equal(clusters.sizes(pos, box), [5000] + [1] * 32)


_SPIN_PROBE = """
import os, resource, time
import numpy as np
from lisflow.analysis.clusters import CellListClusters
box = np.array([60.0, 60.0, 60.0])
pos = np.random.default_rng(0).uniform(0, 60, (3000, 3))
clusters = CellListClusters((True, True, True), threads=2)
clusters.sizes(pos, box)
before = resource.getrusage(resource.RUSAGE_SELF)
for _ in range(20):
    clusters.sizes(pos, box)
    time.sleep(0.02)
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
print(cpu, os.environ.get("OMP_WAIT_POLICY"))
"""


def test_numba_threads_wait_passively_and_leave_the_environment_alone():
    """numba's OpenMP pool starts with passive waiting: between parallel regions (here 20 ms
    sleeps) its threads burn no CPU (busy-waiting libgomp threads would spin through them);
    OMP_WAIT_POLICY is not left set for libraries loaded later."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", _SPIN_PROBE], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    cpu_s, left = float(out[0]), out[1]
    assert left == "None"
    assert cpu_s < 0.25 * 20 * 0.02, cpu_s  # 20 small regions cost a few ms, not the sleeps
