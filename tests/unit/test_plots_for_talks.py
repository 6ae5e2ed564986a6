"""Figures of issue 15 item 9, checked on the matplotlib objects: labels with units, legends,
the MSD fit line with D, parity R² and folds, annotations clear of error bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt
from sklearn.metrics import r2_score

from lisflow.analysis.msd import diffusion_coefficient
from lisflow.analysis.plotting import MsdFit, plot_series, series_figures
from lisflow.ml.explain import correlation_figure, parity_figure, stage_figure
from lisflow.plotstyle import axis_label, pretty_unit, unit_axis_label


def test_axis_labels_carry_quantity_and_unit():
    assert axis_label("energy_ev") == "energy (eV)"
    assert axis_label("formation_energy_per_atom_ev") == "formation energy per atom (eV)"
    assert axis_label("n_clusters", "count") == "number of S clusters"
    assert axis_label("n_sulfur_0_15A", "count") == "S atoms 0–15 Å above the electrode"
    assert axis_label("largest_size", "S atoms") == "largest size (S atoms)"
    assert unit_axis_label("ps", x=True, lag=True) == "lag time (ps)"
    assert unit_axis_label("A^2") == "mean squared displacement (Å²)"
    assert pretty_unit("A^2/ps") == "Å²/ps" and pretty_unit("e/Å^3") == "e/Å³"


def test_msd_plot_has_the_fit_line_and_d_in_the_legend(tmp_path):
    lag = np.arange(0.0, 101.0, 5.0)  # ps
    msd = 0.06 * lag + 0.4 + 0.02 * np.sin(lag)  # Å²: D = 0.06/6 Å²/ps = 1e-6 cm²/s
    d_cm2_s, fit = diffusion_coefficient(lag, msd, 3, (20.0, 80.0))
    series = {("msd_xyz", "msd"): (lag, msd, "ps", "Å^2"),
              ("msd_xyz", "msd_z"): (lag, msd / 3, "ps", "Å^2")}  # fmt: skip
    fits = {("msd_xyz", "msd"): MsdFit(fit.slope, fit.intercept, fit.window, d_cm2_s)}
    figure = series_figures(series, fits=fits)["msd_xyz"]
    ax = figure.axes[0]
    assert ax.get_xlabel() == "lag time (ps)"
    assert ax.get_ylabel() == "mean squared displacement (Å²)"
    assert ax.get_title() == "mean squared displacement"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["MSD xyz", f"fit 20–80 ps: D = {d_cm2_s:.2e} cm²/s", "MSD z"]
    assert d_cm2_s == pytest.approx(1.0e-6, rel=0.02)
    line = ax.get_lines()[1]
    xs, ys = line.get_data()
    assert (xs[0], xs[-1]) == (20.0, 80.0) and line.get_linestyle() == "--"
    np.testing.assert_allclose(ys, fit.slope * xs + fit.intercept)
    assert line.get_color() == ax.get_lines()[0].get_color()  # the fit has its curve's colour
    plt.close(figure)
    assert [p.name for p in plot_series(series, tmp_path, fits=fits)] == ["msd_xyz.png"]


def test_parity_plot_shows_r2_and_one_legend_entry_per_fold():
    rng = np.random.default_rng(3)
    y = rng.normal(-1.5, 0.5, 30)
    pred = pd.DataFrame({"fold": np.repeat([0, 1, 2], 10), "y_true": y,
                         "y_pred": y + rng.normal(0, 0.1, 30)})  # fmt: skip
    figure = parity_figure(pred, "energy_ev")
    ax = figure.axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    r2 = r2_score(pred["y_true"], pred["y_pred"])
    mae = float(np.mean(np.abs(pred["y_true"] - pred["y_pred"])))
    assert texts == ["fold 0", "fold 1", "fold 2", f"y = x; R² = {r2:.3f}, MAE = {mae:.3g} eV"]
    assert ax.get_xlabel() == "reference energy (eV)"
    assert ax.get_ylabel() == "predicted energy (eV) (out-of-fold)"
    plt.close(figure)


def test_stage_labels_sit_above_the_error_bars():
    table = pd.DataFrame({
        "candidate": ["all", "filter", "rf", "chosen"],
        "kind": ["stage", "stage", "baseline", "inner-CV choice"],
        "r2_mean": [0.62, 0.70, -0.20, 0.71], "r2_std": [0.20, 0.05, 0.30, 0.04],
        "features_kept": [40, 12, 40, 12], "skipped_folds": [0, 2, 0, 0],
    })  # fmt: skip
    figure = stage_figure(table)
    ax = figure.axes[0]
    labels = [t for t in ax.texts]
    assert [t.get_text() for t in labels] == ["40", "12 (skip)", "40", "12"]
    for text, mean, std in zip(labels, table["r2_mean"], table["r2_std"], strict=True):
        assert text.xy[1] > max(mean + std, 0.0)  # above the top of the error bar
        assert text.get_va() == "bottom"
    assert ax.get_ylim()[1] > max(table["r2_mean"] + table["r2_std"]) + 0.03
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["stage", "baseline", "inner-CV choice"]
    plt.close(figure)


def test_heat_map_labels_are_readable():
    names = [f"feature_{i}" for i in range(50)]
    corr = pd.DataFrame(np.eye(50), index=names, columns=names)
    figure = correlation_figure(corr)
    ax = figure.axes[0]
    ticks = ax.get_xticklabels() + ax.get_yticklabels()
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    assert min(t.get_fontsize() for t in ticks) >= 7
    # 50 labels of 7 pt (≈ 0.1 inch each) fit on the axes' height without overlapping
    height_in = ax.get_position().height * figure.get_size_inches()[1]
    assert height_in / 50 >= 7 / 72
    plt.close(figure)
