"""A scaled-down MD study through the same FireWorks workflow (engine lammps): packed with
packmol, run with LAMMPS, log parsed, S-cluster / MSD series and D stored in the database."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.db import queries
from lisflow.db.store import ResultStore

pytestmark = pytest.mark.lammps

TINY_MD = {
    "study": "tiny_md", "kind": "md", "engine": "lammps",
    "systems": [{"name": "bulk_tiny", "kind": "bulk", "n_li2s6": 255}],
    "protocol": [{"name": "minimize", "ensemble": "minimize"},
                 {"name": "nvt", "ensemble": "nvt", "time_ps": 1.0, "temperature_k": 300}],
    "timestep_fs": 1.0, "dump_every_ps": 0.05, "thermo_every_ps": 0.05,
    "restart_every_ps": 0.5, "cutoff_a": 8.0, "pppm_accuracy": 1.0e-4, "scale": 0.02,
}


def test_md_study_runs_through_fireworks_into_db(tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LISFLOW_DB_URL", db_url)
    (tmp_path / "md.yaml").write_text(yaml.safe_dump(TINY_MD))
    runner = CliRunner()
    result = runner.invoke(app, ["submit", "md.yaml"])
    assert result.exit_code == 0 and "1 new Fireworks" in result.output, result.output
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    store = ResultStore(db_url)
    calc = queries.calculations(store, study="tiny_md")
    assert list(calc["state"]) == ["COMPLETED"] and calc["engine"][0] == "lammps"
    series = queries.series(store, study="tiny_md")
    analyses = set(zip(series["analysis"], series["quantity"], strict=True))
    assert {("thermo", "toteng"), ("clusters", "mean_size_top5"), ("msd_xyz", "msd"),
            ("msd_xyz", "msd_z")} <= analyses
    frames = series[(series["analysis"] == "clusters")].groupby("quantity").size()
    assert set(frames) == {21}  # 1 ps / 0.05 ps + the first frame
    top5 = series[(series["analysis"] == "clusters") & (series["quantity"] == "mean_size_top5")]
    assert ((top5["y"] >= 6) & (top5["y"] <= 6 * 5)).all()  # 5 Li2S6 -> 30 S
    scalars = queries.scalars(store, study="tiny_md")
    assert {"D_3d", "D_z"} <= set(scalars["name"])
    value = dict(zip(scalars["name"], scalars["value"], strict=True))
    assert value["D_3d"] > 0 and value["D_z"] > 0
    # the stored D says which frames it used (no analysis window: the whole 1 ps run)
    assert (value["window_start_ns"], value["window_stop_ns"]) == (0.0, pytest.approx(0.001))
    assert value["window_n_frames"] == 21 and value["window_sample_ps"] == pytest.approx(0.05)
    # re-submitting is a no-op; the DB keeps one row per series point
    before = store.count("md_series")
    result = runner.invoke(app, ["submit", "md.yaml"])
    assert "0 new Fireworks, 1 already completed" in result.output
    assert store.count("md_series") == before
    rows = json.loads(runner.invoke(app, ["query", "scalars", "--format", "json"]).output)
    assert len(rows) == len(scalars) and len({r["name"] for r in rows}) == len(rows)
