"""FireWorks' own ``lpad`` on lisflow's LaunchPad, without hand-written configuration.

``lisflow lpad [--profile local] -- get_wflows -d more`` writes ``FW_config.yaml`` and
``my_launchpad.yaml`` under ``$LISFLOW_HOME/fireworks/`` and runs ``lpad`` with
``FW_CONFIG_FILE`` pointing there. For the embedded (mongomock) LaunchPad it holds lisflow's
lock while ``lpad`` runs (``lpad`` rewrites the file when it exits), so no lisflow command
changes the file at the same time. Plain ``FW_CONFIG_FILE=$LISFLOW_HOME/fireworks/FW_config.yaml
lpad ...`` works too once the files exist, but only while no lisflow command runs.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import typer
import yaml

from lisflow.errors import InputError
from lisflow.fsutil import atomic_write_text
from lisflow.launch.profiles import Profile, lisflow_home, load_profile


def fireworks_config(profile: Profile, directory: Path | None = None) -> Path:
    """Write FW_config.yaml (+ my_launchpad.yaml for the embedded LaunchPad) and return the
    FW_config.yaml path. A MongoDB profile is refused: its URI is a secret lisflow never
    writes to a file (use lpad with your own my_launchpad.yaml there)."""
    mode = profile.launchpad.get("mode", "mongomock")
    if mode == "fireworks":
        directory = directory or lisflow_home() / "fireworks"
        config = {"LAUNCHPAD_LOC": str(profile.launchpad["file"])}
    elif mode == "mongomock":
        directory = directory or lisflow_home() / "fireworks"
        launchpad = directory / "my_launchpad.yaml"
        # FireWorks' embedded mode: its MongoClient is mongomock-persistence on this file
        atomic_write_text(
            launchpad, yaml.safe_dump({"host": "localhost", "port": 27017, "name": "lisflow"})
        )
        config = {
            "LAUNCHPAD_LOC": str(launchpad),
            "MONGOMOCK_SERVERSTORE_FILE": str(Path(profile.launchpad["file"]).resolve()),
        }
    else:
        raise InputError(
            "--profile",
            f"lpad needs the embedded LaunchPad or FireWorks' my_launchpad.yaml (mode {mode!r});"
            " for MongoDB use lpad with your own my_launchpad.yaml",
        )
    path = directory / "FW_config.yaml"
    atomic_write_text(path, yaml.safe_dump(config, sort_keys=True))
    return path


def run_lpad(profile: Profile, args: list[str]) -> int:
    """Run FireWorks' ``lpad`` with ``args`` on the profile's LaunchPad; its exit code."""
    executable = shutil.which("lpad")
    if executable is None:
        raise InputError("lpad", "FireWorks' lpad is not on PATH")
    config = fireworks_config(profile)
    env = {**os.environ, "FW_CONFIG_FILE": str(config)}
    env.pop("MONGOMOCK_SERVERSTORE_FILE", None)
    if profile.launchpad.get("mode") != "mongomock":
        return subprocess.run([executable, *args], env=env, check=False).returncode
    store = Path(profile.launchpad["file"])
    if not store.is_file():
        raise InputError("--profile", f"no LaunchPad yet at {store} (lisflow submit creates it)")
    with open(store.with_suffix(store.suffix + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the same lock as lisflow.launch.launchpad
        return subprocess.run([executable, *args], env=env, check=False).returncode


def lpad(
    args: list[str] = typer.Argument(None, help="Arguments of FireWorks' lpad (after --)."),
    profile: str = typer.Option("local", "--profile", help="Run profile."),
) -> None:
    """Run FireWorks' lpad on lisflow's LaunchPad: `lisflow lpad -- get_wflows -d more`."""
    code = run_lpad(load_profile(profile), list(args or []))
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("lpad")(lpad)
