"""The `make validate` study (lisflow.validate): CP2K single points on MLIP-relaxed paper
systems, spin-polarised (UKS) with the multiplicity stated per site; reduced cell/cutoff."""

from __future__ import annotations

import pytest

from lisflow.engines.cp2k import Cp2kEngine
from lisflow.errors import InputError
from lisflow.spec import validate_spec
from lisflow.validate import main, validation_spec
from lisflow.workflows.plan import plan


def test_validation_study_sets_cutoff_cell_and_spin_per_site():
    spec = validate_spec(validation_spec(dasc_supercell=4, cutoff=250, vacuum=10.0))
    calcs = plan(spec)
    cp2k = {c.calc_id.removeprefix("validate_mlip_cp2k/"): c for c in calcs if c.engine == "cp2k"}
    assert sorted(cp2k) == sorted(
        [f"slab/{s}/energy" for s in ("Mo-N4", "Fe-N4", "FeCo-N6")]
        + [f"adslab/{s}/Li2S/c0/energy" for s in ("Mo-N4", "Fe-N4", "FeCo-N6")]
        + ["molecule/Li2S/energy"]
    )
    assert all(c.parents == (c.calc_id.replace("/energy", "/prerelax"),) for c in cp2k.values())
    expected = {"Mo-N4": None, "Fe-N4": "MULTIPLICITY 3", "FeCo-N6": "MULTIPLICITY 4"}
    for name, calc in cp2k.items():
        text = Cp2kEngine().input_files(calc)["cp2k.inp"]
        assert "RUN_TYPE ENERGY_FORCE" in text and "CUTOFF 250" in text
        assert "DZVP-MOLOPT-SR-GTH" in text and "TYPE DFTD3" in text
        site = name.split("/")[1]
        if site in expected and expected[site]:
            assert "UKS .TRUE." in text and expected[site] in text, name
        else:  # Mo-N4 (CHGNet: 0.06 mu_B) and the Li2S molecule: closed shell
            assert "UKS" not in text and "MULTIPLICITY" not in text, name
        if name.startswith("adslab/"):  # 4x4 graphene; 10 Å of vacuum over the adsorbate
            slab = cp2k[f"slab/{site}/energy"].structure
            z = calc.structure.cart_coords[:, 2]
            a, _, c = calc.structure.lattice.abc
            assert a == pytest.approx(4 * 2.47) and slab.lattice.c == pytest.approx(c)
            assert c - (z.max() - z.min()) == pytest.approx(10.0, abs=0.05)


def test_multiplicity_of_the_wrong_parity_is_refused():
    data = validation_spec(dasc_supercell=4, sites=("Fe-N4",))
    data["substrates"][0]["multiplicity"] = 2  # Fe-N4 has an even number of electrons
    calc = next(c for c in plan(validate_spec(data)) if c.calc_id.endswith("slab/Fe-N4/energy"))
    with pytest.raises(InputError, match=r"^multiplicity: multiplicity 2 impossible"):
        Cp2kEngine().input_files(calc)
    data["substrates"][0]["multiplicity"] = 0
    with pytest.raises(InputError, match=r"substrates.*multiplicity"):
        validate_spec(data)


def test_unknown_site_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--sites", "Fe-N4,Ni-N4", "--out", "/nonexistent/never-written"])
    assert exit_.value.code == 2
    assert "--sites: unknown site 'Ni-N4'" in capsys.readouterr().out
