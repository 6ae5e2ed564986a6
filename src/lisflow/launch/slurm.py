"""Slurm through FireWorks' queue launcher, in offline (reservation) mode.

The ``queue:`` section of a profile (``configs/profiles/slurm.yaml``) becomes a FireWorks
``CommonAdapter(q_type="SLURM")`` with the job-script template
``configs/templates/slurm_job.sh``. Every value is validated (names by regex, the time limit
by :func:`~lisflow.launch.walltime.parse_slurm_time`, integers as integers) and the script is
only ever filled from those values: no shell string is assembled from free user text.

``launch_jobs`` reserves one Firework per job (``launch_rocket_to_queue(reserve=True)``):
FireWorks writes ``FW.json`` into the Firework's ``_launch_dir`` and the job runs
``rlaunch singleshot --offline`` there, never touching the LaunchPad or the results DB.
``lisflow recover`` (:mod:`lisflow.launch.offline`) brings the states and results back.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lisflow import CONFIGS_DIR
from lisflow.engines.registry import ENGINES
from lisflow.errors import InputError
from lisflow.launch.launchpad import open_launchpad, save
from lisflow.launch.profiles import Profile
from lisflow.launch.walltime import FORMATS, parse_slurm_time

TEMPLATE = CONFIGS_DIR / "templates" / "slurm_job.sh"
#: Firework categories that run as queue jobs; "analysis" Fireworks run in ``lisflow recover``.
#: Queue categories: one per engine (a Firework's ``_category`` is its engine's name).
QUEUE_CATEGORIES = ENGINES

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_MEMORY = re.compile(r"^\d+[KMGT]?$")
_MODULE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./+-]{0,127}$")
#: pre-run lines and engine commands: words of safe characters only (no ; | & $ ` < > quotes).
_COMMAND = re.compile(r"^[A-Za-z0-9_./=+:,@% -]{1,256}$")
_PATH = re.compile(r"^[A-Za-z0-9_./+@%:-]+$")
QUEUE_KEYS = (
    "partition",
    "account",
    "qos",
    "nodes",
    "ntasks",
    "cpus_per_task",
    "walltime",
    "memory",
    "modules",
    "pre_run",
)


@dataclass(frozen=True)
class SlurmSettings:
    """Validated ``queue:`` settings; ``walltime`` is a Slurm time string."""

    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    nodes: int = 1
    ntasks: int = 1
    cpus_per_task: int = 1
    walltime: str = "01:00:00"
    memory: str | None = None
    modules: tuple[str, ...] = ()
    pre_run: tuple[str, ...] = ()
    engine_commands: dict[str, str] = field(default_factory=dict)

    @property
    def walltime_s(self) -> float:
        return parse_slurm_time(self.walltime)


def _name(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _NAME.match(value):
        raise InputError(
            f"queue.{key}",
            f"invalid name {value!r}",
            "letters, digits, _ . - (max 64, not starting with . or -)",
        )
    return value


def _integer(value: Any, key: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100000:
        raise InputError(f"queue.{key}", f"must be a positive integer, got {value!r}", "1..100000")
    return value


def _lines(value: Any, key: str, pattern: re.Pattern) -> tuple[str, ...]:
    items = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise InputError(f"queue.{key}", "must be a list of strings")
    for item in items:
        if not isinstance(item, str) or not pattern.match(item):
            raise InputError(
                f"queue.{key}",
                f"unsafe or invalid entry {item!r}",
                "letters, digits, spaces and _ . / = + : , @ % -",
            )
    return tuple(items)


def slurm_settings(profile: Profile, walltime: str | None = None) -> SlurmSettings:
    """Validate the profile's ``queue:`` section (``walltime`` overrides the profile's)."""
    queue = dict(profile.queue or {})
    unknown = sorted(set(queue) - set(QUEUE_KEYS))
    if unknown:
        raise InputError(f"queue.{unknown[0]}", "unknown key", ", ".join(QUEUE_KEYS))
    time_text = str(walltime if walltime is not None else queue.get("walltime", "01:00:00"))
    parse_slurm_time(time_text, "queue.walltime")
    memory = queue.get("memory")
    if memory is not None and not _MEMORY.match(str(memory)):
        raise InputError("queue.memory", f"invalid memory {memory!r}", "e.g. 4000, 2G, 500M")
    commands: dict[str, str] = {}
    for engine, command in (profile.engine_commands or {}).items():
        if command:
            _lines(command, f"engine_commands.{engine}", _COMMAND)
            commands[_name(engine, "engine_commands") or engine] = command  # a key: never None
    return SlurmSettings(
        partition=_name(queue.get("partition"), "partition"),
        account=_name(queue.get("account"), "account"),
        qos=_name(queue.get("qos"), "qos"),
        nodes=_integer(queue.get("nodes"), "nodes", 1),
        ntasks=_integer(queue.get("ntasks"), "ntasks", 1),
        cpus_per_task=_integer(queue.get("cpus_per_task"), "cpus_per_task", 1),
        walltime=time_text,
        memory=None if memory is None else str(memory),
        modules=_lines(queue.get("modules"), "modules", _MODULE),
        pre_run=_lines(queue.get("pre_run"), "pre_run", _COMMAND),
        engine_commands=commands,
    )


def _pre_rocket(settings: SlurmSettings) -> str:
    """Module loads, pre-run lines, engine commands and thread count, one per line."""
    lines = [f"module load {shlex.quote(m)}" for m in settings.modules]
    lines += list(settings.pre_run)
    lines += [
        f"export LISFLOW_{engine.upper()}_CMD={shlex.quote(command)}"
        for engine, command in sorted(settings.engine_commands.items())
    ]
    lines.append(f"export OMP_NUM_THREADS={settings.cpus_per_task}")
    return "\n".join(lines)


def _bin(name: str) -> str:
    """A program of this Python environment (``python``), validated as a path."""
    path = str(Path(sys.executable).parent / name) if name != "python" else sys.executable
    if not _PATH.match(path):
        raise InputError("python", f"unsafe interpreter path {path!r}", "a path without spaces")
    return path


def queue_adapter(settings: SlurmSettings):
    """FireWorks ``CommonAdapter`` (SLURM) that renders ``configs/templates/slurm_job.sh``."""
    from fireworks.user_objects.queue_adapters import common_adapter
    from fireworks.utilities.fw_serializers import SAVED_FW_MODULES

    # FireWorks' queue launcher copies the adapter with load_object(), which otherwise imports
    # every module of fireworks.user_objects (test modules included) to find the class.
    SAVED_FW_MODULES.setdefault(common_adapter.CommonAdapter._fw_name, common_adapter.__name__)
    CommonAdapter = common_adapter.CommonAdapter

    params = {
        "queue": settings.partition,
        "account": settings.account,
        "qos": settings.qos,
        "nodes": settings.nodes,
        "ntasks": settings.ntasks,
        "cpus_per_task": settings.cpus_per_task,
        "walltime": settings.walltime,
        "mem": settings.memory,
        "pre_rocket": _pre_rocket(settings),
        "python": _bin("python"),
        # FireWorks' rlaunch with the offline-file fix of lisflow.launch.offline
        "rocket_launch": f"{_bin('python')} -m lisflow.launch.offline singleshot --offline",
    }
    return CommonAdapter(
        "SLURM",
        q_name="lisflow",
        template_file=str(TEMPLATE),
        **{k: v for k, v in params.items() if v is not None},
    )


@dataclass
class LaunchReport:
    """Jobs submitted: ``(fw_id, Firework name, Slurm job id)``."""

    jobs: list[tuple[int, str, str]] = field(default_factory=list)
    #: why submitting stopped although READY Fireworks were left (None: all went well)
    failed: str | None = None


def launch_jobs(
    profile: Profile,
    max_jobs: int = 0,
    category: str | None = None,
    walltime: str | None = None,
    fw_id: int | None = None,
) -> LaunchReport:
    """Reserve READY Fireworks and submit one offline Slurm job each (``max_jobs`` 0: all)."""
    from fireworks import FWorker
    from fireworks.queue.queue_launcher import launch_rocket_to_queue

    if category is not None and category not in QUEUE_CATEGORIES:
        raise InputError(
            "--category", f"unknown category {category!r}", ", ".join(QUEUE_CATEGORIES)
        )
    if max_jobs < 0:
        raise InputError("--max-jobs", "must be >= 0", "0 (all) or a positive integer")
    adapter = queue_adapter(slurm_settings(profile, walltime))
    fworker = FWorker(
        name=profile.fworker.get("name", "lisflow-slurm"),
        category=[category] if category else list(QUEUE_CATEGORIES),
        env=profile.fworker.get("env"),
    )
    report = LaunchReport()
    profile.run_root.mkdir(parents=True, exist_ok=True)
    with open_launchpad(profile) as lpad:
        while not max_jobs or len(report.jobs) < max_jobs:
            job_id = launch_rocket_to_queue(
                lpad,
                fworker,
                adapter,
                launcher_dir=str(profile.run_root),
                reserve=True,
                strm_lvl="ERROR",
                fw_id=fw_id,
            )
            save(lpad)
            if not job_id:
                query = dict(fworker.query, state="READY") if fw_id is None else {"fw_id": fw_id}
                if lpad.fireworks.find_one(dict(query, state="READY")):  # submission failed
                    report.failed = (
                        "a READY Firework could not be submitted (sbatch failed; the "
                        "reservation was cancelled): check the queue settings and Slurm"
                    )
                break
            launch = lpad.launches.find_one({"state_history.reservation_id": job_id}, {"fw_id": 1})
            doc = lpad.fireworks.find_one({"fw_id": launch["fw_id"]}, {"name": 1})
            report.jobs.append((launch["fw_id"], doc["name"], str(job_id)))
            if fw_id is not None:
                break
    return report


def slurm_states(job_ids: list[str] | None = None) -> dict[str, str]:
    """``{job id: Slurm state}`` for jobs ``squeue`` still knows (pending/running/completing;
    recently ended ones as long as ``MinJobAge`` keeps them). Jobs absent are gone."""
    import subprocess

    from lisflow.launch.doctor import shorten

    run = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%i %T"], capture_output=True, text=True, timeout=60
    )
    if run.returncode != 0:
        raise InputError(
            "squeue",
            f"squeue failed: {shorten(run.stderr, 160)}",
            "a reachable Slurm controller (check SLURM_CONF)",
        )
    states = {}
    for line in run.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and (not job_ids or parts[0] in job_ids):
            states[parts[0]] = parts[1]
    return states


#: Slurm states of a job that still runs or may still run.
ALIVE_STATES = frozenset(
    {
        "PENDING",
        "CONFIGURING",
        "RUNNING",
        "COMPLETING",
        "SUSPENDED",
        "REQUEUED",
        "REQUEUE_HOLD",
        "REQUEUE_FED",
        "RESIZING",
        "SIGNALING",
        "STAGE_OUT",
        "STOPPED",
    }
)


__all__ = [
    "FORMATS",
    "LaunchReport",
    "SlurmSettings",
    "launch_jobs",
    "queue_adapter",
    "slurm_settings",
    "slurm_states",
]
