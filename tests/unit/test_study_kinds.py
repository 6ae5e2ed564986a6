"""One study-kind registry: a kind registered in one line is validated, planned, built into
Fireworks (with its derived Firework) and dry-run (with its extras) like a built-in one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
import yaml
from pymatgen.core import Lattice, Structure

from lisflow.calculation import Calculation
from lisflow.errors import InputError
from lisflow.io.cp2k import Cp2kInputs
from lisflow.spec import KINDS, validate_spec
from lisflow.spec.models import StrictModel
from lisflow.workflows.derived import DerivedContext
from lisflow.workflows.kinds import STUDY_KINDS, StudyKind, register, study_kind


class ToyStudy(StrictModel):
    study: str
    kind: Literal["toy"]
    box_a: float = 6.0


def plan_toy(spec: ToyStudy, spec_file: Path | None = None) -> list[Calculation]:
    h2 = Structure(Lattice.cubic(spec.box_a), ["H", "H"], [[0, 0, 0], [0, 0, 0.74]],
                   coords_are_cartesian=True)
    inputs = Cp2kInputs(task="energy", periodic="NONE")
    return [Calculation(f"{spec.study}/h2/energy", spec.study, "cp2k", "energy", "molecule",
                        h2, inputs=inputs, labels={"final": True})]


def toy_fireworks(spec, calcs, ctx: DerivedContext):
    from lisflow.workflows.firetasks import PolymorphEnergyTask

    task = PolymorphEnergyTask(calc_id=calcs[0].calc_id, polymorph="h2", db_url=ctx.db_url)
    return [ctx.add(task, f"{spec.study}/toy_energy", spec.study, (calcs[0].calc_id,))]


def toy_extras(spec, directory: Path) -> None:
    (directory / "toy.txt").write_text(f"box {spec.box_a}\n")


@pytest.fixture
def toy_kind():
    before = dict(KINDS)
    yield register(StudyKind("toy", ToyStudy, plan_toy, toy_fireworks, toy_extras))
    KINDS.clear()
    KINDS.update(before)
    STUDY_KINDS.pop("toy")


def test_builtin_kinds_in_order():
    builtin = ["adsorption", "polymorphs", "aimd", "md", "free_energy", "neb"]
    assert list(STUDY_KINDS) == list(KINDS) == builtin
    with pytest.raises(InputError, match=r"kind: unknown study kind 'toy' \(allowed: "
                       r"adsorption, polymorphs, aimd, md, free_energy, neb\)"):
        validate_spec({"study": "t", "kind": "toy"})


def test_one_registration_line_makes_a_kind_work(toy_kind, tmp_path):
    from lisflow.workflows.build import build_workflow
    from lisflow.workflows.dryrun import dry_run
    from lisflow.workflows.plan import plan

    spec = validate_spec({"study": "toy_h2", "kind": "toy", "box_a": 7.0})
    assert isinstance(spec, ToyStudy) and study_kind(spec) is toy_kind
    with pytest.raises(InputError, match=r"^box_a: Input should be a valid number"):
        validate_spec({"study": "toy_h2", "kind": "toy", "box_a": "wide"})
    with pytest.raises(InputError, match=r"allowed: adsorption, polymorphs, aimd, md, free_energy, neb, toy"):
        validate_spec({"study": "toy_h2", "kind": "toys"})
    (calc,) = plan(spec)
    assert calc.calc_id == "toy_h2/h2/energy" and calc.structure.lattice.a == 7.0

    class NoStore:
        def get(self, calc_id):
            return None

    wf, report = build_workflow(spec, None, NoStore(), tmp_path / "runs", None)
    assert report.new == ["toy_h2/h2/energy", "toy_h2/toy_energy"]
    links = {wf.id_fw[p].name: [wf.id_fw[c].name for c in cs] for p, cs in wf.links.items()}
    assert links["toy_h2/h2/energy"] == ["toy_h2/toy_energy"]

    path = tmp_path / "toy_h2.yaml"
    path.write_text(yaml.safe_dump({"study": "toy_h2", "kind": "toy", "box_a": 7.0}))
    entries = dry_run([path], tmp_path / "out", progress=False)
    assert [e.calc_id for e in entries] == ["toy_h2/h2/energy"]
    assert (tmp_path / "out/toy_h2/toy.txt").read_text() == "box 7.0\n"
    text = (tmp_path / "out/toy_h2/h2/energy/cp2k.inp").read_text()
    assert "PERIODIC NONE" in text and "7.0" in text
    manifest = json.loads((tmp_path / "out/manifest.json").read_text())
    assert manifest["calculations"][0]["parameters"]["run_type"] == "ENERGY_FORCE"
