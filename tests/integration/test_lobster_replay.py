"""LOBSTER step after a VASP static, replayed from real outputs (atomate2's bcc-Fe static +
LOBSTER 4.1.0) into ``lisflow query icohp`` with translations (issue 11.7)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from pymatgen.core import Structure
from typer.testing import CliRunner

from lisflow.calculation import Calculation
from lisflow.cli import app
from lisflow.db.store import ResultStore
from lisflow.errors import ParseError
from lisflow.io.lobster import LobsterInputs
from lisflow.io.vasp import VaspInputs
from lisflow.workflows.firetasks import RunCalculationTask, spec_key

FE = "lobster/fe_bcc_spin_polarized_atomate2"
VASP_FILES = ("INCAR", "KPOINTS", "POSCAR", "POTCAR.spec", "OUTCAR", "vasprun.xml", "CONTCAR")
LOBSTER_FILES = ("lobsterin", "lobsterout", "ICOHPLIST.lobster", "CHARGE.lobster")


def _split_reference(fixture: Path, tmp: Path, lobsterout: Path | None = None) -> tuple[Path, Path]:
    """The fixture run directory split into its VASP part and its LOBSTER part."""
    vasp, lobster = tmp / "ref_vasp", tmp / "ref_lobster"
    for target, names in ((vasp, VASP_FILES), (lobster, LOBSTER_FILES)):
        target.mkdir(exist_ok=True)
        for name in names:
            shutil.copy2(fixture / f"{name}.gz", target / f"{name}.gz")
    if lobsterout is not None:
        (lobster / "lobsterout.gz").unlink()
        shutil.copy2(lobsterout, lobster / "lobsterout")
    return vasp, lobster


def _calcs(fixture: Path) -> tuple[Calculation, Calculation]:
    """The static (paper002 preset + lobster block, the fixture's settings) and its LOBSTER step,
    as plan_adsorption builds them."""
    structure = Structure.from_file(fixture / "POSCAR.gz")
    inputs = VaspInputs(
        preset_name="paper002",
        task="static",
        role="bulk",
        extra_blocks=("lobster",),
        overrides={"ENCUT": 520, "ISMEAR": -5, "GGA": None, "IVDW": None, "LAECHG": None},
        kpoints={"rule": "mesh", "mesh": [5, 5, 3]},
    )
    static = Calculation(
        calc_id="fe/bulk/static", study="fe", engine="vasp", task="static", role="bulk",
        structure=structure, inputs=inputs, labels={"final": True},
    )  # fmt: skip
    lobster = Calculation(
        calc_id="fe/bulk/lobster", study="fe", engine="lobster", task="lobster", role="bulk",
        structure=structure, inputs=LobsterInputs(inputs), labels={"final": False},
        parents=(static.calc_id,),
    )  # fmt: skip
    return static, lobster


def _run(calc: Calculation, run_dir: Path, url: str, refs: dict, fw_spec: dict, monkeypatch):
    run_dir.mkdir(parents=True)
    monkeypatch.chdir(run_dir)
    from lisflow.calculation import calc_to_dict

    task = RunCalculationTask(
        calc=calc_to_dict(calc), db_url=url, engine_options={"engine": "replay", "references": refs}
    )
    return task.run_task(fw_spec)


def _chain(fixtures_dir, tmp_path, monkeypatch, lobsterout=None):
    fixture = fixtures_dir / FE
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    vasp_ref, lobster_ref = _split_reference(fixture, tmp_path, lobsterout)
    static, lobster = _calcs(fixture)
    refs = {static.calc_id: str(vasp_ref), lobster.calc_id: str(lobster_ref)}
    action = _run(static, tmp_path / "runs/static", url, refs, {}, monkeypatch)
    parents = {"lisflow_parents": {}}
    for mod in action.mod_spec:  # what FireWorks hands the child Firework
        for key, value in mod["_set"].items():
            parents["lisflow_parents"][key.split("->")[1]] = value
    assert spec_key(static.calc_id) in parents["lisflow_parents"]
    return url, lambda: _run(lobster, tmp_path / "runs/lobster", url, refs, parents, monkeypatch)


def test_lobster_step_replayed_into_query_icohp(fixtures_dir, tmp_path, monkeypatch):
    url, run_lobster = _chain(fixtures_dir, tmp_path, monkeypatch)
    run_lobster()
    written = (tmp_path / "runs/lobster/lobsterin").read_text()
    assert "basisSet pbeVaspFit2015" in written and "basisfunctions Fe 3d 3p 4s" in written
    assert "cohpGenerator from 0.1 to 6.0 orbitalwise" in written  # pymatgen "standard"
    incar = (tmp_path / "runs/static/INCAR").read_text()
    assert "NBANDS = 18" in incar  # = fixture's NBANDS: 2 Fe x 9 basis functions
    store = ResultStore(url)
    record = store.get("fe/bulk/lobster")
    assert record.state == "COMPLETED" and record.engine_version == "LOBSTER v4.1.0"
    monkeypatch.setenv("LISFLOW_DB_URL", url)
    out = CliRunner().invoke(app, ["query", "icohp", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    text = gzip.open(fixtures_dir / FE / "ICOHPLIST.lobster.gz", "rt").read().splitlines()
    atom_lines = [line.split() for line in text if line.split() and line.split()[0].isdigit()
                  and "_" not in line.split()[1]]  # fmt: skip
    n_bonds = len({line[0] for line in atom_lines})
    assert len(rows) == n_bonds == 20  # 40 atom-pair lines: 20 bonds x 2 spin channels
    first = next(r for r in rows if r["label"] == "1")
    spin1 = next(line for line in atom_lines if line[0] == "1")  # first block: spin 1
    assert (first["atom1"], first["atom2"]) == ("Fe1", "Fe1")
    assert first["length_a"] == pytest.approx(2.86118)
    translations = {(r["translation_a"], r["translation_b"], r["translation_c"]) for r in rows}
    assert (
        (first["translation_a"], first["translation_b"], first["translation_c"])
        == tuple(int(x) for x in spin1[4:7])
        == (-1, -1, 0)
    )
    assert len(translations) > 1 and all(None not in t for t in translations)
    both = [float(line[7]) for line in atom_lines if line[0] == "1"]  # spin 1, spin 2
    assert len(both) == 2 and first["icohp_ev"] == pytest.approx(sum(both), abs=1e-9)
    # the static's per-site moments (OUTCAR "magnetization (x)": 2.228 muB per Fe, total 4.364)
    moments = json.loads(CliRunner().invoke(app, ["query", "magmoms", "--format", "json"]).output)
    assert [(m["calc_id"], m["site_index"], m["moment_mub"]) for m in moments] == [
        ("fe/bulk/static", 0, 2.228),
        ("fe/bulk/static", 1, 2.228),
    ]
    charges = json.loads(CliRunner().invoke(app, ["query", "charges", "--format", "json"]).output)
    methods = sorted({c["method"] for c in charges if c["calc_id"] == "fe/bulk/lobster"})
    assert methods == ["loewdin", "mulliken"]
    with store.transaction() as session:
        from sqlalchemy import select

        from lisflow.db import schema as s

        spill = dict(session.execute(select(s.MdScalarRow.name, s.MdScalarRow.value)).all())
    assert spill["total_magnetization"] == pytest.approx(4.3643133)
    assert spill["charge_spilling_spin1"] == pytest.approx(0.0243)
    assert spill["charge_spilling_spin2"] == pytest.approx(0.0406)


def test_large_charge_spilling_is_refused(fixtures_dir, tmp_path, monkeypatch):
    """custodian's real lobsterout with 7.28 % charge spilling: PARSE_ERROR, nothing stored."""
    bad = fixtures_dir / "lobster/lobsterout_variants_custodian/lobsterout.largespilling"
    url, run_lobster = _chain(fixtures_dir, tmp_path, monkeypatch, lobsterout=bad)
    with pytest.raises(ParseError, match=r"charge spilling 7.28% > 5%"):
        run_lobster()
    store = ResultStore(url)
    record = store.get("fe/bulk/lobster")
    assert record.state == "PARSE_ERROR" and "charge spilling 7.28%" in record.state_reason
    assert store.count("bond_icohps") == 0
