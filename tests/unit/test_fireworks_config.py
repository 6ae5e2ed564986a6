"""The cluster profile reads FireWorks' own my_launchpad.yaml / my_qadapter.yaml /
my_fworker.yaml (cwd, ~/.fireworks, FW_CONFIG_FILE's CONFIG_FILE_DIR or *_LOC keys)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lisflow.errors import InputError
from lisflow.launch.launchpad import open_launchpad
from lisflow.launch.profiles import fireworks_config_files, load_profile
from lisflow.launch.slurm import slurm_settings

QADAPTER = {
    "_fw_name": "CommonAdapter",
    "_fw_q_type": "SLURM",
    "rocket_launch": "rlaunch -c /home/me/fw_config singleshot",
    "queue": "gpu",
    "account": "proj42",
    "nodes": 2,
    "ntasks": 64,
    "walltime": "12:00:00",
    "mem": "8G",
    "pre_rocket": "module load cp2k/2023.1\nsource /opt/intel/setvars.sh",
    "logdir": "/home/me/logs",
}


def _write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("FW_CONFIG_FILE", raising=False)
    monkeypatch.chdir(work)
    return home


def test_no_fireworks_files_keeps_the_profile(home):
    assert fireworks_config_files() == {}
    profile = load_profile("cluster")
    assert profile.launchpad["mode"] == "mongodb" and profile.queue == {} and profile.fworker == {}


def test_files_in_dot_fireworks(home):
    lp = _write(home / ".fireworks/my_launchpad.yaml",
                {"host": "mongo.example.org", "port": 27018, "name": "mydb"})
    _write(home / ".fireworks/my_qadapter.yaml", QADAPTER)
    _write(home / ".fireworks/my_fworker.yaml",
           {"name": "cluster-node", "category": "", "query": "{}", "env": {"scratch": "/tmp"}})
    profile = load_profile("cluster")
    assert profile.launchpad == {"mode": "fireworks", "file": str(lp.resolve())}
    assert profile.queue == {
        "partition": "gpu", "account": "proj42", "nodes": 2, "ntasks": 64,
        "walltime": "12:00:00", "memory": "8G",
        "pre_run": ["module load cp2k/2023.1", "source /opt/intel/setvars.sh"],
    }  # fmt: skip
    assert profile.fworker == {"name": "cluster-node", "env": {"scratch": "/tmp"}}
    settings = slurm_settings(profile)
    assert (settings.partition, settings.account, settings.nodes, settings.ntasks) == (
        "gpu", "proj42", 2, 64
    )
    assert settings.memory == "8G" and settings.walltime == "12:00:00"
    with open_launchpad(profile) as lpad:  # FireWorks' own LaunchPad.from_file (no connection yet)
        assert (lpad.host, lpad.port, lpad.name) == ("mongo.example.org", 27018, "mydb")
    # the local profile never picks up the user's FireWorks files
    assert load_profile("local").launchpad["mode"] == "mongomock"


def test_current_directory_wins_over_dot_fireworks(home):
    _write(home / ".fireworks/my_launchpad.yaml", {"host": "far", "name": "a"})
    here = _write(Path.cwd() / "my_launchpad.yaml", {"host": "near", "name": "b"})
    assert fireworks_config_files() == {"launchpad": here.resolve()}


def test_fw_config_file_dir_and_loc(home, tmp_path, monkeypatch):
    conf = tmp_path / "fwconf"
    _write(home / ".fireworks/my_launchpad.yaml", {"host": "far", "name": "a"})
    lp = _write(conf / "my_launchpad.yaml", {"host": "conf", "name": "c"})
    qa = _write(tmp_path / "elsewhere/q.yaml", QADAPTER)
    fw = _write(conf / "FW_config.yaml",
                {"CONFIG_FILE_DIR": str(conf), "QUEUEADAPTER_LOC": str(qa)})
    monkeypatch.setenv("FW_CONFIG_FILE", str(fw))
    assert fireworks_config_files() == {"launchpad": lp.resolve(), "qadapter": qa}
    _write(conf / "FW_config.yaml", {"FWORKER_LOC": str(conf / "missing.yaml")})
    with pytest.raises(InputError, match="FW_config.FWORKER_LOC"):
        fireworks_config_files()


def test_other_queue_types_are_refused(home):
    _write(home / ".fireworks/my_qadapter.yaml", {**QADAPTER, "_fw_q_type": "PBS"})
    with pytest.raises(InputError, match="unsupported queue 'PBS'"):
        load_profile("cluster")


def test_lpad_reads_the_local_launchpad(tmp_path, monkeypatch):
    """`lisflow lpad -- ...` runs FireWorks' own lpad on the embedded LaunchPad file."""
    import os
    import subprocess
    import sys

    from fireworks import Firework, ScriptTask, Workflow

    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    profile = load_profile("local")
    with open_launchpad(profile) as lpad:
        for name in ("wf_a", "wf_b"):
            lpad.add_wf(Workflow([Firework(ScriptTask.from_str("true"), name=name)], name=name))
    env = {**os.environ, "LISFLOW_HOME": str(tmp_path / "home")}
    run = subprocess.run(
        [sys.executable, "-m", "lisflow.cli", "lpad", "--", "get_wflows", "-d", "ids"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert sorted(int(x) for x in run.stdout.replace("[", "").replace("]", "").split(",")) == [1, 2]
    config = yaml.safe_load((tmp_path / "home/fireworks/FW_config.yaml").read_text())
    assert config["MONGOMOCK_SERVERSTORE_FILE"] == str(Path(profile.launchpad["file"]).resolve())
    with open_launchpad(profile) as lpad:  # lisflow still reads the file lpad rewrote
        assert lpad.workflows.count_documents({}) == 2
