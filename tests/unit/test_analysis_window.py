"""MD analysis windows (issue 11 item 6): the dense-phase statistics use 42-82 ns at 350 K,
sampled every 10 ps and averaged per ns (paper 000 Methods MD, Fig. 4e caption)."""

from __future__ import annotations

import numpy as np
import pytest

from lisflow import REPO_ROOT
from lisflow.analysis.window import AnalysisWindow, block_average
from lisflow.errors import InputError
from lisflow.spec.md import load_md_study
from lisflow.workflows.plan_md import plan_md

WORKFLOWS = REPO_ROOT / "workflows"


def test_dense_phase_window_is_42_to_82_ns_at_350_k():
    spec = load_md_study(WORKFLOWS / "dense_phase_md.yaml")
    assert spec.analysis.start_ns == 42.0 and spec.analysis.stop_ns == 82.0
    assert spec.analysis.sample_every_ps == 10.0 and spec.analysis.average_every_ns == 1.0
    # the window is exactly the 350 K stage of the protocol
    t = 0.0
    for stage in spec.protocol:
        if stage.ensemble == "minimize":
            continue
        if stage.temperature_k == 350.0:
            assert (t / 1000.0, (t + stage.time_ps) / 1000.0) == (42.0, 82.0)
        t += stage.time_ps
    calc = plan_md(spec)[0]
    assert calc.inputs.analysis_window["start_ns"] == 42.0
    tiny = plan_md(load_md_study(WORKFLOWS / "dense_phase_md.yaml", time_scale=1e-3))[0]
    assert tiny.inputs.analysis_window["start_ns"] == pytest.approx(0.042)


def test_window_frames_and_recorded_scalars():
    w = AnalysisWindow(42.0, 82.0, 10.0, 1.0)
    start, stop, step = w.frames(dt_ps=10.0, n_frames=8201)  # 0..82 ns every 10 ps
    assert (start, stop, step) == (4200, 8201, 1)
    assert len(range(start, stop, step)) == 4001
    rec = w.scalars(10.0, 8201)
    assert rec["window_start_ns"] == (42.0, "ns") and rec["window_stop_ns"] == (82.0, "ns")
    assert rec["window_sample_ps"] == (10.0, "ps") and rec["window_n_frames"][0] == 4001
    assert AnalysisWindow(0.0, None, 20.0).frames(10.0, 11) == (0, 11, 2)
    with pytest.raises(InputError, match="sample_every_ps"):
        AnalysisWindow(0.0, None, 15.0).frames(10.0, 100)
    with pytest.raises(InputError, match="window"):
        AnalysisWindow(2.0, 3.0).frames(10.0, 100)  # trajectory ends at 0.99 ns
    with pytest.raises(InputError, match="stop_ns"):
        AnalysisWindow(5.0, 4.0)


def test_block_average_per_ns_drops_the_partial_block():
    x = 42000.0 + 10.0 * np.arange(4001)  # 42.00 ... 82.00 ns every 10 ps
    y = np.arange(4001, dtype=float)
    bx, by = block_average(x, y, 1.0)
    assert len(bx) == 40  # the lone frame at 82.00 ns is not a block
    assert bx[0] == pytest.approx(42500.0) and by[0] == pytest.approx(np.mean(np.arange(100)))
    assert by[-1] == pytest.approx(np.mean(np.arange(3900, 4000)))


def test_study_window_outside_protocol_is_refused(tmp_path):
    text = (WORKFLOWS / "dense_phase_md.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("stop_ns: 82.0", "stop_ns: 90.0"))
    with pytest.raises(InputError, match="analysis"):
        load_md_study(bad)
    bad.write_text(text.replace("sample_every_ps: 10.0,", "sample_every_ps: 15.0,"))
    with pytest.raises(InputError, match="analysis"):
        load_md_study(bad)
