"""Submit studies to a LaunchPad and run them here (rapidfire, one rocket at a time)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lisflow.engines.registry import ENGINES
from lisflow.errors import InputError
from lisflow.launch.launchpad import open_launchpad, save
from lisflow.launch.profiles import Profile
from lisflow.spec import load_spec
from lisflow.spec.engine_override import EngineOverride, apply_engine_override, engine_override
from lisflow.workflows.build import ACTIVE_STATES, BuildReport, build_workflow

if TYPE_CHECKING:
    from pydantic import BaseModel

    from lisflow.db.store import ResultStore


def _study_id(spec: BaseModel) -> str:
    """The ``study`` id every study model carries."""
    study = getattr(spec, "study", None)
    if not isinstance(study, str):
        raise InputError("study", f"{type(spec).__name__} has no study id")
    return study


def results_store(profile: Profile) -> ResultStore:
    from lisflow.db.store import open_store

    return open_store(profile.results_db, create=True)


def active_names(lpad, study: str | None = None) -> set[str]:
    """Names of Fireworks already queued, running or completed in the LaunchPad."""
    query: dict[str, Any] = {"state": {"$in": list(ACTIVE_STATES)}}
    if study:
        query["spec.study"] = study
    return {doc["name"] for doc in lpad.fireworks.find(query, {"name": 1})}


#: Example command per engine, for the "not configured" message.
_ENGINE_EXAMPLES = {"vasp": "mpirun vasp_std", "cp2k": "cp2k.psmp", "lammps": "lmp"}


def check_engine_configured(engine: str, profile: Profile) -> None:
    """Refuse a study whose engine this profile cannot run (one line: what to set).

    The command comes from ``$LISFLOW_<ENGINE>_CMD`` or the profile's ``engine_commands``;
    on a profile without a queue (runs here) its program must also be on ``PATH``.
    """
    import shutil

    if engine not in _ENGINE_EXAMPLES:
        return
    variable = f"LISFLOW_{engine.upper()}_CMD"
    command = os.environ.get(variable) or profile.engine_commands.get(engine)
    where = f"configs/profiles/{profile.name}.yaml engine_commands.{engine}"
    if not command or not command.split():
        raise InputError(
            f"engine {engine}",
            f"not configured on profile {profile.name!r}: set {variable} "
            f"(e.g. {_ENGINE_EXAMPLES[engine]!r}) or {where}",
        )
    program = command.split()[0]
    if not profile.queue and shutil.which(program) is None and not Path(program).is_file():
        raise InputError(
            f"engine {engine}",
            f"program {program!r} of profile {profile.name!r} is not on PATH: "
            f"install it or set {variable}",
        )


def fizzled_fireworks(lpad, study: str) -> dict[str, int]:
    """``{name: fw_id}`` of the study's FIZZLED Fireworks (re-submitting reruns them)."""
    query = {"state": "FIZZLED", "spec.study": study}
    return {doc["name"]: doc["fw_id"] for doc in lpad.fireworks.find(query, {"name": 1, "fw_id": 1})}


def submit(
    spec_files: list[Path],
    profile: Profile,
    engine_options: dict | None = None,
    progress: Callable[..., None] | None = None,
    override: EngineOverride | None = None,
) -> list[BuildReport]:
    """Add each study's Workflow of not-yet-done calculations; returns what was added/skipped.

    ``progress(text)`` is called after each study's workflow is built and after it is added
    (two steps per study).

    A calculation whose Firework FIZZLED earlier is not added again: the original Firework
    is updated (current inputs) and rerun (``LaunchPad.rerun_fw``), so the Fireworks that
    wait on it (E_ads, statics) run after it.
    """
    override = override or engine_override(None, None, profile.engine_override)
    specs = [(path, apply_engine_override(load_spec(path), override)) for path in spec_files]
    if not (engine_options or {}).get("engine") == "replay":
        for _, spec in specs:
            check_engine_configured(getattr(spec, "engine", ""), profile)
    reports = []
    store = results_store(profile)
    with open_launchpad(profile) as lpad:
        built = []
        for path, spec in specs:  # build every workflow before changing the LaunchPad
            study = _study_id(spec)
            fizzled = fizzled_fireworks(lpad, study)
            wf, report = build_workflow(
                spec,
                path,
                store,
                profile.run_root,
                profile.results_db,
                active_names(lpad, study),
                engine_options,
                rerun=set(fizzled),
            )
            built.append((wf, report, fizzled))
            if progress is not None:
                progress(f"built {study}")
        for wf, report, fizzled in built:
            for name, fw in report.rerun.items():
                fw_id = fizzled[name]
                old = lpad.fireworks.find_one({"fw_id": fw_id}, {"spec.lisflow_parents": 1})
                parents = (old.get("spec") or {}).get("lisflow_parents") or {}
                new_spec = fw.to_dict()["spec"]
                lpad.update_spec(
                    [fw_id],
                    {
                        "_tasks": new_spec["_tasks"],  # the current inputs and engine options
                        "lisflow_parents": {**parents, **new_spec.get("lisflow_parents", {})},
                    },
                )
                lpad.rerun_fw(fw_id)
                save(lpad)
            if wf is not None:
                ids = lpad.add_wf(wf)  # {old id: new id}
                for fw_id in ids.values():  # Firetasks record their Firework id in the DB
                    lpad.update_spec([fw_id], {"_lisflow_fw_id": fw_id})
                save(lpad)
            reports.append(report)
            if progress is not None:
                progress(f"added {report.study}")
    return reports


@dataclass
class RunSummary:
    launched: int
    completed: int
    fizzled: int
    #: names of the Fireworks that FIZZLED in this run
    failed: list[str] = field(default_factory=list)
    #: names of all FIZZLED Fireworks in the LaunchPad after the run
    fizzled_names: list[str] = field(default_factory=list)


#: Firework spec key: host and pid of the ``lisflow run`` that reserved it (doctor: alive?).
RUNNER_KEY = "_lisflow_runner"
#: Categories a local runner takes: every engine and the small analysis Fireworks.
#: Firework categories a local run takes: every engine (its Fireworks carry the engine's name;
#: engines the profile cannot run are refused at submit) and the derived-quantity steps.
LOCAL_CATEGORIES = (*ENGINES, "analysis")


def _reserve(profile: Profile, fworker) -> tuple[int, str, int, Path] | None:
    """Under the LaunchPad lock: reserve one READY Firework for an offline run in its launch
    directory (``FW.json`` there); returns (fw_id, name, launch_id, dir) or None."""
    from fireworks.queue.queue_launcher import setup_offline_job

    with open_launchpad(profile) as lpad:
        fw, launch_id = lpad.reserve_fw(fworker, str(profile.run_root))
        if not fw:
            return None
        launch_dir = Path(os.path.expandvars(fw.spec.get("_launch_dir") or profile.run_root))
        if fw.spec.get("_category") == "analysis":
            launch_dir = profile.run_root / "_analysis" / f"fw_{fw.fw_id}"
        launch_dir.mkdir(parents=True, exist_ok=True)
        lpad.change_launch_dir(launch_id, str(launch_dir))
        runner = {"host": socket.gethostname(), "pid": os.getpid()}  # lisflow doctor: alive?
        lpad.fireworks.update_one({"fw_id": fw.fw_id}, {"$set": {f"spec.{RUNNER_KEY}": runner}})
        cwd = os.getcwd()
        os.chdir(launch_dir)
        try:
            setup_offline_job(lpad, fw, launch_id)  # writes FW.json, FW_offline.json
        finally:
            os.chdir(cwd)
        return fw.fw_id, fw.name, launch_id, launch_dir  # saved once, on leaving the LaunchPad


def _run_offline(fworker, fw_id: int, launch_dir: Path) -> None:
    """Run one reserved Firework from its ``FW.json`` without the LaunchPad (no lock held)."""
    from fireworks.core.rocket_launcher import launch_rocket

    from lisflow.launch.offline import patch_rocket

    patch_rocket()  # atomic offline files, no ping after the launch (see lisflow.launch.offline)
    cwd = os.getcwd()
    os.chdir(launch_dir)
    try:
        launch_rocket(None, fworker, fw_id=fw_id, strm_lvl="ERROR")
    finally:
        os.chdir(cwd)


def _finish(profile: Profile, launch_id: int, fw_id: int) -> str:
    """Under the lock: bring the launch's offline result into the LaunchPad; its new state
    (saved once, on leaving the LaunchPad; a crash before that loses nothing: the offline
    result stays in the launch directory and ``lisflow recover`` reads it again)."""
    from fireworks import FWAction

    with open_launchpad(profile) as lpad:
        unreadable = lpad.recover_offline(launch_id, ignore_errors=True, print_errors=False)
        doc = lpad.fireworks.find_one({"fw_id": fw_id}, {"state": 1}) or {}
        state = doc.get("state", "?")
        if state in ("RUNNING", "RESERVED"):  # no result recorded: say why (lisflow status)
            launch = lpad.launches.find_one({"launch_id": launch_id}, {"launch_dir": 1}) or {}
            where = Path(launch.get("launch_dir", "?"))
            reason = (
                f"lisflow: could not read the launch's result files in {where} "
                "(FW_offline.json, FW_ping.json)"
                if unreadable is not None
                else f"lisflow: the rocket ended without a result in {where / 'FW_offline.json'}"
            )
            lpad.forget_offline(launch_id)
            action = FWAction(stored_data={"_message": reason}, exit=True)
            lpad.complete_launch(launch_id, action, "FIZZLED")
            state = "FIZZLED"
        return state


def run_local(profile: Profile, max_launches: int = 0, progress: bool = True) -> RunSummary:
    """Run READY Fireworks here until none is left (or ``max_launches``).

    The LaunchPad lock is held only to reserve a Firework and to record its result, not
    while its engine runs (offline launch in its directory), so ``lisflow status`` and
    ``lisflow submit`` never wait for a whole run; two ``lisflow run`` may share the work.
    """
    from fireworks import FWorker

    profile.apply_engine_environment()
    fworker = FWorker(name="lisflow-local", category=list(LOCAL_CATEGORIES))
    launched, failed = 0, []
    with open_launchpad(profile, read_only=True) as lpad:
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
            reserved = _reserve(profile, fworker)
            if reserved is None:
                break
            fw_id, name, launch_id, launch_dir = reserved
            bar.update(task, description=f"running {name}")
            try:
                _run_offline(fworker, fw_id, launch_dir)
            finally:
                state = _finish(profile, launch_id, fw_id)
            if state == "FIZZLED":
                failed.append(name)
            launched += 1
            bar.advance(task)
    with open_launchpad(profile, read_only=True) as lpad:
        completed = lpad.fireworks.count_documents({"state": "COMPLETED"})
        fizzled = sorted(doc["name"] for doc in lpad.fireworks.find({"state": "FIZZLED"}))
    return RunSummary(launched, completed, len(fizzled), failed, fizzled)
