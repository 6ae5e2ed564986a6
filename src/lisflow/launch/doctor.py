"""``lisflow doctor``: find lost, failed and stuck runs; rerun them within a retry budget.

A Firework needs care when it is

* ``lost``: RESERVED or RUNNING but its Slurm job (recorded at reservation) is no longer
  alive in ``squeue`` (cancelled, killed, walltime, node failure) and the recovered offline
  files do not show it finished; or RESERVED without any job id (the submission never
  happened) for longer than ``grace_s``;
* ``fizzled``: FIZZLED (the engine or parser failed, or a lost run marked so).

With ``rerun`` each such Firework is re-queued (``cancel_reservation`` for a reservation
whose job died before starting, ``mark_fizzled`` + ``rerun_fw`` otherwise, the stale offline
record forgotten) as long as its retry count — kept in the Firework spec as
``_lisflow_retries`` — is below ``max_retries``; beyond that it stays FIZZLED and the reason
(``_lisflow_failure``) is shown. Slurm is asked *before* the offline files are recovered, so
a job that ended just before the check is seen finished, not lost. Results are stored only
through the idempotent ingest of ``lisflow recover``: a rerun never duplicates a row.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field

from lisflow.launch.launchpad import open_launchpad, save
from lisflow.launch.offline import RecoverReport, recover_launches, reservation_id, run_analysis
from lisflow.launch.profiles import Profile

RETRIES_KEY = "_lisflow_retries"
FAILURE_KEY = "_lisflow_failure"


@dataclass
class Finding:
    """One Firework that needs care and what was done about it."""

    fw_id: int
    name: str
    problem: str  # lost | fizzled
    reason: str
    job_id: str | None = None
    retries: int = 0
    action: str = "none"  # rerun | budget exhausted | none


@dataclass
class DoctorReport:
    findings: list[Finding] = field(default_factory=list)
    recovered: RecoverReport | None = None

    @property
    def reruns(self) -> int:
        return sum(f.action == "rerun" for f in self.findings)


def shorten(text: str, width: int = 160) -> str:
    """``text`` on one line, at most ``width`` characters, cut at a word boundary."""
    import textwrap

    return textwrap.shorten(" ".join(str(text).split()), width=width, placeholder=" ...")


def fizzle_reason(lpad, launch_id: int | None, width: int = 200) -> str:
    """Why a launch FIZZLED: the last line of its stored exception (one line, whole words)."""
    if launch_id is None:
        return "no launch"
    doc = lpad.launches.find_one({"launch_id": launch_id}, {"action": 1}) or {}
    data = (doc.get("action") or {}).get("stored_data") or {}
    trace = (data.get("_exception") or {}).get("_stacktrace") or data.get("_message") or ""
    lines = [line for line in str(trace).strip().splitlines() if line.strip()]
    if not lines:
        return "FIZZLED without a recorded error"
    heads = [i for i, line in enumerate(lines) if re.match(r"[\w.]+(Error|Exception)\w*: ", line)]
    message = " ".join(lines[heads[-1] :] if heads else lines[-1:])
    return shorten(re.sub(r"^(\w+\.)+", "", message), width)  # EngineError: ..., not a.b.c.


_fizzle_reason = fizzle_reason


def _runner_alive(lpad, fw_id: int) -> bool | None:
    """Whether the local ``lisflow run`` process that reserved a Firework still runs (None:
    not reserved by a local run, or on another host)."""
    import socket

    doc = lpad.fireworks.find_one({"fw_id": fw_id}, {"spec._lisflow_runner": 1}) or {}
    runner = (doc.get("spec") or {}).get("_lisflow_runner") or {}
    if not runner or runner.get("host") != socket.gethostname():
        return None
    try:
        os.kill(int(runner["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _age_s(lpad, launch_id: int) -> float:
    doc = (
        lpad.launches.find_one({"launch_id": launch_id}, {"time_start": 1, "state_history": 1})
        or {}
    )
    stamps = [h.get("updated_on") or h.get("created_on") for h in doc.get("state_history", [])]
    stamps = [s for s in stamps if s]
    if not stamps:
        return float("inf")
    last = max(stamps)
    if isinstance(last, str):
        last = datetime.datetime.fromisoformat(last)
    if last.tzinfo is None:
        last = last.replace(tzinfo=datetime.UTC)
    return (datetime.datetime.now(datetime.UTC) - last).total_seconds()


def find_problems(
    lpad, slurm: dict[str, str] | None, grace_s: float = 300.0
) -> list[Finding]:
    """Lost and FIZZLED Fireworks, given a ``squeue`` snapshot ``{job id: state}`` (None on a
    profile without Slurm: a reservation is lost when its local runner process is gone)."""
    from lisflow.launch.slurm import ALIVE_STATES

    findings = []
    query = {"state": {"$in": ["RESERVED", "RUNNING", "FIZZLED"]}}
    for doc in lpad.fireworks.find(
        query, {"fw_id": 1, "name": 1, "state": 1, "launches": 1, f"spec.{RETRIES_KEY}": 1}
    ).sort("fw_id", 1):
        launch_id = doc["launches"][-1] if doc.get("launches") else None
        job_id = reservation_id(lpad, launch_id) if launch_id is not None else None
        retries = int(doc.get("spec", {}).get(RETRIES_KEY, 0))
        if doc["state"] == "FIZZLED":
            findings.append(
                Finding(
                    doc["fw_id"],
                    doc["name"],
                    "fizzled",
                    fizzle_reason(lpad, launch_id),
                    job_id,
                    retries,
                )
            )
            continue
        if slurm is None:
            if launch_id is None or _runner_alive(lpad, doc["fw_id"]) is not False:
                continue
            reason = f"{doc['state']} but its lisflow run process is gone"
        elif job_id is None:
            if launch_id is None or _age_s(lpad, launch_id) < grace_s:
                continue  # a submission may be in flight
            reason = f"{doc['state']} but never submitted to Slurm"
        elif slurm.get(job_id) in ALIVE_STATES:
            continue
        else:
            reason = f"{doc['state']} but Slurm job {job_id} is {slurm.get(job_id, 'gone').lower()}"
        findings.append(Finding(doc["fw_id"], doc["name"], "lost", reason, job_id, retries))
    return findings


def _requeue(lpad, finding: Finding, max_retries: int) -> None:
    doc = lpad.fireworks.find_one({"fw_id": finding.fw_id}, {"state": 1, "launches": 1})
    launch_id = doc["launches"][-1] if doc.get("launches") else None
    reason = f"{finding.problem}: {finding.reason}"
    if finding.retries >= max_retries:
        if doc["state"] != "FIZZLED" and launch_id is not None:
            lpad.forget_offline(launch_id)
            lpad.mark_fizzled(launch_id)
        finding.action = "budget exhausted"
        lpad.fireworks.update_one(
            {"fw_id": finding.fw_id},
            {"$set": {f"spec.{FAILURE_KEY}": f"{reason} (after {finding.retries} retries)"}},
        )
        return
    lpad.fireworks.update_one(
        {"fw_id": finding.fw_id},
        {"$set": {f"spec.{RETRIES_KEY}": finding.retries + 1, f"spec.{FAILURE_KEY}": reason}},
    )
    if launch_id is not None:
        lpad.forget_offline(launch_id)
    if doc["state"] == "RESERVED" and launch_id is not None:
        lpad.cancel_reservation(launch_id)  # back to READY
    else:
        if doc["state"] == "RUNNING" and launch_id is not None:
            lpad.mark_fizzled(launch_id)
        lpad.rerun_fw(finding.fw_id)
    finding.retries += 1
    finding.action = "rerun"


def doctor(
    profile: Profile, rerun: bool = False, max_retries: int = 3, grace_s: float = 300.0
) -> DoctorReport:
    """Recover offline launches, list the problems, and (``rerun``) re-queue them."""
    from lisflow.launch.local import results_store
    from lisflow.launch.slurm import slurm_states

    # before recovering: a job gone now had written its files; no Slurm on a local profile
    slurm = slurm_states() if profile.queue else None
    store = results_store(profile)
    report = DoctorReport()
    with open_launchpad(profile) as lpad:
        report.recovered = recover_launches(lpad, store)
        report.findings = find_problems(lpad, slurm, grace_s)
        if rerun:
            for finding in report.findings:
                _requeue(lpad, finding, max_retries)
                save(lpad)
        report.recovered.analysis = run_analysis(lpad, profile)
    return report
