"""PNG plots of analysis series (matplotlib, Agg backend) and a plain series file."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lisflow.analysis.base import Series  # noqa: E402
from lisflow.fsutil import atomic_write_bytes, atomic_write_text  # noqa: E402


def plot_series(series: Series, out_dir: str | Path, max_curves: int = 12) -> list[Path]:
    """One PNG per analysis (``<analysis>.png``) with all its quantities; returns the paths.

    Quantities sharing units go on one axes; at most ``max_curves`` curves per axes (block
    profiles are subsampled evenly).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_analysis: dict[str, dict[tuple[str, str], list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for (analysis, quantity), (_, _, x_unit, y_unit) in series.items():
        by_analysis[analysis][(x_unit, y_unit)].append(quantity)
    paths = []
    for analysis, groups in sorted(by_analysis.items()):
        fig, axes = plt.subplots(len(groups), 1, figsize=(6, 3.2 * len(groups)), squeeze=False)
        for ax, ((x_unit, y_unit), quantities) in zip(
            axes[:, 0], sorted(groups.items()), strict=True
        ):
            keep = np.unique(
                np.linspace(0, len(quantities) - 1, min(max_curves, len(quantities))).astype(int)
            )
            for q in (quantities[i] for i in keep):
                x, y, _, _ = series[(analysis, q)]
                ax.plot(np.asarray(x), np.asarray(y), label=q, lw=1.0)
            ax.set_xlabel(x_unit)
            ax.set_ylabel(y_unit)
            ax.legend(fontsize=7)
        axes[0, 0].set_title(analysis)
        fig.tight_layout()
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
