"""A user MD solvent from a force-field file + xyz: found next to the study, validated, carried
in the calculation parameters (THF with official OPLS-AA values, tests/data/solvents)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from lisflow.errors import InputError
from lisflow.forcefield import load_forcefield
from lisflow.forcefield.custom import CustomSpecies, load_custom_species, validate
from lisflow.spec.md import load_md_study
from lisflow.structures.md_boxes import build_system
from lisflow.workflows.plan_md import plan_md

SOLVENTS = Path(__file__).parents[1] / "data" / "solvents"
STUDY = {
    "study": "thf_md",
    "kind": "md",
    "systems": [
        {
            "name": "thf_box",
            "kind": "bulk",
            "n_li2s6": 1,
            "n_litfsi": 0,
            "n_dol": 4,
            "n_dme": 0,
            "solvents": {"THF": 5},
        }
    ],
    "protocol": [
        {"name": "min", "ensemble": "minimize"},
        {"name": "nvt", "ensemble": "nvt", "time_ps": 1.0, "temperature_k": 300},
    ],
}


def _copy(tmp_path: Path) -> Path:
    for suffix in (".yaml", ".xyz"):
        shutil.copy(SOLVENTS / f"THF{suffix}", tmp_path / f"THF{suffix}")
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump(STUDY))
    return study


def test_study_finds_the_solvent_next_to_it_and_the_box_contains_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)  # not the study's directory
    monkeypatch.delenv("LISFLOW_PATH", raising=False)
    spec = load_md_study(_copy(tmp_path))
    (calc,) = plan_md(spec)
    system = calc.inputs.system
    assert system["solvents"] == {"THF": 5} and calc.labels["solvents"] == {"THF": 5}
    (custom,) = system["custom_species"]
    assert custom["name"] == "THF" and custom["xyz"] == (SOLVENTS / "THF.xyz").read_text()
    assert custom["forcefield"] == yaml.safe_load((SOLVENTS / "THF.yaml").read_text())
    box = build_system(system)  # registers THF from the parameters alone
    assert box.counts == {"Li2S6": 1, "LiTFSI": 0, "DOL": 4, "DME": 0, "THF": 5}
    assert box.n_atoms == 8 + 4 * 11 + 5 * 13
    assert box.total_charge == pytest.approx(0.0, abs=1e-9)
    ff = load_forcefield(["THF"])
    assert ff.types["THF_CB"].bonded_class == "CT" and sum(
        ff.species["THF"].charges
    ) == pytest.approx(0, abs=1e-12)


def test_solvent_on_the_search_path(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    lib.mkdir()
    for suffix in (".yaml", ".xyz"):
        shutil.copy(SOLVENTS / f"THF{suffix}", lib / f"THF{suffix}")
    monkeypatch.setenv("LISFLOW_PATH", str(lib))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(STUDY))
    assert plan_md(load_md_study(tmp_path / "s.yaml"))[0].inputs.system["custom_species"]


def test_missing_file_is_one_line_naming_the_solvent(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LISFLOW_PATH", raising=False)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(STUDY))
    with pytest.raises(InputError, match=r"solvents\.THF.*no force-field file THF\.yaml") as err:
        load_md_study(tmp_path / "s.yaml")
    assert "\n" not in str(err.value)


def _species(**changes) -> CustomSpecies:
    data = yaml.safe_load((SOLVENTS / "THF.yaml").read_text())
    xyz = changes.pop("xyz", (SOLVENTS / "THF.xyz").read_text())
    for key, value in changes.items():
        data[key] = value(data) if callable(value) else value
    return CustomSpecies("THF", data, xyz, "test")


def _set_atom(i, **fields):
    def change(data):
        data["atoms"][i] = {**data["atoms"][i], **fields}
        return data["atoms"]

    return change


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"types": lambda d: {k: v for k, v in d["types"].items() if k != "THF_HB"}},
            r"forcefield\.THF\.atoms\[7\]\.type",
            "unknown atom type 'THF_HB'",
        ),
        ({"atoms": _set_atom(0, charge=-0.5)}, r"forcefield\.THF\.atoms", "sum to -0.100000 e"),
        ({"charge": 1}, r"forcefield\.THF\.atoms", "molecule's charge is 1 e"),
        (
            {"types": lambda d: {**d["types"], "THF_OS": {"element": "O", "class": "OS"}}},
            r"forcefield\.THF\.types\.THF_OS",
            "missing sigma, epsilon, source",
        ),
        ({"species": "XYZ"}, r"forcefield\.THF\.species", "is 'XYZ'"),
        (
            {"dihedral_coeffs": lambda d: d["dihedral_coeffs"][1:]},
            r"forcefield\.THF\.dihedral_coeffs",
            "no parameters for dihedral CT-OS-CT-CT",
        ),
        (
            {"xyz": "3\nwater\nO 0 0 0\nH 1 0 0\nH 0 1 0\n"},
            r"solvents\.THF\.xyz",
            "3 atoms, the force field lists 13",
        ),
        (
            {"atoms": _set_atom(0, type="THF_CA")},
            r"solvents\.THF\.xyz",
            "atom 0 is O, type THF_CA is C",
        ),
    ],
)
def test_invalid_force_field_is_refused_with_the_field(changes, field, message):
    with pytest.raises(InputError, match=field) as err:
        validate(_species(**changes))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_shipped_names_and_bad_names_are_refused(tmp_path):
    from lisflow.forcefield.custom import register

    with pytest.raises(InputError, match="solvents"):
        load_custom_species("../THF", [tmp_path])
    with pytest.raises(InputError, match="is shipped"):
        register(CustomSpecies("DOL", {}, "", "test"))


def test_solvent_atoms_count_toward_the_atom_limit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = _copy(tmp_path)
    data = yaml.safe_load(study.read_text())
    data["systems"][0]["solvents"] = {"THF": 100_000}  # 1.3 M atoms of THF + 1.1 M of DOL + 8
    data["systems"][0]["n_dol"] = 100_000
    study.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="2400008 atoms"):
        load_md_study(study)
