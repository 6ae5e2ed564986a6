"""Parser outputs of real fixture runs go into the database as they are (duck-typed rows)."""

from __future__ import annotations

import pytest

from lisflow.db import queries
from lisflow.db.schema import CalculationRecord
from lisflow.db.store import ResultStore
from lisflow.parsers.bader import read_acf
from lisflow.parsers.lobster import read_icohplist

#: ZVAL of the PAW potentials of the H2O Bader fixture (H: 1, O: 6 valence electrons).
H2O_ZVAL = {"H": 1.0, "O": 6.0}


def test_bader_sites_and_lobster_bonds_round_trip(db_url, fixtures_dir):
    bader = read_acf(fixtures_dir / "bader/h2o_molecule_acf_pyiron/ACF.dat", zval=H2O_ZVAL)
    bonds = read_icohplist(fixtures_dir / "lobster/nacl_lobster511_custodian/ICOHPLIST.lobster")
    with ResultStore(db_url) as store:
        for calc_id, formula, n in (("fx/h2o", "H2O", 3), ("fx/nacl", "Na4Cl4", 8)):
            store.upsert_calculation(
                CalculationRecord(calc_id, "fx", "vasp", "static", "bulk", formula, n)
            )
        store.store_results("fx/h2o", charges=bader.sites, charge_method="bader")
        store.store_results("fx/nacl", icohps=bonds)
        # Storing the same parse again changes nothing.
        store.store_results("fx/nacl", icohps=bonds)

        charges = queries.charges(store, calc_id="fx/h2o")
        assert charges["element"].tolist() == ["H", "H", "O"]
        assert charges["valence_electrons"].sum() == pytest.approx(bader.total_electrons, abs=1e-4)
        assert charges["net_charge"].tolist() == [site.net_charge for site in bader.sites]
        icohp = queries.icohp(store, calc_id="fx/nacl")
        assert store.count("bond_icohps") == len(bonds) == 24
        by_label = {b.label: b for b in bonds}
        for row in icohp.itertuples():
            bond = by_label[row.label]
            assert (row.atom1, row.atom2, row.length_a, row.icohp_ev) == (
                bond.atom1,
                bond.atom2,
                bond.length_a,
                bond.icohp_ev,
            )
