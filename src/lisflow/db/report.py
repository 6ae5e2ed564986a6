"""PNG figures of the results database (matplotlib, Agg back end), written atomically.

- ``adsorption_<study>.png``: adsorption energy (eV) per site, one bar per adsorbate.
- ``band_centres_<study>.png``: band centres (eV relative to E_F) per site, one bar per
  element and orbital (spin ``total`` rows; otherwise the mean of the up and down channels).
- ``claims.csv`` / ``claims.png``: the papers' three qualitative claims next to the computed
  numbers (Ti(001) vs Mo; FeCo strongest among DASCs; P4_2/mnm Li2S2 lowest E_f).
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
    if len(claims_table(store)):
        write_claims(store, out)
        written += [out / "claims.csv", out / "claims.png"]
    return written


# --- the papers' three qualitative claims next to what was computed --------------------------

#: (claim, source) of the findings checked by :func:`claims_table`.
CLAIMS = {
    "ti_vs_mo": (
        "Ti(001) binds Li2S_n more strongly than the Mo centres",
        "Zhou et al., Nature 621, 75 (2023), Suppl. Fig. 31b",
    ),
    "feco_strongest": (
        "FeCo DASC: strongest central-metal-S binding among the DASCs",
        "Han et al., Nat. Commun. (2024), Fig. 3",
    ),
    "p42mnm_lowest": (
        "Tetragonal P4_2/mnm Li2S2 has the lowest formation energy",
        "Zhou et al., Nature 621, 75 (2023), Fig. 2c",
    ),
}


def _central_metal_s(run_dir: str | None, central: str) -> float | None:
    """Shortest central-metal–S distance (Å) in a relaxed adslab (MLIP result file)."""
    import json

    from pymatgen.core import Structure

    file = Path(run_dir or "") / "mlip_result.json"
    if not file.is_file():
        return None
    structure = Structure.from_dict(json.loads(file.read_text())["final_structure"])
    metals = [i for i, s in enumerate(structure) if s.specie.symbol == central]
    sulfur = [i for i, s in enumerate(structure) if s.specie.symbol == "S"]
    if not metals or not sulfur:
        return None
    return float(min(structure.get_distance(m, s) for m in metals for s in sulfur))


def claims_table(store: ResultStore) -> pd.DataFrame:
    """One row per (claim, engine, detail): the computed numbers and whether they agree."""
    from pymatgen.core import Element

    rows: list[dict] = []
    ads = queries.adsorption(store)
    best = ads.groupby(["engine", "study", "site", "adsorbate"], as_index=False)["energy_ev"].min()
    for (engine, study), frame in best.groupby(["engine", "study"]):
        table = frame.pivot_table(index="site", columns="adsorbate", values="energy_ev")
        mo_sites = [s for s in table.index if s.startswith("Mo")]
        if "Ti001" in table.index and mo_sites:
            for adsorbate in table.columns:
                ti, mo = table.at["Ti001", adsorbate], table.loc[mo_sites, adsorbate].min()
                if ti != ti or mo != mo:
                    continue
                site = table.loc[mo_sites, adsorbate].idxmin()
                rows.append(
                    dict(claim="ti_vs_mo", engine=engine, study=study, detail=adsorbate,
                         measured=f"Ti001 {ti:.2f} eV vs {site} {mo:.2f} eV",
                         agrees=bool(ti < mo))
                )  # fmt: skip
        dascs = [s for s in table.index if s.endswith("-N6")]
        if "FeCo-N6" in dascs and len(dascs) > 1 and "Li2S" in table.columns:
            energies = table.loc[dascs, "Li2S"].dropna()
            strongest = energies.idxmin()
            rows.append(
                dict(claim="feco_strongest", engine=engine, study=study, detail="E_ads(Li2S)",
                     measured=", ".join(f"{s} {e:.2f} eV" for s, e in energies.items()),
                     agrees=bool(strongest == "FeCo-N6"))
            )  # fmt: skip
            distances = {}
            for site in dascs:
                pair = site.removesuffix("-N6")
                metals = [m for m in (pair[:2], pair[2:]) if m]
                central = min(metals, key=lambda m: Element(m).Z)  # paper 002: lower Z binds S
                hit = ads[(ads.engine == engine) & (ads.study == study) & (ads.site == site)]
                hit = hit[hit.adsorbate == "Li2S"].sort_values("energy_ev")
                if len(hit):
                    record = store.get(hit.iloc[0]["adslab_calc_id"])
                    assert record is not None  # the adsorption row points at it
                    run_dir = record.run_dir
                    distance = _central_metal_s(run_dir, central)
                    if distance is not None:
                        distances[site] = distance
            if len(distances) > 1:
                shortest = min(distances, key=lambda name: distances[name])
                rows.append(
                    dict(claim="feco_strongest", engine=engine, study=study,
                         detail="shortest central metal-S (Li2S)",
                         measured=", ".join(f"{s} {d:.3f} Å" for s, d in distances.items()),
                         agrees=bool(shortest == "FeCo-N6"))
                )  # fmt: skip
    poly = queries.polymorphs(store)
    for (engine, study), frame in poly.groupby(["engine", "study"]):
        if "tetragonal" not in set(frame["polymorph"]) or len(frame) < 2:
            continue
        ordered = frame.sort_values("formation_energy_per_atom_ev")
        tet = float(frame.loc[frame.polymorph == "tetragonal", "formation_energy_per_atom_ev"].min())
        runner_up = ordered[ordered.polymorph != "tetragonal"].iloc[0]
        rows.append(
            dict(claim="p42mnm_lowest", engine=engine, study=study, detail="E_f (eV/atom)",
                 measured=f"tetragonal {tet:.4f}; lowest other {runner_up.polymorph} "
                 f"{runner_up.formation_energy_per_atom_ev:.4f}",
                 agrees=bool(ordered.iloc[0].polymorph == "tetragonal"))
        )  # fmt: skip
    frame = pd.DataFrame(
        rows, columns=["claim", "engine", "study", "detail", "measured", "agrees"]
    )
    frame.insert(1, "paper", [CLAIMS[c][0] + " (" + CLAIMS[c][1] + ")" for c in frame["claim"]])
    return frame


def claims_figure(store: ResultStore) -> Figure | None:
    """Three panels: Ti vs best Mo E_ads per adsorbate; E_ads(Li2S) per DASC; E_f per polymorph."""
    ads = queries.adsorption(store)
    poly = queries.polymorphs(store)
    if not len(ads) and not len(poly):
        return None
    figure, axes = plt.subplots(1, 3, figsize=(14, 4))
    if len(ads):
        best = ads.pivot_table(index="site", columns="adsorbate", values="energy_ev", aggfunc="min")
        mo = [s for s in best.index if s.startswith("Mo")]
        if "Ti001" in best.index and mo:
            data = pd.DataFrame({"Ti(001)": best.loc["Ti001"], "best Mo_n/N-G": best.loc[mo].min()})
            data.plot.bar(ax=axes[0], rot=30)
        dascs = [s for s in best.index if s.endswith("-N6") or s.endswith("-N4")]
        if dascs and "Li2S" in best.columns:
            best.loc[dascs, "Li2S"].plot.bar(ax=axes[1], rot=30, color="tab:green")
    if len(poly):
        energies = poly.groupby("polymorph")["formation_energy_per_atom_ev"].min()
        (1000.0 * (energies - energies.min())).sort_values().plot.bar(
            ax=axes[2], rot=30, color="tab:purple"
        )
    titles = (
        "E_ads Ti(001) vs Mo (eV)",
        "E_ads Li2S on M-N4 / M1M2-N6 (eV)",
        "Li2S2 E_f - lowest (meV/atom)",
    )
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title, fontsize="medium")
        ax.axhline(0.0, color="black", linewidth=0.8)
        if not ax.patches:
            ax.text(0.5, 0.5, "not computed", ha="center", va="center", transform=ax.transAxes)
    figure.tight_layout()
    return figure


def write_claims(store: ResultStore, out_dir: str | Path) -> str:
    """``claims.csv`` + ``claims.png`` in ``out_dir``; returns the table as text."""
    out = Path(out_dir)
    table = claims_table(store)
    atomic_write_bytes(out / "claims.csv", table.to_csv(index=False).encode())
    figure = claims_figure(store)
    if figure is not None:
        _save(figure, out / "claims.png")
    if not len(table):
        return "claims: no computed numbers yet for the three claims"
    return table.drop(columns=["paper"]).to_string(index=False)
