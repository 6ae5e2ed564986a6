"""Figures of the mechanism studies: the ΔG step diagram and the CI-NEB energy profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

#: State labels of the step diagram (state 0 = S8 + 16 Li + the clean site).
STATE_LABELS = ("S8 + *", "S8*", "Li2S8*", "Li2S6*", "Li2S4*", "Li2S2*", "Li2S*")


def free_energy_figure(frame: pd.DataFrame) -> Figure:
    """Step diagram: G of each state (eV per S8) relative to S8 + 16 Li, one line per site."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7.0, 4.2))
    for (study, site), rows in frame.groupby(["study", "site"], sort=True):
        levels = [0.0] + list(rows.sort_values("step")["G_state_eV"])
        xs, ys = [], []
        for k, g in enumerate(levels):
            xs += [k - 0.3, k + 0.3]
            ys += [g, g]
        (line,) = ax.plot(xs, ys, lw=2.2, label=f"{site} ({study})")
        ax.plot(xs, ys, lw=0.8, ls=":", color=line.get_color())
        limiting = rows[rows["rate_limiting"]]
        for step in limiting["step"]:
            ax.annotate("RLS", (step, levels[int(step)]), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize="x-small")  # fmt: skip
    ax.set_xticks(range(len(STATE_LABELS)), STATE_LABELS, rotation=20)
    ax.set_xlabel("reaction coordinate (state)")
    ax.set_ylabel("relative Gibbs free energy ΔG (eV per S8)")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.legend(fontsize="x-small")
    ax.set_title("Sulfur reduction S8 → Li2S (per S8, vs bulk Li)")
    figure.tight_layout()
    return figure


def neb_figure(frame: pd.DataFrame) -> Figure:
    """CI-NEB barriers (eV) per site and path."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(6.4, 3.8))
    labels = [f"{r.site}\n{r.path}" for r in frame.itertuples()]
    ax.bar(range(len(frame)), frame["barrier_eV"], color="tab:blue")
    ax.set_xticks(range(len(frame)), labels, fontsize="x-small")
    ax.set_ylabel("CI-NEB barrier E_a (eV)")
    ax.set_xlabel("site / path")
    figure.tight_layout()
    return figure


FIGURES = {"free-energy": free_energy_figure, "neb": neb_figure}
