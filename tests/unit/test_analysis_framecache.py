"""One shared pass reads each selection's positions once per frame, equal to MDAnalysis'."""

from __future__ import annotations

import numpy as np
import pytest

from lisflow.analysis.base import StreamingAnalysis, run_analyses
from lisflow.analysis.synthetic import memory_universe


class Recorder(StreamingAnalysis):
    """Keeps copies of what ``_positions``/``_box`` give each frame, and the arrays' ids."""

    def __init__(self, groups):
        super().__init__(groups[0].universe.trajectory)
        self.groups = groups

    def _prepare(self):
        self.seen, self.ids, self.boxes = [], [], []

    def _single_frame(self):
        arrays = [self._positions(g) for g in self.groups]
        for array in arrays if self._frame_cache is not None else []:
            with pytest.raises(ValueError, match="read-only"):
                array[0, 0] = 0.0
        self.seen.append([a.copy() for a in arrays])
        self.ids.append([id(a) for a in arrays])
        self.boxes.append(self._box().copy())

    def _conclude(self):
        pass


def test_shared_positions_equal_atomgroup_positions_each_frame():
    rng = np.random.default_rng(3)
    frames = rng.uniform(0, 20, (4, 50, 3))
    u = memory_universe(frames, (20.0, 21.0, 22.0))
    groups = [u.atoms[5:20], u.atoms[[1, 7, 3, 40]], u.atoms[[9]]]  # run, scattered, single
    first, second = Recorder(groups), Recorder(groups)
    run_analyses(u, [first, second], progress=False)
    for i, per_frame in enumerate(first.seen):
        for group, got in zip(groups, per_frame, strict=True):
            np.testing.assert_array_equal(got, frames[i, group.ix].astype(np.float32))
        assert first.ids[i] == second.ids[i]  # one array per selection and frame for both
        np.testing.assert_array_equal(first.boxes[i], [20.0, 21.0, 22.0])
    assert first._frame_cache is None and second._frame_cache is None
    alone = Recorder(groups).run()  # outside a shared pass: MDAnalysis' own arrays
    np.testing.assert_array_equal(alone.seen[3][1], frames[3, [1, 7, 3, 40]].astype(np.float32))
