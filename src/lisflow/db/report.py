"""PNG figures of the results database (matplotlib, Agg back end), written atomically.

One PNG per query type with data (``<query>.png``, one panel per study):

- ``adsorption.png``: adsorption energy (eV) per site, one bar per adsorbate;
- ``bands.png``: band centres (eV relative to E_F) per site, one bar per element and orbital
  (spin ``total`` rows; otherwise the mean of the up and down channels);
- ``charges.png``: mean Bader net charge (e) per element; ``magmoms.png``: mean magnetic
  moment (μB) per element; ``icohp.png``: ICOHP (eV) per bond label;
- ``polymorphs.png``: formation energy (eV/atom) per polymorph, one bar per engine;
- ``series.png``: MD analysis series (one panel per analysis and unit);
- ``scalars.png``: scalar MD results per calculation (one panel per unit);
- ``calculations.png``: number of calculations per study and state.
- ``claims.csv`` / ``claims.png``: the papers' three qualitative claims next to the computed
  numbers (Ti(001) vs Mo; FeCo strongest among DASCs; P4_2/mnm Li2S2 lowest E_f).
"""

from __future__ import annotations

import io
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
    bars_on(axes, table, title, ylabel, legend)
    figure.tight_layout()
    return figure


def bars_on(axes, table: pd.DataFrame, title: str, ylabel: str, legend: str = "",
            xlabel: str = "site") -> None:  # fmt: skip
    """Draw ``table`` as grouped bars on ``axes`` (x: index, one bar per column; NaN: none)."""
    n_groups, n_bars = table.shape
    width = 0.8 / max(n_bars, 1)
    for j, column in enumerate(table.columns):
        xs = [i - 0.4 + width * (j + 0.5) for i in range(n_groups)]
        values = table[column].to_numpy(dtype=float)
        keep = [k for k, v in enumerate(values) if v == v]
        axes.bar([xs[k] for k in keep], values[keep], width=width, label=str(column))
    axes.set_xticks(range(n_groups), [str(i) for i in table.index], rotation=30, ha="right")
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    if n_bars:
        _legend_clear_of_bars(axes, table, legend)


def _legend_clear_of_bars(axes, table: pd.DataFrame, title: str) -> None:
    """Legend in room made for it: below negative bars, above positive ones, else outside."""
    values = table.to_numpy(dtype=float)
    values = values[values == values]
    low, high = axes.get_ylim()
    ncol = min(len(table.columns), 3)
    if len(values) and (values <= 0).all():
        axes.set_ylim(low - 0.35 * (high - low), high)
        axes.legend(title=title or None, fontsize="small", loc="lower center", ncol=ncol)
    elif len(values) and (values >= 0).all():
        axes.set_ylim(low, high + 0.35 * (high - low))
        axes.legend(title=title or None, fontsize="small", loc="upper center", ncol=ncol)
    else:
        axes.legend(title=title or None, fontsize="small", loc="upper left",
                    bbox_to_anchor=(1.01, 1.0))  # fmt: skip


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


def _save(figure: Figure, path: Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    plt.close(figure)
    return atomic_write_bytes(path, buffer.getvalue())


def _where(frame: pd.DataFrame) -> pd.Series:
    """Row label of a calculation: its site (+adsorbate), else its calc_id."""
    site = frame["site"].fillna(frame["calc_id"])
    return site.where(frame["adsorbate"].isna(), site + "+" + frame["adsorbate"].fillna(""))


#: Query -> (pivot of one study's rows, y label, legend title, x label).
PANELS = {
    "adsorption": (adsorption_table, "adsorption energy $E_{ads}$ (eV)", "adsorbate", "site"),
    "bands": (band_table, "band centre − $E_F$ (eV)", "band", "site"),
    "charges": (
        lambda f: f.assign(where=_where(f)).pivot_table(
            index="where", columns="element", values="net_charge", aggfunc="mean"),
        "mean Bader net charge (e)", "element", "calculation",
    ),
    "magmoms": (
        lambda f: f.assign(where=_where(f)).pivot_table(
            index="where", columns="element", values="moment_mub", aggfunc="mean"),
        "mean magnetic moment ($\\mu_B$)", "element", "calculation",
    ),
    "icohp": (
        lambda f: f.assign(where=_where(f)).pivot_table(
            index="label", columns="where", values="icohp_ev", aggfunc="mean"),
        "ICOHP (eV)", "calculation", "bond",
    ),
    "polymorphs": (
        lambda f: f.pivot_table(index="polymorph", columns="engine",
                                values="formation_energy_per_atom_ev", aggfunc="min"),
        "formation energy (eV/atom)", "engine", "polymorph",
    ),
    "calculations": (
        lambda f: f.pivot_table(index="study", columns="state", values="calc_id",
                                aggfunc="count"),
        "calculations", "state", "study",
    ),
}  # fmt: skip


def _panel_grid(n: int, width: float = 6.4, height: float = 3.8):
    columns = min(n, 2)
    rows = -(-n // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows),
                                squeeze=False)  # fmt: skip
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return figure, list(axes.flat[:n])


def query_figure(name: str, frame: pd.DataFrame) -> Figure | None:
    """The figure of one query's rows (one panel per study); ``None`` without rows."""
    if not len(frame):
        return None
    if name == "series":
        return _series_figure(frame)
    if name == "scalars":
        return _scalars_figure(frame)
    from lisflow.db.report_mechanism import FIGURES

    if name in FIGURES:  # free-energy step diagram, CI-NEB barriers
        return FIGURES[name](frame)
    pivot, ylabel, legend, xlabel = PANELS[name]
    groups = [("all studies", frame)] if name == "calculations" else list(
        frame.groupby("study", sort=True))  # fmt: skip
    figure, axes = _panel_grid(len(groups))
    for ax, (study, rows) in zip(axes, groups, strict=True):
        bars_on(ax, pivot(rows), str(study), ylabel, legend, xlabel)
    figure.tight_layout()
    return figure


def _series_figure(frame: pd.DataFrame) -> Figure:
    from lisflow.plotstyle import unit_axis_label

    panels = list(frame.groupby(["analysis", "y_unit"], sort=True))[:6]
    figure, axes = _panel_grid(len(panels))
    for ax, ((analysis, y_unit), rows) in zip(axes, panels, strict=True):
        for (calc_id, quantity), line in rows.groupby(["calc_id", "quantity"], sort=True):
            ax.plot(line["x"], line["y"], lw=1.2, label=f"{calc_id}: {quantity}")
        x_unit = str(rows["x_unit"].iloc[0])
        ax.set_xlabel(unit_axis_label(x_unit, x=True, lag=str(analysis).startswith("msd")))
        ax.set_ylabel(unit_axis_label(str(y_unit)))
        ax.set_title(str(analysis))
        ax.legend(fontsize="x-small")
    figure.tight_layout()
    return figure


def _scalars_figure(frame: pd.DataFrame) -> Figure:
    from lisflow.plotstyle import axis_label

    panels = list(frame.groupby("unit", sort=True))
    figure, axes = _panel_grid(len(panels))
    for ax, (unit, rows) in zip(axes, panels, strict=True):
        table = rows.pivot_table(index="calc_id", columns="name", values="value", aggfunc="mean")
        bars_on(ax, table, "scalar MD results", axis_label("value", str(unit)),
                "quantity", "calculation")  # fmt: skip
    figure.tight_layout()
    return figure


def report_figures(store: ResultStore) -> dict[str, Figure]:
    """``{query name: figure}`` for every query of ``queries.QUERIES`` that has rows."""
    figures = {}
    for name, function in queries.QUERIES.items():
        figure = query_figure(name, function(store))
        if figure is not None:
            figures[name] = figure
    return figures


def write_report(store: ResultStore, out_dir: str | Path) -> list[Path]:
    """Write ``<query>.png`` for every query with rows (and the claims) into ``out_dir``."""
    out = Path(out_dir)
    written = [_save(figure, out / f"{name}.png") for name, figure in report_figures(store).items()]
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


def intact_adsorption(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows whose adsorbate stayed one molecule, rows where it dissociated): a dissociated
    adsorbate gives a reaction energy, which no adsorption claim may use."""
    from lisflow.structures.integrity import DISSOCIATED

    broken = frame["state_reason"].fillna("").astype(str).str.startswith(DISSOCIATED)
    return frame[~broken], frame[broken]


def claims_table(store: ResultStore) -> pd.DataFrame:
    """One row per (claim, engine, detail): the computed numbers and whether they agree."""
    from pymatgen.core import Element

    rows: list[dict] = []
    ads, broken = intact_adsorption(queries.adsorption(store))
    for row in broken.itertuples():
        rows.append(
            dict(claim="ti_vs_mo" if row.site == "Ti001" or str(row.site).startswith("Mo")
                 else "feco_strongest", engine=row.engine, study=row.study,
                 detail=f"{row.site}/{row.adsorbate} left out", measured=row.state_reason,
                 agrees=None)
        )  # fmt: skip
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
        for adsorbate in table.columns if "FeCo-N6" in dascs else ():  # every intact LiPS
            energies = table.loc[dascs, adsorbate].dropna()
            if "FeCo-N6" not in energies.index or len(energies) < 2:
                continue
            rows.append(
                dict(claim="feco_strongest", engine=engine, study=study,
                     detail=f"E_ads({adsorbate})",
                     measured=", ".join(f"{s} {e:.2f} eV" for s, e in energies.items()),
                     agrees=bool(energies.idxmin() == "FeCo-N6"))
            )  # fmt: skip
        if "FeCo-N6" in dascs and len(dascs) > 1 and "Li2S" in table.columns:
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
    ads, _ = intact_adsorption(queries.adsorption(store))
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
            low, high = axes[0].get_ylim()  # room under the (negative) bars for the legend
            axes[0].set_ylim(low - 0.35 * (high - low), high)
            axes[0].legend(loc="lower center", ncol=2, fontsize="small")
        dascs = [s for s in best.index if s.endswith("-N6") or s.endswith("-N4")]
        if dascs and "Li2S" in best.columns:
            best.loc[dascs, "Li2S"].plot.bar(ax=axes[1], rot=30, color="tab:green")
    if len(poly):
        energies = poly.groupby("polymorph")["formation_energy_per_atom_ev"].min()
        (1000.0 * (energies - energies.min())).sort_values().plot.bar(
            ax=axes[2], rot=30, color="tab:purple"
        )
    titles = (
        ("Ti(001) vs best Mo centre", "adsorption energy $E_{ads}$ (eV)", "adsorbate"),
        ("Li2S on M-N4 / M1M2-N6 sites", "$E_{ads}$(Li2S) (eV)", "site"),
        ("Li2S2 polymorphs", "$E_f$ − lowest $E_f$ (meV/atom)", "polymorph"),
    )
    for ax, (title, ylabel, xlabel) in zip(axes, titles, strict=True):
        ax.set_title(title, fontsize="medium")
        ax.set_ylabel(ylabel)
        ax.set_xlabel(xlabel)
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
