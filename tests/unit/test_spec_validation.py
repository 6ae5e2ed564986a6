"""Bad study definitions: one line naming the field, exit code 2, nothing written."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.errors import InputError
from lisflow.spec import load_spec, validate_spec

GOOD = {
    "study": "tiny",
    "kind": "adsorption",
    "engine": "vasp",
    "preset": "paper000",
    "substrates": [{"builder": "mo_ngraphene", "n_mo": 4}],
    "adsorbates": ["Li2S"],
}


def _with(path: str, value):
    """GOOD with ``path`` (dotted, [i] for lists) set to ``value`` (or removed for ...)."""
    data = copy.deepcopy(GOOD)
    node = data
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if value is ...:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


# (spec, field named in the message, words the message must contain)
BAD_SPECS = [
    (_with("colour", "red"), "colour", "unknown key"),
    (_with("kind", "phonons"), "kind", "adsorption"),
    (_with("study", "Bad Name"), "study", "pattern"),
    (_with("study", ...), "study", "required"),
    (_with("adsorbates", []), "adsorbates", "at least 1"),
    (_with("adsorbates", ["Li2Q"]), "adsorbates", "Li2S"),
    (_with("adsorbates", ["Li2S", "Li2S"]), "adsorbates", "twice"),
    (_with("adsorbates", "Li2S"), "adsorbates", "list"),
    (_with("substrates[0].n_mo", 5), "substrates[0].n_mo", "1, 4, 9"),
    (_with("substrates[0].n_mo", "four"), "substrates[0].n_mo", "integer"),
    (_with("substrates[0].builder", "cnt"), "substrates[0]", "mo_ngraphene"),
    (_with("substrates[0].shape", "round"), "substrates[0].shape", "unknown key"),
    (_with("substrates", []), "substrates", "at least 1"),
    (
        _with("substrates", [{"builder": "dasc", "metals": ["Fe", "Xx"]}]),
        "substrates[0].metals",
        "metal of Z <= 83",
    ),
    (
        _with("substrates", [{"builder": "dasc", "metals": ["Fe", "Ge"]}]),
        "substrates[0].metals",
        "Sc",
    ),
    (
        _with("substrates", [{"builder": "dasc", "metals": ["Fe", "Co", "Ni"]}]),
        "substrates[0].metals",
        "at most 2",
    ),
    (_with("substrates", [{"builder": "ti0001", "a": -2.93}]), "substrates[0].a", "greater than"),
    (_with("overrides", {"ENCUT": -500}), "overrides", "ENCUT must be a number > 0"),
    (_with("overrides", {"SIGMA": 0}), "overrides", "SIGMA"),
    (_with("overrides", {"NSW": -1}), "overrides", "NSW"),
    (_with("overrides", {"bad key!": 1}), "overrides", "parameter name"),
    (_with("overrides_by_task", {"md": {"ENCUT": 400}}), "overrides_by_task.md", "relax"),
    (_with("configurations", 0), "configurations", "greater than or equal to 1"),
    (_with("engine", "gaussian"), "engine", "vasp"),
    (_with("kpoints", {"rule": "length"}), "kpoints", "length"),
    (_with("kpoints", {"rule": "mesh", "mesh": [0, 2, 1]}), "kpoints", "mesh"),
    (_with("molecule_box", -10.0), "molecule_box", "greater than"),
    (
        {
            "study": "aimd_x",
            "kind": "aimd",
            "substrates": [],
            "stages": [{"name": "a", "time_ps": 1.0, "electrode_li": False}],
        },
        "substrates",
        "unknown key",
    ),
    (
        {
            "study": "aimd_x",
            "kind": "aimd",
            "stages": [{"name": "a", "time_ps": -1, "electrode_li": False}],
        },
        "stages[0].time_ps",
        "greater than",
    ),
    ({"study": "poly", "kind": "polymorphs", "polymorphs": []}, "polymorphs", "at least 1"),
]


@pytest.mark.parametrize(("data", "field", "words"), BAD_SPECS)
def test_bad_spec_names_the_field(data, field, words):
    with pytest.raises(InputError) as info:
        validate_spec(data)
    message = str(info.value)
    assert message.startswith(field), message
    assert words.lower() in message.lower(), message
    assert "\n" not in message


def test_good_spec_validates():
    spec = validate_spec(GOOD)
    assert spec.substrates[0].n_mo == 4 and spec.adsorbates == ["Li2S"]


def _cli_dry_run(tmp_path: Path, data) -> tuple[int, str, Path]:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["dry-run", str(spec_file), "--out", str(out), "--no-progress"]
    )
    return result.exit_code, result.output, out


@pytest.mark.parametrize(("data", "field", "words"), BAD_SPECS[:12])
def test_cli_exit_2_and_nothing_written(tmp_path, data, field, words):
    code, output, out = _cli_dry_run(tmp_path, data)
    assert code == 2, output
    assert field in output
    assert not out.exists()


def test_cli_rejects_invalid_yaml_and_missing_file(tmp_path):
    code, output, out = _cli_dry_run(tmp_path, "study: [unclosed\n")
    assert code == 2 and "not valid YAML" in output and not out.exists()
    result = CliRunner().invoke(app, ["dry-run", str(tmp_path / "nope.yaml"), "--out", str(out)])
    assert result.exit_code == 2 and "no such study file" in result.output


def test_unknown_polymorph_is_rejected_before_writing(tmp_path):
    data = {
        "study": "poly",
        "kind": "polymorphs",
        "preset": "bulk",
        "polymorphs": ["tetragonal", "CsCl"],
    }
    code, output, out = _cli_dry_run(tmp_path, data)
    assert code == 2 and "polymorphs[1]" in output and "tetragonal" in output
    assert not out.exists()


def test_unknown_preset_is_rejected(tmp_path):
    code, output, out = _cli_dry_run(tmp_path, {**GOOD, "preset": "paper999"})
    assert code == 2 and "preset" in output and "paper000" in output
    assert not out.exists()


KEYS = st.sampled_from(
    [
        "study",
        "kind",
        "engine",
        "preset",
        "substrates",
        "adsorbates",
        "configurations",
        "overrides",
        "kpoints",
        "molecule_box",
        "extra",
    ]
)
VALUES = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(-1e3, 1e3, allow_nan=False),
    st.text(max_size=6),
    st.lists(st.integers(-2, 2), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=KEYS, value=VALUES)
def test_hypothesis_mutations_fail_cleanly(key, value):
    """Any mutation either validates or raises one InputError line naming a field."""
    data = copy.deepcopy(GOOD)
    data[key] = value
    try:
        validate_spec(data)
    except InputError as exc:
        text = str(exc)
        assert "\n" not in text
        assert text.split(":")[0].strip()  # a field name before the colon
    except Exception as exc:  # pragma: no cover - the failure we are looking for
        pytest.fail(f"{type(exc).__name__} instead of InputError for {key}={value!r}: {exc}")


def test_shipped_specs_all_validate(repo_root):
    files = sorted((repo_root / "workflows").glob("*.yaml"))
    studies = {load_spec(f).study for f in files}
    assert {
        "li2s2_polymorphs",
        "mo_cluster_adsorption",
        "dasc_adsorption",
        "aimd_charge_transfer",
    } <= studies
