"""Dipole-correction step mid-vacuum and >= the stated vacuum, over the whole catalogue (issue 11.3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar

from lisflow.spec import load_spec, study_files
from lisflow.spec.models import DascSubstrate, TiSubstrate
from lisflow.structures import adsorption_configurations, molecule, ti0001
from lisflow.structures.adsorption import vacuum_gap, with_vacuum
from lisflow.structures.support import MIN_VACUUM
from lisflow.workflows.dryrun import dry_run


def _stated_vacuum(spec) -> dict[str, float]:
    """Vacuum each study states per substrate: the substrate's ``vacuum`` field (paper 002:
    15 Å for all surfaces), else lisflow's 15 Å for the Mo NCs/N-G cell (paper 000: 22 Å cell)."""
    from lisflow.workflows.plan import substrate_structure

    out = {}
    for sub in spec.substrates:
        site, _ = substrate_structure(sub, None)
        out[site] = sub.vacuum if isinstance(sub, DascSubstrate | TiSubstrate) else MIN_VACUUM
    return out


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> tuple[Path, list[dict], dict[str, dict[str, float]]]:
    """dry-run of every adsorption study of ``lisflow dry-run --all`` (the only slab inputs)."""
    files = [p for p in study_files() if load_spec(p).kind == "adsorption"]
    out = tmp_path_factory.mktemp("dry")
    dry_run(files, out, progress=False)
    rows = json.loads((out / "manifest.json").read_text())["calculations"]
    stated = {spec.study: _stated_vacuum(spec) for spec in map(load_spec, files)}
    return out, rows, stated


def test_dipole_step_mid_vacuum_and_vacuum_kept(catalogue) -> None:
    out, rows, stated = catalogue
    checked = 0
    for row in rows:
        if row["engine"] != "vasp" or row["role"] not in ("slab", "adslab"):
            continue
        incar = Incar.from_file(out / row["directory"] / "INCAR")
        s = Structure.from_file(out / row["directory"] / "POSCAR")
        assert incar["LDIPOL"] is True and incar["IDIPOL"] == 3, row["calc_id"]
        step = (incar["DIPOL"][2] + 0.5) % 1.0  # VASP: potential step at DIPOL ± 1/2
        dz = s.frac_coords[:, 2] - step
        dz -= np.round(dz)
        assert np.abs(dz).min() * s.lattice.c >= 4.0, row["calc_id"]
        z = np.sort(s.cart_coords[:, 2])
        assert z[0] >= 0.0 and z[-1] <= s.lattice.c  # nothing wraps across the cell top
        vacuum = s.lattice.c - (z[-1] - z[0])
        assert vacuum >= stated[row["study"]][row["labels"]["site"]] - 1e-4, row["calc_id"]
        checked += 1
    assert checked == 234  # 18 slab + 216 adslab inputs (relax + static)


def test_slab_and_its_adslabs_share_one_cell(catalogue) -> None:
    out, rows, _ = catalogue
    heights: dict[tuple[str, str], set[float]] = {}
    for row in rows:
        if row["role"] in ("slab", "adslab"):
            s = Structure.from_file(out / row["directory"] / "POSCAR")
            key = (row["study"], row["labels"]["site"])
            heights.setdefault(key, set()).add(round(s.lattice.c, 4))
    assert heights and all(len(h) == 1 for h in heights.values())


def test_wrapping_adsorbate_is_unwrapped_and_cell_grown() -> None:
    """Ti(0001) + Li2S8: the placed adsorbate crosses the 26.7 Å cell top (issue's worst case)."""
    slab = ti0001()
    configs = adsorption_configurations(slab, molecule("Li2S8"), n_orientations=1)
    frac = configs[0].frac_coords.copy()
    frac[:, 2] %= 1.0  # as written to a POSCAR that wraps into the cell
    wrapped = Structure(configs[0].lattice, configs[0].species, frac)
    assert (wrapped.frac_coords[len(slab) :, 2] < 0.2).any()  # some adsorbate atoms wrapped
    fitted_slab, fitted = with_vacuum([slab, wrapped], 15.0)
    top_of_slab = fitted.cart_coords[: len(slab), 2].max()
    assert (fitted.cart_coords[len(slab) :, 2] > top_of_slab).all()
    assert np.allclose(fitted.cart_coords[: len(slab)], slab.cart_coords)
    thickness = np.ptp(fitted.cart_coords[:, 2])
    assert fitted.lattice.c == pytest.approx(thickness + 15.0)
    assert fitted.properties["c_grown_from"] == pytest.approx(slab.lattice.c)
    assert fitted_slab.lattice.c == pytest.approx(fitted.lattice.c)
    gap, middle, _ = vacuum_gap(fitted)
    assert gap == pytest.approx(15.0)
    z = fitted.cart_coords[:, 2]
    c = fitted.lattice.c
    assert middle * c == pytest.approx((z.max() + z.min() + c) / 2 % c, abs=1e-6)
