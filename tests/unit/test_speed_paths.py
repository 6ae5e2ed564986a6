"""The dry-run fast paths of issue 16 give the same results as the slow ones: staged writes
inside ``atomic_directory``, the memo of MD systems, the LOBSTER basis cache, POTCAR symbols,
and the `make bench` target table. No timing is asserted anywhere."""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.lobster import Lobsterin
from pymatgen.io.vasp import Poscar

from lisflow import fsutil
from lisflow.errors import InputError
from lisflow.io.lobster import basis_functions
from lisflow.io.vasp import potcar_symbols
from lisflow.structures import md_boxes, md_memo

ROOT = Path(__file__).resolve().parents[2]


def test_staged_writes_are_plain_and_flushed_before_the_rename(tmp_path, monkeypatch):
    target = tmp_path / "out"
    order = []
    real_flush = fsutil.flush_tree
    monkeypatch.setattr(fsutil, "flush_tree",
                        lambda root: (order.append(("flush", target.exists())), real_flush(root)))  # fmt: skip
    with fsutil.atomic_directory(target) as tmp:
        fsutil.atomic_write_text(tmp / "a" / "INCAR", "ENCUT = 520\n")
        fsutil.atomic_write_bytes(tmp / "secret", b"x", mode=0o600)
        # written in place: no temporary sibling files inside the staging tree
        assert sorted(p.name for p in (tmp / "a").iterdir()) == ["INCAR"]
        assert not target.exists()
    assert order == [("flush", False)]  # flushed once, while the tree was still invisible
    assert (target / "a" / "INCAR").read_text() == "ENCUT = 520\n"
    assert stat.S_IMODE((target / "secret").stat().st_mode) == 0o600
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((target / "a" / "INCAR").stat().st_mode) == 0o666 & ~umask
    assert fsutil._STAGING == set()
    # outside any atomic_directory the temp-file + rename path is used
    fsutil.atomic_write_text(tmp_path / "single.txt", "1\n")
    assert (tmp_path / "single.txt").read_text() == "1\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_failed_staged_directory_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), fsutil.atomic_directory(tmp_path / "out") as tmp:
        fsutil.atomic_write_text(tmp / "INCAR", "x")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    assert fsutil._STAGING == set()


def test_flush_tree_falls_back_to_fsync_per_file(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(fsutil, "_syncfs", lambda fd: False)
    monkeypatch.setattr(fsutil.os, "fsync", lambda fd: synced.append(fd))
    (tmp_path / "d").mkdir()
    for name in ("a", "d/b"):
        (tmp_path / name).write_text(name)
    fsutil.flush_tree(tmp_path)
    assert len(synced) == 2


SMALL_INTERFACE = {"kind": "interface", "electrode": "mo_ngraphene", "n_li2s6": 125,
                   "n_mo": 40, "box": [98.4, 76.695, 200.0],
                   "charges": "builtin:mo4ng_bader_cp2k", "scale": 0.02, "name": "t"}  # fmt: skip


def _same_system(a, b) -> None:
    assert (a.name, a.kind, a.counts, a.box, a.regions, a.notes) == (
        b.name, b.kind, b.counts, b.box, b.regions, b.notes
    )  # fmt: skip
    assert np.array_equal(a.electrode.cart_coords, b.electrode.cart_coords)
    assert a.electrode.site_properties == b.electrode.site_properties
    assert a.electrode.properties == b.electrode.properties


def test_cached_builds_equal_fresh_builds_and_copies_are_independent():
    fresh = md_boxes.build_system(SMALL_INTERFACE)
    with md_memo.cached_builds():
        first = md_boxes.build_system(SMALL_INTERFACE)
        first.electrode.add_site_property("charge", [9.0] * len(first.electrode))
        first.electrode.properties["charges"]["shift_per_atom_e"] = 99.0
        first.notes.append("changed by a caller")
        second = md_boxes.build_system(SMALL_INTERFACE)
        # the same electrode under another system reuses the memo, neutralised anew
        other = md_boxes.build_system(SMALL_INTERFACE | {"n_li2s6": 65, "name": "u"})
        assert len(md_memo._CACHE) == 4  # two systems, one electrode and its top z
    assert md_memo._CACHE is None
    _same_system(second, fresh)
    _same_system(other, md_boxes.build_system(SMALL_INTERFACE | {"n_li2s6": 65, "name": "u"}))
    assert abs(other.total_charge) < 1e-9 and abs(second.total_charge) < 1e-9


def test_shared_system_is_the_memo_itself_and_equals_a_copy():
    with md_memo.cached_builds():
        shared = md_boxes.shared_system(SMALL_INTERFACE)
        assert md_boxes.shared_system(SMALL_INTERFACE) is shared  # no copy for readers
        copied = md_boxes.build_system(SMALL_INTERFACE)
        assert copied is not shared and copied.electrode is not shared.electrode
        _same_system(copied, shared)
    _same_system(md_boxes.shared_system(SMALL_INTERFACE), shared)  # outside: a fresh build


def test_copy_structure_equals_structure_copy_bit_for_bit_and_is_independent():
    s = Structure(Lattice.orthorhombic(4.1, 5.2, 9.3), ["Li", "S", "Mo"],
                  [[0.1, 0.2, 0.3], [0.5, 0.5, 0.5], [0.9, 0.05, 0.7]],
                  site_properties={"label": ["a", "b", "c"], "charge": [0.5, -1.0, 0.25]},
                  properties={"charges": {"source": "x", "motifs": {"k": 1}}})  # fmt: skip
    out = md_memo.copy_structure(s)
    assert out.as_dict() == s.copy().as_dict()
    assert out.frac_coords.tobytes() == s.frac_coords.tobytes()
    assert out.cart_coords.tobytes() == s.cart_coords.tobytes()
    out.add_site_property("charge", [9.0, 9.0, 9.0])
    out.properties["charges"]["motifs"]["k"] = 2
    out.translate_sites([0], [0.1, 0.0, 0.0])
    out.append("C", [0.2, 0.2, 0.2])
    assert s.site_properties["charge"] == [0.5, -1.0, 0.25] and len(s) == 3
    assert s.properties["charges"]["motifs"] == {"k": 1}
    assert s[0].frac_coords.tolist() == [0.1, 0.2, 0.3]


def test_lobster_basis_cache_matches_pymatgen_and_errors_are_not_cached():
    s = Structure(Lattice.cubic(5.0), ["Li", "S", "Li"], [[0, 0, 0], [0.5, 0.5, 0.5], [0.2, 0, 0]])
    symbols = potcar_symbols(s)
    expected = Lobsterin.get_basis(structure=s, potcar_symbols=symbols)
    for _ in range(2):
        assert basis_functions(s, symbols) == dict(line.split(" ", 1) for line in expected)
    for _ in range(2):
        with pytest.raises(InputError, match="potcar_symbols"):
            basis_functions(s, ["Li_sv", "Xx"])


def test_potcar_symbols_follow_poscar_blocks():
    s = Structure(Lattice.cubic(6.0), ["Li", "S", "S", "Li", "Mo"],
                  [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]])  # fmt: skip
    blocks = Poscar(s).site_symbols
    assert blocks == ["Li", "S", "Li", "Mo"]
    assert potcar_symbols(s) == ["Li_sv", "S", "Li_sv", "Mo_pv"]


def _run_all():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_table_names_each_target_with_ratio_and_verdict():
    run_all = _run_all()
    results = {
        "dryrun": {"per_calc_ratio_lisflow_over_baseline": 0.8, "lisflow_per_calc_ms": 40.0,
                   "baseline_per_calc_ms": 50.0},
        "db": {"n_calculations": 100_000, "results": {
            "sqlite": {"upsert_calculation_ms": 1.5, "upsert_calculations_batch_ms_per_row": 0.4,
                       "site_adsorbate_p95_ms": 12.0,
                       "queries": {"calculations (all)": {"median_ms": 130.0}}},
            "baseline raw sqlite3": {"queries": {
                "calculations (all)": {"median_ms": 100.0},
                "adsorption --site --adsorbate": {"median_ms": 4.0}}}}},
    }  # fmt: skip
    rows = {r["target"]: r for r in run_all.target_rows(results)}
    assert rows["3 dry-run --all per calculation"]["ratio"] == "0.80"
    assert rows["3 dry-run --all per calculation"]["met"] == "met"
    assert rows["4 all calculations, 100000 rows"]["ratio"] == "1.30"
    assert rows["4 all calculations, 100000 rows"]["met"] == "NOT met"
    assert rows["4 site + adsorbate p95, 100000 rows"]["met"] == "NOT met"
    assert rows["4 upsert, batch (SQLite)"]["met"] == "met"
    assert rows["6 LAMMPS parameter sweep"]["measured"] == "missing"
    table = run_all.render(list(rows.values()))
    assert table.splitlines()[1].split() == ["target", "measured", "baseline", "ratio", "goal",
                                             "met"]  # fmt: skip
    assert len(table.splitlines()) == 3 + len(rows)


def _ase_idpp(initial: Structure, final: Structure, n: int) -> list[Structure]:
    from ase.mep import NEB
    from pymatgen.io.ase import AseAtomsAdaptor

    start, end = (AseAtomsAdaptor.get_atoms(s) for s in (initial, final))
    images = [start] + [start.copy() for _ in range(n)] + [end]
    NEB(images, method="improvedtangent").interpolate(method="idpp", mic=True)
    return [AseAtomsAdaptor.get_structure(a) for a in images]


@pytest.mark.parametrize("lattice", [Lattice.hexagonal(6.0, 9.0), Lattice.cubic(14.0)])
def test_batched_idpp_gives_ases_images_bit_for_bit(lattice):
    from lisflow.io.vasp_neb import idpp_images

    rng = np.random.default_rng(7)
    frac = rng.uniform(0.0, 1.0, (8, 3)) if lattice.is_hexagonal() else rng.uniform(0.3, 0.6, (8, 3))
    species = ["Li", "Li", "S", "S", "S", "S", "Mo", "N"]
    initial = Structure(lattice, species, frac)
    moved = frac.copy()
    moved[0] += [0.21, 0.17, 0.0]  # Li hops across a cell face
    final = Structure(lattice, species, moved)
    ours, ase = idpp_images(initial, final, 3), _ase_idpp(initial, final, 3)
    assert len(ours) == 5
    for a, b in zip(ours, ase, strict=True):
        assert a.frac_coords.tobytes() == b.frac_coords.tobytes()
    assert not np.array_equal(ours[2].frac_coords, ours[0].frac_coords)  # images did move


def test_spin_rotations_are_the_single_rotations_element_for_element():
    from lisflow.structures.adsorption import SPINS, _rot_axis, _spin_rotations

    for axis in ([0.3, -1.2, 0.7], [0.0, 0.0, 1.0], [2.0, 1e-3, -0.5]):
        batch = _spin_rotations(np.array(axis))
        assert batch.shape == (36, 3, 3)
        for spin, rot in zip(SPINS, batch, strict=True):
            assert rot.tobytes() == _rot_axis(np.array(axis), spin).tobytes()


def test_element_symbols_are_pymatgens_and_refuse_disorder():
    from lisflow.structures.md_charges import element_symbols

    s = Structure(Lattice.cubic(6.0), ["Mo", "N", "C", "C", "Ti"],
                  [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]])  # fmt: skip
    assert element_symbols(s) == [site.specie.symbol for site in s] == ["Mo", "N", "C", "C", "Ti"]
    s.replace(0, {"Mo": 0.5, "W": 0.5})
    with pytest.raises(ValueError, match="disordered"):
        element_symbols(s)


def test_structure_from_cartesian_is_pymatgens_structure_bit_for_bit():
    rng = np.random.default_rng(3)
    lattice = Lattice.orthorhombic(17.3, 15.1, 100.0)
    cart = rng.uniform(0.0, 15.0, (200, 3))
    symbols = list(rng.choice(["C", "N", "Mo"], 200))
    props = {"label": [f"l{i % 3}" for i in range(200)], "charge": list(rng.normal(size=200))}
    ours = md_memo.structure_from_cartesian(lattice, symbols, cart, props)
    theirs = Structure(lattice, symbols, cart, coords_are_cartesian=True, site_properties=props)
    assert ours.frac_coords.tobytes() == theirs.frac_coords.tobytes()
    assert ours.as_dict() == theirs.as_dict()
    ours.append("Li", [0.1, 0.1, 0.1])  # a mutable pymatgen Structure
    ours[0].properties["charge"] = 5.0  # own property dicts per site
    assert ours[1].properties["charge"] == theirs[1].properties["charge"]
    assert ours.composition.reduced_formula == (theirs.composition + {"Li": 1}).reduced_formula


def test_zone_pattern_is_pymatgens_tem_pattern_exactly():
    from pymatgen.analysis.diffraction.tem import TEMCalculator

    from lisflow.structures.diffraction import VOLTAGE_KV, zone_pattern
    from lisflow.structures.polymorphs import tetragonal_li2s2

    structure = tetragonal_li2s2()
    pattern = zone_pattern(structure, (1, 1, 1), "t")
    calc = TEMCalculator(voltage=VOLTAGE_KV, beam_direction=(1, 1, 1))
    table = calc.get_pattern(structure)
    scale = 10.0 / (calc.wavelength_rel() * calc.camera_length)
    assert len(pattern.spots) == len(table) > 100
    for spot, (_, row) in zip(pattern.spots, table.iterrows(), strict=True):
        assert spot.hkl == tuple(int(i) for i in row["(hkl)"])
        assert (spot.gx, spot.gy) == (float(row["Position"][0]) * scale,
                                      float(row["Position"][1]) * scale)  # fmt: skip
        assert spot.d_spacing == float(row["Interplanar Spacing"])
        assert spot.intensity == float(row["Intensity (norm)"])


def test_dasc_site_built_once_per_dry_run_callers_get_copies(monkeypatch):
    """Inside cached_builds a DASC site is relaxed once; each caller gets an equal,
    independent copy (changing one leaves the next untouched); outside, every call builds."""
    from lisflow.structures import support
    from lisflow.structures.md_memo import cached_builds

    calls = []
    real = support._dasc_graphene
    monkeypatch.setattr(support, "_dasc_graphene", lambda *a: calls.append(a) or real(*a))
    with cached_builds():
        first = support.dasc_graphene(["Fe", "Co"], 4)
        first.translate_sites([0], [0.1, 0, 0])
        first.properties["name"] = "changed"
        second = support.dasc_graphene(["Fe", "Co"], 4)
    assert len(calls) == 1
    fresh = support.dasc_graphene(["Fe", "Co"], 4)
    assert len(calls) == 2
    assert second == fresh and second.properties == fresh.properties
    assert second.properties["name"] == "FeCo-N6/G" and first != second


def test_staged_mkdir_makes_each_new_directory_once(tmp_path, monkeypatch):
    made = []
    real_mkdir = os.mkdir
    monkeypatch.setattr(fsutil.os, "mkdir", lambda path, *a: (made.append(path), real_mkdir(path, *a)))  # fmt: skip
    with fsutil.atomic_directory(tmp_path / "out") as tmp:
        staged = os.path.abspath(tmp)
        made.clear()  # (the staging directory itself)
        for name in ("a/b/INCAR", "a/b/KPOINTS", "a/c/POSCAR", "a/INCAR", "d/e/f/g"):
            fsutil.atomic_write_text(tmp / name, name)
        made_here = sorted(os.path.relpath(p, staged) for p in made)
        assert made_here == ["a", "a/b", "a/c", "d", "d/e", "d/e/f"]  # no mkdir of one made
        with pytest.raises(ValueError, match="not inside a staging tree"):
            fsutil.staged_mkdir("/")
    assert (tmp_path / "out" / "d" / "e" / "f" / "g").read_text() == "d/e/f/g"
    assert not any(d.startswith(staged) for d in fsutil._MADE_DIRS)  # forgotten with the tree


def test_files_below_lists_files_and_links_not_directories(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "to_dir").symlink_to(tmp_path / "a")  # listed, not followed
    (tmp_path / "to_file").symlink_to(tmp_path / "a" / "b" / "f")
    (tmp_path / "broken").symlink_to(tmp_path / "nowhere")
    assert fsutil._files_below(tmp_path) == {"a/b/f", "to_dir", "to_file", "broken"}


def test_patterns_drawn_on_one_figure_equal_fresh_figures_byte_for_byte():
    from lisflow.structures.diffraction import _PatternFigure, zone_pattern
    from lisflow.structures.polymorphs import li2s_antifluorite, tetragonal_li2s2

    first = zone_pattern(tetragonal_li2s2(), (0, 0, 1), "Li2S2_tetragonal")
    second = zone_pattern(li2s_antifluorite(), (0, 1, 1), "Li2S_cubic")
    shared = _PatternFigure()
    assert shared.png(first) == _PatternFigure().png(first)
    assert shared.margins is not None
    assert shared.png(second) == _PatternFigure().png(second)  # margins kept, same pixels


def test_dry_run_plans_and_writes_on_one_blas_thread(tmp_path, monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    from lisflow.spec import study_files
    from lisflow.workflows import dryrun

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    seen = []
    real_plan = dryrun.plan
    monkeypatch.setattr(dryrun, "plan", lambda *a: (seen.append(blas_threads()), real_plan(*a))[1])
    files = [f for f in study_files() if f.stem == "li2s2_polymorphs"]
    with threadpool_limits(limits=2, user_api="blas"):  # (whatever OMP_NUM_THREADS says)
        assert blas_threads() == {2}
        dryrun.dry_run(files, tmp_path / "out", progress=False)
        assert blas_threads() == {2}  # restored after
    assert seen == [{1}]  # planned on one thread
