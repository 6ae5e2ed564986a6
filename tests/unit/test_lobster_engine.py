"""LOBSTER step pieces on real outputs: CHARGE.lobster, charge spilling, lobsterin checks,
and the engine's refusals before it runs anything (issue 11.7)."""

from __future__ import annotations

import shutil

import pytest
from pymatgen.core import Structure

from lisflow.calculation import Calculation
from lisflow.engines.lobster import LobsterEngine, compare_lobsterin, lobsterin_for
from lisflow.errors import EngineError, ParseError
from lisflow.io.lobster import LobsterInputs, lobster_nbands, read_lobsterin
from lisflow.io.vasp import VaspInputs
from lisflow.parsers.lobster import check_charge_spilling, lobster_summary, read_charge_lobster

NACL = "lobster/nacl_lobster511_custodian"
VARIANTS = "lobster/lobsterout_variants_custodian"


def test_charge_lobster_mulliken_and_loewdin(fixtures_dir):
    rows = read_charge_lobster(fixtures_dir / NACL / "CHARGE.lobster")
    assert len(rows) == 2 * 8
    mulliken = {(r["element"], r["net_charge"]) for r in rows if r["method"] == "mulliken"}
    loewdin = {(r["element"], r["net_charge"]) for r in rows if r["method"] == "loewdin"}
    assert mulliken == {("Na", 0.78), ("Cl", -0.78)} and loewdin == {("Na", 0.67), ("Cl", -0.67)}
    assert sum(r["net_charge"] for r in rows) == pytest.approx(0.0)
    assert [r["site_index"] for r in rows[:8]] == list(range(8))


@pytest.mark.parametrize(
    ("name", "worst", "refused"),
    [("normal", 0.008, False), ("largespilling", 0.0728, True), ("largespilling_2", 0.0728, True)],
)
def test_charge_spilling_limit(fixtures_dir, name, worst, refused):
    """custodian's real lobsterout variants; the 5 % limit is its ChargeSpillingValidator's."""
    summary = lobster_summary(fixtures_dir / VARIANTS / f"lobsterout.{name}")
    assert summary.max_charge_spilling == pytest.approx(worst)
    if refused:
        with pytest.raises(ParseError, match=r"charge spilling 7\.28% > 5%"):
            check_charge_spilling(summary)
    else:
        check_charge_spilling(summary)


def _lobster_calc(fixtures_dir, parent_run_dir=None) -> Calculation:
    structure = Structure.from_file(fixtures_dir / NACL / "POSCAR")
    vasp = VaspInputs(preset_name="paper002", task="static", role="bulk", extra_blocks=("lobster",))
    parent = None if parent_run_dir is None else str(parent_run_dir)
    return Calculation(
        calc_id="n/bulk/lobster", study="n", engine="lobster", task="lobster", role="bulk",
        structure=structure, inputs=LobsterInputs(vasp, parent), parents=("n/bulk/static",),
    )  # fmt: skip


def test_lobsterin_standard_settings_and_replay_check(fixtures_dir, tmp_path):
    calc = _lobster_calc(fixtures_dir)
    ours = read_lobsterin(lobsterin_for(calc))
    assert ours["basisset"] == "pbeVaspFit2015" and ours["cohpstartenergy"] == "-35.0"
    assert ours["cohpgenerator"] == "from 0.1 to 6.0 orbitalwise"
    assert sorted(ours["basisfunctions"]) == ["Cl 3p 3s", "Na 2p 3s"]  # Na_pv, Cl (MP POTCARs)
    assert ours["gaussiansmearingwidth"] == "0.05"  # paper002: ISMEAR 0, SIGMA 0.05
    assert lobster_nbands(calc.structure, ["Na_pv", "Cl"]) == 4 * 4 + 4 * 4
    LobsterEngine().write_inputs(calc, tmp_path)
    problems = compare_lobsterin(tmp_path, fixtures_dir / NACL)  # custodian's run used Bunge
    assert problems == [
        "lobsterin basisset: lisflow 'pbeVaspFit2015' != reference 'Bunge'",
        "lobsterin basisfunctions: lisflow ['Na 2p 3s', 'Cl 3p 3s'] != reference "
        "['Na 3s 2p', 'Cl 3s 3p']",
    ]


def test_engine_refuses_without_parent_outputs_or_command(fixtures_dir, tmp_path, monkeypatch):
    engine = LobsterEngine()
    with pytest.raises(EngineError, match="no finished VASP static"):
        engine.run(_lobster_calc(fixtures_dir), tmp_path / "a")
    parent = tmp_path / "static"
    parent.mkdir()
    for name in ("POSCAR", "INCAR", "KPOINTS"):
        shutil.copy(fixtures_dir / NACL / name, parent / name)
    with pytest.raises(EngineError, match="has no WAVECAR, vasprun.xml, POTCAR"):
        engine.run(_lobster_calc(fixtures_dir, parent), tmp_path / "b")
    for name in ("WAVECAR", "vasprun.xml", "POTCAR"):
        (parent / name).write_text("x")
    monkeypatch.delenv("LISFLOW_LOBSTER_CMD", raising=False)
    run_dir = tmp_path / "c"
    run_dir.mkdir()
    with pytest.raises(EngineError, match="set LISFLOW_LOBSTER_CMD"):
        engine.run(_lobster_calc(fixtures_dir, parent), run_dir)
    assert (run_dir / "WAVECAR").resolve() == (parent / "WAVECAR").resolve()  # linked, not copied
