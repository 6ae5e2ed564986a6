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


def _calc(store, calc_id, engine, role, labels, energy, formula, run_dir=None):
    from lisflow.db.schema import CalculationRecord

    store.upsert_calculation(
        CalculationRecord(calc_id=f"v/{calc_id}", study="v", engine=engine, task="static",
                          role=role, formula=formula, labels=labels, state="COMPLETED",
                          energy_ev=energy, run_dir=run_dir)
    )  # fmt: skip
    store.store_results(f"v/{calc_id}", energy_ev=energy)


def test_comparison_mae_and_rank_agreement_from_both_engines(tmp_path):
    from lisflow.db.store import ResultStore
    from lisflow.validate import comparison, store_mlip_adsorption

    store = ResultStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    # E_ads (eV): mlip -1.0, -2.0, -3.0; cp2k -1.5, -1.8, -3.6 -> |diff| 0.5, 0.2, 0.6
    for engine, ads in (("mlip", (-1.0, -2.0, -3.0)), ("cp2k", (-1.5, -1.8, -3.6))):
        step = "prerelax" if engine == "mlip" else "energy"
        _calc(store, f"molecule/Li2S/{step}", engine, "molecule", {"adsorbate": "Li2S"}, -8.0,
              "Li2S")  # fmt: skip
        for site, e_ads in zip(("A-N4", "B-N4", "C-N6"), ads, strict=True):
            _calc(store, f"slab/{site}/{step}", engine, "slab", {"site": site}, -100.0, "C20N4")
            labels = {"site": site, "adsorbate": "Li2S", "configuration": 0}
            _calc(store, f"adslab/{site}/Li2S/c0/{step}", engine, "adslab", labels,
                  -108.0 + e_ads, "C20N4Li2S")  # fmt: skip
            if engine == "cp2k":  # (the workflow's E_ads Firework stores these)
                store.upsert_adsorption(f"v/adslab/{site}/Li2S/c0/{step}",
                                        f"v/slab/{site}/{step}", f"v/molecule/Li2S/{step}")  # fmt: skip
    assert store_mlip_adsorption(store, "v") == 3
    table, stats = comparison(store, "v")
    assert list(table["site"]) == ["A-N4", "B-N4", "C-N6"]
    assert list(table["mlip"]) == pytest.approx([-1.0, -2.0, -3.0])
    assert list(table["cp2k"]) == pytest.approx([-1.5, -1.8, -3.6])
    assert stats["mae_ev"] == pytest.approx((0.5 + 0.2 + 0.6) / 3)
    assert stats["kendall_tau"] == pytest.approx(1.0) and stats["same_order"] == 1.0


def test_run_timings_reads_cp2k_timer_and_scf_steps(tmp_path, fixtures_dir):
    import gzip

    from lisflow.db.store import ResultStore
    from lisflow.validate import run_timings

    out = fixtures_dir / "cp2k/c2h4_molecule_geo_opt_cp2k2024_aiida/GEO_OPT_v2024.3.out.gz"
    (tmp_path / "cp2k").mkdir()
    (tmp_path / "cp2k" / "cp2k.out").write_bytes(gzip.decompress(out.read_bytes()))
    store = ResultStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    _calc(store, "molecule/C2H4/energy", "cp2k", "molecule", {}, -10.0, "C2H4",
          str(tmp_path / "cp2k"))  # fmt: skip
    (row,) = run_timings(store, "v").to_dict(orient="records")
    # the fixture: 5 SCF cycles, "outer SCF loop converged in 2 iterations or 47 steps" then
    # 11, 11, 9, 9 steps (not the last inner loops' 7 + 11 + 11 + 9 + 9); "CP2K ... 48.425" s
    assert (row["calc_id"], row["engine"], row["steps"]) == ("molecule/C2H4/energy", "cp2k", 87)
    assert row["wall_s"] == pytest.approx(48.425)
