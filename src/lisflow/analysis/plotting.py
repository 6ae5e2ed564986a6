"""PNG plots of analysis series (matplotlib, Agg backend) and a plain series file."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lisflow.analysis.base import Series  # noqa: E402
from lisflow.fsutil import atomic_write_bytes, atomic_write_text  # noqa: E402
from lisflow.plotstyle import QUANTITY_NAMES, axis_label, unit_axis_label  # noqa: E402

#: Figure titles of the analyses (``analysis`` name -> title); others keep their name.
TITLES = {
    "clusters": "S clusters (S–S within the cluster cutoff)",
    "slices": "charge density profile across the electrolyte",
    "surface": "S atoms within 0–15 Å of the electrode",
    "dense": "dense S phase: distance from the electrode",
}


@dataclass(frozen=True)
class MsdFit:
    """An Einstein fit drawn on an MSD plot: line slope (Å²/ps) and intercept (Å²) over
    ``window`` (ps), and the diffusion coefficient ``d_cm2_s`` it gives."""

    slope: float
    intercept: float
    window: tuple[float, float]
    d_cm2_s: float


def series_figures(
    series: Series, max_curves: int = 12, fits: dict[tuple[str, str], MsdFit] | None = None
) -> dict[str, Figure]:
    """One figure per analysis with all its quantities (axes labelled "quantity (unit)").

    Quantities sharing units go on one axes; at most ``max_curves`` curves per axes (block
    profiles are subsampled evenly). ``fits[(analysis, quantity)]`` adds the fitted line over
    its window and D (cm²/s) in the legend.
    """
    fits = fits or {}
    by_analysis: dict[str, dict[tuple[str, str], list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for (analysis, quantity), (_, _, x_unit, y_unit) in series.items():
        by_analysis[analysis][(x_unit, y_unit)].append(quantity)
    figures = {}
    for analysis, groups in sorted(by_analysis.items()):
        fig, axes = plt.subplots(len(groups), 1, figsize=(6.4, 3.4 * len(groups)), squeeze=False)
        for ax, ((x_unit, y_unit), quantities) in zip(
            axes[:, 0], sorted(groups.items()), strict=True
        ):
            keep = np.unique(
                np.linspace(0, len(quantities) - 1, min(max_curves, len(quantities))).astype(int)
            )
            for q in (quantities[i] for i in keep):
                x, y, _, _ = series[(analysis, q)]
                label = QUANTITY_NAMES.get(q, q.replace("_", " "))
                if analysis.startswith("msd") and q.startswith("msd"):
                    label = "MSD " + (q.removeprefix("msd_") if q != "msd" else analysis[4:])
                (line,) = ax.plot(np.asarray(x), np.asarray(y), label=label, lw=1.2)
                if (fit := fits.get((analysis, q))) is not None:
                    xs = np.linspace(*fit.window, 20)
                    ax.plot(xs, fit.slope * xs + fit.intercept, "--", color=line.get_color(),
                            lw=1.4,
                            label=f"fit {fit.window[0]:g}–{fit.window[1]:g} ps: "
                            f"D = {fit.d_cm2_s:.2e} cm²/s")  # fmt: skip
            lag = analysis.startswith("msd")
            ax.set_xlabel(unit_axis_label(x_unit, x=True, lag=lag))
            ax.set_ylabel(
                axis_label(quantities[0], y_unit) if len(quantities) == 1
                else unit_axis_label(y_unit)
            )  # fmt: skip
            ax.legend(fontsize=7, loc="best")
            ax.grid(alpha=0.3)
        axes[0, 0].set_title(
            "mean squared displacement" if analysis.startswith("msd")
            else TITLES.get(analysis, analysis)
        )  # fmt: skip
        fig.tight_layout()
        figures[analysis] = fig
    return figures


def plot_series(
    series: Series,
    out_dir: str | Path,
    max_curves: int = 12,
    fits: dict[tuple[str, str], MsdFit] | None = None,
) -> list[Path]:
    """Write :func:`series_figures` as ``<analysis>.png`` into ``out_dir``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for analysis, fig in series_figures(series, max_curves, fits).items():
        path = out / f"{analysis}.png"
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120)
        plt.close(fig)
        atomic_write_bytes(path, buffer.getvalue())
        paths.append(path)
    return paths


def write_series_json(series: Series, path: str | Path) -> Path:
    """All series in one JSON file: a list of {analysis, quantity, x, y, x_unit, y_unit}."""
    records = [
        {
            "analysis": analysis,
            "quantity": quantity,
            "x": np.asarray(x, dtype=float).tolist(),
            "y": np.asarray(y, dtype=float).tolist(),
            "x_unit": x_unit,
            "y_unit": y_unit,
        }
        for (analysis, quantity), (x, y, x_unit, y_unit) in series.items()
    ]
    return atomic_write_text(path, json.dumps(records, indent=1))
