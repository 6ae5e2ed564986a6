"""Bader charges from a real CP2K density cube (units e/bohr^3, z fastest) with baderkit."""

from __future__ import annotations

import pytest

from lisflow.analysis.cube_bader import bader_from_cube
from lisflow.errors import ParseError

CUBE = "cp2k/si_static_density_cube_atomate2/CP2K-ELECTRON_DENSITY-1_0.cube"


def test_si_cube_basins_hold_the_eight_valence_electrons(fixtures_dir):
    r = bader_from_cube(fixtures_dir / CUBE, {"Si": 4.0})  # GTH Si q4
    assert r.total_electrons == pytest.approx(8.0, abs=1e-3)
    assert [s.element for s in r.sites] == ["Si", "Si"]
    assert r.valence_electrons == pytest.approx([4.0, 4.0], abs=1e-3)  # equivalent atoms
    assert r.net_charges == pytest.approx([0.0, 0.0], abs=1e-3)


def test_truncated_cube_is_a_parse_error(fixtures_dir, tmp_path):
    text = (fixtures_dir / CUBE).read_text()
    cut = tmp_path / "cut.cube"
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(ParseError, match="cut.cube"):
        bader_from_cube(cut, {"Si": 4.0})
    with pytest.raises(ParseError, match="valence"):
        bader_from_cube(fixtures_dir / CUBE, {"C": 4.0})
