"""Typed engine inputs on the Calculation: every calculation of ``dry-run --all`` carries the
input set its engine declares, and it round-trips exactly through ``calc_to_dict`` /
``calc_from_dict`` (and FireWorks' MontyDecoder); Fireworks written with the old untyped
``params`` still read; an engine registers in one line."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import pytest
from monty.json import MontyDecoder
from pymatgen.core import Lattice, Structure

from lisflow.calculation import Calculation, InputSet, calc_from_dict, calc_to_dict
from lisflow.engines import registry
from lisflow.errors import InputError, LisflowError
from lisflow.io.cp2k import AimdSettings, Cp2kInputs
from lisflow.io.lammps import LammpsInputs
from lisflow.io.lobster import LobsterInputs
from lisflow.io.mlip import MlipSettings
from lisflow.io.vasp import VaspInputs
from lisflow.spec import load_spec, study_files
from lisflow.workflows.plan import plan


@pytest.fixture(scope="module")
def planned() -> list[Calculation]:
    """The calculations of ``dry-run --all`` (every shipped study)."""
    return [calc for path in study_files() for calc in plan(load_spec(path), path)]


def test_every_planned_input_set_round_trips(planned):
    assert len(planned) == 415  # 320 vasp + 65 lobster + 16 mlip + 12 lammps + 2 cp2k
    for calc in planned:
        cls = registry.engine_class(calc.engine).inputs_type
        assert type(calc.inputs) is cls, calc.calc_id
        data = json.loads(json.dumps(calc_to_dict(calc)))
        back = calc_from_dict(data)
        assert back.inputs == calc.inputs, calc.calc_id
        assert (back.calc_id, back.labels, back.parents) == (calc.calc_id, calc.labels, calc.parents)
        assert json.loads(json.dumps(data["inputs"]), cls=MontyDecoder) == calc.inputs
        assert json.loads(json.dumps(calc_to_dict(back))) == data


def test_mlip_inputs_round_trip():
    (path,) = [p for p in study_files() if p.stem == "li2s2_polymorphs"]
    spec = load_spec(path).model_copy(update={"prerelax": "mlip"})
    mlip = [c for c in plan(spec) if c.engine == "mlip"]
    assert mlip and all(isinstance(c.inputs, MlipSettings) for c in mlip)
    for calc in mlip:
        assert calc.inputs.relax_cell and calc.inputs.task == "relax"
        assert calc_from_dict(json.loads(json.dumps(calc_to_dict(calc)))).inputs == calc.inputs


def _legacy(calc: Calculation) -> dict:
    """The untyped ``params`` the planner wrote before typed inputs (lisflow <= c00dd48)."""
    inputs = calc.inputs
    if isinstance(inputs, LobsterInputs):
        return {**_legacy(replace(calc, inputs=inputs.vasp)), "parent_run_dir": "/runs/static"}
    if isinstance(inputs, VaspInputs):
        return {"preset": inputs.preset_name, "task": inputs.task, "role": inputs.role,
                "extra_blocks": list(inputs.extra_blocks), "overrides": inputs.overrides,
                "kpoints": inputs.kpoints}  # fmt: skip
    if isinstance(inputs, Cp2kInputs):
        params = {"task": inputs.task, "role": calc.role, "periodic": inputs.periodic,
                  "overrides": inputs.overrides}  # fmt: skip
        if inputs.aimd is not None:
            params["aimd"] = {k: v for k, v in inputs.aimd.as_dict().items() if "@" not in k}
        return params
    if isinstance(inputs, LammpsInputs):
        return {k: v for k, v in inputs.as_dict().items() if v is not None and "@" not in k}
    raise AssertionError(type(inputs))


def test_old_fireworks_with_untyped_params_still_read(planned):
    kinds = {}
    for calc in planned:
        if calc.task not in ("freq", "vib", "neb") and calc.engine != "mlip":  # (newer than
            kinds.setdefault((calc.engine, calc.task), calc)  # untyped params; mlip below)
    assert set(kinds) == {("vasp", "relax"), ("vasp", "static"), ("lobster", "lobster"),
                          ("cp2k", "aimd"), ("lammps", "md")}  # fmt: skip
    for calc in kinds.values():
        old = {k: v for k, v in calc_to_dict(calc).items() if k != "inputs"}
        old["params"] = json.loads(json.dumps(_legacy(calc)))
        with pytest.raises(LisflowError, match="untyped params"):
            calc_from_dict(old)
        read = registry.calc_from_dict(old)
        expected = calc.inputs
        if isinstance(expected, LobsterInputs):
            expected = replace(expected, parent_run_dir="/runs/static")
        assert read.inputs == expected, calc.calc_id
    aimd = kinds["cp2k", "aimd"].inputs
    assert isinstance(aimd, Cp2kInputs) and isinstance(aimd.aimd, AimdSettings)
    assert isinstance(aimd.aimd.fixed_indices, tuple) and aimd.aimd.time_ps > 0
    mlip = registry.calc_from_dict(
        {"calc_id": "s/m/relax", "study": "s", "engine": "mlip", "task": "relax",
         "role": "bulk", "structure": None,
         "params": {"model": "chgnet", "task": "relax", "fmax": 0.02, "role": "bulk",
                    "ignored_overrides": ["ENCUT"], "fixed_indices": [3, 1]}}
    )  # fmt: skip
    assert mlip.inputs == MlipSettings(fmax=0.02, ignored_overrides=("ENCUT",), fixed_indices=(3, 1))


def test_wrong_input_set_is_refused_by_the_engine(planned):
    vasp = next(c for c in planned if c.engine == "vasp")
    wrong = replace(vasp, engine="cp2k")
    with pytest.raises(LisflowError, match="cp2k needs Cp2kInputs"):
        registry.get_engine("cp2k").write_inputs(wrong, Path("/nonexistent"))
    with pytest.raises(LisflowError, match="not a lisflow input set"):
        calc_from_dict({**calc_to_dict(vasp), "inputs": {"@module": "json", "@class": "dumps"}})


@dataclass(frozen=True)
class ToyInputs(InputSet):
    steps: int = 3
    elements: tuple[str, ...] = ()


class ToyEngine:
    name = "toy"
    inputs_type: ClassVar[type[InputSet]] = ToyInputs

    def write_inputs(self, calc: Calculation, directory: Path) -> list[str]:
        assert isinstance(calc.inputs, ToyInputs)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "toy.in").write_text(f"steps {calc.inputs.steps}\n")
        return ["toy.in"]

    def run(self, calc, directory, walltime_s=None) -> None: ...

    def parse(self, calc, directory): ...

    def final_structure(self, calc, directory) -> None:
        return None


def test_an_engine_registers_in_one_line(monkeypatch, tmp_path):
    from lisflow.workflows.dryrun import write_calculation

    monkeypatch.setitem(registry.ENGINE_CLASSES, "toy", f"{__name__}:ToyEngine")
    structure = Structure(Lattice.cubic(4.0), ["Li"], [[0, 0, 0]])
    calc = Calculation("t/toy", "t", "toy", "static", "bulk", structure, ToyInputs(7, ("Li",)))
    assert registry.engine_class("toy").inputs_type is ToyInputs
    entry = write_calculation(calc, tmp_path)
    assert (tmp_path / "toy/toy.in").read_text() == "steps 7\n"
    assert entry.parameters == {"steps": 7}
    back = calc_from_dict(json.loads(json.dumps(calc_to_dict(calc))))
    assert back.inputs == ToyInputs(7, ("Li",))
    with pytest.raises(InputError, match=r"engine: unknown engine 'nope' \(allowed: vasp, cp2k, "):
        registry.get_engine("nope")
