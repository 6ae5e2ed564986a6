"""VASP inputs of the mechanism studies (paper 002): frequency runs with only the adsorbate
free, and CI-NEB image directories, written by dry-run; the ΔG bookkeeping conserves atoms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Poscar

from lisflow import WORKFLOWS_DIR
from lisflow.errors import InputError
from lisflow.spec import load_spec, validate_spec
from lisflow.workflows.dryrun import dry_run
from lisflow.workflows.firetasks_mechanism import STATES, free_energy_profile


def test_free_energy_dry_run_writes_frequency_inputs(tmp_path):
    text = (WORKFLOWS_DIR / "dasc_free_energy.yaml").read_text()
    spec_file = tmp_path / "dasc_free_energy.yaml"  # the shipped study, FeCo-N6 only (time)
    spec_file.write_text(text.replace("  - {builder: dasc, metals: [Fe]}", "#").replace(
        "  - {builder: dasc, metals: [Co]}", "#"))
    entries = dry_run([spec_file], tmp_path, progress=False)
    ids = {e.calc_id for e in entries}
    sites = ("FeCo-N6",)
    names = ("S8", "Li2S8", "Li2S6", "Li2S4", "Li2S2", "Li2S")
    assert len(entries) == 3 + 1 + 2 * len(names)  # S8 relax+freq, Li; slab + relax/freq
    for site in sites:
        for name in names:
            assert f"dasc_free_energy/adslab/{site}/{name}/c0/freq" in ids
    root = tmp_path / "dasc_free_energy"
    freq = root / "adslab/FeCo-N6/Li2S4/c0/freq"
    incar = Incar.from_file(freq / "INCAR")
    assert (incar["IBRION"], incar["NFREE"], incar["POTIM"], incar["NSW"]) == (5, 2, 0.015, 1)
    assert incar["ENCUT"] == 450 and incar["IVDW"] == 11 and incar["EDIFF"] == 1e-7
    poscar = Poscar.from_file(freq / "POSCAR")
    free = [i for i, f in enumerate(poscar.selective_dynamics) if all(f)]
    assert all(any(f) == all(f) for f in poscar.selective_dynamics)  # whole atoms, no mixed
    assert sorted(poscar.structure[i].specie.symbol for i in free) == ["Li", "Li", "S", "S", "S", "S"]
    relax = Incar.from_file(root / "adslab/FeCo-N6/Li2S4/c0/relax/INCAR")
    assert relax["IBRION"] == 2 and "NFREE" not in relax
    assert "F   F   F" not in (root / "adslab/FeCo-N6/Li2S4/c0/relax/POSCAR").read_text()
    s8 = Poscar.from_file(root / "molecule/S8/freq/POSCAR")
    assert len(s8.structure) == 8  # every atom free (pymatgen then writes no flags)
    assert s8.selective_dynamics is None or all(all(f) for f in s8.selective_dynamics)
    # the catalogue rule of test_dipole_vacuum: dipole step >= 4 Å from every atom, vacuum
    # >= the substrate's stated 15 Å, on every slab/adslab input (relax and freq)
    checked = 0
    for entry in entries:
        if entry.role not in ("slab", "adslab"):
            continue
        directory = tmp_path / entry.directory
        incar, s = Incar.from_file(directory / "INCAR"), Structure.from_file(directory / "POSCAR")
        assert incar["LDIPOL"] is True and incar["IDIPOL"] == 3
        dz = s.frac_coords[:, 2] - (incar["DIPOL"][2] + 0.5) % 1.0
        assert np.abs(dz - np.round(dz)).min() * s.lattice.c >= 4.0, entry.calc_id
        z = s.cart_coords[:, 2]
        assert s.lattice.c - (z.max() - z.min()) >= 15.0 - 1e-4, entry.calc_id
        checked += 1
    assert checked == 1 + 2 * len(names)
    li = Structure.from_file(root / "bulk/Li/relax/POSCAR")
    assert li.composition.reduced_formula == "Li" and li.lattice.a == pytest.approx(3.491)


@pytest.mark.parametrize("vtst", [True, False])
def test_neb_dry_run_writes_image_directories(tmp_path, vtst):
    text = (WORKFLOWS_DIR / "dasc_neb.yaml").read_text().replace("vtst: true", f"vtst: {vtst}".lower())
    spec_file = tmp_path / "neb.yaml"
    spec_file.write_text(text)
    entries = dry_run([spec_file], tmp_path / "out", progress=False)
    assert len(entries) == 2 * 2 * 3  # 2 sites × 2 paths × (initial, final, neb)
    neb = tmp_path / "out/dasc_neb/neb/FeCo-N6/li2s_decomposition/neb"
    incar = Incar.from_file(neb / "INCAR")
    assert incar["IMAGES"] == 5 and incar["SPRING"] == -5 and incar["NSW"] == 500
    if vtst:
        assert (incar["IBRION"], incar["POTIM"], incar["ICHAIN"], incar["IOPT"]) == (3, 0, 0, 3)
        assert incar["LCLIMB"] is True
    else:  # standard VASP: plain NEB, no VTST tags
        assert incar["IBRION"] == 1 and not {"LCLIMB", "ICHAIN", "IOPT"} & set(incar)
    images = [Structure.from_file(neb / f"{i:02d}/POSCAR") for i in range(7)]
    assert not (neb / "07").exists() and not (neb / "POSCAR").exists()
    initial = Structure.from_file(neb.parent / "initial/relax/POSCAR")
    final = Structure.from_file(neb.parent / "final/relax/POSCAR")
    assert np.allclose(images[0].cart_coords, initial.cart_coords, atol=1e-6)
    assert np.allclose(images[-1].cart_coords, final.cart_coords, atol=1e-6)
    moved = np.linalg.norm(final.cart_coords - initial.cart_coords, axis=1)
    assert (moved > 1e-6).sum() == 1 and moved.max() == pytest.approx(2.5, abs=1e-6)  # one Li
    li = int(np.argmax(moved))
    steps = [np.linalg.norm(images[k + 1].cart_coords[li] - images[k].cart_coords[li])
             for k in range(6)]  # fmt: skip
    assert min(steps) > 0.2 and math.fsum(steps) >= 2.5 - 1e-6  # IDPP: each image moves on


def test_profile_steps_add_up_and_conserve_atoms():
    g_rel = {"S8": -1.2, "Li2S8": -9.0, "Li2S6": -8.1, "Li2S4": -7.3, "Li2S2": -6.0, "Li2S": -5.9}
    profile = free_energy_profile(g_rel, mu_s8=-33.0, mu_li=-1.9)
    assert math.fsum(profile.dg_steps) == pytest.approx(profile.dg_overall, abs=1e-12)
    assert profile.dg_overall == pytest.approx(8 * -5.9 + 33.0 + 16 * 1.9, abs=1e-12)
    assert all(c == {"Li": 16.0, "S": 8.0} for c in profile.composition)  # every state: S8 + 16Li
    assert sum(profile.li_per_step) == 16 and profile.li_per_step[0] == 0
    assert [float(u) for _, u in STATES] == [1, 1, 4 / 3, 2, 4, 8]
    per_2e = profile.dg_per_2e
    assert profile.rate_limiting == 1 + int(np.argmax(per_2e[1:])) + 1
    assert per_2e[2] == pytest.approx(profile.dg_steps[2] * 3)  # 3Li2S8 + 2Li -> 4Li2S6


def test_free_energy_spec_refuses_a_partial_path():
    data = load_spec(WORKFLOWS_DIR / "dasc_free_energy.yaml").model_dump()
    data["intermediates"] = ["S8", "Li2S"]
    with pytest.raises(InputError, match="intermediates"):
        validate_spec(data)


#: The OUTCAR lines of an IBRION = 5 run (VASP 6 format: "f" real, "f/i" imaginary; the block
#: is printed twice, the second after division by sqrt(mass)).
OUTCAR_MODES = """
 Eigenvectors and eigenvalues of the dynamical matrix
 ----------------------------------------------------


   1 f  =   14.170925 THz    89.037927 2PiTHz  472.692045 cm-1    58.605947 meV
             X         Y         Z           dx          dy          dz
      0.000000  0.000000  0.000000     0.700000    0.000000    0.000000

   2 f  =    6.000000 THz    37.699112 2PiTHz  200.138457 cm-1    24.813847 meV
             X         Y         Z           dx          dy          dz

   3 f/i=    1.000000 THz     6.283185 2PiTHz   33.356410 cm-1     4.135667 meV
             X         Y         Z           dx          dy          dz

 Eigenvectors after division by SQRT(mass)

   1 f  =   14.170925 THz    89.037927 2PiTHz  472.692045 cm-1    58.605947 meV
"""


def test_vasp_frequencies_give_zpe_and_ts(tmp_path):
    from lisflow.calculation import Calculation
    from lisflow.engines.mlip_mechanism import vasp_vibration_scalars
    from lisflow.errors import ParseError
    from lisflow.parsers.vasp_freq import vasp_mode_energies

    (tmp_path / "OUTCAR").write_text(" vasp.6.4.2\n" + OUTCAR_MODES)
    energies = vasp_mode_energies(tmp_path / "OUTCAR")
    assert energies == [complex(0.058605947), complex(0.024813847), complex(0, 0.004135667)]
    calc = Calculation("t/adslab/x/Li2S/c0/freq", "t", "vasp", "freq", "adslab", None,
                       labels={"temperature_k": 298.15, "low_mode_floor_cm1": 100.0})  # fmt: skip
    scalars = vasp_vibration_scalars(calc, tmp_path)
    assert scalars["zpe"][0] == pytest.approx((0.058605947 + 0.024813847) / 2, abs=1e-12)
    assert scalars["vib_modes"][0] == 3 and scalars["vib_imaginary"][0] == 1
    # TS: harmonic entropy with the imaginary mode at the 100 cm⁻¹ floor (k_B T Σ[x/(e^x−1) −
    # ln(1−e^−x)], x = ε/k_B T)
    kt = 8.617333262e-5 * 298.15
    modes = [0.058605947, 0.024813847, 100 / 8065.543937]
    ts = kt * sum(x / math.expm1(x) - math.log(-math.expm1(-x)) for x in (e / kt for e in modes))
    assert scalars["ts_vib"][0] == pytest.approx(ts, rel=1e-6)
    (tmp_path / "OUTCAR").write_text(" vasp.6.4.2\n no modes here\n")
    with pytest.raises(ParseError, match="dynamical-matrix"):
        vasp_mode_energies(tmp_path / "OUTCAR")


def test_vasp_neb_starts_from_the_relaxed_endpoints(tmp_path):
    """At run time the NEB's image POSCARs interpolate between the two relaxed endpoints."""
    from lisflow.engines.vasp import VaspEngine
    from lisflow.workflows.firetasks import spec_key, with_parent_structure
    from lisflow.workflows.plan import plan

    spec = load_spec(WORKFLOWS_DIR / "dasc_neb.yaml")
    spec = validate_spec(spec.model_dump() | {"substrates": [spec.model_dump()["substrates"][0]],
                                              "paths": [{"name": "li_diffusion", "hop": 2.5}]})
    initial, final, neb = plan(spec)
    assert neb.parents == (initial.calc_id, final.calc_id)
    relaxed = []
    for calc, dz in ((initial, 0.1), (final, -0.2)):  # stand-ins for the relaxed CONTCARs
        moved = calc.structure.copy()
        moved.translate_sites([len(moved) - 1], [0, 0, dz], frac_coords=False)
        relaxed.append(moved)
    outputs = {spec_key(c.calc_id): {"structure": s.as_dict()}
               for c, s in zip((initial, final), relaxed, strict=True)}  # fmt: skip
    ready = with_parent_structure(neb, {"lisflow_parents": outputs})
    files = VaspEngine().input_files(ready)
    first = Structure.from_str(files["00/POSCAR"], fmt="poscar")
    last = Structure.from_str(files["06/POSCAR"], fmt="poscar")
    assert np.allclose(first.cart_coords, relaxed[0].cart_coords, atol=1e-6)
    assert np.allclose(last.cart_coords, relaxed[1].cart_coords, atol=1e-6)
