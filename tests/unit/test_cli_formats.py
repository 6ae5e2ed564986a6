"""CLI habits of issue 15 item 5: --format table|csv|json everywhere, 80-column tables,
empty results / unknown studies exit non-zero, one typo suggestion, shell completion."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.spec import WORKFLOWS_DIR
from lisflow.tables import MIN_COLUMN_WIDTH, render_table, render_text

#: A wide result: 12 columns, long text, floats that need all 17 digits to round-trip.
WIDE = pd.DataFrame(
    {
        "calc_id": ["dasc_adsorption/adslab/FeCo-N6/Li2S/relax", "dasc/slab/Fe-N4/relax"],
        "study": ["dasc_adsorption", "dasc"],
        "engine": ["vasp", "cp2k"],
        "kind": ["adslab", "slab"],
        "site": ["FeCo-N6", "Fe-N4"],
        "adsorbate": ["Li2S", None],
        "state": ["COMPLETED", "FAILED"],
        "energy_ev": [-612.3456789012345, -598.0000000000001],
        "energy_per_atom_ev": [-6.123456789012345, float("nan")],
        "n_atoms": [100, 98],
        "formation_energy_per_atom_ev": [0.0123456789, -1.5e-7],
        "state_reason": ["", "INCAR ENCUT: lisflow 520.0 != reference 700.0"],
    }
)


def _columns_of(text: str) -> tuple[list[str], list[list[str]]]:
    """Headers and body cells read back from a rendered rich table (wrapped parts joined)."""
    lines = [line for line in text.splitlines() if line.strip()]
    head = [line for line in lines if line.startswith("┃")]
    body_rows: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        if line.startswith("│"):
            parts = [p.strip() for p in line.strip("│").split("│")]
            if current is None:
                current = parts
            else:
                current = [a + b for a, b in zip(current, parts, strict=True)]
        elif current is not None:
            body_rows.append(current)
            current = None
    headers = ["".join(parts) for parts in zip(
        *([p.strip() for p in line.strip("┃").split("┃")] for line in head), strict=True
    )]  # fmt: skip
    return headers, body_rows


def test_wide_table_fits_80_columns_without_empty_columns():
    console = Console(width=80, record=True, file=io.StringIO(), highlight=False)
    table = render_table(WIDE, console.width)
    table.show_lines = True  # row borders (same widths) let the test read wrapped rows back
    console.print(table)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    headers, rows = _columns_of(text)
    assert len(rows) == 2 and 3 <= len(headers) < len(WIDE.columns)
    # every shown column is a prefix of the frame's columns, each header whole and readable
    assert headers == [c.replace(" ", "") for c in WIDE.columns[: len(headers)]]
    # every shown cell is whole (wrapped, never cut) and no column is narrower than its minimum
    for row, (_, expected) in zip(rows, WIDE.iterrows(), strict=True):
        for header, cell in zip(headers, row, strict=True):
            value = expected[header]
            want = "" if value is None or value != value else str(value)
            if isinstance(value, float) and value == value:
                want = f"{value:.3f}"
            assert cell == want.replace(" ", "")
    widths = [len(part) for part in text.splitlines()[1].strip("┃").split("┃")]
    assert min(widths) >= MIN_COLUMN_WIDTH
    dropped = list(WIDE.columns[len(headers):])
    assert f"not shown (narrow terminal): {', '.join(dropped)}" in " ".join(text.split())


def test_narrow_console_still_shows_one_whole_column():
    console = Console(width=20, record=True, file=io.StringIO(), highlight=False)
    table = render_table(WIDE[["calc_id", "energy_ev"]], console.width)
    table.show_lines = True
    console.print(table)
    headers, rows = _columns_of(console.export_text())
    assert headers == ["calc_id"]
    assert [r[0] for r in rows] == WIDE["calc_id"].tolist()


def test_studies_table_at_columns_80():
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["studies"])
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    headers, _ = _columns_of(result.stdout)
    assert headers[:3] == ["study", "kind", "engine"]
    rows_csv = pd.read_csv(io.StringIO(_invoke("studies", "--format", "csv").stdout))
    assert "dasc_adsorption" in rows_csv["study"].tolist()
    for study in rows_csv["study"]:  # each id whole on one line (never cut or squeezed out)
        assert any(line.startswith(f"│ {study} ") for line in result.stdout.splitlines())


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_text_formats_parse_back_exactly(fmt):
    text = render_text(WIDE, fmt)
    if fmt == "csv":
        parsed = pd.read_csv(io.StringIO(text), float_precision="round_trip")
    else:
        parsed = pd.DataFrame(json.loads(text))
    assert list(parsed.columns) == list(WIDE.columns)
    for column in ("energy_ev", "energy_per_atom_ev", "formation_energy_per_atom_ev"):
        assert parsed[column].tolist()[0] == WIDE[column].tolist()[0]
    assert parsed["formation_energy_per_atom_ev"].tolist() == [0.0123456789, -1.5e-7]
    assert parsed["n_atoms"].tolist() == [100, 98]
    assert pd.isna(parsed["energy_per_atom_ev"][1]) and pd.isna(parsed["adsorbate"][1])


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_md_info_in_three_formats():
    spec = str(WORKFLOWS_DIR / "electrolyte_md.yaml")
    rows = json.loads(_invoke("md-info", spec, "--format", "json").stdout)
    table = pd.read_csv(io.StringIO(_invoke("md-info", spec, "--format", "csv").stdout))
    assert [r["system"] for r in rows] == table["system"].tolist()
    first = rows[0]
    assert (first["system"], first["Li2S6"], first["LiTFSI"], first["DOL"], first["DME"]) == (
        "bulk_n30", 30, 255, 1020, 1020
    )  # fmt: skip
    assert first["atoms"] == table["atoms"][0] == 31860
    assert first["wt% Li2S6"] == table["wt% Li2S6"][0] and round(first["wt% Li2S6"], 3) == 2.506
    assert len(first["box (A)"]) == 3 and json.loads(table["box (A)"][0]) == first["box (A)"]
    bad = _invoke("md-info", spec, "--format", "xml")
    assert bad.exit_code == 2 and "--format: unknown format 'xml'" in bad.stderr


def test_experiment_csv_equals_json(tmp_path):
    csv = tmp_path / "arr.csv"
    csv.write_text("T,R_ct\n300,12.5\n310,9.75\n320,7.875\n")
    as_json = json.loads(_invoke("experiment", "arrhenius", "--csv", str(csv), "--format", "json").stdout)
    as_csv = pd.read_csv(
        io.StringIO(_invoke("experiment", "arrhenius", "--csv", str(csv), "--format", "csv").stdout),
        float_precision="round_trip",
    )
    assert len(as_csv) == 1 and list(as_csv.columns) == list(as_json)
    assert as_csv["ea_ev"][0] == as_json["ea_ev"] and 0.1 < as_json["ea_ev"] < 0.3


def test_status_empty_launchpad_and_unknown_study(tmp_path, monkeypatch):
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    empty = _invoke("status", "--format", "json")
    assert empty.exit_code == 1 and empty.stdout == ""
    assert empty.stderr == "error: no workflows on the LaunchPad (lisflow submit adds them)\n"
    unknown = _invoke("status", "--fireworks", "--study", "nope")
    assert unknown.exit_code == 2
    assert "--study: unknown study 'nope'" in unknown.stderr


def test_query_unknown_study_exits_2_and_names_the_known_ones(tmp_path):
    from lisflow.db.schema import CalculationRecord
    from lisflow.db.store import ResultStore

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    with ResultStore(url) as store:
        store.upsert_calculation(CalculationRecord("dasc/slab/Fe", "dasc", "vasp", "relax", "slab"))
    unknown = _invoke("query", "calculations", "--db", url, "--study", "dsac")
    assert unknown.exit_code == 2 and unknown.stdout == ""
    assert "--study: unknown study 'dsac'" in unknown.stderr and "(allowed: dasc)" in unknown.stderr
    empty = _invoke("query", "adsorption", "--db", url, "--study", "dasc")
    assert empty.exit_code == 1 and "error: no adsorption rows for study 'dasc'" in empty.stderr
    found = _invoke("query", "calculations", "--db", url, "--format", "json")
    assert [r["calc_id"] for r in json.loads(found.stdout)] == ["dasc/slab/Fe"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["quey"], "No such command 'quey'. Did you mean 'query'?"),
        (["query", "adsorptoin"], "No such command 'adsorptoin'. Did you mean 'adsorption'?"),
        (["ml", "fitt"], "No such command 'fitt'. Did you mean 'fit'?"),
    ],
)
def test_a_typo_is_suggested_once(args, message):
    result = _invoke(*args)
    assert result.exit_code == 2
    flat = " ".join(result.output.replace("│", " ").split())
    assert message in flat and flat.count("Did you mean") == 1


def test_shell_completion_is_offered_and_completes_lazy_commands():
    assert "--install-completion" in _invoke("--help").output
    env = os.environ | {"_LISFLOW_COMPLETE": "complete_bash", "COMP_CWORD": "2"}
    run = subprocess.run(
        [sys.executable, "-c", "from lisflow.cli import app; app(prog_name='lisflow')"],
        env=env | {"COMP_WORDS": "lisflow query ad"}, capture_output=True, text=True,
    )  # fmt: skip
    assert run.stdout.split() == ["adsorption"]
    run = subprocess.run(
        [sys.executable, "-c", "from lisflow.cli import app; app(prog_name='lisflow')"],
        env=env | {"COMP_WORDS": "lisflow md", "COMP_CWORD": "1"}, capture_output=True, text=True,
    )  # fmt: skip
    assert run.stdout.split() == ["md-info"]
