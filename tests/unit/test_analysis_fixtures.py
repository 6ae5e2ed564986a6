"""The streaming analyses on real LAMMPS trajectories (shared fixtures) vs independent references."""

from __future__ import annotations

import bz2
import json
import warnings

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.analysis.msd import EinsteinMSD
from MDAnalysis.lib.distances import distance_array
from scipy.sparse.csgraph import connected_components
from typer.testing import CliRunner

from lisflow.analysis.base import run_analyses
from lisflow.analysis.clusters import SulfurClusters, cluster_labels, cluster_sizes
from lisflow.analysis.msd import MeanSquaredDisplacement
from lisflow.analysis.profiles import SliceChargeDensity
from lisflow.analysis.trajectory import load_universe
from lisflow.cli import app

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def spce_dump(fixtures_dir, tmp_path_factory):
    """The SPC/E dump, decompressed once (bz2 seeks make repeated passes slow)."""
    source = (
        fixtures_dir / "lammps/spce_water_unwrapped_dump_mdanalysis/spce_all_coords.lammpstrj.bz2"
    )
    target = tmp_path_factory.mktemp("spce") / "spce_all_coords.lammpstrj"
    target.write_bytes(bz2.decompress(source.read_bytes()))
    return target


@pytest.fixture(scope="module")
def ifabp(fixtures_dir):
    case = fixtures_dir / "lammps/ifabp_protein_nacl_npt_mdanalysis"
    return case / "ifabp_apo_100mM.dcd", case / "ifabp_apo_100mM.data.bz2"


def reference_sizes(positions, box):
    """Brute force: the full O(N²) periodic distance matrix and scipy connected components."""
    adjacency = distance_array(positions, positions, box=box) < 3.5
    _, labels = connected_components(adjacency, directed=False)
    counts = np.bincount(labels)
    return np.sort(counts)[::-1]


def test_spce_msd_matches_einstein_msd(spce_dump, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unwrapped = mda.Universe(
            spce_dump, format="LAMMPSDUMP", lammps_coordinate_convention="unwrapped"
        )
        wrapped = mda.Universe(spce_dump, format="LAMMPSDUMP", lammps_coordinate_convention="auto")
    assert len(unwrapped.trajectory) == 11 and len(unwrapped.atoms) == 4500
    oxygen = unwrapped.select_atoms("type 1")
    ours = [MeanSquaredDisplacement(oxygen, t, workdir=tmp_path) for t in ("xyz", "z")]
    run_analyses(unwrapped, ours, progress=False)
    for msd, msd_type in zip(ours, ("xyz", "z"), strict=True):
        ref = EinsteinMSD(oxygen, msd_type=msd_type, fft=False).run()
        np.testing.assert_allclose(msd.results.timeseries[1:], ref.results.timeseries[1:], rtol=1e-6)
        assert msd.results.timeseries[-1] > 1.0  # Å²: water did move
    # the wrapped columns, unwrapped in the stream, give the same curve (dump rounding ~1e-5 Å)
    streamed = MeanSquaredDisplacement(
        wrapped.select_atoms("type 1"), "xyz", unwrap=True, workdir=tmp_path
    )
    run_analyses(wrapped, [streamed], progress=False)
    np.testing.assert_allclose(streamed.results.timeseries[1:], ours[0].results.timeseries[1:], rtol=1e-4)


def test_spce_clusters_and_slices(spce_dump):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = mda.Universe(spce_dump, format="LAMMPSDUMP")
    oxygen = u.select_atoms("type 1")
    clusters = SulfurClusters(oxygen, periodic=(True, True, True))
    water = SliceChargeDensity(
        u.atoms, grouping="consecutive", group_size=3, block_ps=500.0, charge=1.0
    )
    run_analyses(u, [clusters, water], step=5, progress=False)
    edges = water.edges
    histograms = []
    for i, ts in enumerate(u.trajectory[::5]):
        ref = reference_sizes(oxygen.positions, ts.dimensions)
        assert (clusters.results.n_clusters[i], clusters.results.largest[i]) == (len(ref), ref[0])
        assert clusters.results.mean_largest[i] == pytest.approx(ref[:5].mean())
        pos = u.atoms.positions.reshape(-1, 3, 3).astype(float)
        box = ts.dimensions[:3].astype(float)
        whole = pos[:, :1] + (pos - pos[:, :1]) - box * np.round((pos - pos[:, :1]) / box)
        counts, _ = np.histogram(whole.mean(axis=1)[:, 2], bins=edges)
        histograms.append(counts / (box[0] * box[1] * 0.5))
    assert clusters.results.largest[0] > 1000  # liquid water: O–O < 3.5 Å percolates
    assert water.results.density.shape[0] == 3  # frames at 0, 500, 1000 → three 500 ps blocks
    np.testing.assert_allclose(water.results.density, np.array(histograms), rtol=1e-12)
    assert water.results.mean_density.sum() * 35.5 * 35.5 * 0.5 == pytest.approx(1500, rel=0.01)


def test_ifabp_dcd_sulfur(ifabp, tmp_path):
    dcd, data = ifabp
    u = load_universe(dcd, data)
    sulfur = u.select_atoms("prop mass > 32.0 and prop mass < 32.1")
    assert len(u.atoms) == 12421 and len(u.trajectory) == 5 and len(sulfur) > 0
    clusters = SulfurClusters(sulfur, periodic=(True, True, True))
    msd = MeanSquaredDisplacement(u.atoms, "xyz", workdir=tmp_path)
    run_analyses(u, [clusters, msd], progress=False)
    ref = EinsteinMSD(u.atoms, msd_type="xyz", fft=False).run()
    np.testing.assert_allclose(msd.results.timeseries[1:], ref.results.timeseries[1:], rtol=1e-6)
    for i, ts in enumerate(u.trajectory):
        assert clusters.results.n_clusters[i] == len(reference_sizes(sulfur.positions, ts.dimensions))
    # 5,000 protein/water atoms: the cell-list path matches brute force on a dense system too
    u.trajectory[2]
    atoms = u.atoms[:5000]
    ours = cluster_sizes(cluster_labels(atoms.positions, u.dimensions[:3], (True, True, True)))
    np.testing.assert_array_equal(ours, reference_sizes(atoms.positions, u.dimensions))


def test_peo_data_with_dump_and_dcd(fixtures_dir, tmp_path):
    """One LAMMPS NPT run read as data+dump and as data+DCD.

    MDAnalysis places dump coordinates relative to the box's lower corner while the DCD keeps
    LAMMPS' absolute ones, so under NPT (box 22 → 20.8 Å) frame 1 differs by a uniform shift:
    translation-invariant clusters must agree exactly, each MSD must equal EinsteinMSD on
    the same reader.
    """
    case = fixtures_dir / "lammps/peo_polymer_npt_atomate_v1"
    n_clusters = []
    for name in ("peo.dump", "peo.dcd"):
        u = load_universe(case / name, case / "peo.data", dt_ps=1.0)
        assert len(u.atoms) == 144 and len(u.trajectory) == 2
        np.testing.assert_allclose([ts.time for ts in u.trajectory], [0.0, 1.0], atol=1e-6)
        msd = MeanSquaredDisplacement(u.atoms, "xyz", workdir=tmp_path)
        clusters = SulfurClusters(u.atoms, cutoff=1.6, periodic=(True, True, True))
        run_analyses(u, [msd, clusters], progress=False)
        ref = EinsteinMSD(u.atoms, msd_type="xyz", fft=False).run()
        np.testing.assert_allclose(msd.results.timeseries[1:], ref.results.timeseries[1:], rtol=1e-6)
        n_clusters.append(clusters.results.n_clusters)
    np.testing.assert_array_equal(n_clusters[0], n_clusters[1])
    assert n_clusters[0][0] == 2  # two PEO chains: bonded atoms (< 1.6 Å) form two clusters


def test_analyze_cli_on_ifabp(ifabp, tmp_path):
    dcd, data = ifabp
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["analyze", str(dcd), "--topology", str(data), "--analyses", "clusters,msd,surface,dense",
         "--electrode-select", "prop mass > 22.9 and prop mass < 23.0", "--out", str(out),
         "--no-progress", "--window", "20,80"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "clusters.png", "dense.png", "msd_xyz.png", "series.json", "summary.json",
        "surface.png",
    ]  # fmt: skip
    assert (out / "clusters.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_frames"] == 5 and summary["D_xyz_fit"]["window"] == [20.0, 80.0]
    series = json.loads((out / "series.json").read_text())
    assert {(s["analysis"], s["quantity"]) for s in series} >= {
        ("clusters", "n_clusters"),
        ("msd_xyz", "msd_z"),
    }
    assert summary["D_z_fit"]["window"] == [20.0, 80.0] and summary["D_z_cm2_s"] > 0
    # the same series go to the results database (md_series) under a calculation id
    from lisflow.db.schema import CalculationRecord
    from lisflow.db.store import ResultStore

    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    with ResultStore(url) as store:
        store.upsert_calculation(CalculationRecord("md-ifabp", "fixtures", "lammps", "md", "bulk"))
    stored = CliRunner().invoke(
        app,
        ["analyze", str(dcd), "--topology", str(data), "--analyses", "clusters", "--out",
         str(tmp_path / "out2"), "--no-progress", "--calc-id", "md-ifabp", "--db", url],
    )  # fmt: skip
    assert stored.exit_code == 0, stored.output
    with ResultStore(url) as store:
        assert store.count("md_series") == 3 * 5  # three cluster quantities × five frames
    bad = CliRunner().invoke(
        app, ["analyze", str(dcd), "--topology", str(data), "--analyses", "rdf"]
    )
    assert bad.exit_code == 2 and "analyses" in bad.output


def test_analyze_selects_s6_by_the_pack_type_map_and_window(ifabp, tmp_path):
    """``analyze`` takes the polysulfide S from <stem>.types.json (TFSI S has another type)
    and only the frames of --start/--stop (ns); issue 11 item 6."""
    import bz2

    from lisflow.analysis.trajectory import load_universe

    dcd, data = ifabp
    plain = tmp_path / "system.data"
    plain.write_bytes(bz2.decompress(data.read_bytes()))
    u = load_universe(dcd, plain, dt_ps=0.5)
    na_type = int(u.select_atoms("prop mass > 22.9 and prop mass < 23.0").types[0])
    (tmp_path / "system.types.json").write_text(
        json.dumps({"s6_sulfur_types": [na_type], "electrode_types": []})
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["analyze", str(dcd), "--topology", str(plain), "--analyses", "clusters", "--out",
         str(out), "--no-progress", "--dt-ps", "0.5", "--start", "0.0005", "--stop", "0.0015"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sulfur_selection"] == f"type {na_type}"
    assert summary["n_frames"] == 3 and summary["window_ns"] == [0.0005, 0.0015]
    series = json.loads((out / "series.json").read_text())
    largest = next(s for s in series if s["quantity"] == "largest_size")
    assert largest["x"] == [0.5, 1.0, 1.5]  # frames 1-3 of 0, 0.5, ..., 2 ps
