"""The loop DFT/MLIP → DB → ML → DFT on a tiny computed data set (issue 14 item 5), for real:
``ml dataset-study`` (4 sites, 4×4 cell, CHGNet 0.3.0 + D3(BJ), loose fmax) → ``submit`` →
``run`` (FireWorks) → results DB → ``ml fit --from-db`` on relaxed-site features → ``ml screen``
→ ``dry-run`` of the proposed VASP study."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.db import queries
from lisflow.db.store import ResultStore
from lisflow.ml.datasets import all_sites
from lisflow.ml.features import feature_frame
from lisflow.ml.tables import table_from_db
from lisflow.structures.support import dasc_graphene

METALS = [("Fe",), ("Co",), ("Ni",), ("Fe", "Fe"), ("Fe", "Co"), ("Fe", "Ni")]
SITES = ["Fe-N4", "Co-N4", "Ni-N4", "FeFe-N6", "FeCo-N6", "FeNi-N6"]  # the smallest fit: 6 rows
#: structural features that the relaxation changes (Å); the heights h_M1, h_M2 stay 0: a flat
#: start has no out-of-plane force on the bare site
GEOMETRY = ["d_M1N_mean", "d_M2N_mean", "L3N", "d_NN_nearest_mean", "d_MN_mean_all"]


def _ok(result):
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_mlip_dataset_db_fit_screen_dry_run(tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LISFLOW_DB_URL", db_url)
    runner = CliRunner()
    out = _ok(runner.invoke(app, [
        "ml", "dataset-study", "--metal", "Fe", "--metal", "Co", "--metal", "Ni", "--order",
        "catalogue", "--limit", "6", "--fmax", "0.5", "--steps", "80", "--study", "loop", "--out", "loop.yaml",
    ]))  # fmt: skip
    assert "6 sites" in out
    study = yaml.safe_load((tmp_path / "loop.yaml").read_text())
    assert study["engine"] == "mlip" and study["kind"] == "adsorption"
    assert [tuple(s["metals"]) for s in study["substrates"]] == METALS
    assert {s["supercell"] for s in study["substrates"]} == {4}
    assert study["overrides"] == {"OPTIMIZER": "BFGS", "FMAX": 0.5, "STEPS": 80}
    assert "reduced from the papers' 6x6" in study["description"]

    # 6 slabs + 6 adslabs + 1 Li2S molecule + 6 E_ads analyses
    assert "19 new Fireworks" in _ok(runner.invoke(app, ["submit", "loop.yaml"]))
    _ok(runner.invoke(app, ["run"]))
    store = ResultStore(db_url)
    ads = queries.adsorption(store, study="loop")
    assert sorted(ads["site"]) == sorted(SITES)  # one E_ads row per site
    assert np.isfinite(ads["energy_ev"]).all() and (ads["energy_ev"] < 0).all()
    slab_id = "loop/slab/FeCo-N6/relax"
    relaxed_run = store.get(slab_id)
    assert relaxed_run.state == "COMPLETED" and "sha256:" in relaxed_run.engine_version

    # re-running adds nothing and stores nothing twice
    assert "0 new Fireworks, 13 already completed" in _ok(
        runner.invoke(app, ["submit", "loop.yaml"])
    )
    _ok(runner.invoke(app, ["run"]))
    again = queries.adsorption(store, study="loop")
    assert len(again) == 6 and np.allclose(
        again.sort_values("site")["energy_ev"], ads.sort_values("site")["energy_ev"]
    )

    # training table: relaxed-site structural features (not the built 4x4 ones), non-constant
    table = table_from_db(store, study="loop").set_index("site")
    assert len(table) == 6 and table["energy_ev"].notna().all()
    built = feature_frame(
        METALS, {n: dasc_graphene(list(m), supercell=4) for n, m in zip(SITES, METALS, strict=True)}
    )
    for column in GEOMETRY:
        assert table[column].std() > 1e-4, column  # varies across sites
    moved = (table.loc[SITES, GEOMETRY] - built.loc[SITES, GEOMETRY]).abs().to_numpy().max()
    assert moved > 0.01  # features of the relaxed sites, not of the built ones

    # the shipped form: training CSV (same table), per-site energies, provenance
    out = _ok(runner.invoke(app, ["ml", "export-dataset", "--study", "loop", "--out", "ds.csv"]))
    assert "6 sites (6 with relaxed-structure features)" in out
    shipped = pd.read_csv(tmp_path / "ds.csv").set_index("site")
    assert np.allclose(shipped.loc[SITES, "energy_ev"], table.loc[SITES, "energy_ev"], atol=1e-5)
    energies = pd.read_csv(tmp_path / "ds.energies.csv").set_index("site")
    balance = energies["e_adslab_ev"] - energies["e_slab_ev"] - energies["e_li2s_ev"]
    assert np.allclose(balance, energies["e_ads_ev"], atol=1e-5)
    assert (energies["slab_fmax_ev_per_a"] < 0.5).all() and (energies["slab_atoms"] <= 31).all()
    provenance = json.loads((tmp_path / "ds.provenance.json").read_text())
    assert provenance["n_sites"] == 6 and provenance["cell"].startswith("4x4 ")
    assert provenance["mlip_settings"]["fmax"] == 0.5
    assert provenance["mlip_settings"]["optimizer"] == "BFGS"
    assert "sha256:" in provenance["engine_versions"][0]
    assert provenance["calculations"] == {"COMPLETED": 13}

    out = _ok(runner.invoke(app, [
        "ml", "fit", "--from-db", "--study", "loop", "--folds", "2", "--estimators", "10",
        "--ensemble", "2", "--baseline", "rf", "--out", "fit", "--no-progress",
    ]))  # fmt: skip
    assert "final model" in out
    meta = json.loads((tmp_path / "fit" / "meta.json").read_text())
    assert sorted(meta["known_sites"]) == sorted(SITES)
    stages = pd.read_csv(tmp_path / "fit" / "stage_table.csv")
    assert {"filter", "rf"} <= set(stages["candidate"])
    filtered = json.loads((tmp_path / "fit" / "features.json").read_text())["stable"]
    assert filtered  # some selection survived

    out = _ok(runner.invoke(app, [
        "ml", "screen", "--model", "fit", "--metal", "Fe", "--metal", "Co", "--metal", "Ni",
        "--metal", "Cu",
        "--cell", "4", "--top", "2", "--study", "loop_dft", "--out", "proposal.yaml",
        "--ranking", "ranking.csv",
    ]))  # fmt: skip
    ranking = pd.read_csv(tmp_path / "ranking.csv")
    # Fe, Co, Ni, Cu SASCs + 10 DASCs, minus the 6 computed
    assert sorted(ranking["site"]) == sorted(
        ["Cu-N4", "CoCo-N6", "CoNi-N6", "CoCu-N6", "FeCu-N6", "NiNi-N6", "NiCu-N6", "CuCu-N6"]
    )
    assert all(math.isfinite(v) for v in ranking["prediction"])
    proposal = yaml.safe_load((tmp_path / "proposal.yaml").read_text())
    assert proposal["engine"] == "vasp" and len(proposal["substrates"]) == 2
    assert "supercell" not in proposal["substrates"][0]  # DFT in the papers' 6x6 cell

    _ok(runner.invoke(app, ["dry-run", "proposal.yaml", "--out", "dry", "--no-progress"]))
    manifest = json.loads((tmp_path / "dry" / "manifest.json").read_text())
    text = json.dumps(manifest)
    for sub in proposal["substrates"]:
        name = "".join(sub["metals"]) + ("-N4" if len(sub["metals"]) == 1 else "-N6")
        assert f"loop_dft/slab/{name}/" in text
    assert len(list((tmp_path / "dry").rglob("INCAR"))) >= 5  # 2 slabs, 2 adslabs, Li2S


@pytest.mark.parametrize("part,sizes", [("1/3", 2), ("3/3", 1)])
def test_parts_cover_the_site_list_once(tmp_path, part, sizes):
    from lisflow.ml.dataset_study import dataset_sites, parse_part, part_of

    sites = dataset_sites("all", ["Fe", "Co"])  # 2 SASCs + 3 DASCs
    slices = [part_of(sites, parse_part(f"{i}/3")) for i in (1, 2, 3)]
    assert [s for chunk in slices for s in chunk] == sites
    assert len(part_of(sites, parse_part(part))) == sizes


@pytest.mark.parametrize(
    "args,field",
    [
        ([], "--part"),  # 495 sites: more than one study's 50 substrates
        (["--part", "4/3"], "--part"),
        (["--part", "x"], "--part"),
        (["--sites", "triple"], "--sites"),
        (["--supercell", "3"], "--supercell"),
        (["--fmax", "0"], "--fmax"),
        (["--optimizer", "LBFGS"], "--optimizer"),
    ],
)
def test_bad_dataset_study_options_write_nothing(tmp_path, args, field):
    result = CliRunner().invoke(
        app, ["ml", "dataset-study", "--out", str(tmp_path / "s.yaml"), *args]
    )
    assert result.exit_code == 2 and field in result.output, result.output
    assert not (tmp_path / "s.yaml").exists()


def test_whole_site_list_is_every_screen_candidate():
    from lisflow.ml.dataset_study import dataset_sites

    sites = dataset_sites("all")
    assert len(sites) == 495 and len(set(sites)) == 495  # 30 M-N4 + 465 M1M2-N6
    assert sum(len(s) == 1 for s in sites) == 30
    assert sorted(sites) == sorted(all_sites())
