"""PNG figures of the results database (matplotlib, Agg back end), written atomically.

- ``adsorption_<study>.png``: adsorption energy (eV) per site, one bar per adsorbate.
- ``band_centres_<study>.png``: band centres (eV relative to E_F) per site, one bar per
  element and orbital (spin ``total`` rows; otherwise the mean of the up and down channels).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lisflow.db import queries  # noqa: E402
from lisflow.db.store import ResultStore  # noqa: E402
from lisflow.fsutil import atomic_write_bytes  # noqa: E402


def grouped_bars(table: pd.DataFrame, title: str, ylabel: str, legend: str = "") -> Figure:
    """Grouped bar chart of ``table`` (index: x groups, columns: bars; NaN = no bar)."""
    n_groups, n_bars = table.shape
    figure, axes = plt.subplots(figsize=(max(4.0, 1.2 * n_groups * max(n_bars, 1) ** 0.5 + 2), 4))
    width = 0.8 / max(n_bars, 1)
    for j, column in enumerate(table.columns):
        xs = [i - 0.4 + width * (j + 0.5) for i in range(n_groups)]
        values = table[column].to_numpy(dtype=float)
        keep = [k for k, v in enumerate(values) if v == v]
        axes.bar([xs[k] for k in keep], values[keep], width=width, label=str(column))
    axes.set_xticks(range(n_groups), [str(i) for i in table.index], rotation=30, ha="right")
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    if n_bars:
        axes.legend(title=legend or None, fontsize="small")
    figure.tight_layout()
    return figure


def adsorption_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Site × adsorbate table of adsorption energies (eV); configurations: the lowest."""
    data = frame.fillna({"site": "?", "adsorbate": "?"})
    return data.pivot_table(index="site", columns="adsorbate", values="energy_ev", aggfunc="min")


def band_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Calculation site × "element orbital" table of band centres (eV), mean over atoms.

    Rows are labelled by the site (plus "+adsorbate" for adsorbed systems; the calc_id when
    unlabelled). Spin ``total`` is used where stored, else the mean of ``up`` and ``down``.
    """
    key = ["calc_id", "site_index", "orbital"]
    with_total = frame.loc[frame["spin"] == "total", key].drop_duplicates().assign(_total=True)
    data = frame.merge(with_total, on=key, how="left")
    data = data[(data["spin"] == "total") | data["_total"].isna()].copy()
    site = data["site"].fillna(data["calc_id"])
    data["where"] = site.where(data["adsorbate"].isna(), site + "+" + data["adsorbate"].fillna(""))
    data["band"] = data["element"] + " " + data["orbital"]
    return data.pivot_table(index="where", columns="band", values="centre_ev", aggfunc="mean")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "all"


def _save(figure: Figure, path: Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    plt.close(figure)
    return atomic_write_bytes(path, buffer.getvalue())


def write_report(store: ResultStore, out_dir: str | Path) -> list[Path]:
    """Write the PNG figures of every study with data into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    written: list[Path] = []
    ads = queries.adsorption(store)
    for study, frame in ads.groupby("study", sort=True):
        figure = grouped_bars(
            adsorption_table(frame), str(study), "adsorption energy (eV)", "adsorbate"
        )
        written.append(_save(figure, out / f"adsorption_{_slug(study)}.png"))
    bands = queries.bands(store)
    for study, frame in bands.groupby("study", sort=True):
        figure = grouped_bars(band_table(frame), str(study), "band centre − E_F (eV)", "band")
        written.append(_save(figure, out / f"band_centres_{_slug(study)}.png"))
    return written
