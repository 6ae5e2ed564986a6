"""``engine: mlip`` / ``prerelax: mlip`` in the plan, the MLIP input set and the claims table
(no model evaluation here: see tests/integration/test_mlip.py for real runs)."""

from __future__ import annotations

import json

import pytest
from pymatgen.core import Lattice, Structure

from lisflow.calculation import Calculation
from lisflow.db.report import claims_table
from lisflow.db.schema import CalculationRecord
from lisflow.db.store import ResultStore
from lisflow.engines.mlip import MlipEngine
from lisflow.engines.registry import get_engine
from lisflow.errors import InputError
from lisflow.io.mlip import mlip_settings
from lisflow.spec import load_spec, study_files, validate_spec
from lisflow.spec.models import with_engine
from lisflow.workflows.plan import plan


def shipped(kind: str):
    return [s for s in map(load_spec, study_files()) if getattr(s, "kind", "") == kind]


@pytest.mark.parametrize("kind", ["adsorption", "polymorphs"])
def test_every_shipped_study_runs_with_engine_mlip(kind):
    for spec in shipped(kind):
        dft = [c for c in plan(spec) if c.labels.get("final")]
        mlip = plan(with_engine(spec, "mlip", "sevennet"))
        assert {c.engine for c in mlip} == {"mlip"}
        assert {c.study for c in mlip} == {f"{spec.study}_mlip"}
        assert len(mlip) == len(dft)  # one MLIP relaxation per final DFT calculation
        strip = lambda labels: {k: v for k, v in labels.items() if k != "bader"}  # noqa: E731
        assert [c.labels for c in mlip] == [strip(c.labels) for c in dft]
        assert {c.inputs.model for c in mlip} == {"sevennet"}
        assert {c.inputs.relax_cell for c in mlip} == {kind == "polymorphs"}


def test_prerelax_chains_mlip_into_vasp_polymorph_relaxations():
    spec = shipped("polymorphs")[0]
    calcs = plan(spec.model_copy(update={"prerelax": "mlip"}))
    assert len(calcs) == 2 * len(spec.polymorphs)
    for pre, dft in zip(calcs[::2], calcs[1::2], strict=True):
        assert (pre.engine, dft.engine) == ("mlip", "vasp") and dft.parents == (pre.calc_id,)
        assert pre.labels["final"] is False and dft.labels["final"] is True


def test_unknown_model_is_one_line_input_error():
    data = {
        "study": "x", "kind": "adsorption", "engine": "mlip", "model": "mace",
        "substrates": [{"builder": "molecule", "name": "Li2S"}], "adsorbates": ["Li2S"],
    }  # fmt: skip
    with pytest.raises(InputError, match=r"^model: .*chgnet.*sevennet"):
        validate_spec(data)
    with pytest.raises(InputError, match="mlip.optimizer"):
        mlip_settings("chgnet", "relax", {"OPTIMIZER": "LBFGS"})


def test_input_set_is_deterministic_and_honours_selective_dynamics(tmp_path):
    structure = Structure(Lattice.cubic(8.0), ["Li", "Li", "S"], [[0, 0, 0], [0.3, 0, 0], [0, 0.3, 0]])
    structure.add_site_property("selective_dynamics", [[False] * 3, [True] * 3, [True] * 3])
    inputs = mlip_settings("chgnet", "relax", {"FMAX": 0.02, "ENCUT": 500, "BFGS_X": 1})
    calc = Calculation("s/bulk/x/relax", "s", "mlip", "relax", "bulk", structure, inputs=inputs)
    engine = get_engine("mlip")
    assert isinstance(engine, MlipEngine)
    first = engine.input_files(calc)
    assert first == engine.input_files(calc)
    settings = json.loads(first["mlip.json"])
    assert settings["fmax"] == 0.02 and settings["fixed_indices"] == [0]
    assert settings["ignored_overrides"] == ["BFGS_X", "ENCUT"]
    assert settings["d3"] is True and settings["d3_damping"] == "bj"
    lines = first["POSCAR"].splitlines()
    assert lines[7].strip().lower().startswith("selective")
    assert lines[9].split()[3:6] == ["F", "F", "F"] and lines[10].split()[3:6] == ["T"] * 3


def _store_energy(store, calc_id, study, role, labels, energy, formula, engine="mlip"):
    store.upsert_calculation(
        CalculationRecord(calc_id=calc_id, study=study, engine=engine, task="relax", role=role,
                          formula=formula, labels=labels, state="COMPLETED", energy_ev=energy)
    )  # fmt: skip
    store.store_results(calc_id, energy_ev=energy)


def test_claims_table_compares_ti_with_the_best_mo_site(tmp_path):
    store = ResultStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    study = "mo_mlip"
    molecule_labels = {"adsorbate": "Li2S"}
    _store_energy(store, f"{study}/molecule/Li2S", study, "molecule", molecule_labels, -8.0, "Li2S")
    sites = (("Ti001", -500.0, -510.5, "Ti54"), ("Mo1-NG", -900.0, -911.0, "C106N4Mo"))
    for site, slab, adslab, formula in sites:
        _store_energy(store, f"{study}/slab/{site}", study, "slab", {"site": site}, slab, formula)
        labels = {"site": site, "adsorbate": "Li2S", "configuration": 0}
        _store_energy(
            store, f"{study}/adslab/{site}", study, "adslab", labels, adslab, formula + "Li2S"
        )
        store.upsert_adsorption(
            f"{study}/adslab/{site}", f"{study}/slab/{site}", f"{study}/molecule/Li2S"
        )
    table = claims_table(store)
    assert list(table["claim"]) == ["ti_vs_mo"]
    row = table.iloc[0]
    assert row["measured"] == "Ti001 -2.50 eV vs Mo1-NG -3.00 eV"  # -510.5+500+8, -911+900+8
    assert not row["agrees"]  # here Mo binds more strongly: reported as measured


def test_claims_table_compares_the_dascs_on_every_adsorbate(tmp_path):
    """FeCo strongest among the DASCs: one row per adsorbate that FeCo and another DASC have."""
    store = ResultStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    study = "dasc_mlip"
    molecules = {"Li2S": -8.0, "Li2S4": -20.0}
    for name, energy in molecules.items():
        labels = {"adsorbate": name}
        _store_energy(store, f"{study}/molecule/{name}", study, "molecule", labels, energy, name)
    #            site       slab    E(adslab) - E(slab) - E(mol) per adsorbate
    sites = (("FeCo-N6", -600.0, {"Li2S": -3.4, "Li2S4": -2.0}),
             ("FeNi-N6", -601.0, {"Li2S": -3.3, "Li2S4": -2.5}),
             ("Fe-N4", -590.0, {"Li2S": -3.9}))  # fmt: skip
    for site, slab, e_ads in sites:
        _store_energy(store, f"{study}/slab/{site}", study, "slab", {"site": site}, slab, "C66N6")
        for name, value in e_ads.items():
            calc_id = f"{study}/adslab/{site}/{name}"
            labels = {"site": site, "adsorbate": name, "configuration": 0}
            adslab = slab + molecules[name] + value
            _store_energy(store, calc_id, study, "adslab", labels, adslab, "C66N6" + name)
            store.upsert_adsorption(calc_id, f"{study}/slab/{site}", f"{study}/molecule/{name}")
    table = claims_table(store)
    rows = table[table["claim"] == "feco_strongest"]
    assert list(rows["detail"]) == ["E_ads(Li2S)", "E_ads(Li2S4)"]  # the SASC Fe-N4 not compared
    assert list(rows["measured"]) == ["FeCo-N6 -3.40 eV, FeNi-N6 -3.30 eV",
                                      "FeCo-N6 -2.00 eV, FeNi-N6 -2.50 eV"]  # fmt: skip
    assert list(rows["agrees"]) == [True, False]
