"""S clusters against a brute-force O(N²) union count on the same small periodic systems."""

from __future__ import annotations

import numpy as np
import pytest

from lisflow.analysis.base import run_analyses
from lisflow.analysis.clusters import SulfurClusters, cluster_labels, cluster_sizes
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
