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

PROFILE_DIR = CONFIGS_DIR / "profiles"


def lisflow_home() -> Path:
    return Path(os.environ.get("LISFLOW_HOME", Path.cwd() / ".lisflow")).resolve()


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
    unknown = set(data) - {"launchpad", "results_db", "run_root", "engine_commands", "queue"}
    if unknown:
        raise InputError(
            f"profile.{sorted(unknown)[0]}",
            "unknown key",
            "launchpad, results_db, run_root, engine_commands, queue",
        )
    db = os.environ.get("LISFLOW_DB_URL") or data.get("results_db") or None
    return Profile(
        name=name,
        launchpad=data.get("launchpad", {"mode": "mongomock"}),
        results_db=db,
        run_root=Path(data.get("run_root") or lisflow_home() / "runs"),
        engine_commands=data.get("engine_commands", {}),
        queue=data.get("queue", {}),
    )
