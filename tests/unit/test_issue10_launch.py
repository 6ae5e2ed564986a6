"""Issue 10, silent failures: ``lisflow run`` exits 1 on a fizzle, the local runner holds the
LaunchPad lock per launch only, ``doctor --rerun`` works on a profile without Slurm, an engine
the profile cannot run is refused at submit, fizzle reasons are one line of whole words."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest
import yaml
from fireworks import Firework, ScriptTask, Workflow
from fireworks.user_objects.firetasks import script_task
from fireworks.utilities.fw_serializers import SAVED_FW_MODULES
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.launch import doctor as doctor_module
from lisflow.launch.doctor import doctor, shorten
from lisflow.launch.launchpad import open_launchpad
from lisflow.launch.local import _reserve, run_local
from lisflow.launch.profiles import Profile
from lisflow.launch.states import firework_states, workflow_states

SAVED_FW_MODULES.setdefault("ScriptTask", script_task.__name__)


@pytest.fixture
def profile(tmp_path, monkeypatch):
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    return Profile(
        name="local",
        launchpad={"mode": "mongomock", "file": str(tmp_path / "home" / "launchpad.json")},
        results_db=f"sqlite:///{tmp_path / 'home' / 'results.sqlite'}",
        run_root=tmp_path / "home" / "runs",
    )


def _add(profile, script: str, name: str, run_root) -> None:
    fw = Firework(
        [ScriptTask.from_str(script)],
        name=name,
        spec={"_category": "cp2k", "_launch_dir": str(run_root / name)},
    )
    with open_launchpad(profile) as lpad:
        lpad.add_wf(Workflow([fw], name=name))


def test_fizzle_counted_reason_shown_and_doctor_reruns_without_slurm(profile, monkeypatch):
    flag = profile.run_root.parent / "second_try"
    # fails the first time with a long message, succeeds once the flag exists
    script = (
        f"test -f {flag} || {{ touch {flag}; "
        "echo 'the engine stopped because the electronic minimisation did not converge "
        "within the allowed number of steps for this structure' >&2; exit 3; }"
    )
    _add(profile, script, "flaky", profile.run_root)
    summary = run_local(profile, progress=False)
    assert (summary.launched, summary.fizzled, summary.failed) == (1, 1, ["flaky"])
    (row,) = firework_states(profile)
    assert row["state"] == "FIZZLED" and 0 < len(row["reason"]) <= 200 and "\n" not in row["reason"]

    def no_squeue(*args, **kwargs):
        raise AssertionError("squeue called on a profile without Slurm")

    monkeypatch.setattr("lisflow.launch.slurm.slurm_states", no_squeue)
    report = doctor(profile, rerun=True)
    assert [(f.name, f.problem, f.action) for f in report.findings] == [
        ("flaky", "fizzled", "rerun")
    ]
    summary = run_local(profile, progress=False)
    assert (summary.launched, summary.fizzled, summary.completed) == (1, 0, 1)


@pytest.mark.parametrize(
    ("after_the_rocket", "reason"),
    [
        ("cut_ping", "could not read the launch's result files"),  # e.g. a half-written ping
        ("no_result", "the rocket ended without a result"),  # FW_offline.json never completed
    ],
)
def test_a_launch_without_a_readable_result_fizzles_with_its_reason(
    profile, monkeypatch, after_the_rocket, reason
):
    from lisflow.launch import local

    run_offline = local._run_offline

    def rocket_then_damage(fworker, fw_id, launch_dir):
        run_offline(fworker, fw_id, launch_dir)
        if after_the_rocket == "cut_ping":
            (launch_dir / "FW_ping.json").write_text('{"ping_ti')
        else:
            (launch_dir / "FW_offline.json").write_text('{"launch_id": 1}')

    monkeypatch.setattr(local, "_run_offline", rocket_then_damage)
    _add(profile, "true", "done", profile.run_root)
    summary = run_local(profile, progress=False)
    assert (summary.launched, summary.fizzled, summary.failed) == (1, 1, ["done"])
    (row,) = firework_states(profile)
    assert row["state"] == "FIZZLED" and reason in row["reason"]
    assert str(profile.run_root / "done") in row["reason"]


def test_lost_local_run_is_found_by_its_dead_runner(profile, monkeypatch):
    from fireworks import FWorker

    _add(profile, "true", "orphan", profile.run_root)
    fw_id, name, launch_id, _ = _reserve(profile, FWorker(category=["cp2k"]))
    dead = subprocess.Popen(["true"])
    dead.wait()
    with open_launchpad(profile) as lpad:
        runner = lpad.fireworks.find_one({"fw_id": fw_id})["spec"]["_lisflow_runner"]
        assert runner["pid"] == os.getpid()  # recorded at reservation
        lpad.fireworks.update_one(
            {"fw_id": fw_id}, {"$set": {"spec._lisflow_runner.pid": dead.pid}}
        )
    report = doctor(profile, rerun=True)
    assert [(f.name, f.problem, f.action) for f in report.findings] == [
        ("orphan", "lost", "rerun")
    ]
    assert "process is gone" in report.findings[0].reason
    assert run_local(profile, progress=False).completed == 1


def test_status_does_not_wait_for_a_whole_run(profile, tmp_path):
    """While a Firework's engine runs, the LaunchPad lock is free: a non-waiting open works."""
    started = tmp_path / "started"
    _add(profile, f"touch {started}; sleep 4", "slow", profile.run_root)
    thread = threading.Thread(target=run_local, args=(profile,), kwargs={"progress": False})
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists()
        with open_launchpad(profile, wait=False) as lpad:  # LaunchPadBusy if the run held it
            state = lpad.fireworks.find_one({"name": "slow"})["state"]
        assert state == "RESERVED"  # out for an offline launch; recorded when it ends
    finally:
        thread.join()
    assert firework_states(profile)[0]["state"] == "COMPLETED"


def test_run_exit_code_is_one_after_a_fizzle(profile, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    (tmp_path / "p.yaml").write_text(
        yaml.safe_dump(
            {
                "launchpad": {"mode": "mongomock", "file": str(home / "launchpad.json")},
                "results_db": f"sqlite:///{home / 'results.sqlite'}",
                "run_root": str(home / "runs"),
            }
        )
    )
    _add(profile, "exit 4", "broken", profile.run_root)
    result = CliRunner().invoke(app, ["run", "--profile", str(tmp_path / "p.yaml")])
    assert result.exit_code == 1, result.output
    assert "1 FIZZLED" in result.output and "broken" in result.output
    assert (home / "launchpad.json").stat().st_mode & 0o777 == 0o600
    assert home.stat().st_mode & 0o777 == 0o700


def test_vasp_on_the_local_profile_is_refused_at_submit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LISFLOW_VASP_CMD", raising=False)
    spec = {
        "study": "needs_vasp",
        "kind": "polymorphs",
        "preset": "bulk",
        "polymorphs": ["tetragonal"],
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    result = CliRunner().invoke(app, ["submit", "s.yaml"])
    assert result.exit_code == 2
    line = " ".join(result.output.split())
    assert "engine vasp: not configured on profile 'local': set LISFLOW_VASP_CMD" in line
    assert not (tmp_path / "home" / "launchpad.json").exists()  # nothing written


def test_shorten_cuts_at_a_word_boundary():
    text = "word " * 100
    short = shorten(text, 50)
    assert len(short) <= 50 and short.endswith(" ...") and "wor ..." not in short
    assert doctor_module.fizzle_reason.__name__ == "fizzle_reason"


def test_status_and_counts_leave_the_launchpad_file_untouched(profile):
    """Reading states (``lisflow status``, ``--fireworks``) never rewrites the user's LaunchPad
    file; a change (adding a workflow) does."""
    _add(profile, "true", "one", profile.run_root)
    file = profile.run_root.parent / "launchpad.json"
    before = (file.read_bytes(), file.stat().st_mtime_ns, file.stat().st_ino)
    rows = firework_states(profile)
    assert [(r["name"], r["state"]) for r in rows] == [("one", "READY")]
    assert [(r["workflow"], r["fireworks"], r["READY"]) for r in workflow_states(profile)] == [
        ("one", 1, 1)
    ]
    assert (file.read_bytes(), file.stat().st_mtime_ns, file.stat().st_ino) == before
    _add(profile, "true", "two", profile.run_root)
    assert file.stat().st_ino != before[2] and b'"two"' in file.read_bytes()
