"""``lisflow doctor`` logic on a real embedded LaunchPad: retry budget per Firework, reason
kept, lost reservations and lost runs re-queued (Slurm state given as a squeue snapshot)."""

from __future__ import annotations

import os

import pytest
from fireworks import Firework, FWorker, ScriptTask, Workflow
from fireworks.core.rocket_launcher import launch_rocket
from fireworks.user_objects.firetasks import script_task
from fireworks.utilities.fw_serializers import SAVED_FW_MODULES

from lisflow.launch.doctor import FAILURE_KEY, RETRIES_KEY, _requeue, find_problems
from lisflow.launch.launchpad import open_launchpad
from lisflow.launch.profiles import Profile

# load_object() would otherwise import every fireworks.user_objects module (tests included)
SAVED_FW_MODULES.setdefault("ScriptTask", script_task.__name__)


@pytest.fixture
def profile(tmp_path):
    return Profile(
        name="t",
        launchpad={"mode": "mongomock", "file": str(tmp_path / "lp.json")},
        results_db=f"sqlite:///{tmp_path / 'r.sqlite'}",
        run_root=tmp_path / "runs",
    )


def _run_one(lpad, tmp_path):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        launch_rocket(lpad, FWorker(), strm_lvl="ERROR")
    finally:
        os.chdir(cwd)


def test_fizzled_is_rerun_within_budget_then_kept_with_reason(profile, tmp_path):
    with open_launchpad(profile) as lpad:
        fw = Firework(
            [ScriptTask.from_str("exit 3")], name="always_fails", spec={"_category": "cp2k"}
        )
        lpad.add_wf(Workflow([fw]))
        actions = []
        for _ in range(3):
            _run_one(lpad, tmp_path)
            (finding,) = find_problems(lpad, {})
            assert finding.problem == "fizzled" and finding.reason
            _requeue(lpad, finding, max_retries=2)
            actions.append(finding.action)
        assert actions == ["rerun", "rerun", "budget exhausted"]
        doc = lpad.fireworks.find_one({"name": "always_fails"})
        assert doc["state"] == "FIZZLED"
        assert doc["spec"][RETRIES_KEY] == 2
        assert (
            doc["spec"][FAILURE_KEY].startswith("fizzled: ")
            and "after 2 retries" in doc["spec"][FAILURE_KEY]
        )
        assert len(doc["launches"]) + len(doc.get("archived_launches", [])) == 3


def test_lost_reservation_and_lost_run(profile, tmp_path):
    with open_launchpad(profile) as lpad:
        lpad.add_wf(
            Workflow(
                [
                    Firework(
                        [ScriptTask.from_str("true")], name=f"fw{i}", spec={"_category": "cp2k"}
                    )
                    for i in range(3)
                ]
            )
        )
        reserved = []
        for job in ("101", "102", "103"):
            fw, launch_id = lpad.reserve_fw(FWorker(), str(tmp_path))
            lpad.set_reservation_id(launch_id, job)
            reserved.append((fw.fw_id, launch_id))
        running_fw, running_launch = reserved[1]
        launch = lpad.get_launch_by_id(running_launch)
        launch.state = "RUNNING"
        lpad.launches.find_one_and_replace({"launch_id": running_launch}, launch.to_db_dict())
        lpad.fireworks.update_one({"fw_id": running_fw}, {"$set": {"state": "RUNNING"}})
        # job 101 still pending, 102 cancelled, 103 gone from squeue
        findings = find_problems(lpad, {"101": "PENDING", "102": "CANCELLED"})
        assert [(f.job_id, f.problem) for f in findings] == [("102", "lost"), ("103", "lost")]
        assert "cancelled" in findings[0].reason and "gone" in findings[1].reason
        for finding in findings:
            _requeue(lpad, finding, max_retries=3)
        states = {d["name"]: d["state"] for d in lpad.fireworks.find({}, {"name": 1, "state": 1})}
        assert sorted(states.values()) == ["READY", "READY", "RESERVED"]
        assert find_problems(lpad, {"101": "RUNNING"}) == []
