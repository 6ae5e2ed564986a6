"""Run profiles (``configs/profiles/<name>.yaml``): where the LaunchPad and results DB live
and which command runs each engine. ``${VAR}`` expands from the environment;
``LISFLOW_HOME`` defaults to ``./.lisflow``. Secrets are read from the environment or a
0600 file, never from a profile, and are never printed."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lisflow import CONFIGS_DIR
from lisflow.errors import InputError
from lisflow.fsutil import lisflow_home

PROFILE_DIR = CONFIGS_DIR / "profiles"


def _expand(value: Any) -> Any:
    if isinstance(value, str):

        def sub(match: re.Match) -> str:
            name = match.group(1)
            if name == "LISFLOW_HOME":
                return str(lisflow_home())
            return os.environ.get(name, "")

        return re.sub(r"\$\{(\w+)\}", sub, value)
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    return value


def read_secret(variable: str) -> str | None:
    """``$VAR`` or the contents of ``$VAR_FILE`` (which must not be group/world readable)."""
    if os.environ.get(variable):
        return os.environ[variable]
    path = os.environ.get(f"{variable}_FILE")
    if not path:
        return None
    mode = Path(path).stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(f"{variable}_FILE", "file must be private (chmod 600)", "mode 0600")
    return Path(path).read_text().strip()


@dataclass
class Profile:
    name: str
    launchpad: dict[str, Any]
    results_db: str | None
    run_root: Path
    engine_commands: dict[str, str | None] = field(default_factory=dict)
    queue: dict[str, Any] = field(default_factory=dict)
    #: ``name``/``env`` of FireWorks' my_fworker.yaml (see :func:`with_fireworks_config`).
    fworker: dict[str, Any] = field(default_factory=dict)
    #: ``{engine: mlip, model: chgnet}``: run every submitted study with that engine
    #: (lisflow.spec.engine_override; ``lisflow submit --engine`` wins).
    engine_override: dict[str, Any] = field(default_factory=dict)

    def apply_engine_environment(self) -> None:
        """Export ``LISFLOW_<ENGINE>_CMD`` for engines whose command the user has not set."""
        for engine, command in self.engine_commands.items():
            if command:
                os.environ.setdefault(f"LISFLOW_{engine.upper()}_CMD", command)


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(name: str = "local", path: Path | None = None) -> Profile:
    """Read ``configs/profiles/<name>.yaml`` (or ``path``, or ``name`` when it is a YAML
    file path: its stem is the profile name) with environment expansion."""
    if path is None and name.endswith((".yaml", ".yml")) and Path(name).is_file():
        name, path = Path(name).stem, Path(name)
    file = path or PROFILE_DIR / f"{name}.yaml"
    if not file.is_file():
        raise InputError("--profile", f"unknown profile {name!r}", ", ".join(available_profiles()))
    data = _expand(yaml.safe_load(file.read_text()) or {})
    keys = ("launchpad", "results_db", "run_root", "engine_commands", "queue", "engine_override")
    unknown = set(data) - set(keys)
    if unknown:
        raise InputError(f"profile.{sorted(unknown)[0]}", "unknown key", ", ".join(keys))
    db = os.environ.get("LISFLOW_DB_URL") or data.get("results_db") or None
    profile = Profile(
        name=name,
        launchpad=data.get("launchpad", {"mode": "mongomock"}),
        results_db=db,
        run_root=Path(data.get("run_root") or lisflow_home() / "runs"),
        engine_commands=data.get("engine_commands", {}),
        queue=data.get("queue", {}),
        engine_override=data.get("engine_override") or {},
    )
    return with_fireworks_config(profile) if name == "cluster" else profile


# --- FireWorks' own configuration files ----------------------------------------------------------

#: profile part -> (FW_config.yaml key, file name), as FireWorks names them (fw_config.py).
FIREWORKS_FILES = {
    "launchpad": ("LAUNCHPAD_LOC", "my_launchpad.yaml"),
    "fworker": ("FWORKER_LOC", "my_fworker.yaml"),
    "qadapter": ("QUEUEADAPTER_LOC", "my_qadapter.yaml"),
}
#: my_qadapter.yaml (FireWorks' CommonAdapter, SLURM) key -> lisflow ``queue:`` key.
QADAPTER_KEYS = {
    "queue": "partition",
    "account": "account",
    "qos": "qos",
    "nodes": "nodes",
    "ntasks": "ntasks",
    "cpus_per_task": "cpus_per_task",
    "walltime": "walltime",
    "mem": "memory",
}


def fireworks_config_files() -> dict[str, Path]:
    """FireWorks' my_launchpad.yaml / my_fworker.yaml / my_qadapter.yaml, found the way
    FireWorks finds them: the ``*_LOC`` keys of FW_config.yaml (./FW_config.yaml,
    ~/.fireworks/FW_config.yaml, then ``$FW_CONFIG_FILE``), else the first of its
    ``CONFIG_FILE_DIR``, the current directory and ~/.fireworks holding the file."""
    home_dir = Path.home() / ".fireworks"
    candidates = [Path.cwd() / "FW_config.yaml", home_dir / "FW_config.yaml"]
    if os.environ.get("FW_CONFIG_FILE"):
        candidates.append(Path(os.environ["FW_CONFIG_FILE"]).expanduser())
    settings: dict[str, Any] = {}
    for candidate in candidates:
        if candidate.is_file():
            settings = yaml.safe_load(candidate.read_text()) or {}
            if not isinstance(settings, dict):
                raise InputError(str(candidate), "a FW_config file must be a YAML mapping")
            break
    config_dir = Path(str(settings.get("CONFIG_FILE_DIR", "."))).expanduser()
    found: dict[str, Path] = {}
    for part, (key, file_name) in FIREWORKS_FILES.items():
        if settings.get(key):
            path = Path(str(settings[key])).expanduser()
            if not path.is_file():
                raise InputError(f"FW_config.{key}", f"no such file {str(path)!r}")
            found[part] = path
            continue
        for directory in (config_dir, Path.cwd(), home_dir):
            if (directory / file_name).is_file():
                found[part] = (directory / file_name).resolve()
                break
    return found


def with_fireworks_config(profile: Profile) -> Profile:
    """The profile with FireWorks' own files applied where present: the LaunchPad of
    my_launchpad.yaml, ``queue:`` settings from my_qadapter.yaml (``queue`` -> partition,
    ``mem`` -> memory, ``pre_rocket`` -> pre_run, ...; the profile's own keys win) and the
    FWorker ``name``/``env`` of my_fworker.yaml."""
    files = fireworks_config_files()
    if "launchpad" in files:
        profile.launchpad = {"mode": "fireworks", "file": str(files["launchpad"])}
    if "qadapter" in files:
        data = yaml.safe_load(files["qadapter"].read_text()) or {}
        queue_type = str(data.get("_fw_q_type", "SLURM"))
        if queue_type.upper() != "SLURM":
            raise InputError(
                f"{files['qadapter']}: _fw_q_type", f"unsupported queue {queue_type!r}", "SLURM"
            )
        mapped = {QADAPTER_KEYS[k]: v for k, v in data.items() if k in QADAPTER_KEYS and v}
        pre = data.get("pre_rocket")
        if pre:
            mapped["pre_run"] = [line.strip() for line in str(pre).splitlines() if line.strip()]
        profile.queue = {**mapped, **(profile.queue or {})}
    if "fworker" in files:
        data = yaml.safe_load(files["fworker"].read_text()) or {}
        profile.fworker = {k: data[k] for k in ("name", "env") if data.get(k)}
    return profile
