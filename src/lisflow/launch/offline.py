"""``lisflow recover``: bring offline Slurm launches back into the LaunchPad and the DB.

For every offline launch not yet completed (``offline_runs``), FireWorks'
``LaunchPad.recover_offline`` reads ``FW_offline.json``/``FW_ping.json`` in the launch
directory (started, pinged, COMPLETED or FIZZLED, with the FWAction that updates the children).
Then the ``lisflow_result.json`` of each newly COMPLETED calculation is stored in the results
database in ONE transaction (idempotent upserts: storing twice never duplicates), and the
small "analysis" Fireworks (E_ads, formation energies) that became READY run here, in this
process, because they need the database. Works with the embedded LaunchPad: only this
process writes it while ``open_launchpad`` holds its lock.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lisflow.engines.registry import calc_from_dict
from lisflow.fsutil import atomic_write_text
from lisflow.launch.launchpad import open_launchpad, save
from lisflow.launch.profiles import Profile


@dataclass
class RecoverReport:
    """Counts of one recovery round (Firework names in the lists)."""

    recovered: int = 0
    completed: list[str] = field(default_factory=list)
    fizzled: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    analysis: int = 0


def _calc_dict(fw_doc: dict) -> dict | None:
    for task in fw_doc["spec"].get("_tasks", []):
        if "calc" in task:
            return task["calc"]
    return None


def reservation_id(lpad, launch_id: int) -> str | None:
    """The Slurm job id recorded at reservation for a launch (None if never submitted)."""
    doc = lpad.launches.find_one({"launch_id": launch_id}, {"state_history": 1}) or {}
    for entry in doc.get("state_history", []):
        if entry.get("reservation_id"):
            return str(entry["reservation_id"])
    return None


def job_ids(profile: Profile) -> dict[int, str]:
    """``{fw_id: Slurm job id}`` of each Firework's latest reserved launch."""
    ids = {}
    with open_launchpad(profile) as lpad:
        for doc in lpad.fireworks.find(
            {"launches.0": {"$exists": True}}, {"fw_id": 1, "launches": 1}
        ):
            job = reservation_id(lpad, doc["launches"][-1])
            if job:
                ids[doc["fw_id"]] = job
    return ids


def ingest(store, fw_doc: dict, launch_dir: Path) -> bool:
    """Store one launch's ``lisflow_result.json`` in one transaction; False if there is none."""
    from lisflow.workflows.firetasks import ingest_result_file

    calc = _calc_dict(fw_doc)
    if calc is None:
        return False
    with store.transaction():
        return ingest_result_file(store, Path(launch_dir), calc_from_dict(calc))


def recover_launches(lpad, store) -> RecoverReport:
    """One pass over the open offline launches of ``lpad`` (saved after each)."""
    report = RecoverReport()
    for run in list(lpad.offline_runs.find({"completed": False, "deprecated": False})):
        launch_id, fw_id = run["launch_id"], run["fw_id"]
        launch = lpad.launches.find_one({"launch_id": launch_id}, {"launch_dir": 1, "state": 1})
        if launch is None:
            continue
        failed = lpad.recover_offline(launch_id, ignore_errors=True, print_errors=False)
        save(lpad)
        report.recovered += 1
        fw_doc = lpad.fireworks.find_one({"fw_id": fw_id}, {"name": 1, "state": 1, "spec": 1})
        name, state = fw_doc["name"], fw_doc["state"]
        if failed is not None:
            report.unreadable.append(name)  # e.g. FW_offline.json cut by a kill: doctor decides
        elif state == "COMPLETED":
            report.completed.append(name)
            if ingest(store, fw_doc, Path(launch["launch_dir"])):
                report.ingested.append(name)
        elif state == "FIZZLED":
            report.fizzled.append(name)
        elif state in ("RUNNING", "RESERVED"):
            report.running.append(name)
    return report


def run_analysis(lpad, profile: Profile) -> int:
    """Run READY "analysis" Fireworks here (they read/write the results DB); returns count."""
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import launch_rocket

    patch_rocket()
    fworker = FWorker(name="lisflow-recover", category="analysis")
    directory = profile.run_root / "_analysis"
    directory.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in ("LISFLOW_DEFER_STORE", "LISFLOW_DB_URL")}
    os.environ.pop("LISFLOW_DEFER_STORE", None)
    if profile.results_db and not saved["LISFLOW_DB_URL"]:
        os.environ["LISFLOW_DB_URL"] = profile.results_db
    count, cwd = 0, os.getcwd()
    try:
        while lpad.fireworks.find_one(
            {"state": "READY", "spec._category": "analysis"}, {"fw_id": 1}
        ):
            os.chdir(directory)
            launch_rocket(lpad, fworker, strm_lvl="ERROR")
            os.chdir(cwd)
            save(lpad)
            count += 1
    finally:
        os.chdir(cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return count


def recover(profile: Profile, analysis: bool = True) -> RecoverReport:
    """``lisflow recover``: recover offline launches, ingest results, run analysis Fireworks."""
    from lisflow.launch.local import results_store

    store = results_store(profile)
    with open_launchpad(profile) as lpad:
        report = recover_launches(lpad, store)
        if analysis:
            report.analysis = run_analysis(lpad, profile)
    return report


# --- the job side: ``python -m lisflow.launch.offline singleshot --offline --fw_id N`` ---------


class _AtomicTextFile(io.StringIO):
    """A text file that appears at ``path`` only when closed without error (temp + rename)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self._path = Path(path)

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            atomic_write_text(self._path, self.getvalue())
        self.close()


def _do_ping(launchpad, launch_id: int | None) -> None:
    """FireWorks' ``do_ping``; the offline ``FW_ping.json`` (same text) written atomically."""
    import datetime

    if launchpad:
        launchpad.ping_launch(launch_id)
    else:
        now = datetime.datetime.now(datetime.UTC).isoformat()
        atomic_write_text(Path("FW_ping.json"), f'{{"ping_time": "{now}"}}')


def _ping_while_running(launchpad, launch_id, stop_event, master_thread) -> None:
    """FireWorks' ping thread without its ping *after* the stop: that late ping ran after the
    Rocket had returned, so it wrote ``FW_ping.json`` into whatever directory the caller was
    back in (a user's working directory) or raced ``recover_offline`` reading the file
    (a truncated file made a COMPLETED launch FIZZLED). The Rocket pings itself at the end."""
    from fireworks.core import rocket

    while not stop_event.wait(rocket.PING_TIME_SECS) and master_thread.is_alive():
        rocket.do_ping(launchpad, launch_id)


def patch_rocket() -> None:
    """Make FireWorks' Rocket safe for lisflow's launches (idempotent): atomic offline files
    (``FW_offline.json``, ``FW_ping.json``) and no ping after the launch ended."""
    from fireworks.core import rocket

    rocket.zopen = _zopen
    rocket.do_ping = _do_ping
    rocket.ping_launch = _ping_while_running


def _zopen(path, mode: str = "rt", *args, **kwargs):
    """``monty.io.zopen`` for FireWorks' Rocket: FireWorks 2.1.4 calls ``zopen(path)`` without
    the mode that monty >= 2025 requires (offline mode then crashes), and it rewrites
    ``FW_offline.json`` in place (a kill can leave it cut). Text writes here are atomic."""
    from monty.io import zopen

    if mode in ("w", "wt") and not str(path).endswith((".gz", ".bz2", ".xz")):
        return _AtomicTextFile(path)
    return zopen(path, mode, *args, **kwargs)


def run_offline_rocket(argv: list[str]) -> int:
    """FireWorks' ``rlaunch`` with the offline-file fix above (what the Slurm job runs)."""
    from fireworks.scripts.rlaunch_run import rlaunch

    patch_rocket()
    return rlaunch(argv) or 0


if __name__ == "__main__":
    raise SystemExit(run_offline_rocket(sys.argv[1:]))
