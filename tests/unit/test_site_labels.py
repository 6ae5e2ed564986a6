"""Planned site labels copied onto parsed per-site rows (one helper for every engine)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pymatgen.core import Lattice, Structure

from lisflow.calculation import Calculation
from lisflow.engines.common import labelled_site_rows, site_labels


@dataclass
class _Row:
    site_index: int
    net_charge: float

    def to_dict(self) -> dict:
        return asdict(self)


def _calc() -> Calculation:
    structure = Structure(Lattice.cubic(5.0), ["Fe", "N", "C"], [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0]],
                          site_properties={"label": ["metal", "coordinating_N", "support"]})  # fmt: skip
    return Calculation("s/x", "s", "cp2k", "static", "slab", structure)


def test_site_labels_follow_the_planned_structure():
    assert site_labels(_calc(), 3) == ["metal", "coordinating_N", "support"]
    assert site_labels(_calc(), 4) == ["", "", "", ""]  # another structure: no labels


def test_labelled_site_rows_from_dicts_and_records():
    labels = site_labels(_calc(), 3)
    rows = labelled_site_rows([_Row(1, -1.13), {"site_index": 0, "net_charge": 0.9}], labels,
                              "mulliken")  # fmt: skip
    assert rows == [
        {"site_index": 1, "net_charge": -1.13, "label": "coordinating_N", "method": "mulliken"},
        {"site_index": 0, "net_charge": 0.9, "label": "metal", "method": "mulliken"},
    ]
    given = [{"site_index": 5, "method": "loewdin"}]
    assert labelled_site_rows(given, labels) == [
        {"site_index": 5, "method": "loewdin", "label": ""}
    ]
    assert given == [{"site_index": 5, "method": "loewdin"}]  # inputs are not modified
