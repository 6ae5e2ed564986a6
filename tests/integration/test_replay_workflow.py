"""The real adsorption workflow replayed on atomate2's O/Au(100) VASP runs: FireWorks
LaunchPad (embedded), Firetasks, parsers, results DB (SQLite and PostgreSQL), queries."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.db.store import ResultStore

STUDY = "au_o_replay"
#: E_ads from the static runs (fixture MANIFEST: -2.0977, -3.0666, -2.9407 eV).
EXPECTED = {0: -2.098, 1: -3.067, 2: -2.941}


def au_spec(fixture: Path) -> dict:
    """The inputs atomate2's AdsorptionMaker wrote, expressed as a lisflow study."""
    return {
        "study": STUDY,
        "kind": "adsorption",
        "engine": "vasp",
        "preset": "paper000",
        "substrates": [
            {"builder": "file", "path": str(fixture / "slab_relax/POSCAR.gz"), "name": "Au100"}
        ],
        "adsorbates": ["O"],
        "configurations": 3,
        "placement": "site_finder",
        "molecule_box": 10.0,
        "bader": False,
        "overrides": {
            "GGA": "RP",
            "ENCUT": 700,
            "SIGMA": 0.2,
            "IVDW": None,
            "LAECHG": True,
            "LORBIT": 11,
        },
        "overrides_by_task": {"relax": {"EDIFFG": -0.02}, "static": {"ISMEAR": -5, "EDIFF": 1e-7}},
        "overrides_by_role": {"molecule.static": {"ISMEAR": 0, "SIGMA": 0.05}},
        "kpoints_by_role": {
            "slab": {"rule": "mesh", "mesh": [4, 4, 1]},
            "adslab": {"rule": "mesh", "mesh": [4, 4, 1]},
            "molecule": {"rule": "mesh", "mesh": [3, 3, 3]},
            "molecule.static": {"rule": "mesh", "mesh": [4, 4, 4]},
        },
    }


def references(fixture: Path) -> dict[str, str]:
    refs = {
        f"{STUDY}/slab/Au100/relax": "slab_relax",
        f"{STUDY}/slab/Au100/static": "slab_static",
        f"{STUDY}/molecule/O/relax": "mol_relax",
        f"{STUDY}/molecule/O/static": "mol_static",
    }
    for i in range(3):
        refs[f"{STUDY}/adslab/Au100/O/c{i}/relax"] = f"ads_relax_{i + 1}_3"
        refs[f"{STUDY}/adslab/Au100/O/c{i}/static"] = f"ads_static_{i + 1}_3"
    return {calc: str(fixture / name) for calc, name in refs.items()}


@pytest.fixture
def project(tmp_path, monkeypatch, db_url, fixtures_dir):
    fixture = fixtures_dir / "vasp/adsorption_o_on_au100_slab_atomate2"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LISFLOW_DB_URL", db_url)
    (tmp_path / "au.yaml").write_text(yaml.safe_dump(au_spec(fixture)))
    (tmp_path / "refs.json").write_text(json.dumps(references(fixture)))
    return tmp_path


def invoke(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output + repr(result.exception)
    return result.output


def test_replay_gives_fixture_adsorption_energies(project, db_url):
    out = invoke("submit", "au.yaml", "--replay", "refs.json")
    assert "13 new Fireworks" in out  # 2 slab + 2 molecule + 6 adslab + 3 E_ads
    invoke("run")
    rows = json.loads(invoke("query", "adsorption", "--study", STUDY, "--format", "json"))
    energies = {int(row["configuration"]): row["energy_ev"] for row in rows}
    assert energies.keys() == EXPECTED.keys()
    for config, expected in EXPECTED.items():
        assert energies[config] == pytest.approx(expected, abs=1e-3)
    assert all(row["slab_calc_id"] == f"{STUDY}/slab/Au100/static" for row in rows)
    store = ResultStore(db_url)
    assert store.count("calculations") == 10 and store.count("adsorption_energies") == 3
    record = store.get(f"{STUDY}/slab/Au100/static")
    assert record.state == "COMPLETED" and record.energy_ev == pytest.approx(-35.98701212)
    assert record.fw_id is not None and Path(record.run_dir).is_dir()
    assert record.lisflow_version and record.pymatgen_version and record.engine_version

    # re-submitting creates no Firework for completed calculations and no duplicate rows
    out = invoke("submit", "au.yaml", "--replay", "refs.json")
    assert "0 new Fireworks, 10 already completed" in out
    invoke("run")
    assert store.count("calculations") == 10 and store.count("adsorption_energies") == 3
    status = invoke("status")
    assert STUDY in status and "COMPLETED" in status


def test_replay_fails_loudly_on_input_mismatch(project, db_url):
    spec = yaml.safe_load((project / "au.yaml").read_text())
    spec["overrides"]["ENCUT"] = 520
    (project / "au.yaml").write_text(yaml.safe_dump(spec))
    invoke("submit", "au.yaml", "--replay", "refs.json")
    out = invoke("run", code=1)  # a FIZZLED Firework is a failed run, not exit 0
    assert "FIZZLED" in out and f"{STUDY}/slab/Au100/relax" in out
    store = ResultStore(db_url)
    record = store.get(f"{STUDY}/slab/Au100/relax")
    assert record.state == "FAILED"
    assert "INCAR ENCUT: lisflow 520.0 != reference 700.0" in record.state_reason
    assert store.count("adsorption_energies") == 0
    fireworks = invoke("status", "--fireworks", "--study", STUDY)
    assert "FIZZLED" in fireworks and "reason" in fireworks
    # the fizzle's reason, from the launch's stored _exception, one line of whole words
    from lisflow.launch.profiles import load_profile
    from lisflow.launch.states import firework_states

    rows = {r["name"]: r for r in firework_states(load_profile("local"))}
    row = rows[f"{STUDY}/slab/Au100/relax"]
    assert row["state"] == "FIZZLED" and len(row["reason"]) <= 200
    assert "INCAR ENCUT: lisflow 520.0 != reference 700.0" in row["reason"]


def test_corrupt_output_is_a_parse_error_and_stores_nothing(project, db_url, fixtures_dir):
    refs = json.loads((project / "refs.json").read_text())
    broken = project / "broken_mol_relax"
    shutil.copytree(refs[f"{STUDY}/molecule/O/relax"], broken)
    text = gzip.decompress((broken / "vasprun.xml.gz").read_bytes())
    (broken / "vasprun.xml.gz").write_bytes(gzip.compress(text[: len(text) // 2]))
    (broken / "OUTCAR.gz").unlink()
    refs[f"{STUDY}/molecule/O/relax"] = str(broken)
    (project / "refs.json").write_text(json.dumps(refs))
    invoke("submit", "au.yaml", "--replay", "refs.json")
    invoke("run", code=1)
    record = ResultStore(db_url).get(f"{STUDY}/molecule/O/relax")
    assert record.state == "PARSE_ERROR" and "vasprun.xml" in record.state_reason
    assert record.energy_ev is None


def test_resubmit_after_failure_reruns_the_original_firework(project, db_url):
    """A failed calculation re-submitted (outputs fixed) reruns its own Firework in place, so
    the molecule static and the three E_ads that waited on it complete."""
    good = json.loads((project / "refs.json").read_text())
    broken = dict(good, **{f"{STUDY}/molecule/O/relax": str(project / "no_such_run")})
    (project / "refs.json").write_text(json.dumps(broken))
    assert "13 new Fireworks" in invoke("submit", "au.yaml", "--replay", "refs.json")
    invoke("run", code=1)
    store = ResultStore(db_url)
    assert store.count("adsorption_energies") == 0
    (project / "refs.json").write_text(json.dumps(good))
    out = " ".join(invoke("submit", "au.yaml", "--replay", "refs.json").split())
    # 0 new: the FIZZLED relax reruns in place; its static (and the 3 E_ads) still WAITING
    assert "0 new Fireworks, 8 already completed, 1 already queued, 1 FIZZLED rerun" in out
    invoke("run")
    assert store.get(f"{STUDY}/molecule/O/static").state == "COMPLETED"
    rows = json.loads(invoke("query", "adsorption", "--study", STUDY, "--format", "json"))
    energies = {int(row["configuration"]): row["energy_ev"] for row in rows}
    assert energies == pytest.approx(EXPECTED, abs=1e-3)
    fireworks = invoke("status", "--fireworks", "--study", STUDY)
    assert fireworks.count("COMPLETED") == 13 and "FIZZLED" not in fireworks
