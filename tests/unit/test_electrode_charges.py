"""Charged MD electrodes (issue 11 item 1): Bader charges of the Mo4/N-G DFT cell (CP2K +
baderkit, shipped in inputs/electrode_charges/) mapped by local motif onto the MD electrode;
the LAMMPS data files are neutral to 1e-6 e and say where every charge came from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lisflow.errors import InputError
from lisflow.forcefield.charges import (
    CHARGES_DIR,
    DEFAULT_MO_NGRAPHENE,
    load_charge_table,
    map_by_motif,
    motif_keys,
)
from lisflow.io.lammps_data import data_text
from lisflow.structures.md_boxes import dense_phase, interface
from lisflow.structures.support import mo_ngraphene

SHIPPED = CHARGES_DIR / "mo4ng_bader_cp2k.json"


def _atoms(text: str) -> list[tuple[int, float, str]]:
    """(type, charge, comment) of every Atoms row of a LAMMPS data file."""
    block = text.split("Atoms # full\n\n", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in block.splitlines():
        data, _, comment = line.partition("#")
        words = data.split()
        rows.append((int(words[2]), float(words[3]), comment.strip()))
    return rows


def _solution_coords(system) -> np.ndarray:
    from lisflow.structures.molecules import molecule

    n = sum(r.count * len(molecule(r.species)) for r in system.regions)
    return np.zeros((n, 3))


def test_shipped_charges_are_a_real_cp2k_bader_result():
    data = json.loads(SHIPPED.read_text())
    dft = mo_ngraphene(4)
    assert len(data["sites"]) == len(dft) == 114
    assert [s["element"] for s in data["sites"]] == [s.specie.symbol for s in dft]
    assert data["cp2k_version"].startswith("CP2K version")
    assert data["settings"]["xc"] == "PBE" and data["settings"]["kpoints"] == "Gamma"
    # net charge = GTH valence - Bader electrons; the basins hold all valence electrons
    valence = {"C": 4, "N": 5, "Mo": 14}
    for s in data["sites"]:
        assert s["charge"] == pytest.approx(valence[s["element"]] - s["bader_electrons"], abs=2e-5)
    assert data["n_valence_electrons"] == 106 * 4 + 4 * 5 + 4 * 14
    # stride-2 cube: the grid integral holds 499.93 of the 500 valence electrons
    assert data["total_bader_electrons"] == pytest.approx(data["n_valence_electrons"], abs=0.1)
    mo = sum(s["charge"] for s in data["sites"] if s["element"] == "Mo")
    assert data["mo_total_charge"] == pytest.approx(mo, abs=1e-3)
    assert mo > 0  # the Mo centre gives electrons to the N-doped sheet (paper: +7.37 e)


def test_motif_mapping_onto_the_dft_cell_keeps_every_total():
    table = load_charge_table(DEFAULT_MO_NGRAPHENE)
    mapped = map_by_motif(table, table.structure)
    assert mapped.unmatched == {}
    assert mapped.charges.sum() == pytest.approx(sum(table.charges), abs=1e-9)
    for element in ("Mo", "N", "C"):
        mask = [s.specie.symbol == element for s in table.structure]
        assert mapped.charges[mask].sum() == pytest.approx(table.element_total(element), abs=1e-9)
    keys = motif_keys(table.structure)
    assert keys.count("C:3C") > 80 and sum(k.startswith("N:2C") for k in keys) == 4


@pytest.mark.parametrize("builder", ["interface", "dense_phase"])
def test_lammps_data_file_carries_mapped_charges_and_is_neutral(builder):
    if builder == "interface":
        system = interface("mo_ngraphene", 65, scale=0.1)
    else:
        system = dense_phase("mo_ngraphene", scale=0.01)
    table = load_charge_table(DEFAULT_MO_NGRAPHENE)
    ref = {k: v["charge"] for k, v in map_by_motif(table, table.structure).table.items()}
    text = data_text(system, _solution_coords(system))
    rows = _atoms(text)
    assert abs(sum(q for _, q, _ in rows)) < 1e-6  # the whole box, as written
    n_e = len(system.electrode)
    electrode = rows[:n_e]
    record = system.electrode.properties["charges"]
    shift = record["shift_per_atom_e"]
    assert f"({shift:+.3e} e each)" in record["neutralisation"]
    for (_, q, comment), site in zip(electrode, system.electrode, strict=True):
        motif = comment.removeprefix("electrode ").strip()
        assert motif == site.properties["motif"]
        expected = ref[motif] + (shift if site.specie.symbol == "C" else 0.0)
        assert q == pytest.approx(expected, abs=1e-9)
    mo = [q for (_, q, _), s in zip(electrode, system.electrode, strict=True)
          if s.specie.symbol == "Mo"]
    n_centres = len(mo) // 4
    assert len(mo) == 4 * n_centres > 0
    assert sum(mo) == pytest.approx(n_centres * table.element_total("Mo"), abs=1e-6)
    assert record["mo_per_centre_charge"] == pytest.approx(table.element_total("Mo"), abs=1e-6)
    assert f"# electrode charges: {SHIPPED}" in text
    assert "(paper 000: +7.37 e)" in text and "# neutral: system net charge" in text


def test_ti_slab_is_uncharged_and_says_so():
    system = interface("ti0001", 65, scale=0.1)
    assert max(abs(q) for q in system.electrode.site_properties["charge"]) < 1e-12
    assert abs(system.total_charge) < 1e-9
    assert data_text(system, _solution_coords(system)).count("# electrode charges: none") == 1


def test_bad_charge_source_names_the_field(tmp_path):
    with pytest.raises(InputError, match="charges"):
        interface("mo_ngraphene", 65, scale=0.1, charges="builtin:no_such_set")
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    with pytest.raises(InputError, match="charges"):
        interface("mo_ngraphene", 65, scale=0.1, charges=str(bad))
