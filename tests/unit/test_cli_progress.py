"""Progress bars of ``submit`` and ``ml fit``: on stderr with ``--progress``, none by default
when stdout is not a terminal (tests, CI, pipes), results on stdout unchanged."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.progress import progress_bar, want_progress

BAR = "━"


def test_default_follows_the_terminal(monkeypatch):
    assert want_progress(True) and not want_progress(False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    assert not want_progress(None)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert want_progress(None)


def test_disabled_bar_and_a_bar_never_started_print_nothing(capsys):
    with progress_bar("x", 3, False) as step:
        step("one")
    with progress_bar("y", 3, True):
        pass  # failed before the first step: no empty bar
    assert capsys.readouterr() == ("", "")


def test_submit_progress_on_stderr_only(tmp_path, monkeypatch):
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LISFLOW_VASP_CMD", "true")  # configured; nothing runs at submit
    runner = CliRunner()
    shown = runner.invoke(app, ["submit", "li2s2_polymorphs", "--progress"])
    assert shown.exit_code == 0, shown.output
    assert "added li2s2_polymorphs" in shown.stderr and "2/2" in shown.stderr
    assert BAR not in shown.stdout
    assert shown.stdout == "li2s2_polymorphs: 16 new Fireworks, 0 already completed, 0 already queued\n"
    quiet = runner.invoke(app, ["submit", "li2s2_polymorphs"])  # not a terminal: no bar
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert "0 new Fireworks, 0 already completed, 8 already queued" in quiet.stdout


def test_ml_fit_progress_counts_outer_folds(tmp_path):
    from lisflow.ml.datasets import SYNTHETIC_TARGET, synthetic_adsorption_table

    table = tmp_path / "syn.csv"
    synthetic_adsorption_table(seed=1, sample=36).to_csv(table, index=False)
    args = ["ml", "fit", "--table", str(table), "--target", SYNTHETIC_TARGET, "--drop", "site",
            "--folds", "3", "--estimators", "10", "--ensemble", "1", "--baseline", "none"]  # fmt: skip
    shown = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a"), "--progress"])
    assert shown.exit_code == 0, shown.output
    assert "4/4" in shown.stderr and BAR in shown.stderr and BAR not in shown.stdout
    quiet = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    # the bar changes nothing in the results
    a = pd.read_csv(tmp_path / "a" / "predictions.csv")
    b = pd.read_csv(tmp_path / "b" / "predictions.csv")
    pd.testing.assert_frame_equal(a, b)
