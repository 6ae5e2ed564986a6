"""Issue 11 item 9 (MD bits): the Ti interface box record is the packed box; both readings of
the dense-phase concentration are available and the chosen one is recorded."""

from __future__ import annotations

import pytest

from lisflow import REPO_ROOT
from lisflow.spec.md import MdSystemSpec, load_md_study
from lisflow.structures.md_boxes import build_system, li2s6_weight_percent
from lisflow.workflows.plan_md import plan_md

WORKFLOWS = REPO_ROOT / "workflows"


def test_ti_interface_box_record_is_the_packed_box():
    spec = load_md_study(WORKFLOWS / "interface_md.yaml", scale=1.0)
    ti = [s for s in spec.systems if s.electrode == "ti0001"]
    assert len(ti) == 3
    for system in ti:
        assert system.box[:2] == (99.62, 76.124)
        packed = build_system({**system.builder_args(0.01), "scale": 1.0, "n_li2s6": 1,
                               "n_litfsi": 1, "n_dol": 1, "n_dme": 1})
        assert packed.box[0] == pytest.approx(99.62, abs=1e-6)  # 34 a, a = 2.93 A
        assert packed.box[1] == pytest.approx(76.124, abs=1e-3)  # 30 sqrt(3)/2 a
    labels = {c.labels["system"]: c.labels for c in plan_md(spec)}
    assert labels["mo_n65"]["electrode_charges"] == "builtin:mo4ng_bader_cp2k"
    assert labels["ti_n65"]["electrode_charges"] == "none"


def test_dense_phase_two_concentration_readings():
    spec = load_md_study(WORKFLOWS / "dense_phase_md.yaml")
    mo = next(s for s in spec.systems if s.name == "mo_dense")
    assert mo.wt_percent_reading == "methods_counts" and mo.li2s6_count() == 3060
    counts = {"Li2S6": 3060, "LiTFSI": 1020, "DOL": 4080, "DME": 4080}
    assert li2s6_weight_percent(counts) == pytest.approx(39.6, abs=0.05)
    caption = MdSystemSpec.model_validate(
        {**mo.model_dump(), "wt_percent_reading": "caption_17.93"}
    )
    assert caption.li2s6_count() == 1020
    assert caption.builder_args(1.0)["n_li2s6"] == 1020
    assert li2s6_weight_percent({**counts, "Li2S6": 1020}) == pytest.approx(17.93, abs=0.01)
    text = (WORKFLOWS / "dense_phase_md.yaml").read_text()
    assert "39.6 wt%" in text and "17.93 wt%" in text
