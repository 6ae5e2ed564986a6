"""Stage chaining without the engine: the child keeps its added electrode Li (issue 11 item 2)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from lisflow.errors import InputError
from lisflow.io.cp2k import VELOCITY_PROPERTY
from lisflow.workflows.firetasks import merge_parent_structure


def _child() -> Structure:
    return Structure(
        Lattice.cubic(8.0), ["S", "Li", "Li", "Li"],
        [[1, 1, 4], [2, 1, 4], [1, 1, 1], [3, 3, 1]], coords_are_cartesian=True,
        site_properties={"label": ["adsorbate", "adsorbate", "electrode_Li", "electrode_Li"]},
    )


def test_parent_positions_and_velocities_with_added_li_kept():
    parent = Structure(
        Lattice.cubic(8.0), ["S", "Li"], [[1.1, 1.2, 4.3], [2.2, 0.9, 4.1]],
        coords_are_cartesian=True,
        site_properties={VELOCITY_PROPERTY: [[1e-4, 0.0, -2e-4], [3e-4, 1e-4, 0.0]]},
    )
    merged = merge_parent_structure(_child(), parent, "s/aimd/relaxation")
    assert len(merged) == 4
    assert np.allclose(merged.cart_coords[:2], parent.cart_coords)
    assert np.allclose(merged.cart_coords[2:], _child().cart_coords[2:])
    assert merged.site_properties[VELOCITY_PROPERTY] == [
        [1e-4, 0.0, -2e-4], [3e-4, 1e-4, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0],
    ]
    assert merged.site_properties["label"] == _child().site_properties["label"]


def test_parent_that_does_not_fit_is_refused():
    three = Structure(Lattice.cubic(8.0), ["S", "Li", "Li"], [[1, 1, 4], [2, 1, 4], [3, 1, 4]],
                      coords_are_cartesian=True)
    with pytest.raises(InputError, match="parents"):
        merge_parent_structure(_child(), three)
    swapped = Structure(Lattice.cubic(8.0), ["Li", "S"], [[1, 1, 4], [2, 1, 4]],
                        coords_are_cartesian=True)
    with pytest.raises(InputError, match="order"):
        merge_parent_structure(_child(), swapped)
