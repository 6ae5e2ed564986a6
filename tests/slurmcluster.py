"""A real single-node Slurm cluster for tests (munged + slurmctld + slurmd on this host).

The configuration follows ``shared/REAL-COMPONENTS.md``: host name from ``hostname -s``, CPUs
from ``nproc``, partition ``debug``. It lives in a temporary directory; clients find it through
``SLURM_CONF`` (set in this process' environment while the cluster runs). Stopped by the pids in
the daemons' pid files. Raises :class:`SlurmClusterError` when a binary is missing or the node
does not come up (tests FAIL, they do not skip).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo", "scontrol")
SBIN = ("/usr/sbin", "/usr/bin", "/sbin")


class SlurmClusterError(RuntimeError):
    """Slurm could not be started."""


def _which(name: str) -> str:
    path = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *SBIN]))
    if path is None:
        raise SlurmClusterError(f"{name} not found: apt-get install slurm-wlm munge")
    return path


CONF = """\
ClusterName=lisflowtest
SlurmctldHost={host}
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmUser=root
SlurmdUser=root
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=2
KillWait=5
OverTimeLimit=0
MinJobAge=300
InactiveLimit=0
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmdParameters=config_overrides
NodeName={host} CPUs={cpus} RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SlurmCluster:
    """Start with :meth:`start`, stop with :meth:`stop`; ``env`` holds ``SLURM_CONF``."""

    def __init__(self, cpus: int | None = None) -> None:
        self.cpus = cpus or os.cpu_count() or 1
        self.host = socket.gethostname().split(".")[0]
        self.root = Path(tempfile.mkdtemp(prefix="lisflow-slurm-"))
        self.conf = self.root / "slurm.conf"
        self._munged: subprocess.Popen | None = None
        self._started_munge = False

    @property
    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    def start(self, timeout_s: float = 60.0) -> None:
        for name in (*DAEMONS, *CLIENTS):
            _which(name)
        (self.root / "state").mkdir()
        (self.root / "spool").mkdir()
        self.conf.write_text(
            CONF.format(
                host=self.host,
                cpus=self.cpus,
                root=self.root,
                ctld_port=_free_port(),
                slurmd_port=_free_port(),
            )
        )
        os.environ["SLURM_CONF"] = str(self.conf)
        self._start_munge()
        conf = ["-f", str(self.conf)]
        subprocess.run([_which("slurmctld"), "-c", *conf], check=True, capture_output=True)
        subprocess.run([_which("slurmd"), "-c", *conf], check=True, capture_output=True)
        deadline = time.monotonic() + timeout_s
        state = ""
        while time.monotonic() < deadline:
            probe = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True)
            state = probe.stdout.strip()
            if probe.returncode == 0 and state.startswith("idle"):
                return
            time.sleep(0.5)
        log = (
            (self.root / "slurmctld.log").read_text()[-2000:]
            if (self.root / "slurmctld.log").exists()
            else ""
        )
        self.stop()
        raise SlurmClusterError(f"node not idle after {timeout_s} s (sinfo: {state!r})\n{log}")

    def _start_munge(self) -> None:
        probe = (
            subprocess.run(["munge", "-n"], capture_output=True) if shutil.which("munge") else None
        )
        if probe is not None and probe.returncode == 0:
            return  # a munged is already serving this host
        Path("/run/munge").mkdir(mode=0o755, parents=True, exist_ok=True)  # tmpfs: gone at boot
        run = subprocess.run([_which("munged"), "--force"], capture_output=True, text=True)
        if run.returncode != 0:
            raise SlurmClusterError(f"munged failed: {run.stderr.strip()}")
        self._started_munge = True

    def stop(self) -> None:
        """Stop the daemons this cluster started; never raises (teardown must not error)."""
        try:
            for pid_file in ("slurmd.pid", "slurmctld.pid"):
                _signal_pid_file(self.root / pid_file, signal.SIGTERM)
            for pid_file in ("slurmd.pid", "slurmctld.pid"):
                path = self.root / pid_file
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and _signal_pid_file(path, 0):
                    time.sleep(0.2)
            if self._started_munge:
                _signal_pid_file(Path("/run/munge/munged.pid"), signal.SIGTERM)
        finally:
            if os.environ.get("SLURM_CONF") == str(self.conf):
                os.environ.pop("SLURM_CONF")
            shutil.rmtree(self.root, ignore_errors=True)


def _signal_pid_file(path: Path, sig: int) -> bool:
    """Send ``sig`` to the pid in ``path``; False when the file or the process is gone."""
    try:
        os.kill(int(path.read_text().strip()), sig)
    except (OSError, ValueError):
        return False
    return True


# --- helpers shared by the Slurm tests --------------------------------------------------------


def write_profile(
    path: Path,
    home: Path,
    walltime: str = "10",
    pre_run: list[str] | None = None,
    cpus_per_task: int = 1,
) -> Path:
    """A Slurm test profile: embedded LaunchPad and SQLite under ``home``, partition debug."""
    import yaml

    data = {
        "launchpad": {"mode": "mongomock", "file": str(home / "launchpad.json")},
        "results_db": f"sqlite:///{home / 'results.sqlite'}",
        "run_root": str(home / "runs"),
        "engine_commands": {"cp2k": "cp2k.psmp"},
        "queue": {
            "partition": "debug",
            "walltime": walltime,
            "cpus_per_task": cpus_per_task,
            "pre_run": pre_run or [],
        },
    }
    path.write_text(yaml.safe_dump(data))
    return path


def md_study(name: str, seed: int = 20231001) -> dict:
    """A tiny real LAMMPS study (326-atom Li2S6/LiTFSI/DOL/DME box, minimise + 0.2 ps NVT)."""
    return {
        "study": name,
        "kind": "md",
        "seed": seed,
        "systems": [{"name": "bulk_tiny", "kind": "bulk", "n_li2s6": 30}],
        "protocol": [
            {"name": "minimize", "ensemble": "minimize"},
            {"name": "nvt", "ensemble": "nvt", "time_ps": 0.2, "temperature_k": 300.0},
        ],
        "scale": 0.01,
        "dump_every_ps": 0.1,
        "thermo_every_ps": 0.02,
        "restart_every_ps": 0.1,
        "cutoff_a": 8.0,
        "pppm_accuracy": 1.0e-4,
    }


def job_pids(job_id: str) -> list[int]:
    """Process ids of a running job (``scontrol listpids``)."""
    run = subprocess.run(["scontrol", "listpids", job_id], capture_output=True, text=True)
    pids = []
    for line in run.stdout.splitlines()[1:]:
        parts = line.split()
        if parts and parts[0].isdigit():
            pids.append(int(parts[0]))
    return pids


def squeue_states() -> dict[str, str]:
    run = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%i %T"], capture_output=True, text=True, check=True
    )
    return dict(line.split() for line in run.stdout.splitlines() if line.strip())


@contextlib.contextmanager
def running_cluster(**options):
    """A started single-node Slurm for a test module (fails the test if it cannot start)."""
    import pytest

    slurm = SlurmCluster(**options)
    try:
        slurm.start()
    except SlurmClusterError as exc:
        pytest.fail(f"cannot start Slurm: {exc}")
    try:
        yield slurm
    finally:
        slurm.stop()
