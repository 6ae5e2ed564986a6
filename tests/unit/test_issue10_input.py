"""Issue 10, bad input and data safety: bounded numbers, typed overrides, no injection, safe
names, bounded YAML; ``--out`` never deletes foreign files; credentials masked everywhere."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.errors import InputError
from lisflow.fsutil import MARKER, atomic_directory
from lisflow.spec import load_spec, validate_spec
from lisflow.spec.md import load_md_study
from lisflow.urls import has_credentials, mask_url

REPO = Path(__file__).resolve().parents[2]
ADS = {
    "study": "tiny",
    "kind": "adsorption",
    "engine": "vasp",
    "preset": "paper000",
    "substrates": [{"builder": "mo_ngraphene", "n_mo": 4}],
    "adsorbates": ["Li2S"],
}


def refused(data: dict) -> InputError:
    with pytest.raises(InputError) as info:
        validate_spec(data)
    text = str(info.value)
    assert "\n" not in text and len(text) <= 200
    return info.value


def shipped(name: str) -> dict:
    return yaml.safe_load((REPO / "workflows" / name).read_text())


@pytest.mark.parametrize(
    ("tag", "value", "says"),
    [
        ("ENCUT", math.nan, "ENCUT must be a finite number"),
        ("ENCUT", math.inf, "ENCUT must be a finite number"),
        ("ENCUT", 1e300, "ENCUT must be a finite number"),
        ("ENCUT", 6000, "ENCUT must be a number > 0 and <= 5000"),
        ("ISPIN", 3, "ISPIN must be one of 1, 2"),
        ("NSW", 2.5, "NSW must be an integer"),
        ("NSW", True, "NSW must be an integer"),
        ("GGA", {"a": 1}, "GGA must be a number, true/false or text, not a mapping"),
        ("GGA", "PE\nENCUT = -5", "GGA text must be"),
        ("GGA", "PE; ENCUT = -5", "GGA text must be"),
        ("MGRID.CUTOFF", math.nan, "MGRID.CUTOFF must be a finite number"),
        ("KIND", "@INCLUDE /etc/passwd", "KIND text must be"),
        ("LCHARG", "yes", "LCHARG must be true or false"),
        ("MAGMOM", [1.0, math.nan], "MAGMOM list items must be a finite number"),
    ],
)
def test_override_values_typed_per_tag(tag, value, says):
    for where in ("overrides", "overrides_by_task", "overrides_by_role"):
        data = copy.deepcopy(ADS)
        tags = {tag: value}
        data[where] = {"overrides": tags, "overrides_by_task": {"static": tags}}.get(
            where, {"slab": tags}
        )
        error = refused(data)
        assert error.field.startswith(where) and says in str(error)


def test_good_overrides_pass():
    data = dict(ADS, overrides={"ENCUT": 520, "ISPIN": 2, "GGA": "PE", "IVDW": None, "NSW": 0})
    assert validate_spec(data).overrides["ENCUT"] == 520


@pytest.mark.parametrize(
    ("file", "path", "value", "field"),
    [
        ("mo_cluster_adsorption.yaml", ("substrates", 3, "vacuum"), math.inf, "substrates[3].vacuum"),
        ("mo_cluster_adsorption.yaml", ("substrates", 3, "vacuum"), 1e6, "substrates[3].vacuum"),
        ("mo_cluster_adsorption.yaml", ("kpoints",), {"rule": "mesh", "mesh": [10**9, 1, 1]},
         "kpoints.mesh[0]"),
        ("mo_cluster_adsorption.yaml", ("study",), "x" * 101, "study"),
        ("mo_cluster_adsorption.yaml", ("description",), "one\ntwo", "description"),
        ("aimd_charge_transfer.yaml", ("stages", 0, "time_ps"), 1e300, "stages[0].time_ps"),
        ("aimd_charge_transfer.yaml", ("electrode_li",), 10**12, "electrode_li"),
        ("aimd_charge_transfer.yaml", ("temperature_k",), math.nan, "temperature_k"),
        ("electrolyte_md.yaml", ("protocol", 1, "time_ps"), 1e300, "protocol[1].time_ps"),
        ("interface_md.yaml", ("systems", 0, "name"), ".", "systems[0].name"),
        ("interface_md.yaml", ("systems", 0, "name"), "..", "systems[0].name"),
        ("interface_md.yaml", ("systems", 0, "name"), "a/b", "systems[0].name"),
        ("interface_md.yaml", ("systems", 0, "n_li2s6"), 10**12, "systems[0].n_li2s6"),
        ("electrolyte_md.yaml", ("systems", 0, "box"), [30.0, 30.0, 30.0], "systems[0]"),
    ],
)
def test_numbers_and_names_bounded(file, path, value, field):
    data = shipped(file)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert refused(data).field == field


def test_npt_pressure_nan_and_duplicates_refused():
    data = shipped("electrolyte_md.yaml")
    data["protocol"].append({"name": "press", "ensemble": "npt", "time_ps": 1.0,
                             "pressure_bar": math.nan})
    assert refused(data).field == "protocol[3].pressure_bar"
    aimd = shipped("aimd_charge_transfer.yaml")
    aimd["stages"].append(dict(aimd["stages"][0]))
    error = refused(aimd)
    assert error.field == "stages" and "unique" in str(error)
    poly = shipped("li2s2_polymorphs.yaml")
    poly["polymorphs"].append("tetragonal")
    assert refused(poly).field == "polymorphs"
    ads = copy.deepcopy(ADS)
    ads["substrates"] = [{"builder": "mo_ngraphene", "n_mo": 4}] * 2
    assert refused(ads).field == "substrates"
    md = shipped("interface_md.yaml")
    md["systems"].append(dict(md["systems"][0]))
    assert refused(md).field == "systems"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"study: a\nkind: md\n\xff\xfe", "is not UTF-8 text (byte 18)"),
        (b"description: " + b"[" * 5000 + b"]" * 5000, "nested deeper than 32 levels"),
        (
            b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + b"".join(
                f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n".encode()
                for p, c in zip("abcdefg", "bcdefgh", strict=True)
            ),
            "describes more than 100000 values",
        ),
        (b"study: a\nstudy: b\n", "repeats the key 'study' at line 2"),
        (b"# " + b"x" * (2 << 20), "bytes (at most 1048576)"),
    ],
)
def test_yaml_reader_bounds(tmp_path, content, says):
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    for loader in (load_spec, load_md_study):
        with pytest.raises(InputError) as info:
            loader(path)
        assert says in str(info.value) and len(str(info.value)) <= 200


@pytest.mark.parametrize("command", [["md-info"], ["pack", "--system", "x", "--out", "packed"]])
def test_md_commands_on_bad_yaml_exit_2(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_bytes(b"study: [unclosed\n")
    result = CliRunner().invoke(app, [*command, "bad.yaml"])
    assert result.exit_code == 2, result.output
    assert "not valid YAML at line" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_out_directory_with_user_files_is_refused_and_kept(tmp_path):
    out = tmp_path / "analysis"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError) as info:
        with atomic_directory(out) as tmp:
            (tmp / "result.csv").write_text("1")
    assert info.value.field == "--out" and "not written by lisflow" in str(info.value)
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analysis"]  # no temp dir left

    fresh = tmp_path / "fresh"
    with atomic_directory(fresh) as tmp:
        (tmp / "result.csv").write_text("1")
    assert json.loads((fresh / MARKER).read_text()) == ["result.csv"]
    with atomic_directory(fresh) as tmp:  # an earlier lisflow output is replaced
        (tmp / "result.csv").write_text("2")
    assert (fresh / "result.csv").read_text() == "2"
    (fresh / "notes.txt").write_text("added by the user")
    with pytest.raises(InputError, match="notes.txt"):
        with atomic_directory(fresh) as tmp:
            (tmp / "result.csv").write_text("3")
    assert (fresh / "notes.txt").exists() and (fresh / "result.csv").read_text() == "2"


def test_dry_run_refuses_a_foreign_study_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out" / "aimd_charge_transfer").mkdir(parents=True)
    (tmp_path / "out" / "aimd_charge_transfer" / "notes.txt").write_text("mine")
    spec = REPO / "workflows" / "aimd_charge_transfer.yaml"
    result = CliRunner().invoke(app, ["dry-run", str(spec), "--out", "out", "--no-progress"])
    assert result.exit_code == 2 and "not written by lisflow" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["aimd_charge_transfer"]


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+psycopg://u:pw1@h:5432/db", "postgresql+psycopg://u:***@h:5432/db"),
        ("postgresql://h/db?password=pw2&sslmode=require", "postgresql://h/db?password=***&sslmode=require"),
        ("postgresql://h/db?sslmode=require&PASSWORD=pw3", "postgresql://h/db?sslmode=require&PASSWORD=***"),
        ("mongodb+srv://u:pw4@c.example/lisflow?token=pw5", "mongodb+srv://u:***@c.example/lisflow?token=***"),
    ],
)
def test_every_credential_form_is_masked(url, masked):
    assert mask_url(url) == masked and has_credentials(url)
    assert mask_url(f"cannot connect to {url} now") == f"cannot connect to {masked} now"
    from lisflow.db.store import mask_url as store_mask

    if url.startswith("postgresql"):
        assert "pw" not in store_mask(url)
    assert not has_credentials("postgresql://h:5432/db?sslmode=require")


def test_query_password_never_reaches_the_launchpad(tmp_path, monkeypatch):
    """A ``?password=`` database URL is not copied into Firework specs (launchpad.json)."""
    from lisflow.workflows.build import build_workflow

    class NoStore:
        def get(self, calc_id):
            return None

    spec = validate_spec(shipped("aimd_charge_transfer.yaml"))
    url = "postgresql+psycopg://h/db?password=s3cret"
    monkeypatch.setattr("lisflow.workflows.build.plan", lambda spec, path: _two_calcs(spec))
    wf, report = build_workflow(spec, None, NoStore(), tmp_path, url)
    assert report.new and "s3cret" not in json.dumps(wf.to_dict(), default=str)


def _two_calcs(spec):
    from lisflow.calculation import Calculation

    return [
        Calculation(calc_id=f"{spec.study}/aimd/{s.name}", study=spec.study, engine="cp2k",
                    task="aimd", role="aimd", structure=None)
        for s in spec.stages
    ]


def test_dry_run_never_overwrites_a_foreign_manifest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.json").write_text("my own notes\n")
    spec = REPO / "workflows" / "electrolyte_md.yaml"
    result = CliRunner().invoke(app, ["dry-run", str(spec), "--out", "out", "--no-progress"])
    assert result.exit_code == 2 and "not a lisflow manifest" in result.output
    assert (tmp_path / "out" / "manifest.json").read_text() == "my own notes\n"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["manifest.json"]
