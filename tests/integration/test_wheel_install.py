"""lisflow as a built wheel, installed into a fresh venv and used outside the checkout (issue 15):
the shipped studies, presets and profiles travel as package data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_wheel_works_from_another_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LISFLOW_DB_URL")}
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(REPO)],
        tmp_path, env,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("lisflow-*.whl")
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env).returncode == 0
    # the new venv sees the dependencies already installed here (not lisflow's checkout)
    site = next((venv / "lib").glob("python3.*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run(
        [str(venv / "bin/python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
        tmp_path, env,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**env, "LISFLOW_HOME": str(work / "home"), "PATH": f"{venv / 'bin'}:{env['PATH']}"}
    where = _run([str(venv / "bin/python"), "-c", "import lisflow; print(lisflow.__file__)"],
                 work, env)  # fmt: skip
    assert where.stdout.startswith(str(site)), where.stdout  # the wheel, not the checkout

    studies = _run(["lisflow", "studies", "--format", "json"], work, env)
    assert studies.returncode == 0, studies.stderr
    ids = {row["study"] for row in json.loads(studies.stdout)}
    assert {"dasc_adsorption", "mo_cluster_adsorption", "interface_md"} <= ids

    dry = _run(["lisflow", "dry-run", "dasc_adsorption", "--out", "X", "--no-progress"], work, env)
    assert dry.returncode == 0, dry.stderr
    manifest = json.loads((work / "X" / "manifest.json").read_text())
    entries = manifest["calculations"] if isinstance(manifest, dict) else manifest
    assert entries and {e["study"] for e in entries} == {"dasc_adsorption"}
    assert (work / "X" / "dasc_adsorption").is_dir()

    db = f"sqlite:///{work / 'r.sqlite'}"
    make_db = (
        "from lisflow.db.store import ResultStore; from lisflow.db.schema import CalculationRecord;"
        f"s = ResultStore({db!r});"
        "s.upsert_calculation(CalculationRecord('w/slab', 'w', 'vasp', 'static', 'slab', 'C2', 2,"
        " state='COMPLETED', energy_ev=-18.5))"
    )
    assert _run([str(venv / "bin/python"), "-c", make_db], work, env).returncode == 0
    other = tmp_path / "another"
    other.mkdir()
    query = _run(["lisflow", "query", "calculations", "--db", db, "--format", "json"], other, env)
    assert query.returncode == 0, query.stderr
    (row,) = json.loads(query.stdout)
    assert (row["calc_id"], row["energy_ev"]) == ("w/slab", -18.5)
