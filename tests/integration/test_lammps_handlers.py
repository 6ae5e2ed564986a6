"""Each LAMMPS failure mode reproduced for real with a broken input, detected and corrected."""

from __future__ import annotations

import json

import pytest

from lisflow.calculation import Calculation
from lisflow.engines.lammps import LammpsEngine
from lisflow.engines.lammps_handlers import (
    BondMissingHandler,
    LammpsErrorHandler,
    LostAtomsHandler,
    NonFiniteThermoHandler,
    elapsed_ps,
)
from lisflow.errors import EngineError
from lisflow.io.lammps import LammpsInputs
from lisflow.parsers.lammps_log import parse_log

pytestmark = pytest.mark.lammps

#: 8 LiTFSI in a box that is open along z (p p f) and has no walls: ions leave the box.
LEAKY = {
    "system": {
        "kind": "bulk",
        "n_li2s6": 0,
        "n_litfsi": 8,
        "n_dol": 0,
        "n_dme": 0,
        "name": "leaky",
    },
    "periodic_z": False,
    "z_walls": False,
    "thermo_every_ps": 0.001,
    "restart_every_ps": 0.1,
    "dump_every_ps": 0.1,
    "cutoff_a": 8.0,
    "pppm_accuracy": 1.0e-4,
    "neighbor_skin_a": 2.0,  # the handler's +1 A is checked against this
}
TINY = {
    "system": {"kind": "bulk", "n_li2s6": 30, "scale": 0.01, "name": "tiny"},
    "stages": [{"name": "nvt", "ensemble": "nvt", "time_ps": 0.2, "temperature_k": 300.0}],
    "thermo_every_ps": 0.001,
    "restart_every_ps": 0.1,
    "dump_every_ps": 0.1,
    "cutoff_a": 8.0,
    "pppm_accuracy": 1.0e-4,
}


def _calc(params: dict) -> Calculation:
    return Calculation(
        "tests/" + params["system"]["name"], "tests", "lammps", "md", "box", None,
        LammpsInputs(**params),
    )


def _state(directory) -> dict:
    return json.loads((directory / "lisflow_md.json").read_text())


def _first_error(directory) -> list[str]:
    return parse_log(directory / "log.1.lammps", strict=False).errors


def test_lost_atoms_corrected_with_walls_and_smaller_step(tmp_path):
    params = {
        **LEAKY,
        "stages": [{"name": "hot", "ensemble": "nvt", "time_ps": 0.3, "temperature_k": 2000.0}],
    }
    engine, calc = LammpsEngine(), _calc(params)
    engine.write_inputs(calc, tmp_path)
    engine.run(calc, tmp_path)
    assert any("Lost atoms" in e for e in _first_error(tmp_path))
    state = _state(tmp_path)
    assert [c["reason"] for c in state["corrections"]] == ["lost atoms"]
    assert state["params"]["z_walls"] is True and state["params"]["timestep_fs"] == 0.5
    final = parse_log(tmp_path / "log.lammps")
    assert final.complete and not final.errors
    assert "wall/reflect" in (tmp_path / "in.lammps").read_text()
    assert final.series("Time")[-1] == pytest.approx(300.0)  # fs: the whole stage was run
    assert engine.parse(calc, tmp_path).scalars["simulated_time"][0] == pytest.approx(0.3)


def test_bond_atoms_missing_restarts_from_last_restart_file(tmp_path):
    params = {
        **LEAKY,
        "stages": [{"name": "nvt", "ensemble": "nvt", "time_ps": 0.8, "temperature_k": 300.0}],
    }
    engine, calc = LammpsEngine(), _calc(params)
    engine.write_inputs(calc, tmp_path)
    engine.run(calc, tmp_path)
    assert any("Bond atoms" in e and "missing" in e for e in _first_error(tmp_path))
    state = _state(tmp_path)
    first = state["corrections"][0]
    assert first["reason"] == "bonded atoms missing" and first["step"] > 0
    assert state["params"]["neighbor_skin_a"] == pytest.approx(3.0)
    script = (tmp_path / "in.lammps").read_text()
    assert f"read_restart restart.{state['corrections'][-1]['step']}" in script
    final = parse_log(tmp_path / "log.lammps")
    assert final.complete and not final.errors
    # time continues across the restart and the reduced time step: 0.8 ps in total
    assert final.series("Time")[-1] == pytest.approx(800.0)
    assert elapsed_ps(state["segments"], int(final.series("Step")[-1])) == pytest.approx(0.8)


def _blow_up(directory) -> None:
    """Break the input: a velocity of 1e200 A/fs gives inf/nan thermo at once."""
    script = (directory / "in.lammps").read_text()
    marker = "dist gaussian mom yes rot yes\n"
    (directory / "in.lammps").write_text(script.replace(marker, marker + "set atom 1 vx 1.0e200\n"))


def test_non_numeric_thermo_detected_and_corrected(tmp_path):
    engine, calc = LammpsEngine(), _calc(TINY)
    engine.write_inputs(calc, tmp_path)
    _blow_up(tmp_path)
    engine.run(calc, tmp_path)
    broken = parse_log(tmp_path / "log.1.lammps", strict=False)
    assert broken.non_finite
    assert NonFiniteThermoHandler().check(tmp_path) is False  # the new log is clean
    assert [c["reason"] for c in _state(tmp_path)["corrections"]] == ["non-numeric thermo"]
    final = parse_log(tmp_path / "log.lammps")
    assert final.complete and not final.non_finite
    assert "1.0e200" not in (tmp_path / "in.lammps").read_text()


def test_error_line_handler_restarts(tmp_path):
    engine, calc = LammpsEngine(handlers=[LammpsErrorHandler()]), _calc(TINY)
    engine.write_inputs(calc, tmp_path)
    _blow_up(tmp_path)
    engine.run(calc, tmp_path)
    assert any("Out of range atoms" in e for e in _first_error(tmp_path))
    reasons = [c["reason"] for c in _state(tmp_path)["corrections"]]
    assert len(reasons) == 1 and "Out of range atoms" in reasons[0]
    assert parse_log(tmp_path / "log.lammps").complete


def test_bad_command_is_not_recoverable(tmp_path):
    engine, calc = LammpsEngine(), _calc(TINY)
    engine.write_inputs(calc, tmp_path)
    script = (tmp_path / "in.lammps").read_text()
    (tmp_path / "in.lammps").write_text(
        script.replace("units real\n", "units real\nnot_a_command 1\n")
    )
    with pytest.raises(EngineError, match="LAMMPS run"):
        engine.run(calc, tmp_path)
    errors = parse_log(tmp_path / "log.lammps", strict=False).errors
    assert errors and "Unknown command" in errors[0]
    for handler in (LostAtomsHandler(), BondMissingHandler()):
        assert handler.check(tmp_path) is False
    assert LammpsErrorHandler().check(tmp_path) is True


def test_walltime_stops_cleanly_and_resumes_from_restart(tmp_path):
    params = {**TINY, "stages": [{"name": "long", "ensemble": "nvt", "time_ps": 500.0}]}
    params["thermo_every_ps"] = 0.01
    engine, calc = LammpsEngine(walltime_margin_s=0.0), _calc(params)
    engine.write_inputs(calc, tmp_path)
    with pytest.raises(EngineError, match="walltime"):
        engine.run(calc, tmp_path, walltime_s=3.0)
    stopped = parse_log(tmp_path / "log.lammps")
    assert stopped.complete and stopped.timeout and not stopped.errors  # ended normally
    step = int(stopped.series("Step")[-1])
    assert 0 < step < 500_000
    assert (tmp_path / "final.restart").is_file()
    with pytest.raises(EngineError, match="walltime"):
        engine.run(calc, tmp_path, walltime_s=3.0)
    assert "read_restart restart." in (tmp_path / "in.lammps").read_text()
    resumed = parse_log(tmp_path / "log.lammps")
    assert resumed.series("Step")[0] >= step and resumed.series("Step")[-1] > step
