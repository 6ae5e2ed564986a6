"""A dissociated adsorbate is told apart: fragments of the relaxed adslab's adsorbate, the note
on the stored E_ads row, and the claims that leave it out."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from lisflow.db import queries
from lisflow.db.report import claims_table
from lisflow.db.schema import CalculationRecord
from lisflow.db.store import ResultStore, store_final_structure
from lisflow.structures.integrity import DISSOCIATED, dissociation_note, homonuclear_bonds

BOX = Lattice.orthorhombic(20.0, 20.0, 30.0)


def s8_ring(center=(10.0, 10.0, 20.0), scale: float = 1.0) -> list[np.ndarray]:
    """Crown S8: S–S 2.06 Å (scale 1); scale 2 puts every S 4.1 Å from its neighbours."""
    positions = []
    for k in range(8):
        phi = k * np.pi / 4
        z = 0.45 if k % 2 else -0.45
        # ring radius 2.42 Å: chord 2 R sin(pi/8) = 1.85 Å, with the 0.9 Å pucker 2.06 Å
        offset = np.array([2.42 * np.cos(phi), 2.42 * np.sin(phi), z])
        positions.append(np.array(center) + scale * offset)
    return positions


def slab() -> Structure:
    """A flat "Ti" layer (4 Å spacing) at z = 10 Å."""
    coords = [[x, y, 10.0] for x in np.arange(0, 20, 4.0) for y in np.arange(0, 20, 4.0)]
    return Structure(BOX, ["Ti"] * len(coords), coords, coords_are_cartesian=True)


def with_s8(scale: float) -> Structure:
    base = slab()
    for p in s8_ring(scale=scale):
        base.append("S", p, coords_are_cartesian=True)
    return base


def molecule() -> Structure:
    return Structure(BOX, ["S"] * 8, s8_ring(), coords_are_cartesian=True)


def test_s8_ring_has_eight_s_s_bonds_and_spread_sulfur_none():
    ring = molecule()
    distances = [ring.get_distance(k, (k + 1) % 8) for k in range(8)]
    assert min(distances) > 1.9 and max(distances) < 2.2  # a bonded ring
    assert homonuclear_bonds(ring, {"S"}) == {"S-S": 8}
    assert homonuclear_bonds(with_s8(2.0), {"S"}) == {"S-S": 0}
    assert homonuclear_bonds(slab(), {"S"}) == {}


def test_note_only_when_the_adsorbate_broke():
    assert dissociation_note(with_s8(1.0), slab(), molecule()) is None
    note = dissociation_note(with_s8(2.0), slab(), molecule())
    assert note is not None and note.startswith(DISSOCIATED) and "S-S bonds 8 -> 0" in note
    # Li atoms moving apart (Li···Li contact lost) is not a broken adsorbate
    li_molecule = molecule()
    li_adslab = with_s8(1.0)
    for li_mol, li_ads in (
        ([10.0, 13.5, 20.0], [10.0, 14.5, 20.0]),
        ([12.8, 13.5, 20.0], [16.0, 16.0, 20.0]),
    ):
        li_molecule.append("Li", li_mol, coords_are_cartesian=True)
        li_adslab.append("Li", li_ads, coords_are_cartesian=True)
    assert (
        li_molecule.get_distance(8, 9)
        < 3.0
        < li_adslab.get_distance(len(slab()) + 8, len(slab()) + 9)
    )
    assert dissociation_note(li_adslab, slab(), li_molecule) is None
    # adsorbate elements also in the slab: cannot be told apart, no claim made
    sulfided = slab()
    sulfided.append("S", [1.5, 1.5, 8.0], coords_are_cartesian=True)
    assert dissociation_note(with_s8(2.0), sulfided, molecule()) is None


@pytest.mark.parametrize("scale, broken", [(1.0, False), (2.0, True)])
def test_stored_row_carries_the_note_and_claims_leave_it_out(tmp_path, scale, broken):
    store = ResultStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    energies = {"t/slab": -100.0, "t/S8": -30.0, "t/adslab": -160.0, "m/slab": -90.0,
                "m/adslab": -121.0}  # fmt: skip
    structures = {"t/slab": slab(), "t/S8": molecule(), "t/adslab": with_s8(scale)}
    mo = slab()
    mo.replace_species({"Ti": "Mo"})
    mo_adslab = with_s8(1.0)
    mo_adslab.replace_species({"Ti": "Mo"})
    structures |= {"m/slab": mo, "m/adslab": mo_adslab}
    for calc_id, structure in structures.items():
        role = calc_id.split("/")[1] if "slab" in calc_id else "molecule"
        site = {"t": "Ti001", "m": "Mo1-NG"}[calc_id[0]] if role != "molecule" else None
        labels = {"site": site} if site else {}
        if role == "adslab":
            labels |= {"adsorbate": "S8", "configuration": 0}
        formula = structure.composition.formula.replace(" ", "")
        record = CalculationRecord(
            calc_id, "claims", "mlip", "relax", role, formula, len(structure), labels=labels
        )
        store.upsert_calculation(record)
        store.store_results(calc_id, energy_ev=energies[calc_id], state="COMPLETED")
        store_final_structure(store, calc_id, structure.as_dict(), "engine")
    e_ti = store.upsert_adsorption("t/adslab", "t/slab", "t/S8")
    store.upsert_adsorption("m/adslab", "m/slab", "t/S8")
    assert e_ti == pytest.approx(-30.0)  # the number is kept: a reaction energy, flagged
    frame = queries.adsorption(store, study="claims").set_index("site")
    assert (frame["state"] == "COMPLETED").all()
    reason = frame.at["Ti001", "state_reason"]
    assert (isinstance(reason, str) and reason.startswith(DISSOCIATED)) is broken
    assert frame.at["Mo1-NG", "state_reason"] is None
    claims = claims_table(store)
    ti_vs_mo = claims[claims["claim"] == "ti_vs_mo"]
    if broken:  # no comparison made with the broken S8; the row says why
        assert list(ti_vs_mo["detail"]) == ["Ti001/S8 left out"]
        assert ti_vs_mo["agrees"].isna().all()
    else:
        assert list(ti_vs_mo["detail"]) == ["S8"] and ti_vs_mo["agrees"].tolist() == [True]
    store.close()
