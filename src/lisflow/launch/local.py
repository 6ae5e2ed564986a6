"""Submit studies to a LaunchPad and run them here (rapidfire, one rocket at a time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lisflow.launch.launchpad import open_launchpad, save
from lisflow.launch.profiles import Profile
from lisflow.spec import load_spec
from lisflow.workflows.build import ACTIVE_STATES, BuildReport, build_workflow


def results_store(profile: Profile):
    from lisflow.db.store import ResultStore

    return ResultStore(profile.results_db)


def active_names(lpad, study: str | None = None) -> set[str]:
    """Names of Fireworks already queued, running or completed in the LaunchPad."""
    query = {"state": {"$in": list(ACTIVE_STATES)}}
    if study:
        query["spec.study"] = study
    return {doc["name"] for doc in lpad.fireworks.find(query, {"name": 1})}


def submit(
    spec_files: list[Path], profile: Profile, engine_options: dict | None = None
) -> list[BuildReport]:
    """Add each study's Workflow of not-yet-done calculations; returns what was added/skipped."""
    specs = [(path, load_spec(path)) for path in spec_files]  # validate all before writing
    reports = []
    store = results_store(profile)
    with open_launchpad(profile) as lpad:
        for path, spec in specs:
            wf, report = build_workflow(
                spec,
                path,
                store,
                profile.run_root,
                profile.results_db,
                active_names(lpad, spec.study),
                engine_options,
            )
            if wf is not None:
                ids = lpad.add_wf(wf)  # {old id: new id}
                for fw_id in ids.values():  # Firetasks record their Firework id in the DB
                    lpad.update_spec([fw_id], {"_lisflow_fw_id": fw_id})
                save(lpad)
            reports.append(report)
    return reports


@dataclass
class RunSummary:
    launched: int
    completed: int
    fizzled: int


def _quiet_ping() -> None:
    """FireWorks' ping thread pings once more after its launch ended (``stop_event.wait``
    returns, then ``do_ping``); with the embedded LaunchPad that late ping can race the
    launch's own update and print a ValueError traceback. Ignore that late ping only."""
    from fireworks.core import rocket

    if getattr(rocket.do_ping, "_lisflow", False):
        return
    original = rocket.do_ping

    def do_ping(launchpad, launch_id):
        try:
            original(launchpad, launch_id)
        except ValueError:
            pass

    do_ping._lisflow = True  # type: ignore[attr-defined]
    rocket.do_ping = do_ping


def run_local(profile: Profile, max_launches: int = 0, progress: bool = True) -> RunSummary:
    """Run READY Fireworks here until none is left (or ``max_launches``), saving after each."""
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import launch_rocket

    profile.apply_engine_environment()
    _quiet_ping()
    launched = 0
    with open_launchpad(profile) as lpad:
        pending = lpad.fireworks.count_documents({"state": {"$in": ["READY", "WAITING"]}})
        total = min(pending, max_launches) if max_launches else pending
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, disable=not progress, transient=False) as bar:
            task = bar.add_task("running", total=total)
            while not max_launches or launched < max_launches:
                fw_doc = lpad.fireworks.find_one({"state": "READY"}, {"name": 1})
                if fw_doc is None:
                    break
                bar.update(task, description=f"running {fw_doc['name']}")
                cwd = os.getcwd()
                try:  # the Rocket chdirs into the Firework's _launch_dir and stays there
                    launch_rocket(lpad, FWorker(name="lisflow-local"), strm_lvl="ERROR")
                finally:
                    os.chdir(cwd)
                launched += 1
                save(lpad)
                bar.advance(task)
        completed = lpad.fireworks.count_documents({"state": "COMPLETED"})
        fizzled = lpad.fireworks.count_documents({"state": "FIZZLED"})
    return RunSummary(launched=launched, completed=completed, fizzled=fizzled)


def workflow_states(profile: Profile) -> list[dict]:
    """One row per workflow: name, state and Firework counts per state."""
    rows = []
    with open_launchpad(profile) as lpad:
        for wf in lpad.workflows.find({}, {"name": 1, "state": 1, "nodes": 1, "fw_states": 1}):
            counts: dict[str, int] = {}
            for state in (wf.get("fw_states") or {}).values():
                counts[state] = counts.get(state, 0) + 1
            rows.append(
                {
                    "workflow": wf["name"],
                    "state": wf.get("state", "?"),
                    "fireworks": len(wf.get("nodes", [])),
                    **counts,
                }
            )
    return rows


def firework_states(profile: Profile, study: str | None = None) -> list[dict]:
    """One row per Firework: id, name, state, and the reason of a FIZZLED one."""
    query = {"spec.study": study} if study else {}
    rows = []
    with open_launchpad(profile) as lpad:
        for doc in lpad.fireworks.find(query, {"fw_id": 1, "name": 1, "state": 1}).sort("fw_id", 1):
            rows.append({"fw_id": doc["fw_id"], "name": doc["name"], "state": doc["state"]})
    return rows
