"""Chemistry beyond the shipped catalogue, without code edits: adsorbates from structure files
and ASE with charge/multiplicity through `lisflow dry-run`; CP2K kinds from CP2K's data files
(Pt, BLYP); any metal of Z <= 83 at an M-N4 / M1M2-N6 site."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from ase.build import molecule as ase_molecule
from pymatgen.core import Lattice, Molecule, Structure
from pymatgen.io.cif import CifWriter
from pymatgen.io.vasp import Incar, Poscar
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.errors import InputError
from lisflow.io.cp2k_data import cp2k_data_file, gth_kind
from lisflow.spec import validate_spec
from lisflow.structures.support import SITE_METALS, dasc_graphene

O2_BOND = 1.2075  # Å, written into the test's xyz file
OH_BOND = 0.97
CO_BOND = 1.128


def _write_inputs(directory: Path) -> None:
    (directory / "o2.xyz").write_text(f"2\nO2\nO 0 0 0\nO 0 0 {O2_BOND}\n")
    (directory / "oh.xyz").write_text(f"2\nOH-\nO 0 0 0\nH 0 0 {OH_BOND}\n")
    water = Molecule(["O", "H", "H"], [[0, 0, 0], [0.757, 0.586, 0], [-0.757, 0.586, 0]])
    box = water.get_boxed_structure(8.0, 8.0, 8.0)
    Poscar(box).write_file(directory / "POSCAR_H2O")
    co = Structure(Lattice.cubic(8.0), ["C", "O"], [[4, 4, 4], [4, 4, 4 + CO_BOND]],
                   coords_are_cartesian=True)
    CifWriter(co).write_file(directory / "co.cif")


def _study(directory: Path, engine: str, adsorbates: list, **extra) -> Path:
    data = {
        "study": f"custom_{engine}",
        "kind": "adsorption",
        "engine": engine,
        "substrates": [{"builder": "dasc", "metals": ["Pt"], "supercell": 4}],
        "adsorbates": adsorbates,
        "configurations": 1,
        "relax": False,
        "bader": False,
        **extra,
    }
    path = directory / f"custom_{engine}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _dry(path: Path, out: Path):
    return CliRunner().invoke(app, ["dry-run", str(path), "--out", str(out), "--no-progress"])


def _value(text: str, key: str) -> list[str]:
    return re.findall(rf"^\s*{key}\s+(.+?)\s*$", text, flags=re.M)


def _coords(text: str) -> dict[str, np.ndarray]:
    rows = re.findall(r"^\s*([A-Z][a-z]?)\s+(-?\d+\.\d{10})\s+(-?\d+\.\d{10})\s+(-?\d+\.\d{10})",
                      text, flags=re.M)
    out: dict[str, list] = {}
    for symbol, *xyz in rows:
        out.setdefault(symbol, []).append([float(v) for v in xyz])
    return {k: np.array(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def cp2k_dry(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("custom")
    _write_inputs(work)
    spec = _study(
        work,
        "cp2k",
        [
            {"file": "o2.xyz", "name": "O2", "multiplicity": 3},
            {"file": "oh.xyz", "name": "OH", "charge": -1},
            {"file": "POSCAR_H2O", "name": "H2O"},
            {"file": "co.cif", "name": "CO"},
            "ase:NH3",
            "Li2S",
        ],
    )
    result = _dry(spec, work / "out")
    assert result.exit_code == 0, result.output
    return work / "out" / "custom_cp2k"


def test_custom_adsorbates_are_planned(cp2k_dry):
    rows = json.loads((cp2k_dry.parent / "manifest.json").read_text())["calculations"]
    ids = {row["calc_id"] for row in rows}
    for name in ("O2", "OH", "H2O", "CO", "NH3", "Li2S"):
        assert f"custom_cp2k/molecule/{name}/energy" in ids
        assert f"custom_cp2k/adslab/Pt-N4/{name}/c0/energy" in ids
    assert len(ids) == 1 + 6 + 6  # slab, six molecules, six adslabs (one configuration each)


def test_file_geometry_charge_and_multiplicity(cp2k_dry):
    o2 = (cp2k_dry / "molecule/O2/energy/cp2k.inp").read_text()
    assert _value(o2, "MULTIPLICITY") == ["3"] and _value(o2, "UKS") == [".TRUE."]
    assert _value(o2, "CHARGE") == ["0"]
    xyz = _coords(o2)["O"]
    assert np.linalg.norm(xyz[0] - xyz[1]) == pytest.approx(O2_BOND, abs=1e-8)

    oh = (cp2k_dry / "molecule/OH/energy/cp2k.inp").read_text()
    assert _value(oh, "CHARGE") == ["-1"]
    assert "UKS" not in oh  # O 6 + H 1 + 1 extra = 8 valence electrons: closed shell
    oh_ads = (cp2k_dry / "adslab/Pt-N4/OH/c0/energy/cp2k.inp").read_text()
    assert _value(oh_ads, "CHARGE") == ["-1"]
    assert "MULTIPLICITY" not in oh_ads  # the adslab's spin is not the gas molecule's

    water = _coords((cp2k_dry / "molecule/H2O/energy/cp2k.inp").read_text())
    assert np.linalg.norm(water["H"] - water["O"], axis=1) == pytest.approx([np.hypot(0.757, 0.586)] * 2, abs=1e-6)
    co = _coords((cp2k_dry / "molecule/CO/energy/cp2k.inp").read_text())
    assert np.linalg.norm(co["C"][0] - co["O"][0]) == pytest.approx(CO_BOND, abs=1e-6)

    nh3 = _coords((cp2k_dry / "molecule/NH3/energy/cp2k.inp").read_text())
    ref = ase_molecule("NH3")
    assert len(nh3["H"]) == 3 and len(nh3["N"]) == 1
    ref_nh = sorted(ref.get_distance(0, i) for i in (1, 2, 3))
    assert sorted(np.linalg.norm(nh3["H"] - nh3["N"][0], axis=1)) == pytest.approx(ref_nh)


def test_pt_kind_from_cp2k_data_files(cp2k_dry):
    text = (cp2k_dry / "slab/Pt-N4/energy/cp2k.inp").read_text()
    kinds = re.findall(
        r"&KIND (\w+)\s+ELEMENT (\w+)\s+BASIS_SET (\S+)\s+POTENTIAL (\S+)", text
    )
    assert kinds == [
        ("C", "C", "DZVP-MOLOPT-SR-GTH-q4", "GTH-PBE-q4"),
        ("N", "N", "DZVP-MOLOPT-SR-GTH-q5", "GTH-PBE-q5"),
        ("Pt", "Pt", "DZVP-MOLOPT-SR-GTH-q18", "GTH-PBE-q18"),
    ]
    # the valence comes from GTH_POTENTIALS' electron line ("Pt GTH-PBE-q18 GTH-PBE": 2 0 1 0...)
    lines = cp2k_data_file("GTH_POTENTIALS").read_text().splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.split()[:2] == ["Pt", "GTH-PBE-q18"])
    assert sum(int(x) for x in lines[at + 1].split()) == 18 == gth_kind("Pt").valence
    assert _value(text, "XC_FUNCTIONAL") == [] and "&XC_FUNCTIONAL PBE" in text


def test_vasp_custom_adsorbates(tmp_path):
    _write_inputs(tmp_path)
    spec = _study(
        tmp_path,
        "vasp",
        [{"file": "o2.xyz", "name": "O2", "multiplicity": 3}, {"ase": "CO2"}],
        preset="paper002",
        static=True,
    )
    result = _dry(spec, tmp_path / "out")
    assert result.exit_code == 0, result.output
    base = tmp_path / "out" / "custom_vasp"
    o2 = Incar.from_file(base / "molecule/O2/static/INCAR")
    assert o2["ISPIN"] == 2 and o2["NUPDOWN"] == 2
    co2 = Poscar.from_file(base / "molecule/CO2/static/POSCAR").structure
    assert co2.composition.reduced_formula == "CO2" and len(co2) == 3
    assert "NUPDOWN" not in Incar.from_file(base / "molecule/CO2/static/INCAR")

    charged = _study(
        tmp_path, "vasp", [{"file": "oh.xyz", "name": "OH", "charge": -1}], preset="paper002"
    )
    result = _dry(charged, tmp_path / "out2")
    assert result.exit_code == 2
    assert "adsorbates[].charge" in result.output and "OH" in result.output


def test_blyp_follows_the_functional(tmp_path):
    data = {
        "study": "blyp",
        "kind": "adsorption",
        "engine": "cp2k",
        "substrates": [{"builder": "molecule", "name": "Li2S", "box": 10.0}],
        "adsorbates": ["S"],
        "configurations": 1,
        "relax": False,
        "overrides": {"FORCE_EVAL.DFT.XC.XC_FUNCTIONAL": "BLYP"},
    }
    spec = tmp_path / "blyp.yaml"
    spec.write_text(yaml.safe_dump(data))
    result = _dry(spec, tmp_path / "out")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out/blyp/adslab/Li2S-mol/S/c0/energy/cp2k.inp").read_text()
    kinds = re.findall(r"&KIND (\w+)\s+ELEMENT \w+\s+BASIS_SET (\S+)\s+POTENTIAL (\S+)", text)
    assert kinds == [
        ("Li", "DZVP-MOLOPT-SR-GTH-q3", "GTH-BLYP-q3"),
        ("S", "DZVP-MOLOPT-SR-GTH-q6", "GTH-BLYP-q6"),
    ]
    assert "&XC_FUNCTIONAL BLYP" in text and _value(text, "REFERENCE_FUNCTIONAL") == ["BLYP"]
    assert "GTH-PBE" not in text and "PBE" not in text.replace("BLYP", "")
    # Li2S + S: 2*3 + 6 + 6 = 18 electrons, closed shell
    assert "UKS" not in text

    pt = {**data, "study": "blyp_pt", "substrates": [{"builder": "dasc", "metals": ["Pt"],
                                                      "supercell": 4}]}
    spec.write_text(yaml.safe_dump(pt))
    result = _dry(spec, tmp_path / "out_pt")
    assert result.exit_code == 2
    assert "GTH-BLYP" in result.output and "Pt" in result.output and "BLYP" in result.output
    assert not list((tmp_path / "out_pt").rglob("cp2k.inp"))


def test_data_files_decide_the_valence(tmp_path, monkeypatch):
    """A data directory whose GTH-PBE Pt is only q10 (no q10 MOLOPT basis): a clear error."""
    shutil.copy(cp2k_data_file("BASIS_MOLOPT"), tmp_path / "BASIS_MOLOPT")
    (tmp_path / "GTH_POTENTIALS").write_text(
        "Pt GTH-PBE-q10 GTH-PBE\n    1    0    9\n     0.6 1 1.0\n"
        "S GTH-PBE-q6 GTH-PBE\n    2    4\n     0.4 1 -6.5\n"
    )
    monkeypatch.setenv("CP2K_DATA_DIR", str(tmp_path))
    gth_kind.cache_clear()
    try:
        assert gth_kind("S").potential == "GTH-PBE-q6"
        with pytest.raises(InputError, match=r"no DZVP-MOLOPT-SR-GTH basis for Pt with valence q10"):
            gth_kind("Pt")
    finally:
        gth_kind.cache_clear()


@pytest.mark.parametrize("metals", [["Na"], ["Al", "Mg"], ["Li", "Bi"], ["Ce", "Fe"]],
                         ids="-".join)
def test_any_metal_site(metals):
    spec = validate_spec({
        "study": "x", "kind": "adsorption", "preset": "paper002",
        "substrates": [{"builder": "dasc", "metals": metals}], "adsorbates": ["Li2S"],
    })
    assert spec.substrates[0].metals == metals
    sheet = dasc_graphene(metals)
    placed = [s.specie.symbol for s in sheet if s.properties["label"] == "metal"]
    assert sorted(placed) == sorted(metals)
    assert {"Na", "Al", "Ce", "Bi", "Li"} <= set(SITE_METALS) and "Si" not in SITE_METALS
    assert len(SITE_METALS) == 61


def test_site_metal_without_cp2k_basis_says_so():
    with pytest.raises(InputError, match="no DZVP-MOLOPT-SR-GTH basis for Ce"):
        gth_kind("Ce")


@pytest.mark.cp2k
def test_cp2k_runs_a_blyp_triplet_from_a_file(tmp_path):
    """CP2K itself reads the kinds (GTH-BLYP-q6, DZVP-MOLOPT-SR-GTH-q6) and the spin state of
    a custom O2 (multiplicity 3 from the study) and reports 12 valence electrons."""
    import os
    import subprocess

    from lisflow.engines.cp2k import Cp2kEngine
    from lisflow.workflows.plan import plan

    if shutil.which("cp2k.psmp") is None:
        pytest.fail("cp2k.psmp not found: `make system` installs Debian's cp2k")
    _write_inputs(tmp_path)
    data = {
        "study": "o2_blyp", "kind": "adsorption", "engine": "cp2k",
        "substrates": [{"builder": "molecule", "name": "Li2S", "box": 8.0}],
        "adsorbates": [{"file": "o2.xyz", "name": "O2", "multiplicity": 3}],
        "configurations": 1, "relax": False, "molecule_box": 7.0,
        "overrides": {
            "FORCE_EVAL.DFT.XC.XC_FUNCTIONAL": "BLYP",
            "FORCE_EVAL.DFT.MGRID.CUTOFF": 150, "FORCE_EVAL.DFT.MGRID.REL_CUTOFF": 30,
            "FORCE_EVAL.DFT.SCF.EPS_SCF": 1.0e-5,
        },
    }  # fmt: skip
    spec_file = tmp_path / "o2.yaml"
    spec_file.write_text(yaml.safe_dump(data))
    spec = validate_spec(data)
    calc = next(c for c in plan(spec, spec_file) if c.role == "molecule")
    run_dir = tmp_path / "run"
    engine = Cp2kEngine()
    engine.write_inputs(calc, run_dir)
    subprocess.run(
        ["cp2k.psmp", "-i", "cp2k.inp", "-o", "cp2k.out"], cwd=run_dir, check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600,
    )  # fmt: skip
    out = (run_dir / "cp2k.out").read_text()
    assert "PROGRAM ENDED AT" in out
    assert re.search(r"GLOBAL\| Potential file name\s+GTH_POTENTIALS", out)
    assert re.search(r"GLOBAL\| Basis set file name\s+BASIS_MOLOPT", out)
    assert re.search(r"GTH Potential information for\s+GTH-BLYP-q6", out)
    assert re.search(r"Basis Set\s+DZVP-MOLOPT-SR-GTH-q6", out, flags=re.I)
    assert re.search(r"DFT\| Multiplicity\s+3\n", out)
    electrons = [int(n) for n in re.findall(r"Number of electrons:\s+(\d+)", out)]
    assert electrons == [7, 5]  # 12 valence electrons (2 x q6), two unpaired: a triplet
    assert "FUNCTIONAL| BECKE88" in out and "LEE, CT; YANG, WT; PARR, RG" in out
    parsed = engine.parse(calc, run_dir)
    assert parsed.n_atoms == 2 and parsed.energy_ev < 0
