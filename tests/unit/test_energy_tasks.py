"""The small analysis Firetasks: E_ads (paper 000 eq. 6) and E_f per atom (eq. 5)."""

from __future__ import annotations

import pandas as pd
import pytest

from lisflow.db.schema import CalculationRecord
from lisflow.db.store import ResultStore
from lisflow.spec import validate_spec
from lisflow.workflows.build import adsorption_triples
from lisflow.workflows.firetasks import AdsorptionEnergyTask, PolymorphEnergyTask
from lisflow.workflows.plan import plan


def _stored(
    store: ResultStore, calc_id: str, energy: float, n_atoms: int, formula: str = "", **labels
) -> None:
    store.upsert_calculation(
        CalculationRecord(
            calc_id=calc_id,
            study="s",
            engine="vasp",
            task="relax",
            role="bulk",
            formula=formula,
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
    _stored(store, "s/adslab", -10.0, 5, "Fe2Li2S", site="X", adsorbate="Li2S")
    _stored(store, "s/slab", -6.0, 2, "Fe2", site="X")
    _stored(store, "s/molecule", -3.5, 3, "Li2S", adsorbate="Li2S")
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


def test_supercell_adslab_scaled_by_n_and_said_so(tmp_path):
    """Site finder: Li2S on a 2x2 supercell of a 1x1 slab -> E_ads = E - 4 E_slab - E_Li2S."""
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    store = ResultStore(url)
    _stored(store, "s/adslab", -141.3, 51, "Ti48Li2S", site="Ti", adsorbate="Li2S")
    _stored(store, "s/slab", -31.25, 12, "Ti12", site="Ti")
    _stored(store, "s/molecule", -12.5, 3, "Li2S", adsorbate="Li2S")
    action = AdsorptionEnergyTask(
        adslab="s/adslab", slab="s/slab", molecule="s/molecule", db_url=url
    ).run_task({})
    assert action.stored_data["energy_ev"] == pytest.approx(-141.3 + 4 * 31.25 + 12.5)  # -3.8
    from lisflow.db import queries

    row = queries.adsorption(store).iloc[0]
    assert (row["slab_multiple"], row["molecule_coefficient"], row["state"]) == (
        4,
        1.0,
        "COMPLETED",
    )
    assert row["equation"] == "E_ads = E(adslab) − 4·E(slab) − E(Li2S)"


def test_mismatched_stoichiometry_is_refused_with_the_reason(tmp_path):
    from lisflow.db import queries
    from lisflow.structures.stoichiometry import StoichiometryError

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    store = ResultStore(url)
    _stored(store, "s/adslab", -141.3, 50, "Ti47Li2S", site="Ti", adsorbate="Li2S")  # a Ti lost
    _stored(store, "s/slab", -31.25, 12, "Ti12", site="Ti")
    _stored(store, "s/molecule", -12.5, 3, "Li2S", adsorbate="Li2S")
    task = AdsorptionEnergyTask(adslab="s/adslab", slab="s/slab", molecule="s/molecule", db_url=url)
    with pytest.raises(StoichiometryError, match=r"Ti47Li2S.*is not n·\(Ti12\) \+ ν·\(Li2S\)"):
        task.run_task({})
    row = queries.adsorption(store).iloc[0]
    assert row["state"] == "FAILED" and pd.isna(row["energy_ev"])  # nothing stored
    assert "no solution" in row["state_reason"]


@pytest.mark.parametrize(
    ("adslab", "slab", "reference", "n", "nu"),
    [
        ("C62N6Fe2H", "C62N6Fe2", "H2", 1, "1/2"),
        ("Ti12O", "Ti12", "O2", 1, "1/2"),
        ("C66N4FeS", "C66N4Fe", "S8", 1, "1/8"),
        ("Au48O2", "Au12", "O2", 4, "1"),
        ("Mo4C106N4Li2S6", "Mo4C106N4", "Li2S6", 1, "1"),
    ],
)
def test_stoichiometry_solutions(adslab, slab, reference, n, nu):
    from fractions import Fraction

    from lisflow.structures.stoichiometry import adsorption_stoichiometry

    got = adsorption_stoichiometry(adslab, slab, reference)
    assert (got.slab_multiple, got.reference_coefficient) == (n, Fraction(nu))


@pytest.mark.parametrize(
    ("adslab", "slab", "reference"),
    [
        ("C62N6Fe2Li2S", "C62N6Fe2", "Li2S2"),  # wrong molecule
        ("C62N6Fe2Li2S", "C62N6Co2", "Li2S"),  # wrong slab
        ("C62N6Fe2", "C62N6Fe2", "Li2S"),  # nothing adsorbed
        ("C62N6Fe2H", "C62N6Fe2", "H2O"),  # reference with an element not adsorbed
    ],
)
def test_stoichiometry_mismatches(adslab, slab, reference):
    from lisflow.structures.stoichiometry import StoichiometryError, adsorption_stoichiometry

    with pytest.raises(StoichiometryError, match="no solution"):
        adsorption_stoichiometry(adslab, slab, reference)


def test_half_h2_reference_is_planned_for_an_h_adsorbate():
    spec = validate_spec(
        {
            "study": "h",
            "kind": "adsorption",
            "engine": "vasp",
            "preset": "paper002",
            "substrates": [{"builder": "dasc", "metals": ["Fe"]}],
            "adsorbates": ["H"],
            "references": {"H": "H2"},
            "configurations": 1,
        }
    )
    calcs = plan(spec)
    molecule = next(c for c in calcs if c.role == "molecule" and c.labels.get("final"))
    assert molecule.calc_id == "h/molecule/H_H2/static" and molecule.formula == "H2"
    assert molecule.structure.get_distance(0, 1) == pytest.approx(0.7414)
    ((_, _, ref),) = [t for t in adsorption_triples(calcs)]
    assert ref == molecule.calc_id
    with pytest.raises(Exception, match="no reference for H"):
        validate_spec({**spec.model_dump(), "references": {"H": "O2"}})


def test_relaxed_polymorph_gets_its_diffraction_pattern(tmp_path):
    """Item 11.9: ED of the relaxed crystal (final_structure.json), not of the built one."""
    import csv
    import json

    from lisflow.db import queries
    from lisflow.structures.polymorphs import tetragonal_li2s2

    relaxed = tetragonal_li2s2()
    relaxed.scale_lattice(relaxed.volume * 1.02**3)  # a "relaxation" that grew a, c by 2 %
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "final_structure.json").write_text(json.dumps(relaxed.as_dict()))
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    store = ResultStore(url)
    _stored(store, "s/bulk/tetragonal/relax", -33.6, 8, "Li4S4", polymorph="tetragonal")
    record = store.get("s/bulk/tetragonal/relax")
    record.run_dir = str(run_dir)
    store.upsert_calculation(record)
    action = PolymorphEnergyTask(
        calc_id="s/bulk/tetragonal/relax", polymorph="tetragonal", db_url=url
    ).run_task({})
    assert action.stored_data["diffraction_spots"] > 0
    assert {p.name for p in (run_dir / "diffraction").glob("*.png")} == {
        "tetragonal_001.png",
        "tetragonal_111.png",
    }
    rows = list(csv.DictReader((run_dir / "diffraction/electron_diffraction_spots.csv").open()))
    d110 = [
        float(r["d_angstrom"])
        for r in rows
        if (r["zone"], r["h"], r["k"], r["l"]) == ("001", "1", "1", "0")
    ]
    assert d110 and d110[0] == pytest.approx(relaxed.lattice.a / 2**0.5, rel=1e-4)
    series = queries.series(store)
    spots = series[series["quantity"] == "[001] spots"]
    assert len(spots) == sum(r["zone"] == "001" for r in rows)
    assert spots["x"].max() == pytest.approx(
        max(float(r["d_angstrom"]) for r in rows if r["zone"] == "001"), rel=1e-4
    )
    assert store.get("s/bulk/tetragonal/relax").files["diffraction"] == str(run_dir / "diffraction")
