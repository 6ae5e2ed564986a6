"""Queries, ``lisflow query``/``lisflow report`` on SQLite and a real PostgreSQL server."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from matplotlib.image import imread
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.db import queries, report
from lisflow.db.schema import BandCentre, BondIcohp, CalculationRecord, SiteCharge
from lisflow.db.store import ResultStore

#: (site, total energies in eV of slab, Li2S adslab, Li2S4 adslab); arbitrary test inputs
#: chosen so that E_ads has many significant digits.
SLABS = {
    "FeCo": (-812.123456789, -831.987654321, -858.5),
    "FeNi": (-809.5, -827.7551, -854.0001),
    "Fe": (-790.25, -808.0625, None),
}
MOLECULES = {"Li2S": -16.4321, "Li2S4": -31.1}
#: ICOHP between the metal sites (eV), paper 002 (SCIENCE.md, dasc_adsorption).
ICOHP_METAL = {"FeCo": -0.97, "FeNi": -0.42}


def _calc(store, calc_id, role, engine="vasp", n_atoms=10, formula="C62N6Fe2", **labels):
    study = calc_id.split("/")[0]
    store.upsert_calculation(
        CalculationRecord(calc_id, study, engine, "relax", role, formula, n_atoms, labels=labels)
    )


def fill(store: ResultStore) -> dict[tuple[str, str], float]:
    """A small DASC-like study plus a CP2K one; returns the expected E_ads by (site, ads)."""
    expected = {}
    for name, energy in MOLECULES.items():
        _calc(store, f"dasc/{name}", "molecule", formula=name, adsorbate=name)
        store.store_results(f"dasc/{name}", energy_ev=energy)
    for site, (e_slab, *e_ads) in SLABS.items():
        _calc(store, f"dasc/{site}", "slab", site=site)
        d_centre = -1.5 - 0.25 * len(site)
        store.store_results(
            f"dasc/{site}",
            energy_ev=e_slab,
            charges=[SiteCharge(0, "Fe", "bader", 0.9), SiteCharge(1, "N", "bader", -1.13)],
            bands=[BandCentre(0, "Fe", "d", d_centre), BandCentre(1, "N", "p", -4.0)],
            icohps=[BondIcohp("M-M", "Fe1", f"{site[2:] or 'Fe'}2", ICOHP_METAL.get(site, 0.0))],
        )
        for adsorbate, energy in zip(MOLECULES, e_ads, strict=True):
            if energy is None:
                continue
            calc_id = f"dasc/{site}__{adsorbate}"
            formula = f"C62N6Fe2{adsorbate}"  # slab + adsorbate (E_ads stoichiometry check)
            _calc(store, calc_id, "adslab", formula=formula, site=site, adsorbate=adsorbate,
                  configuration="c0")  # fmt: skip
            store.store_results(calc_id, energy_ev=energy)
            got = store.upsert_adsorption(calc_id, f"dasc/{site}", f"dasc/{adsorbate}")
            expected[(site, adsorbate)] = got
            assert got == energy - e_slab - MOLECULES[adsorbate]
    _calc(store, "aimd/box", "box", engine="cp2k", n_atoms=100)
    store.store_results("aimd/box", energy_ev=-5000.0)
    store.store_series("aimd/box", "msd", "Li", [0.0, 0.1, 0.2], [0.0, 0.05, 0.125], "ps", "A^2")
    store.store_scalar("aimd/box", "D_Li", 0.1 / 6, "A^2/ps")
    _calc(store, "aimd/Li2S2_P6", "bulk", engine="cp2k", n_atoms=8)
    store.store_results("aimd/Li2S2_P6", energy_ev=-40.0)
    store.upsert_polymorph("aimd/Li2S2_P6", "P-6", 0.0123456789, study="li2s2_polymorphs")
    return expected


@pytest.fixture
def filled(db_url):
    with ResultStore(db_url) as store:
        expected = fill(store)
    return db_url, expected


def test_query_filters_columns_and_order(filled):
    url, expected = filled
    with ResultStore(url) as store:
        ads = queries.adsorption(store)
        assert list(ads.columns) == [
            "study", "site", "adsorbate", "configuration", "adslab_calc_id", "slab_calc_id",
            "molecule_calc_id", "engine", "adslab_energy_ev", "slab_energy_ev",
            "molecule_energy_ev", "energy_ev", "slab_multiple", "molecule_coefficient",
            "equation", "state", "state_reason",
        ]  # fmt: skip
        assert list(zip(ads["site"], ads["adsorbate"], strict=True)) == [
            ("Fe", "Li2S"), ("FeCo", "Li2S"), ("FeCo", "Li2S4"), ("FeNi", "Li2S"), ("FeNi", "Li2S4"),
        ]  # fmt: skip
        assert ads["energy_ev"].tolist() == [
            expected[k] for k in zip(ads.site, ads.adsorbate, strict=True)
        ]
        assert queries.adsorption(store, site="FeCo", adsorbate="Li2S4")["energy_ev"].tolist() == [
            expected[("FeCo", "Li2S4")]
        ]
        assert queries.adsorption(store, engine="cp2k").empty
        assert len(queries.adsorption(store, adsorbate="Li2S")) == 3
        calcs = queries.calculations(store, engine="cp2k")
        assert calcs["calc_id"].tolist() == ["aimd/Li2S2_P6", "aimd/box"]
        assert calcs["energy_per_atom_ev"].tolist() == [-5.0, -50.0]
        assert len(queries.calculations(store, study="dasc", state="COMPLETED")) == 10
        charges = queries.charges(store, site="FeNi")
        assert charges[["calc_id", "site_index", "net_charge"]].values.tolist() == [
            ["dasc/FeNi", 0, 0.9], ["dasc/FeNi", 1, -1.13]
        ]  # fmt: skip
        bands = queries.bands(store, study="dasc", orbital="d")
        assert bands["centre_ev"].tolist() == [-1.5 - 0.25 * len(s) for s in ("Fe", "FeCo", "FeNi")]
        assert queries.icohp(store)["icohp_ev"].tolist() == [0.0, -0.97, -0.42]
        poly = queries.polymorphs(store, study="li2s2_polymorphs")
        assert poly[["polymorph", "formation_energy_per_atom_ev"]].values.tolist() == [
            ["P-6", 0.0123456789]
        ]
        assert queries.series(store, analysis="msd")["y"].tolist() == [0.0, 0.05, 0.125]
        assert queries.scalars(store, engine="vasp").empty


@pytest.mark.parametrize("fields", [{}, {"study": "dasc"}, {"site": "FeCo", "engine": "vasp"},
                                    {"calc_id": "aimd/box"}, {"adsorbate": "Li2S"}])  # fmt: skip
def test_filter_object_equals_keywords(filled, fields):
    url, _ = filled
    with ResultStore(url) as store:
        for function in queries.QUERIES.values():
            pd.testing.assert_frame_equal(
                function(store, queries.QueryFilter(**fields)), function(store, **fields)
            )


def test_filter_object_fields(filled):
    url, expected = filled
    QF = queries.QueryFilter
    with ResultStore(url) as store:
        ads = queries.adsorption(store, QF(calc_id="dasc/FeCo__Li2S4"))  # the adslab's calc_id
        assert ads["energy_ev"].tolist() == [expected[("FeCo", "Li2S4")]]
        assert queries.adsorption(store, QF(calc_id="dasc/FeCo")).empty  # a slab: no E_ads row
        # keywords win over the object's fields
        charges = queries.charges(store, QF(site="FeCo", study="dasc"), site="FeNi")
        assert set(charges["calc_id"]) == {"dasc/FeNi"}
        # polymorphs: the study is the formation-energy row's, not its calculation's ("aimd")
        assert queries.polymorphs(store, QF(study="aimd")).empty
        assert queries.polymorphs(store, QF(calc_id="aimd/Li2S2_P6"))["polymorph"].tolist() == [
            "P-6"
        ]
        assert queries.calculations(store, QF(calc_id="aimd/box"))["energy_ev"].tolist() == [
            -5000.0
        ]


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("kind", list(queries.QUERIES))
def test_cli_csv_and_json_give_back_the_query_exactly(filled, kind):
    url, _ = filled
    with ResultStore(url) as store:
        frame = queries.QUERIES[kind](store, study="dasc" if kind != "series" else None)
    filters = ["--study", "dasc"] if kind != "series" else []
    if kind in ("polymorphs", "scalars", "magmoms", "free-energy", "neb"):
        assert frame.empty  # an empty result says so on stderr and exits with 1
        for fmt in ("csv", "json", "table"):
            empty = _invoke("query", kind, "--db", url, "--format", fmt, *filters)
            assert (empty.exit_code, empty.stdout) == (1, "")
            assert empty.stderr.startswith(f"error: no {kind} rows for study 'dasc' in ")
        return
    as_csv = _invoke("query", kind, "--db", url, "--format", "csv", *filters)
    assert as_csv.exit_code == 0, as_csv.output
    parsed = pd.read_csv(io.StringIO(as_csv.stdout), float_precision="round_trip")
    assert list(parsed.columns) == list(frame.columns) and len(parsed) == len(frame)
    as_json = _invoke("query", kind, "--db", url, "--format", "json", *filters)
    assert as_json.exit_code == 0, as_json.output
    records = json.loads(as_json.stdout)
    assert len(records) == len(frame)
    for record, (i, row) in zip(records, frame.iterrows(), strict=True):
        assert list(record) == list(frame.columns)
        for column, value in record.items():
            if isinstance(value, float):  # full precision both ways
                assert value == row[column] and parsed.loc[i, column] == value
            elif value is None:
                assert pd.isna(row[column])


def test_cli_table_rounds_to_three_decimals(filled):
    url, expected = filled
    result = _invoke("query", "adsorption", "--db", url, "--site", "FeCo", "--adsorbate", "Li2S")
    assert result.exit_code == 0, result.output
    energy = expected[("FeCo", "Li2S")]
    assert f"{energy:.3f}" in result.stdout and repr(energy) not in result.stdout
    assert "FeNi" not in result.stdout and "energy_ev" in result.stdout


def test_cli_bad_format_and_missing_database(filled, tmp_path):
    url, _ = filled
    result = _invoke("query", "charges", "--db", url, "--format", "xml")
    assert result.exit_code == 2
    assert result.stderr == "error: --format: unknown format 'xml' (allowed: table, csv, json)\n"
    result = _invoke("query", "charges", "--db", f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert result.exit_code == 2 and "--db: no database file" in result.stderr
    assert not (tmp_path / "none.sqlite").exists()


def test_cli_never_prints_a_password(pg_server):
    port = pg_server.port
    url = f"postgresql+psycopg://lis:pa55word@127.0.0.1:{port}/no_such_db"
    result = _invoke("query", "calculations", "--db", url)
    assert result.exit_code == 1
    assert "pa55word" not in result.output
    assert f"cannot open database postgresql+psycopg://lis:***@127.0.0.1:{port}/no_such_db" in (
        result.stderr
    )


def test_report_writes_one_figure_per_query_type(filled, tmp_path):
    url, expected = filled
    result = _invoke("report", "--out", str(tmp_path / "fig"), "--db", url)
    assert result.exit_code == 0, result.output
    with ResultStore(url) as store:
        with_rows = [n for n, f in queries.QUERIES.items() if len(f(store))]
        figures = report.report_figures(store)
    assert sorted(figures) == sorted(with_rows) and {"adsorption", "bands"} <= set(figures)
    assert f"{len(with_rows)} figure(s)" in result.stdout and "***" not in result.stdout
    assert sorted(p.name for p in (tmp_path / "fig").iterdir()) == sorted(
        f"{n}.png" for n in with_rows
    )
    for name, figure in figures.items():
        image = imread(tmp_path / "fig" / f"{name}.png")
        assert image.ndim == 3 and image.shape[0] > 100
        for ax in (a for a in figure.axes if a.get_visible()):
            assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title(), name
            legend = ax.get_legend()
            assert legend is not None and [t.get_text() for t in legend.get_texts()], name
    for figure in figures.values():  # no legend on top of a bar
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        for ax in (a for a in figure.axes if a.get_visible() and a.patches):
            box = ax.get_legend().get_window_extent(renderer)
            assert not any(box.overlaps(p.get_window_extent(renderer)) for p in ax.patches)
    ads = figures["adsorption"].axes[0]
    assert ads.get_ylabel() == "adsorption energy $E_{ads}$ (eV)" and ads.get_xlabel() == "site"
    assert ads.get_legend().get_title().get_text() == "adsorbate"
    assert sorted(p.get_height() for p in ads.patches) == sorted(expected.values())
    with ResultStore(url) as store:
        table = report.adsorption_table(queries.adsorption(store))
    figure = report.grouped_bars(table, "dasc", "E_ads (eV)")
    heights = sorted(p.get_height() for p in figure.axes[0].patches)
    assert heights == sorted(expected.values())  # one bar per (site, adsorbate), no bar for NaN


def test_band_table_prefers_total_spin_else_averages_up_and_down():
    frame = pd.DataFrame(
        [
            ["s/a", "FeCo", None, 0, "Fe", "d", "up", -1.0],
            ["s/a", "FeCo", None, 0, "Fe", "d", "down", -2.0],
            ["s/b", "FeCo", "Li2S", 0, "Fe", "d", "up", -9.0],
            ["s/b", "FeCo", "Li2S", 0, "Fe", "d", "total", -3.0],
            ["s/b", "FeCo", "Li2S", 1, "Fe", "d", "total", -4.0],
        ],
        columns=["calc_id", "site", "adsorbate", "site_index", "element", "orbital", "spin",
                 "centre_ev"],
    )  # fmt: skip
    table = report.band_table(frame)
    assert table.to_dict() == {"Fe d": {"FeCo": -1.5, "FeCo+Li2S": -3.5}}
