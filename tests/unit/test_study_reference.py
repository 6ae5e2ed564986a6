"""docs/studies (JSON Schema + one page per study kind) is generated from the pydantic models
and must match them: regenerate with `python -m lisflow.spec.reference --out docs/studies`."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml

from lisflow.spec import KINDS, study_files
from lisflow.spec.reference import _models, main, render_all, stale_files


def test_committed_reference_matches_the_models(repo_root):
    stale = stale_files(repo_root / "docs" / "studies")
    assert stale == [], (
        f"stale docs/studies files {stale}: run python -m lisflow.spec.reference --out docs/studies"
    )


def test_every_field_is_documented():
    files = render_all()
    schema = json.loads(files["schema.json"])
    for kind, model in _models().items():
        page = files[f"{kind}.md"]
        for name, cls in _walk(model):
            section = page.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
            rows = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
            assert rows == list(cls.model_fields), (kind, name)
            assert set(schema["$defs"][name]["properties"]) == set(cls.model_fields)


def _walk(model, seen=None):
    """The model and every model nested in its fields."""
    from typing import get_args

    from pydantic import BaseModel

    seen = seen if seen is not None else {}
    seen[model.__name__] = model

    def visit(tp):
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ not in seen:
                _walk(tp, seen)
        for arg in get_args(tp):
            visit(arg)

    for field in model.model_fields.values():
        visit(field.annotation)
    return list(seen.items())


def test_shipped_studies_validate_against_the_schema(repo_root):
    schema = json.loads((repo_root / "docs/studies/schema.json").read_text())
    files = study_files()
    assert {yaml.safe_load(f.read_text())["kind"] for f in files} == set(KINDS)
    for path in files:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    bad = yaml.safe_load(files[0].read_text())
    bad["unknown_key"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_pages_carry_defaults_bounds_and_allowed_values():
    page = render_all()["adsorption.md"]
    assert "| `configurations` | integer | `2` | ≥ 1; ≤ 12 |" in page
    assert "| `engine` | string | `\"vasp\"` | `vasp`, `cp2k`, `mlip` |" in page
    metals = next(line for line in page.splitlines() if line.startswith("| `metals`"))
    assert "`Pt`" in metals and "`Na`" in metals and "`Si`" not in metals
    assert "## CustomAdsorbate" in page and "| `multiplicity` |" in page
    assert "false: single points only" in page  # the comment next to `relax` in the model


def test_check_mode(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--check"]) == 1
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "md.md").write_text("edited by hand\n")
    assert main(["--out", str(tmp_path), "--check"]) == 1
    assert "stale" in capsys.readouterr().err
