"""Chaos on a real Slurm: 20 tiny real LAMMPS workflows + 1 walltime victim in offline mode.

While the jobs run, a seeded RNG picks 20 % of the jobs seen RUNNING and cancels them
(``scancel``) or ``kill -9``s their rocket process; one more job dies by its walltime (1 min
limit, its profile's pre-run sleeps longer). Then ``lisflow recover`` + ``lisflow doctor
--rerun`` + ``lisflow launch`` rounds until every Firework is COMPLETED, and the results DB
must hold every result exactly once (count and identity).
"""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.db.store import ResultStore

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.lammps]

_spec = importlib.util.spec_from_file_location(
    "slurmcluster", Path(__file__).resolve().parents[1] / "slurmcluster.py"
)
slurmcluster = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(slurmcluster)

N_WORKFLOWS = 20
KILL_FRACTION = 0.2
SEED = 20261123
TIMEOUT_S = 420.0


@pytest.fixture(scope="module")
def cluster(slurm_cluster):
    """The session's Slurm cluster (tests/conftest.py: one per session, 3 job slots)."""
    return slurm_cluster


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _jobs(output: str) -> dict[str, str]:
    """{Slurm job id: Firework name} from ``lisflow launch`` output."""
    jobs = {}
    for line in output.splitlines():
        if "-> Slurm job" in line:
            words = line.split()
            jobs[words[-1]] = words[2]
    return jobs


def _kill_rocket(job_id: str) -> bool:
    """kill -9 the job's rocket process (the batch script then ends normally)."""
    for pid in slurmcluster.job_pids(job_id):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"lisflow.launch.offline" in cmdline:
            os.kill(pid, signal.SIGKILL)
            return True
    return False


def test_chaos_all_complete_exactly_once(cluster, tmp_path, monkeypatch):
    from lisflow.launch.launchpad import open_launchpad
    from lisflow.launch.profiles import load_profile

    home = tmp_path / "home"
    db_url = f"sqlite:///{home / 'results.sqlite'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISFLOW_HOME", str(home))
    monkeypatch.setenv("LISFLOW_DB_URL", db_url)
    monkeypatch.setenv("LD_LIBRARY_PATH", str(Path(sys.executable).parents[1] / "lib"))
    names = [f"chaos_{i:02d}" for i in range(N_WORKFLOWS)] + ["chaos_walltime"]
    for i, name in enumerate(names):
        (tmp_path / f"{name}.yaml").write_text(
            yaml.safe_dump(slurmcluster.md_study(name, 1000 + i))
        )
    _invoke("submit", *(f"{n}.yaml" for n in names), "--profile", "local")
    profile = str(slurmcluster.write_profile(tmp_path / "slurmtest.yaml", home))
    short = str(
        slurmcluster.write_profile(
            tmp_path / "short.yaml", home, walltime="1", pre_run=["sleep 200"]
        )
    )
    with open_launchpad(load_profile(profile)) as lpad:
        victim = lpad.fireworks.find_one({"name": "chaos_walltime/bulk_tiny"})["fw_id"]
    start = time.monotonic()
    from lisflow.launch.slurm import launch_jobs

    walltime_job = launch_jobs(load_profile(short), fw_id=victim).jobs[0][2]
    jobs = _jobs(_invoke("launch", "--profile", profile))
    assert len(jobs) == N_WORKFLOWS

    rng = random.Random(SEED)
    n_kill = round(KILL_FRACTION * N_WORKFLOWS)
    killed: list[tuple[str, str]] = []
    seen_running: set[str] = set()
    while len(killed) < n_kill and time.monotonic() - start < TIMEOUT_S:
        states = slurmcluster.squeue_states()
        for job_id in sorted(j for j, s in states.items() if s == "RUNNING" and j in jobs):
            if job_id in seen_running:
                continue
            seen_running.add(job_id)
            time.sleep(rng.uniform(1.0, 3.0))  # let the rocket start (FW_offline started_on)
            if len(killed) < n_kill and rng.random() < 0.5:
                how = rng.choice(["scancel", "kill -9"])
                if how == "scancel":
                    os.system(f"scancel {int(job_id)}")
                elif not _kill_rocket(job_id):
                    continue
                killed.append((job_id, how))
        if not any(s in ("PENDING", "RUNNING") for j, s in states.items() if j in jobs):
            break
        time.sleep(0.5)
    assert len(killed) == n_kill, f"only {len(killed)} of {n_kill} jobs could be killed"

    rounds = reruns = 0
    while time.monotonic() - start < TIMEOUT_S:
        _invoke("recover", "--profile", profile)
        out = _invoke(
            "doctor", "--profile", profile, "--rerun", "--max-retries", "3", "--grace", "60"
        )
        reruns += int(out.strip().splitlines()[-1].split(",")[1].split()[0])
        with open_launchpad(load_profile(profile)) as lpad:
            states = [d["state"] for d in lpad.fireworks.find({}, {"state": 1})]
        if states.count("COMPLETED") == len(names):
            break
        _invoke("launch", "--profile", profile)
        rounds += 1
        time.sleep(3.0)
    elapsed = time.monotonic() - start
    walltime_state = slurmcluster.squeue_states().get(walltime_job, "gone")
    print(
        f"\nCHAOS: workflows={len(names)} killed={len(killed)} "
        f"({sum(h == 'scancel' for _, h in killed)} scancel, "
        f"{sum(h == 'kill -9' for _, h in killed)} kill -9) + 1 walltime "
        f"(job {walltime_job}: {walltime_state}); reruns={reruns}; rounds={rounds}; "
        f"all COMPLETED after {elapsed:.0f} s"
    )
    assert states.count("COMPLETED") == len(names), states
    assert walltime_state in ("TIMEOUT", "gone")
    # killed runs were re-queued; a job killed just after its calculation finished needs no
    # rerun (recover completes it), so the count is at least 1, not always n_kill + 1
    assert 1 <= reruns <= (n_kill + 1) * 3

    store = ResultStore(db_url)
    expected = {f"{n}/bulk_tiny" for n in names}
    from lisflow.db import queries

    stored = list(queries.calculations(store)["calc_id"])
    assert store.count("calculations") == len(names) == len(stored)
    assert set(stored) == expected
    for calc_id in expected:
        record = store.get(calc_id)
        assert record is not None and record.state == "COMPLETED" and record.energy_ev < 0
    # every result exactly once: no point of any series twice (a run continued from its restart
    # file supersedes the killed run's rows from its first step on), thermo for every run
    points = queries.series(store)
    assert not points.duplicated(["calc_id", "analysis", "quantity", "x"]).any()
    thermo = points[points["analysis"] == "thermo"].groupby("calc_id")["quantity"].nunique()
    assert set(thermo.index) == expected and (thermo >= 5).all()
    assert store.count("md_scalars") >= 2 * len(names)  # wall_time, simulated_time at least
