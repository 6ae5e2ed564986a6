"""The small analysis Firetasks: E_ads (paper 000 eq. 6) and E_f per atom (eq. 5)."""

from __future__ import annotations

import pytest

from lisflow.db.schema import CalculationRecord
from lisflow.db.store import ResultStore
from lisflow.spec import validate_spec
from lisflow.workflows.build import adsorption_triples
from lisflow.workflows.firetasks import AdsorptionEnergyTask, PolymorphEnergyTask
from lisflow.workflows.plan import plan


def _stored(store: ResultStore, calc_id: str, energy: float, n_atoms: int, **labels) -> None:
    store.upsert_calculation(
        CalculationRecord(
            calc_id=calc_id,
            study="s",
            engine="vasp",
            task="relax",
            role="bulk",
            n_atoms=n_atoms,
            labels=labels,
        )
    )
    store.store_results(calc_id, energy_ev=energy)


def test_polymorph_formation_energy_per_atom(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    store = ResultStore(url)
    _stored(store, "s/bulk/tetragonal/relax", -33.6, 8, polymorph="tetragonal")
    action = PolymorphEnergyTask(
        calc_id="s/bulk/tetragonal/relax", polymorph="tetragonal", db_url=url
    ).run_task({})
    assert action.stored_data["energy_per_atom_ev"] == pytest.approx(-4.2)
    from lisflow.db import queries

    frame = queries.polymorphs(store)
    assert list(frame["polymorph"]) == ["tetragonal"]
    assert frame["formation_energy_per_atom_ev"][0] == pytest.approx(-33.6 / 8)


def test_adsorption_energy_task(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    store = ResultStore(url)
    _stored(store, "s/adslab", -10.0, 5, site="X", adsorbate="Li2S")
    _stored(store, "s/slab", -6.0, 2, site="X")
    _stored(store, "s/molecule", -3.5, 3, adsorbate="Li2S")
    action = AdsorptionEnergyTask(
        adslab="s/adslab", slab="s/slab", molecule="s/molecule", db_url=url
    ).run_task({})
    assert action.stored_data["energy_ev"] == pytest.approx(-0.5)


def test_slabs_and_molecules_are_shared_by_every_pair():
    spec = validate_spec(
        {
            "study": "share",
            "kind": "adsorption",
            "engine": "vasp",
            "preset": "paper002",
            "substrates": [
                {"builder": "dasc", "metals": ["Fe"]},
                {"builder": "dasc", "metals": ["Fe", "Co"]},
            ],
            "adsorbates": ["Li2S", "S8"],
            "configurations": 2,
        }
    )
    calcs = plan(spec)
    roles = [c.role for c in calcs]
    assert roles.count("slab") == 2 * 2 and roles.count("molecule") == 2 * 2  # relax + static
    triples = adsorption_triples(calcs)
    assert len(triples) == 2 * 2 * 2
    slabs = {slab for _, slab, _ in triples}
    molecules = {mol for _, _, mol in triples}
    assert slabs == {"share/slab/Fe-N4/static", "share/slab/FeCo-N6/static"}
    assert molecules == {"share/molecule/Li2S/static", "share/molecule/S8/static"}
