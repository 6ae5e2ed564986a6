"""The DCD block reader: only the analysed atoms are read, with the same numbers as whole frames."""

from __future__ import annotations

import numpy as np
import pytest

from lisflow.analysis import dcdblock
from lisflow.analysis.base import run_analyses
from lisflow.analysis.synthetic import dense_phase_universe, write_dense_phase_dcd
from lisflow.analysis.trajectory import ELECTRODE_SELECTION, SULFUR_SELECTION, build_analyses

N_ATOMS, N_S6, N_FRAMES = 12000, 150, 4  # gap S..electrode > dcdblock._MERGE_GAP


@pytest.fixture(scope="module")
def dcd(tmp_path_factory):
    return write_dense_phase_dcd(
        tmp_path_factory.mktemp("dcd") / "dense.dcd", N_FRAMES, n_atoms=N_ATOMS, n_s6=N_S6
    )


def _universe(dcd, fmt):
    u = dense_phase_universe(dcd, n_atoms=N_ATOMS, n_s6=N_S6)
    if fmt != dcdblock.FORMAT:
        u.load_new(str(dcd), format=fmt)
    return u


def test_index_ranges_merge_small_gaps():
    assert dcdblock.index_ranges(np.array([5, 3, 4, 10]), merge_gap=0) == [(3, 6), (10, 11)]
    assert dcdblock.index_ranges(np.array([3, 10]), merge_gap=6) == [(3, 11)]
    assert dcdblock.index_ranges(np.array([], int)) == []


def test_block_positions_equal_whole_frames_and_the_rest_is_nan(dcd):
    whole = _universe(dcd, "DCD")
    block = _universe(dcd, dcdblock.FORMAT)
    sulfur = block.select_atoms(SULFUR_SELECTION)
    electrode = block.select_atoms(ELECTRODE_SELECTION)
    assert dcdblock.read_only(block, sulfur, electrode)
    assert block.trajectory._ranges == [(0, 6 * N_S6), (N_ATOMS - 2000, N_ATOMS)]
    for i in (0, 3, 1, 2):  # random access and in order
        ref = whole.trajectory[i]
        ts = block.trajectory[i]
        assert ts.frame == i and ts.time == ref.time
        np.testing.assert_array_equal(ts.dimensions, ref.dimensions)
        for atoms in (sulfur, electrode):
            np.testing.assert_array_equal(ts.positions[atoms.indices], ref.positions[atoms.indices])
        assert np.isnan(ts.positions[6 * N_S6 : N_ATOMS - 2000]).all()
    assert len(list(block.trajectory)) == N_FRAMES


def test_analyses_over_blocks_equal_analyses_over_whole_frames(dcd, tmp_path):
    results = []
    for fmt in ("DCD", dcdblock.FORMAT):
        u = _universe(dcd, fmt)
        analyses = build_analyses(u, ["clusters", "msd", "slices", "surface", "dense"])
        for a in analyses:
            if hasattr(a, "workdir"):
                a.workdir = tmp_path
        run_analyses(u, analyses, progress=False)
        results.append({k: v for a in analyses for k, v in a.to_series().items()})
    whole, block = results
    assert whole.keys() == block.keys() and len(whole) >= 8
    for key in whole:
        np.testing.assert_array_equal(block[key][1], whole[key][1], err_msg=str(key))
