"""``--engine mlip [--model M]`` on submit / dry-run and ``engine_override`` in a run profile:
a validated spec transformation applied before planning (lisflow.spec.engine_override)."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.errors import InputError
from lisflow.launch.profiles import Profile, load_profile
from lisflow.spec import load_spec, resolve_study
from lisflow.spec.engine_override import (
    EngineOverride,
    apply_engine_override,
    engine_override,
)
from lisflow.workflows.plan import plan


def test_adsorption_study_switched_to_mlip_plans_only_mlip_relaxations():
    spec = load_spec(resolve_study("dasc_adsorption"))
    switched = apply_engine_override(spec, EngineOverride("mlip", "sevennet"))
    assert (spec.engine, spec.study) == ("vasp", "dasc_adsorption")  # the original is untouched
    assert (switched.engine, switched.model, switched.study) == (
        "mlip", "sevennet", "dasc_adsorption_mlip"
    )  # fmt: skip
    calcs = plan(switched)  # (one per final DFT calculation: tests/unit/test_mlip_plan.py)
    assert {c.engine for c in calcs} == {"mlip"} and {c.study for c in calcs} == {switched.study}
    assert {c.inputs.model for c in calcs} == {"sevennet"}
    assert apply_engine_override(spec, None) is spec


@pytest.mark.parametrize("study", ["electrolyte_md", "aimd_charge_transfer"])
def test_kinds_that_cannot_run_with_mlip_are_refused(study):
    spec = load_spec(resolve_study(study))
    with pytest.raises(InputError) as err:
        apply_engine_override(spec, EngineOverride("mlip"))
    assert err.value.field == "--engine" and f"kind {spec.kind!r}" in str(err.value)
    assert err.value.allowed == "studies of kind adsorption, polymorphs"


def test_flags_win_over_the_profile_and_bad_values_name_the_field():
    profile = {"engine": "mlip", "model": "chgnet"}
    assert engine_override(None, None, profile) == EngineOverride(
        "mlip", "chgnet", "profile.engine_override"
    )
    assert engine_override("mlip", "sevennet", profile) == EngineOverride("mlip", "sevennet")
    assert engine_override(None, None, {}) is None
    cases = [
        (("lammps", None, None), "--engine", "mlip"),
        (("mlip", "mace", None), "--model", "chgnet, sevennet"),
        ((None, "chgnet", None), "--model", None),
        ((None, None, {"engine": "cp2k"}), "profile.engine_override", "mlip"),
        ((None, None, {"model": "chgnet"}), "profile.engine_override.engine", "engine, model"),
        ((None, None, {"engine": "mlip", "modle": "x"}), "profile.engine_override.modle", None),
    ]
    for args, field, allowed in cases:
        with pytest.raises(InputError) as err:
            engine_override(*args)
        assert err.value.field == field and "\n" not in str(err.value)
        if allowed:
            assert err.value.allowed == allowed


def test_dry_run_engine_flag_writes_mlip_inputs_and_refuses_bad_values(tmp_path):
    runner = CliRunner()
    out = tmp_path / "dry"
    result = runner.invoke(
        app, ["dry-run", "li2s2_polymorphs", "--engine", "mlip", "--model", "sevennet",
              "--out", str(out), "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    entries = manifest["calculations"] if isinstance(manifest, dict) else manifest
    n_polymorphs = len(load_spec(resolve_study("li2s2_polymorphs")).polymorphs)
    assert len(entries) == n_polymorphs == 8
    assert {(e["study"], e["engine"]) for e in entries} == {("li2s2_polymorphs_mlip", "mlip")}
    settings = json.loads(next((out / "li2s2_polymorphs_mlip").rglob("mlip.json")).read_text())
    assert settings["model"] == "sevennet" and settings["relax_cell"] is True
    for args, field in (
        (["electrolyte_md", "--engine", "mlip"], "--engine"),
        (["li2s2_polymorphs", "--engine", "vasp"], "--engine"),
        (["li2s2_polymorphs", "--engine", "mlip", "--model", "mace"], "--model"),
    ):
        bad = runner.invoke(app, ["dry-run", *args, "--out", str(tmp_path / "bad")])
        assert bad.exit_code == 2 and field in bad.output, bad.output
        assert not (tmp_path / "bad").exists()  # nothing half-written


def test_profile_engine_override_switches_submitted_studies(tmp_path, monkeypatch):
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    profile_file = tmp_path / "mlipruns.yaml"
    profile_file.write_text(
        yaml.safe_dump(
            {
                "launchpad": {"mode": "mongomock", "file": str(tmp_path / "home" / "lp.json")},
                "results_db": f"sqlite:///{tmp_path / 'home' / 'results.sqlite'}",
                "run_root": str(tmp_path / "home" / "runs"),
                "engine_override": {"engine": "mlip", "model": "chgnet"},
            }
        )
    )
    profile = load_profile(str(profile_file))
    assert isinstance(profile, Profile) and profile.engine_override["engine"] == "mlip"
    from lisflow.launch.local import submit

    (report,) = submit([resolve_study("li2s2_polymorphs")], profile)  # a VASP study: no VASP here
    assert report.study == "li2s2_polymorphs_mlip"
    assert len(report.new) == 2 * 8  # 8 MLIP relaxations + 8 E_f Fireworks
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"engine_override": {"engine": "lammps"}}))
    with pytest.raises(InputError, match=r"^profile.engine_override: .*allowed: mlip"):
        submit([resolve_study("li2s2_polymorphs")], load_profile(str(bad)))
