"""Parsers against real fixture outputs; truncated copies must raise ParseError."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.constants import physical_constants

from lisflow.errors import ParseError
from lisflow.parsers.bader import bader_charges, read_acf
from lisflow.parsers.bands import band_centre, band_centres
from lisflow.parsers.cp2k import parse_cp2k, read_cp2k_trajectory
from lisflow.parsers.lobster import lobster_summary, read_icohplist
from lisflow.parsers.vasp import parse_vasp

HA = physical_constants["Hartree energy in eV"][0]


def _text(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return handle.read()


def _cut_copy(src: Path, dest: Path, fraction: float) -> Path:
    text = _text(src)
    dest.write_text(text[: int(len(text) * fraction)])
    return dest


# --- VASP -----------------------------------------------------------------------------


def test_vasp_k4sn4o6_energy_and_fermi(fixtures_dir):
    r = parse_vasp(fixtures_dir / "vasp/k4sn4o6_ispin2_static_doscar_custodian")
    assert r.final_energy == pytest.approx(-67.72457099, abs=1e-8)
    assert r.efermi == pytest.approx(2.53291965, abs=1e-8)
    assert r.n_atoms == 14 and r.formula == "K2Sn2O3"
    assert r.energy_per_atom == pytest.approx(-67.72457099 / 14)
    assert r.converged_electronic and r.converged_ionic
    assert r.vasp_version == "5.4.1" and r.incar["ISPIN"] == 2
    assert r.potcar_symbols == (
        "PAW_PBE K_sv 06Sep2000",
        "PAW_PBE Sn_d 06Sep2000",
        "PAW_PBE O 08Apr2002",
    )
    assert r.forces.shape == (14, 3)
    assert r.max_force == pytest.approx(np.linalg.norm(r.forces, axis=1).max())
    assert r.to_dict()["final_energy"] == r.final_energy


def test_vasp_au_slab_and_fe_magmoms(fixtures_dir):
    slab = parse_vasp(fixtures_dir / "vasp/adsorption_o_on_au100_slab_atomate2/slab_static")
    assert slab.final_energy == pytest.approx(-35.98701, abs=1e-5)
    assert slab.efermi == pytest.approx(-2.9655, abs=1e-4)
    fe = parse_vasp(fixtures_dir / "lobster/fe_bcc_spin_polarized_atomate2")
    assert fe.magmoms == (2.228, 2.228)
    assert fe.total_magnetization == pytest.approx(4.3643133)


def test_vasp_outcar_fallback_h2o(fixtures_dir, tmp_path):
    src = fixtures_dir / "vasp/h2o_molecule_in_box_relax_outcar_pyiron/OUTCAR"
    r = parse_vasp(src.parent)
    toten = [float(x) for x in re.findall(r"energy\(sigma->0\) =\s+(\S+)", _text(src))]
    assert r.ionic_energies == pytest.approx((-7.49847288, -10.92163254))
    assert r.final_energy == toten[-1] == pytest.approx(-10.92163254)
    assert r.formula == "H2O" and r.n_atoms == 3 and not r.converged_ionic
    (tmp_path / "cut").mkdir()
    _cut_copy(src, tmp_path / "cut/OUTCAR", 0.2)
    with pytest.raises(ParseError, match="OUTCAR"):
        parse_vasp(tmp_path / "cut")


def test_vasp_unterminated_vasprun_raises(fixtures_dir, tmp_path):
    _cut_copy(
        fixtures_dir / "vasp/k4sn4o6_ispin2_static_doscar_custodian/vasprun.xml.gz",
        tmp_path / "vasprun.xml",
        0.6,
    )
    with pytest.raises(ParseError, match="vasprun.xml"):
        parse_vasp(tmp_path)
    with pytest.raises(ParseError, match="vasprun.xml"):
        parse_vasp(tmp_path / "empty_dir_does_not_exist")


# --- Bader ----------------------------------------------------------------------------


def test_read_acf_h2o_exact(fixtures_dir, tmp_path):
    r = read_acf(fixtures_dir / "bader/h2o_molecule_acf_pyiron/ACF.dat")
    assert [s.element for s in r.sites] == ["H", "H", "O"]
    assert [round(s.valence_electrons, 3) for s in r.sites] == [0.438, 0.438, 7.144]
    assert r.sites[2].valence_electrons == 7.143794 and r.sites[2].atomic_volume == 415.155432
    assert r.total_electrons == 8.0202
    zr = read_acf(fixtures_dir / "bader/h2o_molecule_acf_pyiron/ACF.dat", zval={"H": 1.0, "O": 6.0})
    assert zr.sites[2].net_charge == pytest.approx(6.0 - 7.143794)
    (tmp_path / "ACF.dat").write_text("")
    with pytest.raises(ParseError, match="ACF.dat"):
        read_acf(tmp_path / "ACF.dat")


# The Si AECCAR-reference run (60^3 grid, three volumetric files) is in
# tests/validate/test_bader_aeccar.py (`make validate`); the 48^3 LiH run below stays here.


def test_baderkit_lih_ionic(fixtures_dir, tmp_path):
    run = fixtures_dir / "bader/lih_rocksalt_chgcar_r2scan_atomate_v1"
    nelect = float(re.search(r"NELECT =\s+(\S+)", _text(run / "OUTCAR")).group(1))
    r = bader_charges(run)
    assert r.total_electrons == pytest.approx(nelect, rel=1e-3)
    li, h = r.sites
    assert (li.element, h.element) == ("Li", "H")
    assert li.net_charge > 0.8 and h.net_charge < -0.8  # Li+ H-
    (tmp_path / "CHGCAR").write_text(_text(run / "CHGCAR.gz")[:5000])
    with pytest.raises(ParseError, match="CHGCAR"):
        bader_charges(tmp_path)


# --- band centres ---------------------------------------------------------------------


def _blocks(path: Path):
    lines = _text(path).splitlines()
    n_e, efermi = int(lines[5].split()[2]), float(lines[5].split()[3])
    blocks, start = [], 6
    while start + n_e <= len(lines):
        blocks.append(np.array([ln.split() for ln in lines[start : start + n_e]], dtype=float))
        start += n_e + 1
    return blocks, efermi


def _centre(e, rho, emax=0.0):
    m = e <= emax
    e, rho = e[m], rho[m]
    num = np.sum((e[1:] - e[:-1]) * (e[1:] * rho[1:] + e[:-1] * rho[:-1]) / 2)
    den = np.sum((e[1:] - e[:-1]) * (rho[1:] + rho[:-1]) / 2)
    return num / den


def test_fe_d_band_centre_lobster_matches_numpy(fixtures_dir):
    path = fixtures_dir / "lobster/fe_bcc_spin_polarized_atomate2/DOSCAR.lobster.gz"
    blocks, _ = _blocks(path)
    fe = blocks[1]  # columns: E, then (up, down) for 4s 3p_y 3p_z 3p_x 3d_xy .. 3d_x^2-y^2
    up, down = fe[:, 9:19:2].sum(axis=1), fe[:, 10:20:2].sum(axis=1)
    for spin, rho in (("up", up), ("down", down), ("total", up + down)):
        assert band_centre(path, [0], "d", spin) == pytest.approx(_centre(fe[:, 0], rho), abs=1e-6)
    whole = _centre(fe[:, 0], up + down, emax=np.inf)
    assert band_centre(path, [0], "d", emax=None) == pytest.approx(whole, abs=1e-6)


def test_k4sn4o6_doscar_band_centres(fixtures_dir):
    path = fixtures_dir / "vasp/k4sn4o6_ispin2_static_doscar_custodian/DOSCAR.gz"
    blocks, efermi = _blocks(path)
    sn = blocks[1 + 4]  # site 4 is Sn; VASP order s py pz px dxy dyz dz2 dxz dx2, up/down
    rho = sn[:, 9:19].sum(axis=1)
    assert band_centre(path, [4], "d") == pytest.approx(_centre(sn[:, 0] - efermi, rho), abs=1e-6)
    records = band_centres(path, {"d": [4], "p": [8]})
    assert [(r.site_index, r.element, r.orbital) for r in records] == [
        (4, "Sn", "d"),
        (8, "O", "p"),
    ]


# --- LOBSTER --------------------------------------------------------------------------


def test_icohplist_values_match_file(fixtures_dir, tmp_path):
    path = fixtures_dir / "lobster/fe_bcc_spin_polarized_atomate2/ICOHPLIST.lobster.gz"
    bonds = read_icohplist(path)
    lines = _text(path).splitlines()
    spin_start = next(i for i, ln in enumerate(lines) if i > 0 and "COHP#" in ln)
    up = [ln.split() for ln in lines[1:spin_start] if re.match(r"\s*\d+\s+Fe\d+\s", ln)]
    down = [ln.split() for ln in lines[spin_start:] if re.match(r"\s*\d+\s+Fe\d+\s", ln)]
    assert len(bonds) == len(up) == len(down) == 20
    b = bonds[1]
    assert (b.atom1, b.atom2, b.length_a) == (up[1][1], up[1][2], float(up[1][3]))
    assert b.icohp_up == float(up[1][7]) and b.icohp_down == float(down[1][7])
    assert b.icohp_ev == pytest.approx(float(up[1][7]) + float(down[1][7]))
    assert b.translation == tuple(int(x) for x in up[1][4:7])
    nacl = read_icohplist(fixtures_dir / "lobster/nacl_lobster511_custodian/ICOHPLIST.lobster")
    assert (nacl[0].atom1, nacl[0].atom2, nacl[0].icohp_ev, nacl[0].icohp_up) == (
        "Na1",
        "Cl5",
        -0.56501,
        None,
    )
    (tmp_path / "ICOHPLIST.lobster").write_text("")
    with pytest.raises(ParseError, match="ICOHPLIST"):
        read_icohplist(tmp_path / "ICOHPLIST.lobster")


def test_lobsterout_variants(fixtures_dir):
    variants = fixtures_dir / "lobster/lobsterout_variants_custodian"
    assert lobster_summary(variants / "lobsterout.normal").charge_spilling == (0.008, 0.008)
    assert lobster_summary(variants / "lobsterout.largespilling").max_charge_spilling == 0.0728
    assert lobster_summary(fixtures_dir / "lobster/nacl_lobster511_custodian").charge_spilling == (
        0.003,
    )
    for name in ("lobsterout.crash", "lobsterout.notfinished"):
        with pytest.raises(ParseError, match=name):
            lobster_summary(variants / name)


# --- CP2K -----------------------------------------------------------------------------


def _hartree_energies(path: Path) -> list[float]:
    return [
        float(x)
        for x in re.findall(r"ENERGY\| Total FORCE_EVAL \( QS \) energy \S+:\s+(\S+)", _text(path))
    ]


def test_cp2k_rutile_geo_opt(fixtures_dir, tmp_path):
    path = fixtures_dir / "cp2k/rutile110_water_slab_geo_opt_cp2kdata/cp2k.out.gz"
    r = parse_cp2k(path)
    ha = _hartree_energies(path)
    assert r.n_atoms == 288 and r.run_type == "GEO_OPT" and r.cp2k_version == "7.1"
    assert r.converged and len(r.step_energies) == len(ha)
    assert r.final_energy == pytest.approx(ha[-1] * HA, abs=1e-9)
    assert len(r.mulliken) == len(r.hirshfeld) == 288
    assert sum(a.element == "Ti" for a in r.mulliken) == 80
    _cut_copy(path, tmp_path / "cp2k.out", 0.05)
    with pytest.raises(ParseError, match="cp2k.out"):
        parse_cp2k(tmp_path / "cp2k.out")


def test_cp2k_si_charges_and_c2h4(fixtures_dir):
    si = parse_cp2k(fixtures_dir / "cp2k/si_static_density_cube_atomate2/cp2k.out")
    assert si.final_energy == si.energy_ev == pytest.approx(-7.254316323154312 * HA)
    assert [(a.element, a.population) for a in si.mulliken] == [("Si", 4.0), ("Si", 4.0)]
    assert [a.population for a in si.hirshfeld] == [4.0, 4.0]
    c2h4 = parse_cp2k(
        fixtures_dir / "cp2k/c2h4_molecule_geo_opt_cp2k2024_aiida/GEO_OPT_v2024.3.out.gz"
    )
    assert (c2h4.cp2k_version, c2h4.n_atoms, c2h4.run_type, c2h4.converged) == (
        "2024.3",
        6,
        "GEO_OPT",
        True,
    )
    assert c2h4.mulliken[0].net_charge == -0.163454
    bad = parse_cp2k(fixtures_dir / "cp2k/scf_error_outputs_custodian/cp2k.out.unconverged")
    assert not bad.converged and not bad.scf_converged


def test_cp2k_md_trajectory_and_ener(fixtures_dir):
    run = fixtures_dir / "cp2k/li6ps5cl_aimd_npt_cp2kdata"
    r = parse_cp2k(run / "output.gz")
    assert r.run_type == "MD" and r.n_atoms == 52 and r.trajectory == run / "system-pos-1.xyz"
    pot = np.loadtxt(run / "system-1.ener")[:, 4]
    assert np.allclose(np.array(r.step_energies) / HA, pot, atol=1e-8)
    frames = list(read_cp2k_trajectory(r.trajectory))
    assert len(frames) == 11 and frames[0].positions.shape == (52, 3)
    assert frames[0].symbols.count("Li") == 24 and frames[0].energy == pytest.approx(pot[0] * HA)


def test_records_for_engine_wrappers(fixtures_dir):
    """Shapes the VASP/CP2K wrappers and the DB store consume (site_index keys)."""
    fe = fixtures_dir / "lobster/fe_bcc_spin_polarized_atomate2"
    recs = band_centres(fe / "DOSCAR.lobster.gz", [0, 1], spin=("up", "down"))
    assert [(r.site_index, r.orbital, r.spin) for r in recs] == [
        (0, "d", "up"),
        (0, "d", "down"),
        (1, "d", "up"),
        (1, "d", "down"),
    ]
    assert recs[0].centre_ev == band_centre(fe / "DOSCAR.lobster.gz", [0], "d", "up")
    si = parse_cp2k(fixtures_dir / "cp2k/si_static_density_cube_atomate2/cp2k.out")
    assert si.mulliken[1].to_dict() == {
        "site_index": 1,
        "element": "Si",
        "population": 4.0,
        "net_charge": 0.0,
    }
    acf = read_acf(fixtures_dir / "bader/h2o_molecule_acf_pyiron/ACF.dat")
    assert [r["site_index"] for r in acf.to_records()] == [0, 1, 2]
    assert acf.to_records()[2]["valence_electrons"] == 7.143794
