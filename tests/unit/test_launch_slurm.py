"""The Slurm profile: values validated, job script rendered from the template only."""

from __future__ import annotations

import pytest
import yaml

from lisflow.errors import InputError
from lisflow.launch.profiles import load_profile
from lisflow.launch.slurm import queue_adapter, slurm_settings


def _profile(tmp_path, **queue):
    data = {
        "launchpad": {"mode": "mongomock", "file": str(tmp_path / "lp.json")},
        "results_db": "sqlite:///x.sqlite",
        "run_root": str(tmp_path / "runs"),
        "engine_commands": {"cp2k": "mpirun -n 4 cp2k.psmp", "vasp": None},
        "queue": {"partition": "debug", **queue},
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_profile("p", path)


def test_shipped_slurm_profile_renders_an_offline_job(tmp_path):
    settings = slurm_settings(load_profile("slurm"))
    assert settings.walltime_s == 3600.0 and settings.partition == "debug"
    script = queue_adapter(settings).get_script_str(str(tmp_path))
    lines = script.splitlines()
    assert "#SBATCH --partition=debug" in lines and "#SBATCH --time=01:00:00" in lines
    assert "export LISFLOW_DEFER_STORE=1" in lines
    assert "export LISFLOW_CP2K_CMD='mpirun cp2k.psmp'" in lines
    assert lines[-1].endswith("-m lisflow.launch.offline singleshot --offline")
    assert not any("$$" in line for line in lines)  # unset values dropped
    assert not any(line.startswith("#SBATCH --account") for line in lines)
    unset = next(line for line in lines if line.startswith("unset "))
    for variable in ("LISFLOW_DB_URL", "LISFLOW_MONGO_URI", "MONGOMOCK_SERVERSTORE_FILE"):
        assert variable in unset.split()


def test_all_settings_reach_the_script(tmp_path):
    profile = _profile(
        tmp_path,
        account="chem_01",
        qos="normal",
        nodes=2,
        ntasks=8,
        cpus_per_task=4,
        walltime="1-12:00",
        memory="8G",
        modules=["cp2k/2023.1"],
        pre_run=["source /opt/env.sh"],
    )
    script = queue_adapter(slurm_settings(profile)).get_script_str(str(tmp_path))
    for line in (
        "#SBATCH --account=chem_01",
        "#SBATCH --qos=normal",
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks=8",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --time=1-12:00",
        "#SBATCH --mem=8G",
        "module load cp2k/2023.1",
        "source /opt/env.sh",
        "export OMP_NUM_THREADS=4",
        "export LISFLOW_CP2K_CMD='mpirun -n 4 cp2k.psmp'",
    ):
        assert line in script.splitlines()
    assert slurm_settings(profile, walltime="30").walltime_s == 1800.0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("partition", "debug; rm -rf ~"),
        ("partition", "-x"),
        ("account", "a b"),
        ("account", "$(id)"),
        ("nodes", 0),
        ("nodes", "2"),
        ("ntasks", True),
        ("cpus_per_task", -1),
        ("walltime", "2 hours"),
        ("memory", "8 GB"),
        ("modules", ["cp2k; reboot"]),
        ("pre_run", ["echo `id`"]),
        ("pre_run", ["a && b"]),
        ("pre_run", ["x > /etc/passwd"]),
        ("pre_run", "echo $HOME"),
        ("colour", "red"),
    ],
)
def test_invalid_or_unsafe_values_are_rejected(tmp_path, key, value):
    with pytest.raises(InputError) as info:
        slurm_settings(_profile(tmp_path, **{key: value}))
    assert f"queue.{key}" in str(info.value)


def test_unsafe_engine_command_rejected(tmp_path):
    profile = _profile(tmp_path)
    profile.engine_commands["cp2k"] = "cp2k.psmp; curl evil"
    with pytest.raises(InputError, match="engine_commands.cp2k"):
        slurm_settings(profile)


def test_launch_rejects_unknown_category(tmp_path):
    from lisflow.launch.slurm import launch_jobs

    with pytest.raises(InputError, match="--category"):
        launch_jobs(_profile(tmp_path), category="gaussian")
