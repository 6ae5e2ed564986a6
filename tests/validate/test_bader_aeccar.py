"""Bader on the Si fixture with the AECCAR0+AECCAR2 reference density (60^3 grid, three
volumetric files: the slowest Bader run, so it is a `make validate` check)."""

from __future__ import annotations

import pytest

from lisflow.parsers.bader import bader_charges


def test_baderkit_si_with_aeccar_reference(fixtures_dir):
    r = bader_charges(fixtures_dir / "bader/si_bulk_chgcar_aeccar_atomate_v1")
    assert "AECCAR0+AECCAR2" in r.method
    assert sum(r.valence_electrons) == pytest.approx(8.0, rel=1e-3)
    assert r.total_electrons == pytest.approx(8.0, rel=1e-3)
    assert r.valence_electrons == pytest.approx([4.0, 4.0], abs=1e-3)
    assert r.net_charges == pytest.approx([0.0, 0.0], abs=1e-3)  # ZVAL(Si) = 4 from OUTCAR
