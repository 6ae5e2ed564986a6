"""A small real study (CP2K adsorption + LAMMPS box) on a real single-node Slurm in offline
mode: ``lisflow submit`` -> ``lisflow launch --profile <slurm test profile>`` -> Slurm jobs
(``rlaunch singleshot --offline``, no database access) -> ``lisflow recover`` -> queries."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.db.store import ResultStore

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
HARTREE_EV = 27.211386245988  # CODATA 2018 (scipy.constants)
SECRET = "s3cret-never-shown"

_spec = importlib.util.spec_from_file_location(
    "slurmcluster", Path(__file__).resolve().parents[1] / "slurmcluster.py"
)
slurmcluster = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(slurmcluster)

#: Cheap CP2K settings whose SCF still converges for (Li2S)2 (about 18 s on one core).
CP2K_STUDY = {
    "study": "slurm_cp2k",
    "kind": "adsorption",
    "engine": "cp2k",
    "substrates": [{"builder": "molecule", "name": "Li2S", "box": 9.0}],
    "adsorbates": ["Li2S"],
    "configurations": 1,
    "molecule_box": 9.0,
    "relax": False,
    "static": False,
    "bader": False,
    "overrides": {
        "FORCE_EVAL.DFT.MGRID.CUTOFF": 150,
        "FORCE_EVAL.DFT.MGRID.REL_CUTOFF": 30,
        "FORCE_EVAL.DFT.SCF.EPS_SCF": 1.0e-5,
    },
}


@pytest.fixture(scope="module")
def cluster(slurm_cluster):
    """The session's Slurm cluster (tests/conftest.py: one per session, 3 job slots)."""
    return slurm_cluster


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def wait_for_jobs(job_ids: list[str], timeout_s: float = 400.0) -> dict[str, str]:
    from lisflow.launch.slurm import ALIVE_STATES

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        states = slurmcluster.squeue_states()
        if not any(states.get(j) in ALIVE_STATES for j in job_ids):
            return states
        time.sleep(1.0)
    pytest.fail(f"Slurm jobs {job_ids} still running after {timeout_s} s")


@pytest.fixture(scope="module")
def study(cluster, tmp_path_factory):
    """Both studies submitted, launched on Slurm, finished and recovered."""
    root = tmp_path_factory.mktemp("slurm_study")
    home = root / "home"
    env = {
        "LISFLOW_HOME": str(home),
        "LISFLOW_DB_URL": f"sqlite:///{home / 'results.sqlite'}",
        "LISFLOW_MONGO_URI": f"mongodb://user:{SECRET}@db.invalid/lisflow",
        "LD_LIBRARY_PATH": str(Path(sys.executable).parents[1] / "lib"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        (root / "cp2k.yaml").write_text(yaml.safe_dump(CP2K_STUDY))
        (root / "md.yaml").write_text(yaml.safe_dump(slurmcluster.md_study("slurm_md")))
        profile = slurmcluster.write_profile(root / "slurmtest.yaml", home)
        _invoke("submit", "cp2k.yaml", "md.yaml", "--profile", "local")
        out = _invoke("launch", "--profile", str(profile))
        jobs = [line.split()[-1] for line in out.splitlines() if "Slurm job" in line]
        status = _invoke("status", "--profile", str(profile), "--fireworks")
        wait_for_jobs(jobs)
        recovered = _invoke("recover", "--profile", str(profile))
        yield {
            "root": root,
            "home": home,
            "profile": profile,
            "jobs": jobs,
            "status": status,
            "recovered": recovered,
            "db": env["LISFLOW_DB_URL"],
        }
    finally:
        os.chdir(cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_every_calculation_ran_as_an_offline_slurm_job(study):
    assert len(study["jobs"]) == 4  # 3 CP2K + 1 LAMMPS; the E_ads Firework is not a job
    assert "slurm_state" in study["status"] and "slurm_job" in study["status"]
    assert "4 COMPLETED" in study["recovered"] and "stored 4 results" in study["recovered"]
    assert "ran 1 analysis" in study["recovered"]
    runs = study["home"] / "runs"
    scripts = sorted(runs.rglob("FW_submit.script"))
    assert len(scripts) == 4
    for script in scripts:
        text = script.read_text()
        assert "singleshot --offline --fw_id" in text and "#SBATCH --partition=debug" in text
        assert SECRET not in text and "LISFLOW_DEFER_STORE=1" in text
        assert SECRET not in (script.parent / "FW.json").read_text()
        offline = json.loads((script.parent / "FW_offline.json").read_text())
        assert offline["state"] == "COMPLETED"


def test_results_are_queryable_and_exact(study):
    store = ResultStore(study["db"])
    rows = json.loads(_invoke("query", "calculations", "--format", "json"))
    assert sorted(r["calc_id"] for r in rows) == sorted(
        [
            "slurm_cp2k/slab/Li2S-mol/energy",
            "slurm_cp2k/molecule/Li2S/energy",
            "slurm_cp2k/adslab/Li2S-mol/Li2S/c0/energy",
            "slurm_md/bulk_tiny",
        ]
    )
    assert {r["state"] for r in rows} == {"COMPLETED"}
    energies = {}
    for calc_id in (
        "slurm_cp2k/slab/Li2S-mol/energy",
        "slurm_cp2k/molecule/Li2S/energy",
        "slurm_cp2k/adslab/Li2S-mol/Li2S/c0/energy",
    ):
        record = store.get(calc_id)
        out = (Path(record.run_dir) / "cp2k.out").read_text()
        hartree = float(
            next(line for line in out.splitlines() if "Total FORCE_EVAL" in line).split()[-1]
        )
        assert record.energy_ev == pytest.approx(hartree * HARTREE_EV, rel=1e-12)
        energies[calc_id.split("/")[1]] = record.energy_ev
    md = store.get("slurm_md/bulk_tiny")
    assert md.n_atoms == 326 and md.engine == "lammps"
    log = (Path(md.run_dir) / "log.lammps").read_text()
    assert "Total wall time" in log
    ads = json.loads(_invoke("query", "adsorption", "--format", "json"))
    assert len(ads) == 1
    expected = energies["adslab"] - energies["slab"] - energies["molecule"]
    assert ads[0]["energy_ev"] == pytest.approx(expected, abs=1e-9)


def test_recover_again_stores_nothing_twice(study):
    store = ResultStore(study["db"])
    before = {
        t: store.count(t)
        for t in ("calculations", "site_charges", "md_series", "md_scalars", "adsorption_energies")
    }
    out = _invoke("recover", "--profile", str(study["profile"]))
    assert "recovered 0 launches" in out
    from lisflow.launch.launchpad import open_launchpad
    from lisflow.launch.offline import ingest
    from lisflow.launch.profiles import load_profile

    with open_launchpad(load_profile(str(study["profile"]))) as lpad:  # force a re-ingest
        for doc in lpad.fireworks.find({"spec._category": {"$ne": "analysis"}}):
            assert ingest(store, doc, Path(doc["spec"]["_launch_dir"]))
    after = {t: store.count(t) for t in before}
    assert after == before
    assert before["calculations"] == 4 and before["adsorption_energies"] == 1


#: Child: ingests one run's lisflow_result.json, pausing forever inside the transaction once
#: the results row is written (before series/scalars), after touching the marker file.
PAUSING_INGEST = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from lisflow.db.store import ResultStore
    from lisflow.launch.offline import ingest

    url, fw_doc, run_dir, marker = sys.argv[1], json.loads(Path(sys.argv[2]).read_text()), Path(sys.argv[3]), Path(sys.argv[4])
    original = ResultStore.store_series
    def pausing(self, *args, **kwargs):
        original(self, *args, **kwargs)
        marker.write_text("paused")
        time.sleep(300)
    ResultStore.store_series = pausing
    ingest(ResultStore(url), fw_doc, run_dir)
    """
)


def test_kill_while_storing_leaves_no_partial_row(study, tmp_path):
    from lisflow.launch.launchpad import open_launchpad
    from lisflow.launch.offline import ingest
    from lisflow.launch.profiles import load_profile

    with open_launchpad(load_profile(str(study["profile"]))) as lpad:
        doc = lpad.fireworks.find_one({"name": "slurm_md/bulk_tiny"}, {"_id": 0})
    (tmp_path / "fw.json").write_text(json.dumps(doc, default=str))
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    ResultStore(url)  # create the schema
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            PAUSING_INGEST,
            url,
            str(tmp_path / "fw.json"),
            doc["spec"]["_launch_dir"],
            str(marker),
        ]
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), "the child never reached the pause inside the transaction"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    store = ResultStore(url)
    assert store.get("slurm_md/bulk_tiny") is None
    assert store.count("calculations") == 0 and store.count("md_series") == 0
    assert ingest(store, doc, Path(doc["spec"]["_launch_dir"]))  # recover stores it whole
    original = ResultStore(study["db"])
    for table in ("calculations", "md_series", "md_scalars"):
        assert store.count(table) == (1 if table == "calculations" else original.count(table))
    assert store.get("slurm_md/bulk_tiny").energy_ev == original.get("slurm_md/bulk_tiny").energy_ev


def test_job_sees_seconds_left_of_its_time_limit(cluster, tmp_path):
    script = tmp_path / "job.sh"
    script.write_text(f"#!/bin/bash\n{sys.executable} -m lisflow.launch.walltime\n")
    run = subprocess.run(
        ["sbatch", "--time=5", "-o", str(tmp_path / "out.txt"), str(script)],
        capture_output=True,
        text=True,
        check=True,
    )
    job = run.stdout.split()[-1]
    wait_for_jobs([job], 120)
    seconds = int((tmp_path / "out.txt").read_text().strip())
    assert 200 < seconds <= 300  # 5 min limit, minus start-up time
