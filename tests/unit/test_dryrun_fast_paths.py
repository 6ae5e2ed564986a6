"""Issue 16 target 3: each dry-run fast path writes what the slow path it replaces wrote
(POSCAR text, electronegativity sort, lobsterin, in-memory hashes and staged writes, the
antifluorite cell) and the collector pause leaves the collector as it found it."""

from __future__ import annotations

import gc
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.lobster import Lobsterin
from pymatgen.io.vasp import Incar, Poscar

from lisflow.calculation import Calculation
from lisflow.engines.registry import get_engine
from lisflow.fsutil import atomic_directory, hash_directory
from lisflow.io.lobster import lobsterin_text
from lisflow.io.mlip import mlip_settings
from lisflow.io.vasp import VaspInputs, bare, poscar_text
from lisflow.structures.polymorphs import li2s_antifluorite
from lisflow.structures.sorted_sites import sorted_by_electronegativity
from lisflow.workflows.dryrun import (
    IN_MEMORY_ENGINES,
    collector_paused,
    hash_texts,
    write_calculation,
)


def _slab() -> Structure:
    """Unsorted, mixed-species slab with labels, a charge and selective dynamics."""
    rng = np.random.default_rng(7)
    species = ["S", "Li", "C", "N", "Fe", "Co", "C", "Li", "S", "C", "N", "H"]
    s = Structure(
        Lattice.from_parameters(7.4, 7.4, 20.0, 90, 90, 120),
        species,
        rng.random((len(species), 3)) * [1, 1, 0.4] - [0.0, 0.0, 0.05],  # some z < 0
        site_properties={"label": ["adsorbate", "adsorbate"] + ["slab"] * 10},
        properties={"name": "test slab"},
    )
    return s


def _pymatgen_poscar(structure: Structure, comment: str, flags=None) -> str:
    return Poscar(bare(structure), comment=comment, selective_dynamics=flags).get_str(
        significant_figures=10
    )


def test_poscar_text_is_pymatgens_byte_for_byte():
    slab = _slab()
    sorted_slab = slab.get_sorted_structure()
    assert poscar_text(sorted_slab, "x") == _pymatgen_poscar(sorted_slab, "x")
    assert poscar_text(slab, "unsorted") == _pymatgen_poscar(slab, "unsorted")  # repeated blocks
    flags = [[i > 5] * 3 for i in range(len(slab))]
    assert poscar_text(slab, "sd", flags) == _pymatgen_poscar(slab, "sd", flags)
    assert "Selective dynamics" in poscar_text(slab, "sd", flags)
    all_free = [[True] * 3] * len(slab)  # pymatgen writes no block when nothing is fixed
    assert poscar_text(slab, "free", all_free) == _pymatgen_poscar(slab, "free", all_free)
    assert "Selective dynamics" not in poscar_text(slab, "free", all_free)
    left = Structure(-np.eye(3) * 4.0, ["Li", "S"], [[0, 0, 0], [0.5, 0.5, 0.5]])  # det < 0
    assert poscar_text(left, "l") == _pymatgen_poscar(left, "l")
    ions = Structure(Lattice.cubic(4.0), ["Li+", "S2-"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert poscar_text(ions, "ions") == _pymatgen_poscar(ions, "ions")
    with pytest.raises(ValueError, match="Disordered"):
        poscar_text(Structure(Lattice.cubic(4.0), [{"Li": 0.5}], [[0, 0, 0]]), "d")


def test_electronegativity_sort_equals_pymatgens():
    slab = _slab()
    slab.add_site_property("selective_dynamics", [[True] * 3] * len(slab))
    ours, theirs = sorted_by_electronegativity(slab), slab.get_sorted_structure()
    assert ours.as_dict() == theirs.as_dict()
    assert [s.species_string for s in ours] == ["Li", "Li", "Fe", "Co", "H", "C", "C", "C",
                                               "S", "S", "N", "N"]  # fmt: skip
    # ties broken by the species string, equal sites keep their order (a stable sort)
    same = Structure(Lattice.cubic(9.0), ["C", "C", "Li", "C"], np.eye(4, 3) * 0.3)
    assert [s.frac_coords.tolist() for s in sorted_by_electronegativity(same)] == [
        s.frac_coords.tolist() for s in same.get_sorted_structure()
    ]


def _lobsterin_through_files(structure, incar, symbols) -> str:
    """The former lisflow path: POSCAR and the whole INCAR written, pymatgen reads them."""
    from lisflow.io.lobster import basis_functions

    basis = basis_functions(structure, symbols)
    with tempfile.TemporaryDirectory() as tmp:
        poscar, incar_file, out = (Path(tmp) / n for n in ("POSCAR", "INCAR", "lobsterin"))
        Poscar(bare(structure)).write_file(poscar)
        Incar(incar).write_file(incar_file)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Lobsterin.standard_calculations_from_vasp_files(
                str(poscar), str(incar_file), dict_for_basis=basis, option="standard"
            ).write_lobsterin(str(out))
        return out.read_text()


@pytest.mark.parametrize("smearing", [{"ISMEAR": 0, "SIGMA": 0.05}, {"ISMEAR": -5}])
def test_lobsterin_once_per_basis_and_smearing_equals_the_file_path(smearing):
    slab = _slab().get_sorted_structure()
    symbols = ["Li_sv", "Co", "Fe", "H", "C", "S", "N"]
    incar = {"ENCUT": 520, "ISPIN": 2, "MAGMOM": [0.6] * len(slab), "NBANDS": 200, **smearing}
    text = lobsterin_text(slab, incar, symbols)
    assert text == _lobsterin_through_files(slab, incar, symbols)
    assert ("gaussianSmearingWidth 0.05" in text) == (smearing["ISMEAR"] == 0)
    # another structure with the same elements and smearing: the same text
    moved = slab.copy()
    moved.translate_sites([0], [0.1, 0.0, 0.0])
    assert lobsterin_text(moved, {**incar, "ENCUT": 400}, symbols) == text


def _calcs() -> list[Calculation]:
    slab = sorted_by_electronegativity(_slab())
    slab.properties["spin_multiplicity"] = 2
    vasp = Calculation(
        calc_id="t/slab/x/static", study="t", engine="vasp", task="static", role="slab",
        structure=slab,
        inputs=VaspInputs(preset_name="paper002", task="static", role="slab"),
    )  # fmt: skip
    mlip = Calculation(
        calc_id="t/slab/x/prerelax", study="t", engine="mlip", task="relax", role="slab",
        structure=slab, inputs=mlip_settings("chgnet", "relax", {}),
    )  # fmt: skip
    return [vasp, mlip]


def test_staged_writes_and_memory_hashes_equal_the_engines_own(tmp_path):
    for calc in _calcs():
        assert calc.engine in IN_MEMORY_ENGINES
        plain = write_calculation(calc, tmp_path / "plain")  # the engine's write_inputs
        with atomic_directory(tmp_path / "staged") as staging:
            staged = write_calculation(calc, staging, staged=True)
        assert staged == plain
        for name in plain.files:
            a = (tmp_path / "plain" / calc.name / name).read_bytes()
            assert (tmp_path / "staged" / calc.name / name).read_bytes() == a
            mode = (tmp_path / "plain" / calc.name / name).stat().st_mode
            assert (tmp_path / "staged" / calc.name / name).stat().st_mode == mode
        assert staged.input_hash == hash_directory(tmp_path / "staged" / calc.name, staged.files)
        texts = get_engine(calc.engine).input_files(calc)
        assert hash_texts(texts) == plain.input_hash
        assert hash_texts({**texts, "extra": "1\n"}) != plain.input_hash
        # nested names (NEB images) get their directories
    with atomic_directory(tmp_path / "nested") as staging:
        from lisflow.workflows.dryrun import write_staged_texts

        assert write_staged_texts(staging / "c", {"01/POSCAR": "a\n", "INCAR": "b\n"}) == [
            "01/POSCAR", "INCAR"]  # fmt: skip
    assert (tmp_path / "nested" / "c" / "01" / "POSCAR").read_text() == "a\n"


def test_antifluorite_equals_the_space_group_construction():
    for a in (5.71, 5.5):
        ours = li2s_antifluorite(a)
        theirs = Structure.from_spacegroup(
            "Fm-3m", Lattice.cubic(a), ["S", "Li"], [[0, 0, 0], [0.25, 0.25, 0.25]]
        )
        theirs.add_site_property("label", ["bulk"] * len(theirs))
        theirs.properties = ours.properties
        assert ours.as_dict() == theirs.as_dict()
        assert ours.composition.reduced_formula == "Li2S" and len(ours) == 12


def test_collector_paused_restores_the_collector():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # was off: stays off
    finally:
        gc.enable()


def test_key_parameters_are_the_full_incars_key_tags():
    """The manifest's key tags come from the INCAR without its per-site tags (MAGMOM,
    NBANDS, DIPOL): the same values as from the INCAR written, for spin-polarised LOBSTER
    runs on slabs and the rest of a real study."""
    from lisflow.io.vasp import KEY_TAGS, kpoint_mesh
    from lisflow.spec import load_spec, study_files
    from lisflow.workflows.plan import plan

    warnings.filterwarnings("ignore")
    path = next(f for f in study_files() if f.stem == "dasc_adsorption")
    calcs = [c for c in plan(load_spec(path), path) if c.engine == "vasp"]
    per_site = {"MAGMOM", "NBANDS", "DIPOL"}
    seen: set[str] = set()
    for calc in calcs:
        structure = calc.periodic_structure()
        full = calc.inputs.incar(structure)
        seen |= per_site & set(full)
        expected = {key: full[key] for key in KEY_TAGS if key in full}
        expected["kpoints"] = list(kpoint_mesh(structure, calc.inputs.kpoint_rule(),
                                               calc.inputs.vacuum_axes()))  # fmt: skip
        expected["preset"] = calc.inputs.preset_name
        assert calc.inputs.key_parameters(calc) == expected
    assert seen == per_site  # every per-site tag occurred in this study
