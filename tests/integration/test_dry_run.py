"""`lisflow dry-run --all`: input values against SCIENCE.md, round trips, idempotency."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Kpoints
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.spec import load_spec
from lisflow.workflows.plan import plan


@pytest.fixture(scope="module")
def dry(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dry") / "out"
    result = CliRunner().invoke(app, ["dry-run", "--all", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def manifest(dry) -> dict[str, dict]:
    rows = json.loads((dry / "manifest.json").read_text())["calculations"]
    return {row["calc_id"]: row for row in rows}


def incar(dry: Path, calc: str) -> Incar:
    return Incar.from_file(dry / calc / "INCAR")


def mesh(dry: Path, calc: str) -> tuple[int, ...]:
    return tuple(Kpoints.from_file(dry / calc / "KPOINTS").kpts[0])


def counts(dry: Path, calc: str) -> dict[str, int]:
    structure = Structure.from_file(dry / calc / "POSCAR")
    return {el.symbol: int(n) for el, n in structure.composition.items()}


def vacuum_z(structure: Structure) -> float:
    z = np.sort(structure.cart_coords[:, 2] % structure.lattice.c)
    gaps = np.diff(np.concatenate([z, [z[0] + structure.lattice.c]]))
    return float(gaps.max())


def test_every_study_is_written(manifest, dry):
    studies = {row["study"] for row in manifest.values()}
    assert {
        "li2s2_polymorphs",
        "mo_cluster_adsorption",
        "dasc_adsorption",
        "aimd_charge_transfer",
    } <= studies
    # 4 substrates x 6 adsorbates x 2 configurations + 4 slabs + 6 molecules, relax + static each
    assert sum(r["study"] == "mo_cluster_adsorption" for r in manifest.values()) == 2 * (48 + 4 + 6)
    # + one LOBSTER step after every slab/adslab static (issue 11.7)
    assert sum(r["study"] == "dasc_adsorption" for r in manifest.values()) == 2 * (60 + 5 + 6) + (
        60 + 5
    )
    for row in manifest.values():
        assert len(row["input_hash"]) == 64 and (dry / row["directory"]).is_dir()


def test_mo_cluster_vasp_parameters(dry, manifest):
    """Paper 000 Methods: ENCUT 500, PBE, spin-polarised, D3, forces < 0.01 eV/A, k x L ~ 20 A."""
    relax = "mo_cluster_adsorption/adslab/Mo4-NG/Li2S6/c0/relax"
    static = relax.replace("relax", "static")
    tags = incar(dry, relax)
    assert (tags["ENCUT"], tags["IVDW"], tags["ISPIN"], tags["EDIFFG"]) == (500, 11, 2, -0.01)
    assert tags["GGA"].upper() == "PE" and tags["ISMEAR"] == 0 and tags["SIGMA"] == 0.05
    assert tags["IBRION"] == 2 and tags["NSW"] == 300
    assert tags["LDIPOL"] is True and tags["IDIPOL"] == 3  # dipole correction along z
    assert len(tags["MAGMOM"]) == manifest[relax]["n_atoms"]
    stat = incar(dry, static)
    assert stat["LCHARG"] and stat["LAECHG"] and stat["LORBIT"] == 11 and stat["NSW"] == 0
    # 17.09 and 17.22 A: round(20 / L) = 1; z is vacuum
    assert mesh(dry, relax) == (1, 1, 1)
    # Ti(001) 4x4 cell, a = 4 x 2.93 = 11.72 A: round(20 / 11.72) = 2
    assert mesh(dry, "mo_cluster_adsorption/slab/Ti001/relax") == (2, 2, 1)
    assert manifest[relax]["parameters"]["ENCUT"] == 500


@pytest.mark.parametrize("n_mo", [1, 4, 9])
def test_mo_ngraphene_cells(dry, manifest, n_mo):
    calc = f"mo_cluster_adsorption/slab/Mo{n_mo}-NG/relax"
    assert counts(dry, calc) == {"C": 106, "N": 4, "Mo": n_mo}
    lattice = Structure.from_file(dry / calc / "POSCAR").lattice
    # paper's 17.09 x 17.22 x 22 A cell, grown along z (slab and its adslabs alike) where an
    # adsorbate would leave < 15 A of vacuum (issue 11.3; inputs/presets/vasp.yaml)
    assert lattice.abc[:2] == pytest.approx((17.09, 17.22), abs=1e-6)
    assert lattice.c >= 22.0 - 1e-6
    assert manifest[calc]["labels"].get("cell_c_grown_from", 22.0) == pytest.approx(22.0)


def test_ti_slab(dry):
    slab = Structure.from_file(dry / "mo_cluster_adsorption/slab/Ti001/relax/POSCAR")
    layers = np.unique(np.round(slab.cart_coords[:, 2], 2))
    assert len(layers) == 6 and slab.composition["Ti"] == 96
    assert slab.lattice.a == pytest.approx(4 * 2.93) and vacuum_z(slab) >= 14.5


def test_dasc_parameters(dry, manifest):
    """Paper 002: ENCUT 450, Gaussian 0.05 eV, Gamma 2x2x1, 6x6 graphene a = 2.47, ~15 A vacuum."""
    calc = "dasc_adsorption/slab/FeCo-N6/relax"
    tags = incar(dry, calc)
    assert (tags["ENCUT"], tags["ISMEAR"], tags["SIGMA"], tags["IVDW"], tags["EDIFFG"]) == (
        450,
        0,
        0.05,
        11,
        -0.01,
    )
    assert mesh(dry, calc) == (2, 2, 1)
    assert Kpoints.from_file(dry / calc / "KPOINTS").style.name == "Gamma"
    slab = Structure.from_file(dry / calc / "POSCAR")
    assert slab.lattice.a == pytest.approx(6 * 2.47) and slab.lattice.b == pytest.approx(6 * 2.47)
    # >= 15 A above the highest atom of the slab and of its tallest adslab (S8), one cell for
    # all of them (issue 11.3): the clean sheet gets 15 A + the tallest adsorbate's height
    tallest = Structure.from_file(dry / "dasc_adsorption/adslab/FeCo-N6/S8/c0/relax/POSCAR")
    assert slab.lattice.c == pytest.approx(tallest.lattice.c)
    assert vacuum_z(tallest) == pytest.approx(15.0, abs=1e-3) and vacuum_z(slab) > 15.0
    fe, co = (i for i, s in enumerate(slab) if s.specie.symbol in ("Fe", "Co"))
    assert 2.1 <= slab.get_distance(fe, co) <= 2.2
    assert counts(dry, calc)["N"] == 6
    lobster = incar(dry, calc.replace("relax", "static"))
    assert lobster["ISYM"] == 0 and lobster["LWAVE"] is True and lobster["LORBIT"] == 11
    # NBANDS = LOBSTER basis functions (pymatgen LobsterSet): C, N 2s2p; Fe_pv 3d3p4s; Co 3d4p4s
    assert lobster["NBANDS"] == 62 * 4 + 6 * 4 + 9 + 9
    lobsterin = (dry / "dasc_adsorption/slab/FeCo-N6/lobster/lobsterin").read_text()
    for line in ("basisSet pbeVaspFit2015", "basisfunctions Fe 3d 3p 4s", "basisfunctions Co 3d 4p 4s",
                 "basisfunctions N 2p 2s", "gaussianSmearingWidth 0.05"):  # fmt: skip
        assert line in lobsterin
    assert manifest["dasc_adsorption/slab/FeCo-N6/lobster"]["parents"] == [
        "dasc_adsorption/slab/FeCo-N6/static"
    ]
    assert counts(dry, "dasc_adsorption/slab/Fe-N4/relax")["N"] == 4


def test_polymorphs(dry, manifest):
    rows = [r for r in manifest.values() if r["study"] == "li2s2_polymorphs"]
    assert len(rows) == 8
    for row in rows:
        tags = incar(dry, row["directory"])
        assert tags["ISIF"] == 3 and tags["ENCUT"] == 500 and tags["EDIFFG"] == -0.01
        c = counts(dry, row["directory"])
        assert c["Li"] == c["S"]


def test_electron_diffraction_pngs(dry):
    """Tetragonal Li2S2 [001], [111]; cubic Li2S [111], [011], [100] (paper 000 Fig. 2d,e)."""
    pngs = sorted((dry / "li2s2_polymorphs" / "diffraction").glob("*.png"))
    assert len(pngs) == 5
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def _cp2k_value(text: str, keyword: str) -> list[str]:
    return re.findall(rf"^\s*{keyword}\s+(.+)$", text, flags=re.M)


def test_aimd_inputs(dry):
    """Paper 000 Methods (CP2K): 350 K, 1 fs, gamma 0.001 fs^-1, region frictions as printed."""
    relaxation = (dry / "aimd_charge_transfer/aimd/relaxation/cp2k.inp").read_text()
    potential = (dry / "aimd_charge_transfer/aimd/potential/cp2k.inp").read_text()
    assert _cp2k_value(relaxation, "STEPS") == ["20000"]  # 20 ps / 1 fs
    assert _cp2k_value(potential, "STEPS") == ["8000"]  # 8 ps / 1 fs
    for text in (relaxation, potential):
        assert _cp2k_value(text, "TEMPERATURE")[0] == "350.0"
        assert _cp2k_value(text, "TIMESTEP") == ["1.0"] and _cp2k_value(text, "GAMMA") == ["0.001"]
        assert _cp2k_value(text, "NOISY_GAMMA_REGION") == ["500000.0", "21000.0"]
        assert _cp2k_value(text, "ENSEMBLE") == ["LANGEVIN"]
        assert "DFTD3" in text and "DZVP-MOLOPT-SR-GTH" in text and "EXTRAPOLATION ASPC" in text
        # SGCPMD (CP2K manual): fixed corrector steps after the ASPC history, no outer SCF
        assert _cp2k_value(text, "MAX_SCF_HISTORY") == ["1"] and "OUTER_SCF" not in text
        assert _cp2k_value(text, "NOISY_GAMMA") == ["21000.0"]
        assert re.search(r"&E_DENSITY_CUBE\s+STRIDE 2\s+&EACH\s+MD 1000", text)
        assert re.search(r"&KIND D\s+ELEMENT H\s+MASS 2.014", text)
        assert not re.search(r"^\s*H\s+-?\d", text, flags=re.M)  # every H is D
    assert "FIXED_ATOMS" not in relaxation
    fixed = _cp2k_value(potential, "LIST")[-1]
    coords = _coords(potential)
    fixed_idx = _expand(fixed)
    assert len(fixed_idx) == 6 and all(coords[i - 1][0] == "Li" for i in fixed_idx)
    assert len(_coords(potential)) - len(_coords(relaxation)) == 6
    symbols = [c[0] for c in coords]
    assert symbols.count("Mo") == 4 and symbols.count("Li") == 3 * 2 + 3 + 6


def _coords(text: str) -> list[tuple[str, np.ndarray]]:
    block = text.split("&COORD")[1].split("&END COORD")[0].strip().splitlines()
    return [(line.split()[0], np.array(line.split()[1:], dtype=float)) for line in block]


def _expand(listing: str) -> list[int]:
    out: list[int] = []
    for part in listing.split():
        if ".." in part:
            a, b = map(int, part.split(".."))
            out += list(range(a, b + 1))
        else:
            out.append(int(part))
    return out


def test_round_trip_poscar_and_cp2k(dry, repo_root):
    """Every written POSCAR / CP2K coordinate block reads back to the planned structure."""
    for name in ("mo_cluster_adsorption", "dasc_adsorption", "li2s2_polymorphs"):
        for calc in plan(load_spec(repo_root / "workflows" / f"{name}.yaml")):
            back = Structure.from_file(dry / calc.calc_id / "POSCAR")
            assert [s.symbol for s in back.species] == [s.symbol for s in calc.structure.species]
            assert np.allclose(back.lattice.matrix, calc.structure.lattice.matrix, atol=1e-8)
            diff = back.frac_coords - calc.structure.frac_coords
            assert np.abs(diff - np.round(diff)).max() < 1e-8
    for calc in plan(load_spec(repo_root / "workflows" / "aimd_charge_transfer.yaml")):
        coords = _coords((dry / calc.calc_id / "cp2k.inp").read_text())
        assert len(coords) == len(calc.structure)
        for (kind, xyz), site in zip(coords, calc.structure, strict=True):
            assert kind in (site.specie.symbol, "D")
            assert np.allclose(xyz, site.coords, atol=1e-9)


def test_dry_run_is_idempotent(dry, tmp_path):
    again = tmp_path / "again"
    result = CliRunner().invoke(app, ["dry-run", "--all", "--out", str(again), "--no-progress"])
    assert result.exit_code == 0
    assert (again / "manifest.json").read_bytes() == (dry / "manifest.json").read_bytes()
    first = sorted(p.relative_to(dry) for p in dry.rglob("*") if p.is_file())
    assert first == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in first[:: max(1, len(first) // 50)]:
        assert (dry / rel).read_bytes() == (again / rel).read_bytes()


def test_potcar_spec_without_psp_dir(dry, monkeypatch):
    monkeypatch.delenv("PMG_VASP_PSP_DIR", raising=False)
    spec = (dry / "mo_cluster_adsorption/slab/Mo4-NG/relax/POTCAR.spec").read_text().split()
    assert spec == ["Mo_pv", "C", "N"]  # one block per element, by electronegativity
    assert not (dry / "mo_cluster_adsorption/slab/Mo4-NG/relax/POTCAR").exists()
