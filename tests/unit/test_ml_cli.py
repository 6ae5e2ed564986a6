"""``lisflow ml``: table validation, fit from the results DB, screening into a dry-runnable study."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from pymatgen.io.vasp import Poscar
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.db.schema import BandCentre, CalculationRecord, SiteCharge
from lisflow.db.store import ResultStore
from lisflow.ml.datasets import SYNTHETIC_TARGET, synthetic_adsorption_table, synthetic_energy
from lisflow.ml.features import parse_site_name, site_features
from lisflow.ml.models import BASELINES
from lisflow.ml.screen import pick, rank_candidates
from lisflow.ml.selection import STAGES
from lisflow.ml.tables import table_from_db
from lisflow.spec import load_spec
from lisflow.structures.support import dasc_graphene

runner = CliRunner()
#: Small, fast models for the CLI runs.
FAST = ["--estimators", "20", "--folds", "3", "--seed", "3"]


def _invoke(*args: str):
    return runner.invoke(app, list(args))


def _table(tmp_path, frame: pd.DataFrame) -> str:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture
def small_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"a": rng.normal(size=12), "b": rng.normal(size=12), "y": rng.normal(size=12)}
    )


@pytest.mark.parametrize(
    "change, args, field",
    [
        (None, ["--target", "energy"], "--target: column 'energy' not in the table"),
        ("text", ["--target", "y"], "metal: non-numeric column"),
        ("nan", ["--target", "y"], "b: missing values (NaN) in rows [3]"),
        (
            "text",
            ["--target", "y", "--categorical", "metal", "--folds", "7"],
            "--folds: 12 rows are too few for 7-fold",
        ),
        (None, ["--target", "y", "--drop", "zzz"], "--drop: column 'zzz' not in the table"),
        (
            None,
            ["--target", "y", "--final-groups", "magic"],
            "--final-groups: unknown feature group 'magic'",
        ),
    ],
)
def test_bad_tables_exit_2_naming_the_field(tmp_path, small_frame, change, args, field):
    frame = small_frame.copy()
    if change == "text":
        frame["metal"] = ["Fe", "Co"] * 6
    if change == "nan":
        frame.loc[3, "b"] = np.nan
    result = _invoke(
        "ml", "fit", "--table", _table(tmp_path, frame), "--out", str(tmp_path / "o"), *args
    )
    assert result.exit_code == 2, result.output
    assert field in result.stderr
    assert not (tmp_path / "o").exists()


def test_fit_needs_exactly_one_source(tmp_path):
    result = _invoke("ml", "fit", "--target", "y")
    assert result.exit_code == 2 and "--table: give exactly one of" in result.stderr


def _fill_db(
    url: str, sites: list[str], run_dirs: dict[str, str], energy=None
) -> dict[str, float]:
    """Slab, molecule and adslab energies (eV) whose E_ads follow ``energy(site, features)``
    (default the synthetic formula); real rows through the store API."""
    expected = {}
    with ResultStore(url) as store:
        store.upsert_calculation(
            CalculationRecord(
                "s/molecule/Li2S", "s", "vasp", "relax", "molecule", "Li2S", 3,
                labels={"adsorbate": "Li2S"},
            )
        )  # fmt: skip
        store.store_results("s/molecule/Li2S", energy_ev=-16.0)
        for k, site in enumerate(sites):
            metals = parse_site_name(site)
            feats = pd.DataFrame([site_features(metals)])
            e_ads = float(synthetic_energy(feats)[0]) if energy is None else energy(site)
            slab = f"s/slab/{site}"
            store.upsert_calculation(
                CalculationRecord(
                    slab,
                    "s",
                    "vasp",
                    "relax",
                    "slab",
                    "C62N6Fe2",
                    70,
                    labels={"site": site},
                    run_dir=run_dirs.get(site),
                )
            )  # fmt: skip
            bands = [BandCentre(68, metals[0], "d", -1.0 - 0.1 * k, label="metal")]
            charges = [
                SiteCharge(27, "N", "bader", -1.2, valence_electrons=6.2, label="coordinating_N")
            ]
            store.store_results(slab, energy_ev=-800.0 - k, bands=bands, charges=charges)
            for c, shift in enumerate((0.0, 0.3)):  # second configuration binds more weakly
                ads = f"s/adslab/{site}/Li2S/c{c}"
                store.upsert_calculation(
                    CalculationRecord(
                        ads,
                        "s",
                        "vasp",
                        "relax",
                        "adslab",
                        "C62N6Fe2Li2S",
                        73,
                        labels={"site": site, "adsorbate": "Li2S", "configuration": c},
                    )
                )  # fmt: skip
                store.store_results(ads, energy_ev=-800.0 - k - 16.0 + e_ads + shift)
                store.upsert_adsorption(ads, slab, "s/molecule/Li2S")
            expected[site] = e_ads
    return expected


SITES_DB = [
    "FeCo-N6", "FeNi-N6", "FeCu-N6", "Fe-N4", "Co-N4", "CoNi-N6", "MnFe-N6", "Ni-N4",
    "CrFe-N6", "TiFe-N6", "FeZn-N6", "Cu-N4",
]  # fmt: skip


def _relaxed(metals, stretch: float):
    """A "relaxed" DASC: M2 moved ``stretch`` Å away from M1 along the M1-M2 axis."""
    relaxed = dasc_graphene(list(metals))
    m1, m2 = (i for i, s in enumerate(relaxed) if s.properties["label"] == "metal")
    axis = relaxed[m2].coords - relaxed[m1].coords
    relaxed.translate_sites([m2], stretch * axis / np.linalg.norm(axis), frac_coords=False)
    return relaxed


def test_fit_from_db_joins_energies_with_site_features(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    (tmp_path / "feco").mkdir()
    Poscar(_relaxed(("Fe", "Co"), 0.1)).write_file(tmp_path / "feco" / "CONTCAR")
    expected = _fill_db(url, SITES_DB, {"FeCo-N6": str(tmp_path / "feco")})
    with ResultStore(url) as store:
        frame = table_from_db(store, study="s")
    assert sorted(frame["site"]) == sorted(SITES_DB)
    energies = dict(zip(frame["site"], frame["energy_ev"], strict=True))
    for site, e_ads in expected.items():  # lowest configuration, E_ads = E_adslab - E_slab - E_mol
        assert energies[site] == pytest.approx(e_ads, abs=1e-9)
    row = frame.set_index("site").loc["FeNi-N6"]
    assert row["eps_d_M1"] == pytest.approx(-1.1) and row["q_N"] == pytest.approx(6.2)
    assert "eps_d_M2" in frame.columns and "eps_p_N" not in frame.columns
    d_mm = frame.set_index("site")["d_MM"]
    assert d_mm["FeCo-N6"] == pytest.approx(d_mm["FeNi-N6"] + 0.1, abs=1e-6)  # relaxed vs built
    result = _invoke(
        "ml", "fit", "--from-db", "--db", url, "--study", "s", "--out", str(tmp_path / "fit"), *FAST
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "fit" / "meta.json").read_text())
    assert meta["target"] == "energy_ev" and meta["n_rows"] == 12
    assert sorted(meta["known_sites"]) == sorted(SITES_DB)
    table = pd.read_csv(tmp_path / "fit" / "stage_table.csv")
    assert table["candidate"].tolist() == [*STAGES, *BASELINES, "chosen"]
    assert "selection helped: " in result.output and "±" in result.output


DASC_DB = [f"{a}{b}-N6" for a, b in
           [("Sc", "Fe"), ("Ti", "Co"), ("V", "Ni"), ("Cr", "Cu"), ("Mn", "Zn"), ("Fe", "Fe"),
            ("Fe", "Co"), ("Fe", "Ni"), ("Fe", "Cu"), ("Co", "Co"), ("Co", "Ni"), ("Ni", "Ni"),
            ("Fe", "Mo"), ("Fe", "Ru"), ("Co", "Rh"), ("Ni", "Pd"), ("Fe", "W"), ("Co", "Ir"),
            ("Ni", "Pt"), ("Cu", "Au"), ("Mn", "Fe"), ("Cr", "Fe"), ("Ti", "Fe"), ("V", "Fe")]]  # fmt: skip


@pytest.fixture(scope="module")
def relaxed_db(tmp_path_factory):
    """E_ads depends only on the relaxed M1-M2 distance (random per site, not on the metals);
    relaxed structures as VASP CONTCAR or final_structure.json (e.g. an MLIP relaxation)."""
    root = tmp_path_factory.mktemp("relaxed")
    rng = np.random.default_rng(4)
    stretch = dict(zip(DASC_DB, rng.uniform(-0.15, 0.15, len(DASC_DB)), strict=True))
    run_dirs = {}
    for k, site in enumerate(DASC_DB):
        run = root / f"run{k}"
        run.mkdir()
        relaxed = _relaxed(parse_site_name(site), stretch[site])
        if k % 2:
            relaxed.to(filename=str(run / "final_structure.json"))
        else:
            Poscar(relaxed).write_file(run / "CONTCAR")
        run_dirs[site] = str(run)
    url = f"sqlite:///{root / 'r.sqlite'}"
    _fill_db(url, DASC_DB, run_dirs, energy=lambda site: -1.0 + 2.0 * stretch[site])
    return url, stretch


def test_fit_from_db_uses_relaxed_structures(relaxed_db, tmp_path):
    """Nested-CV skill is possible only through the relaxed structural features."""
    url, stretch = relaxed_db
    with ResultStore(url) as store:
        frame = table_from_db(store, study="s").set_index("site")
    assert len(frame) == len(DASC_DB)
    for site in DASC_DB:  # built DASC: M1-M2 = 2.15 A (DASC_M_M)
        assert frame.loc[site, "d_MM"] == pytest.approx(2.15 + stretch[site], abs=5e-5)  # 0.1 mÅ
    result = _invoke("ml", "fit", "--from-db", "--db", url, "--study", "s", "--baseline", "linear",
                     "--ensemble", "2", "--out", str(tmp_path / "fit"), *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    stability = pd.read_csv(tmp_path / "fit" / "stability.csv").set_index("feature")
    assert stability.loc["d_MM", "freq_all"] == 1.0  # varies, so never dropped as constant
    table = pd.read_csv(tmp_path / "fit" / "stage_table.csv").set_index("candidate")
    assert table.loc["chosen", "r2_mean"] > 0.5, table


def test_from_db_fit_screen_dry_run_loop(relaxed_db, tmp_path):
    """DB -> ml fit (final groups without DB-computed features) -> ml screen -> dry-run."""
    url, _ = relaxed_db
    groups = sum((["--final-groups", g] for g in ("element", "structure", "composite")), [])
    fit = _invoke("ml", "fit", "--from-db", "--db", url, "--study", "s", *groups,
                  "--baseline", "linear", "--ensemble", "2", "--out", str(tmp_path / "fit"),
                  *FAST)  # fmt: skip
    assert fit.exit_code == 0, fit.output
    meta = json.loads((tmp_path / "fit" / "meta.json").read_text())
    assert meta["chosen"] in ("final", "linear")  # eligible under --final-groups
    assert not {"eps_d_M1", "eps_d_M2", "q_N"} & set(meta["features"])
    metals = sum((["--metal", m] for m in ("Fe", "Co", "Ni", "Cu")), [])
    out = tmp_path / "next.yaml"
    screen = _invoke("ml", "screen", "--model", str(tmp_path / "fit"), *metals, "--top", "2",
                     "--out", str(out))  # fmt: skip
    assert screen.exit_code == 0, screen.output
    proposed = yaml.safe_load(out.read_text())["substrates"]
    known = {parse_site_name(s) for s in DASC_DB}
    assert len(proposed) == 2 and not {tuple(p["metals"]) for p in proposed} & known
    dry = _invoke("dry-run", str(out), "--out", str(tmp_path / "dry"))
    assert dry.exit_code == 0, dry.output


def test_fast_errors_import_no_model_library():
    """Argument and table errors come back before scikit-learn/XGBoost/pymatgen are imported."""
    code = """
import sys, time
import pandas  # imported by the lisflow CLI anyway (results DB layer); not a model library
from typer.testing import CliRunner
from lisflow.ml.cli import ml_app
cases = [
    ["fit", "--table", "/nonexistent.csv", "--target", "y"],
    ["fit", "--table", "%s", "--target", "y", "--estimators", "0"],
    ["fit", "--table", "%s", "--target", "y", "--final-groups", "magic"],
    ["fit", "--table", "%s", "--target", "zz"],
    ["fit", "--table", "%s", "--target", "y", "--folds", "9"],
    ["fit", "--table", "%s", "--target", "y", "--baseline", "svm"],
    ["screen", "--table", "%s", "--target", "y", "--goal", "median"],
]
for args in cases:
    start = time.perf_counter()
    result = CliRunner().invoke(ml_app, args)
    took = time.perf_counter() - start
    print(result.exit_code, round(took, 3), str(result.exception or result.output).splitlines()[0][:60])
heavy = sorted(m for m in ("sklearn", "xgboost", "pymatgen", "joblib") if m in sys.modules)
print("heavy:", heavy)
"""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/t.csv"
        pd.DataFrame({"a": range(12), "y": range(12)}).to_csv(path, index=False)
        out = subprocess.run([sys.executable, "-c", code.replace("%s", path)],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == "heavy: []", out.stdout + out.stderr
    fields = ["--table", "--estimators", "--final-groups", "--target", "--folds", "--baseline",
              "--goal"]  # fmt: skip
    assert len(lines) == len(fields) + 1
    for line, field in zip(lines[:-1], fields, strict=False):
        code_, took, message = line.split(" ", 2)
        # InputError (lisflow.cli turns it into exit 2) naming the option, in < 1 s
        assert code_ == "1" and message.startswith(field + ":") and float(took) < 1.0, line


def test_cli_baseline_names_match_the_models():
    from lisflow.ml import cli_models
    from lisflow.ml.models import BASELINES as MODEL_BASELINES

    assert cli_models.BASELINE_NAMES == MODEL_BASELINES


@pytest.fixture(scope="module")
def synthetic_fit(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    frame = synthetic_adsorption_table(sample=45, noise_ev=0.05, seed=1)
    frame.to_csv(root / "syn.csv", index=False)
    result = _invoke("ml", "fit", "--table", str(root / "syn.csv"), "--target", SYNTHETIC_TARGET,
                     "--out", str(root / "fit"), "--ensemble", "4", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    return root, frame


def test_screen_writes_a_study_that_dry_runs(synthetic_fit, tmp_path):
    root, frame = synthetic_fit
    out = tmp_path / "next.yaml"
    result = _invoke("ml", "screen", "--model", str(root / "fit"), "--top", "3", "--out", str(out),
                     "--ranking", str(tmp_path / "rank.csv"))  # fmt: skip
    assert result.exit_code == 0, result.output
    ranking = pd.read_csv(tmp_path / "rank.csv")
    assert len(ranking) == 30 + 465 - 45  # every SASC and M1<=M2 DASC not in the training data
    assert not set(ranking["site"]) & set(frame["site"])
    assert ranking["score"].is_monotonic_increasing and (ranking["uncertainty"] >= 0).all()
    data = yaml.safe_load(out.read_text())
    assert (
        data["kind"] == "adsorption"
        and data["preset"] == "paper002"
        and data["adsorbates"] == ["Li2S"]
    )
    picked = [parse_site_name(s) for s in ranking["site"].head(2)]
    assert [tuple(s["metals"]) for s in data["substrates"][:2]] == picked
    third = ranking.iloc[2:].sort_values("uncertainty", ascending=False, kind="mergesort").iloc[0]
    assert tuple(data["substrates"][2]["metals"]) == parse_site_name(third["site"])
    spec = load_spec(out)
    assert spec.study == "ml_screen_round1" and len(spec.substrates) == 3
    dry = _invoke("dry-run", str(out), "--out", str(tmp_path / "dry"))
    assert dry.exit_code == 0, dry.output
    manifest = json.loads((tmp_path / "dry" / "manifest.json").read_text())
    sites = {c["labels"].get("site") for c in manifest["calculations"]} - {None}
    assert len(sites) == 3


def test_pick_and_goal(synthetic_fit):
    root, _ = synthetic_fit
    from lisflow.ml.explain import load_fit

    model = load_fit(root / "fit")
    low = rank_candidates(model, metals=["Fe", "Co", "Ni"], goal="min")
    high = rank_candidates(model, metals=["Fe", "Co", "Ni"], goal="max")
    assert len(low) == len(high) == 3 + 6  # Fe, Co, Ni SASCs + M1 <= M2 pairs
    assert low["prediction"].is_monotonic_increasing
    assert high["prediction"].is_monotonic_decreasing
    near = rank_candidates(model, metals=["Fe", "Co", "Ni"], optimum=-1.3)
    assert np.all(np.diff(np.abs(near["prediction"] + 1.3)) >= 0)
    chosen = pick(low, 4)
    assert chosen["reason"].tolist() == ["best_predicted"] * 2 + ["most_uncertain"] * 2
    assert len(set(chosen["site"])) == 4
