"""LAMMPS log parser on the real atomate PEO log and on broken logs."""

from __future__ import annotations

import numpy as np
import pytest

from lisflow.errors import ParseError
from lisflow.parsers.lammps_log import KCAL_PER_MOL_EV, parse_log, to_si_units


@pytest.fixture
def peo(fixtures_dir):
    return fixtures_dir / "lammps" / "peo_polymer_npt_atomate_v1"


def test_peo_thermo_block(peo):
    log = parse_log(peo / "peo.log")
    assert log.complete and log.wall_time_s == 0 and not log.errors
    assert len(log.blocks) == 1
    block = log.blocks[0]
    assert list(block)[:4] == ["Step", "Temp", "Press", "Volume"]
    assert np.array_equal(block["Step"], np.arange(0, 1001, 100))
    assert block["Volume"][0] == 16016 and block["PotEng"][0] == pytest.approx(2383.0485)
    assert block["Temp"][1] == pytest.approx(1765.5965)
    assert len(log.loop_times_s) == 1


def test_version_line(peo):
    log = parse_log(peo / "log.lammps", strict=False)
    assert log.version == "31 Mar 2017" and not log.blocks


def test_truncated_log_raises(peo, tmp_path):
    lines = (peo / "peo.log").read_text().splitlines()
    cut = next(i for i, line in enumerate(lines) if line.strip().startswith("500 "))
    (tmp_path / "log.lammps").write_text("\n".join(lines[: cut + 1]) + "\n")
    with pytest.raises(ParseError, match="truncated"):
        parse_log(tmp_path / "log.lammps")
    partial = parse_log(tmp_path / "log.lammps", strict=False)
    assert partial.series("Step")[-1] == 500
    with pytest.raises(ParseError, match="does not exist"):
        parse_log(tmp_path / "missing.log")
    (tmp_path / "empty.log").write_text("")
    with pytest.raises(ParseError, match="no thermo"):
        parse_log(tmp_path / "empty.log")


def test_nan_and_error_lines(tmp_path):
    text = (
        "LAMMPS (22 Jul 2025 - Update 4)\n"
        "   Step          Time           Temp          PotEng\n"
        "         0   0              inf            142.5\n"
        "         1   1             -nan            130.8\n"
        "ERROR on proc 0: Out of range atoms - cannot compute PPPM\n"
    )
    (tmp_path / "log.lammps").write_text(text)
    log = parse_log(tmp_path / "log.lammps")
    assert log.errors == ["ERROR on proc 0: Out of range atoms - cannot compute PPPM"]
    assert np.isinf(log.blocks[0]["Temp"][0]) and np.isnan(log.blocks[0]["Temp"][1])
    assert (0, "Temp") in log.non_finite


def test_unit_conversion():
    ev, unit = to_si_units("TotEng", np.array([1.0]))
    assert unit == "eV" and ev[0] == pytest.approx(4184.0 / 6.02214076e23 / 1.602176634e-19)
    assert KCAL_PER_MOL_EV == pytest.approx(0.0433641, rel=1e-6)
    assert to_si_units("Time", np.array([2000.0]))[0][0] == 2.0
    assert to_si_units("Press", np.array([1.0]))[0][0] == pytest.approx(1.01325)
