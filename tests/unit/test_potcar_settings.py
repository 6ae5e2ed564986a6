"""POTCARs found the way pymatgen users configure them: $PMG_VASP_PSP_DIR, or
PMG_VASP_PSP_DIR / PMG_DEFAULT_FUNCTIONAL in pymatgen's ~/.config/.pmgrc.yaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pymatgen.core
import pytest
import yaml

from lisflow.errors import InputError
from lisflow.io.vasp import potcar_files, potcar_notice, potcar_settings


def _fake_potcar(symbol: str, functional: str) -> str:
    """A POTCAR-shaped text (header lines only; VASP never runs here)."""
    return (
        f"  PAW_PBE {symbol} 10Feb1998\n 3.0\n parameters from PSCTR are:\n"
        f"   TITEL  = PAW_PBE {symbol} {functional}\n END of PSCTR-controll parameters\n"
        " End of Dataset\n"
    )


def _psp_dir(root: Path, sub: str, symbols: list[str], functional: str) -> Path:
    for symbol in symbols:
        path = root / sub / symbol / "POTCAR"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fake_potcar(symbol, functional))
    return root


@pytest.fixture
def no_env(monkeypatch):
    for key in ("PMG_VASP_PSP_DIR", "PMG_DEFAULT_FUNCTIONAL"):
        monkeypatch.delenv(key, raising=False)
        monkeypatch.delitem(pymatgen.core.SETTINGS, key, raising=False)
    return monkeypatch


def test_pymatgen_settings_give_the_potcar_directory(tmp_path, no_env):
    psp = _psp_dir(tmp_path / "psp", "POT_GGA_PAW_PBE_54", ["Li_sv", "S"], "PBE_54")
    assert potcar_settings() == (None, "PBE_54")
    assert potcar_files(["Li_sv", "S"]) == {"POTCAR.spec": "Li_sv\nS\n"}
    assert "pmgrc" in potcar_notice()

    no_env.setitem(pymatgen.core.SETTINGS, "PMG_VASP_PSP_DIR", str(psp))
    assert potcar_settings() == (psp, "PBE_54")
    files = potcar_files(["Li_sv", "S", "Li_sv"])
    assert files == {
        "POTCAR": _fake_potcar("Li_sv", "PBE_54") + _fake_potcar("S", "PBE_54")
        + _fake_potcar("Li_sv", "PBE_54")
    }
    assert potcar_notice() is None

    _psp_dir(psp, "POT_PAW_PBE_64", ["S"], "PBE_64")
    no_env.setitem(pymatgen.core.SETTINGS, "PMG_DEFAULT_FUNCTIONAL", "PBE_64")
    assert potcar_files(["S"]) == {"POTCAR": _fake_potcar("S", "PBE_64")}
    with pytest.raises(InputError, match=r"no POTCAR for Li_sv \(PBE_64\)"):
        potcar_files(["Li_sv"])
    no_env.setitem(pymatgen.core.SETTINGS, "PMG_DEFAULT_FUNCTIONAL", "PBE_99")
    with pytest.raises(InputError, match="unknown POTCAR functional 'PBE_99'"):
        potcar_files(["S"])


def test_environment_wins_over_the_settings_file(tmp_path, no_env):
    settings_dir = _psp_dir(tmp_path / "a", "POT_GGA_PAW_PBE_54", ["S"], "from settings")
    env_dir = _psp_dir(tmp_path / "b", "POT_GGA_PAW_PBE_54", ["S"], "from env")
    no_env.setitem(pymatgen.core.SETTINGS, "PMG_VASP_PSP_DIR", str(settings_dir))
    no_env.setenv("PMG_VASP_PSP_DIR", str(env_dir))
    assert potcar_files(["S"])["POTCAR"] == _fake_potcar("S", "from env")


def test_pmgrc_yaml_through_dry_run(tmp_path):
    """A fresh process reads ~/.config/.pmgrc.yaml (HOME=tmp) and dry-run writes real POTCARs."""
    home = tmp_path / "home"
    _psp_dir(home / "psp", "POT_PAW_PBE_64", ["Li_sv", "S"], "PBE_64")
    (home / ".config").mkdir(parents=True)
    (home / ".config/.pmgrc.yaml").write_text(
        yaml.safe_dump({"PMG_VASP_PSP_DIR": "~/psp", "PMG_DEFAULT_FUNCTIONAL": "PBE_64"})
    )
    study = {
        "study": "pmgrc", "kind": "adsorption", "engine": "vasp", "preset": "paper002",
        "substrates": [{"builder": "molecule", "name": "Li2S", "box": 10.0}],
        "adsorbates": ["S"], "configurations": 1, "relax": False, "bader": False,
    }  # fmt: skip
    (tmp_path / "pmgrc.yaml").write_text(yaml.safe_dump(study))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMG_", "VASP_PSP"))}
    env["HOME"] = str(home)
    run = subprocess.run(
        [sys.executable, "-m", "lisflow.cli", "dry-run", "pmgrc.yaml", "--out", "out",
         "--no-progress"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "POTCAR.spec" not in run.stdout
    calc = tmp_path / "out/pmgrc/adslab/Li2S-mol/S/c0/static"
    assert not (calc / "POTCAR.spec").exists()
    # POSCAR blocks Li, S (sorted by electronegativity) -> Li_sv then S, the PBE_64 set
    assert (calc / "POTCAR").read_text() == _fake_potcar("Li_sv", "PBE_64") + _fake_potcar(
        "S", "PBE_64"
    )
