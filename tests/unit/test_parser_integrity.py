"""Issue 10, items 1-4: cut, unconverged, non-finite, partial or foreign outputs are refused
naming the file; the store refuses non-finite numbers; E_ads refuses a parent not COMPLETED."""

from __future__ import annotations

import gzip
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Structure
from pymatgen.io.vasp import Poscar

from lisflow.calculation import Calculation
from lisflow.db.schema import CalculationRecord
from lisflow.db.store import MissingResultError, ResultStore
from lisflow.db.validate import NonFiniteValueError
from lisflow.engines.cp2k import Cp2kEngine, requested_tables
from lisflow.engines.lammps import result_from_logs
from lisflow.engines.vasp import final_vasp_structure, parse_vasp_run
from lisflow.errors import ParseError
from lisflow.parsers.bader import read_acf
from lisflow.parsers.bands import read_doscar
from lisflow.parsers.cp2k import parse_cp2k
from lisflow.parsers.lammps_log import parse_log
from lisflow.parsers.lobster import read_icohplist
from lisflow.parsers.vasp import parse_vasp

AU = "vasp/adsorption_o_on_au100_slab_atomate2"
SI_CP2K = "cp2k/si_static_density_cube_atomate2/cp2k.out"
C2H4 = "cp2k/c2h4_molecule_geo_opt_cp2k2024_aiida/GEO_OPT_v2024.3.out.gz"


def text_of(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode()


def cp2k_calc(structure=None, task="static") -> Calculation:
    return Calculation("t/cp2k", "t", "cp2k", task, "bulk", structure)


def run_dir_with(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


# --- CP2K ------------------------------------------------------------------------------------


def test_cp2k_star_energy_is_a_parse_error_naming_the_file(fixtures_dir, tmp_path):
    text = text_of(fixtures_dir / SI_CP2K)
    line = next(ln for ln in text.splitlines() if "ENERGY| Total FORCE_EVAL" in ln)
    bad = text.replace(line, line.rsplit(maxsplit=1)[0] + "   ********************")
    path = tmp_path / "cp2k.out"
    path.write_text(bad)
    with pytest.raises(ParseError, match=r"cp2k\.out: ENERGY\| Total FORCE_EVAL .*not a number"):
        parse_cp2k(path)


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75])
def test_cut_cp2k_geo_opt_never_gives_an_energy(fixtures_dir, tmp_path, fraction):
    text = text_of(fixtures_dir / C2H4)
    run_dir = run_dir_with(tmp_path, "cp2k.out", text[: int(len(text) * fraction)])
    with pytest.raises(ParseError, match=r"cp2k\.out: ") as info:
        Cp2kEngine().parse(cp2k_calc(task="geo_opt"), run_dir)
    assert "PROGRAM ENDED" in str(info.value) or "SCF cycles" in str(info.value) or (
        "no 'ENERGY|" in str(info.value)
    )


def test_geo_opt_without_completion_line_is_refused(fixtures_dir, tmp_path):
    text = text_of(fixtures_dir / C2H4).replace("GEOMETRY OPTIMIZATION COMPLETED", "")
    result = parse_cp2k(run_dir_with(tmp_path, "cp2k.out", text) / "cp2k.out")
    assert not result.converged and "GEO_OPT did not reach" in result.failure
    with pytest.raises(ParseError, match="GEO_OPT did not reach 'GEOMETRY OPTIMIZATION"):
        Cp2kEngine().parse(cp2k_calc(task="geo_opt"), tmp_path)


def test_unconverged_scf_is_refused_by_the_engine(fixtures_dir, tmp_path):
    src = fixtures_dir / "cp2k/scf_error_outputs_custodian/cp2k.out.unconverged"
    shutil.copy(src, tmp_path / "cp2k.out")
    with pytest.raises(ParseError, match=r"cp2k\.out: SCF run NOT converged"):
        Cp2kEngine().parse(cp2k_calc(), tmp_path)


def test_mulliken_table_cut_or_short_is_refused(fixtures_dir, tmp_path):
    text = text_of(fixtures_dir / SI_CP2K)
    row = "       2     Si       1         2.000000     2.000000     0.000000     0.000000"
    assert row in text
    path = tmp_path / "cp2k.out"
    path.write_text(text.replace(row, "       2     Si       1         2.000000"))
    with pytest.raises(ParseError, match="corrupt 'Mulliken Population Analysis' row 2"):
        parse_cp2k(path)
    path.write_text(text.replace(row + "\n", ""))
    with pytest.raises(ParseError, match="has 1 rows for 2 atoms"):
        parse_cp2k(path)
    # a changed population no longer sums to the table's own total (4 + 4 electrons)
    path.write_text(text.replace(row, row.replace("2.000000     2.000000", "2.000000     2.500000")))
    with pytest.raises(ParseError, match="rows sum to population 8.500000"):
        parse_cp2k(path)


def test_cp2k_output_of_another_system_is_refused(fixtures_dir, tmp_path):
    shutil.copy(fixtures_dir / SI_CP2K, tmp_path / "cp2k.out")
    water = Structure(np.eye(3) * 10, ["O", "H", "H"], [[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0]])
    with pytest.raises(ParseError, match="output has 2 atoms, the planned structure"):
        Cp2kEngine().parse(cp2k_calc(water), tmp_path)
    carbon = Structure(np.eye(3) * 5, ["C", "C"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    with pytest.raises(ParseError, match="output holds Si2, the planned structure .* C2"):
        Cp2kEngine().parse(cp2k_calc(carbon), tmp_path)


def test_requested_tables_follow_the_input(tmp_path):
    inp = tmp_path / "cp2k.inp"
    inp.write_text("&GLOBAL\n  PRINT_LEVEL MEDIUM\n&END GLOBAL\n")
    assert requested_tables(inp) == {"Mulliken": True, "Hirshfeld": False}
    inp.write_text("&PRINT\n &MULLIKEN OFF\n &END\n &HIRSHFELD ON\n &END\n&END PRINT\n")
    assert requested_tables(inp) == {"Mulliken": False, "Hirshfeld": True}
    inp.write_text("&GLOBAL\n PRINT_LEVEL LOW\n&END GLOBAL\n")
    assert requested_tables(inp) == {"Mulliken": False, "Hirshfeld": False}


# --- VASP ------------------------------------------------------------------------------------


def test_outcar_cut_after_ionic_step_2_is_refused(fixtures_dir, tmp_path):
    """The issue's case: an OUTCAR cut mid-relaxation gave -35.977 eV instead of -35.989."""
    text = text_of(fixtures_dir / AU / "slab_relax/OUTCAR.gz")
    marks = [i for i in range(len(text)) if text.startswith("free  energy   TOTEN", i)]
    assert len(marks) >= 3
    cut = text.index("\n", text.index("energy(sigma->0)", marks[1])) + 1
    (tmp_path / "OUTCAR").write_text(text[:cut])
    result = parse_vasp(tmp_path)
    assert len(result.ionic_energies) == 2  # what used to be stored: the energy of step 2
    assert result.failure.startswith("truncated OUTCAR: no 'General timing' footer")
    calc = Calculation("t/slab", "t", "vasp", "relax", "slab", None)
    with pytest.raises(ParseError, match=r"OUTCAR: truncated OUTCAR"):
        parse_vasp_run(calc, tmp_path)


def test_relaxation_stopped_at_nsw_is_refused(fixtures_dir, tmp_path):
    shutil.copy(fixtures_dir / "vasp/h2o_molecule_in_box_relax_outcar_pyiron/OUTCAR", tmp_path)
    calc = Calculation("t/h2o", "t", "vasp", "relax", "molecule", None)
    with pytest.raises(ParseError, match=r"run stopped after ionic step 2 of NSW=2 without"):
        parse_vasp_run(calc, tmp_path)


def test_electronically_unconverged_run_is_refused(fixtures_dir):
    run_dir = fixtures_dir / "vasp_errors/electronic_unconverged_custodian"
    result = parse_vasp(run_dir)
    assert result.failure == (
        "electronic SCF of ionic step 5 did not reach EDIFF within NELM=100 steps"
    )
    calc = Calculation("t/v4o10", "t", "vasp", "relax", "bulk", None)
    with pytest.raises(ParseError, match=r"vasprun\.xml\.gz: electronic SCF of ionic step 5"):
        parse_vasp_run(calc, run_dir)


def test_nan_energy_in_vasprun_is_refused(fixtures_dir, tmp_path):
    src = fixtures_dir / AU / "mol_static"
    text = text_of(src / "vasprun.xml.gz")
    last = text.rindex('<i name="e_0_energy">')
    end = text.index("</i>", last)
    (tmp_path / "vasprun.xml").write_text(text[:last] + '<i name="e_0_energy"> NaN ' + text[end:])
    with pytest.raises(ParseError, match=r"vasprun\.xml: .*non-finite value nan"):
        parse_vasp(tmp_path)


def test_foreign_outcar_next_to_vasprun_is_refused(fixtures_dir, tmp_path):
    shutil.copy(fixtures_dir / AU / "mol_static/vasprun.xml.gz", tmp_path)
    shutil.copy(fixtures_dir / AU / "slab_static/OUTCAR.gz", tmp_path)
    with pytest.raises(ParseError, match=r"OUTCAR\.gz: last free energy -35\.98701212 eV"):
        parse_vasp(tmp_path)


def test_selective_dynamics_contcar_gives_a_json_structure(fixtures_dir, tmp_path):
    src = fixtures_dir / AU / "slab_relax"
    for name in ("vasprun.xml.gz", "OUTCAR.gz"):
        shutil.copy(src / name, tmp_path)
    structure = Structure.from_file(src / "CONTCAR.gz")
    flags = [[i % 2 == 0] * 3 for i in range(len(structure))]
    Poscar(structure, selective_dynamics=flags).write_file(tmp_path / "CONTCAR")
    planned = Structure.from_file(src / "POSCAR.gz")
    planned.add_site_property("label", ["metal"] * len(planned))
    calc = Calculation("t/slab", "t", "vasp", "relax", "slab", planned)
    final = final_vasp_structure(calc, tmp_path)
    data = json.loads(json.dumps(final.as_dict()))  # raised TypeError (ndarray) before
    props = [site["properties"] for site in data["sites"]]
    assert [p["selective_dynamics"] for p in props] == flags
    assert all(p["label"] == "metal" for p in props)


def test_garbage_contcar_is_a_parse_error(fixtures_dir, tmp_path):
    src = fixtures_dir / AU / "slab_relax"
    for name in ("vasprun.xml.gz", "OUTCAR.gz"):
        shutil.copy(src / name, tmp_path)
    (tmp_path / "CONTCAR").write_bytes(b"Au8\n1.0\n\xff\xfe garbage\n")
    calc = Calculation("t/slab", "t", "vasp", "relax", "slab", None)
    with pytest.raises(ParseError, match=r"CONTCAR: corrupt file: non-text byte on line 3"):
        final_vasp_structure(calc, tmp_path)


# --- LOBSTER, Bader, DOSCAR --------------------------------------------------------------------


def nacl_dir(fixtures_dir: Path, tmp_path: Path) -> Path:
    src = fixtures_dir / "lobster/nacl_lobster511_custodian"
    for name in ("ICOHPLIST.lobster", "COHPCAR.lobster", "POSCAR"):
        shutil.copy(src / name, tmp_path)
    return tmp_path


def test_icohplist_cut_in_half_is_refused(fixtures_dir, tmp_path):
    run_dir = nacl_dir(fixtures_dir, tmp_path)
    lines = (run_dir / "ICOHPLIST.lobster").read_text().splitlines(keepends=True)
    (run_dir / "ICOHPLIST.lobster").write_text("".join(lines[: len(lines) // 2]))
    with pytest.raises(ParseError, match=r"203 rows per spin, but COHPCAR.lobster announces 408"):
        read_icohplist(run_dir / "ICOHPLIST.lobster")


def test_foreign_icohplist_is_refused(fixtures_dir, tmp_path):
    fe = fixtures_dir / "lobster/fe_bcc_spin_polarized_atomate2/ICOHPLIST.lobster.gz"
    (tmp_path / "ICOHPLIST.lobster").write_text(text_of(fe))
    nacl = Structure.from_file(fixtures_dir / "lobster/nacl_lobster511_custodian/POSCAR")
    with pytest.raises(ParseError, match=r"atom 'Fe1' is Na in the run's structure"):
        read_icohplist(tmp_path / "ICOHPLIST.lobster", structure=nacl)
    intact = read_icohplist(fixtures_dir / "lobster/nacl_lobster511_custodian/ICOHPLIST.lobster",
                            structure=nacl)  # fmt: skip
    assert len(intact) == 24


def test_acf_with_non_ascii_byte_or_wrong_sum_is_refused(fixtures_dir, tmp_path):
    text = (fixtures_dir / "bader/h2o_molecule_acf_pyiron/ACF.dat").read_bytes()
    (tmp_path / "ACF.dat").write_bytes(text.replace(b"7.143794", b"7.14\xe93794"))
    with pytest.raises(ParseError, match=r"ACF\.dat: corrupt file: non-text byte on line 5"):
        read_acf(tmp_path / "ACF.dat")
    (tmp_path / "ACF.dat").write_bytes(text.replace(b"7.143794", b"6.143794"))
    with pytest.raises(ParseError, match=r"sum to 7\.0202, but NUMBER OF ELECTRONS is 8\.0202"):
        read_acf(tmp_path / "ACF.dat")


def test_doscar_nan_and_foreign_atom_count_are_refused(fixtures_dir, tmp_path):
    src = fixtures_dir / "vasp/k4sn4o6_ispin2_static_doscar_custodian"
    text = text_of(src / "DOSCAR.gz")
    lines = text.splitlines(keepends=True)
    fields = lines[320].split()  # site 1 (header 6 lines, 301 total-DOS rows, block header)
    lines[320] = "  ".join([fields[0], "NaN", *fields[2:]]) + "\n"
    (tmp_path / "DOSCAR").write_text("".join(lines))
    with pytest.raises(ParseError, match=r"DOSCAR: projected DOS of site 1: non-finite value nan"):
        read_doscar(tmp_path / "DOSCAR")
    (tmp_path / "DOSCAR").write_text(text)
    shutil.copy(fixtures_dir / AU / "slab_static/POSCAR.gz", tmp_path / "POSCAR.gz")
    with pytest.raises(ParseError, match=r"DOSCAR: 14 atoms, but POSCAR.gz beside it has 16"):
        read_doscar(tmp_path / "DOSCAR")


# --- LAMMPS ----------------------------------------------------------------------------------


def test_lammps_star_row_is_kept_flagged_and_fails_the_run(fixtures_dir, tmp_path):
    text = (fixtures_dir / "lammps/peo_polymer_npt_atomate_v1/peo.log").read_text()
    row = next(ln for ln in text.splitlines() if ln.split()[:1] == ["500"])
    fields = row.split()
    fields[7] = "*************"  # TotEng overflow
    (tmp_path / "log.lammps").write_text(text.replace(row, "  ".join(fields)))
    log = parse_log(tmp_path / "log.lammps")
    assert len(log.series("Step")) == 11  # the row is not dropped
    assert log.non_finite == [(0, "TotEng")]
    with pytest.raises(ParseError, match=r"log\.lammps: non-finite thermo value in column TotEng"):
        result_from_logs([log], tmp_path)


def test_lammps_log_with_cut_thermo_row_is_refused(fixtures_dir, tmp_path):
    text = (fixtures_dir / "lammps/peo_polymer_npt_atomate_v1/peo.log").read_text()
    row = next(ln for ln in text.splitlines() if ln.split()[:1] == ["500"])
    (tmp_path / "log.lammps").write_text(text.replace(row, row[:30]))
    with pytest.raises(ParseError, match="cut or corrupt thermo output: thermo block 1 ends at"):
        parse_log(tmp_path / "log.lammps")


# --- the store -------------------------------------------------------------------------------


def _calc_row(store: ResultStore, calc_id: str, n: int = 2, formula: str = "X") -> None:
    record = CalculationRecord(calc_id, "t", "vasp", "static", "slab", formula, n)
    store.upsert_calculation(record)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_store_refuses_non_finite_values(db_url, bad):
    with ResultStore(db_url) as store:
        _calc_row(store, "t/a")
        with pytest.raises(NonFiniteValueError, match=r"t/a: energy_ev is (nan|inf|-inf)"):
            store.store_results("t/a", energy_ev=bad)
        charge = {"site_index": 0, "method": "bader", "net_charge": bad}
        with pytest.raises(NonFiniteValueError, match=r"site_charges\[0\]\.net_charge"):
            store.store_results("t/a", energy_ev=-1.0, charges=[charge])
        bond = {"label": "1", "atom1": "Na1", "atom2": "Cl5", "icohp_ev": bad, "length_a": 2.8}
        with pytest.raises(NonFiniteValueError, match=r"bond_icohps\[0\]\.icohp_ev"):
            store.store_results("t/a", icohps=[bond])
        with pytest.raises(NonFiniteValueError, match=r"thermo/temp y\[1\]"):
            store.store_series("t/a", "thermo", "temp", [0, 1], [300, bad], "ps", "K")
        with pytest.raises(NonFiniteValueError, match=r"scalar D_Li"):
            store.store_scalar("t/a", "D_Li", bad, "A^2/ps")
        record = store.get("t/a")
        assert record.energy_ev is None and record.state == "PLANNED"  # nothing half-written
        assert store.count("site_charges") == store.count("bond_icohps") == 0
        assert store.count("md_series") == store.count("md_scalars") == 0


def test_adsorption_energy_refuses_a_parent_that_is_not_completed(db_url):
    with ResultStore(db_url) as store:
        parts = (("t/ads", -40.0, "C8Li2S"), ("t/slab", -36.0, "C8"), ("t/mol", -1.5, "Li2S"))
        for calc_id, energy, formula in parts:
            _calc_row(store, calc_id, formula=formula)
            store.store_results(calc_id, energy_ev=energy)
        store.set_state("t/slab", "PARSE_ERROR", "OUTCAR: truncated")
        with pytest.raises(MissingResultError, match=r"not COMPLETED: t/slab \(PARSE_ERROR\)"):
            store.upsert_adsorption("t/ads", "t/slab", "t/mol")
        assert store.count("adsorption_energies") == 0
        store.store_results("t/slab", energy_ev=-36.0)
        assert store.upsert_adsorption("t/ads", "t/slab", "t/mol") == pytest.approx(-2.5)


# --- the Firetask: every parse failure leaves a row ----------------------------------------


class _BrokenEngine:
    """Writes one input file, runs nothing, and its parser fails with ``error``."""

    name = "vasp"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def write_inputs(self, calc, directory):
        (directory / "INCAR").write_text("ENCUT = 500\n")
        return ["INCAR"]

    def run(self, calc, directory, walltime_s=None):
        return None

    def parse(self, calc, directory):
        raise self.error


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (TypeError("Object of type ndarray is not JSON serializable"),
         "vasp outputs: TypeError: Object of type ndarray is not JSON serializable"),
        (ParseError("/runs/x/OUTCAR", "truncated OUTCAR"), "/runs/x/OUTCAR: truncated OUTCAR"),
    ],
)  # fmt: skip
def test_every_parse_failure_leaves_a_parse_error_row(tmp_path, monkeypatch, error, reason):
    from lisflow.calculation import calc_to_dict
    from lisflow.engines import registry
    from lisflow.workflows.firetasks import RunCalculationTask

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    monkeypatch.chdir(run_dir)
    monkeypatch.setattr(registry, "get_engine", lambda *a, **k: _BrokenEngine(error))
    calc = Calculation("t/broken", "t", "vasp", "static", "slab", None)
    with pytest.raises(ParseError) as info:
        RunCalculationTask(calc=calc_to_dict(calc), db_url=url).run_task({})
    assert reason in str(info.value)
    record = ResultStore(url).get("t/broken")
    assert record.state == "PARSE_ERROR" and reason in record.state_reason
    assert record.energy_ev is None and not (run_dir / "lisflow_result.json").exists()
