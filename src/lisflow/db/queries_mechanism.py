"""Queries of the mechanism studies: ``lisflow query free-energy`` and ``lisflow query neb``.

Both read the generic series/scalar tables (no table of their own): the ΔG profile rows of
``<study>/free_energy/<site>`` (lisflow.workflows.firetasks_mechanism) and the CI-NEB results
of the ``neb`` calculations (lisflow.engines.mlip_mechanism).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from lisflow.db.queries import FilterFields, QueryFilter, _filter, scalars, series

if TYPE_CHECKING:
    import pandas as pd

    from lisflow.db.store import ResultStore

#: Step labels of the profile (step k: state k−1 → state k; firetasks_mechanism.STEP_NAMES).
STEP_NAMES = ("S8 -> S8*", "S8* -> Li2S8*", "Li2S8* -> Li2S6*", "Li2S6* -> Li2S4*",
              "Li2S4* -> Li2S2*", "Li2S2* -> Li2S*")  # fmt: skip
PROFILE_COLUMNS = ("study", "site", "step", "reaction", "li_per_s8", "dG_eV", "dG_per_2e_eV",
                   "G_state_eV", "rate_limiting", "calc_id")  # fmt: skip


def free_energy(
    store: ResultStore, where: QueryFilter | None = None, **filters: Unpack[FilterFields]
) -> pd.DataFrame:
    """Sulfur-reduction ΔG profile per site and step (eV, per S8; dG per 2e⁻ as usually written)."""
    import pandas as pd

    where = _filter(where, filters)
    points = series(store, where, analysis="free_energy")
    points = points[points["calc_id"].str.contains("/free_energy/", regex=False)]
    values = scalars(store, where)
    rows = []
    for calc_id, group in points.groupby("calc_id", sort=True):
        by = {q: dict(zip(g["x"], g["y"], strict=True)) for q, g in group.groupby("quantity")}
        named = values[values["calc_id"] == calc_id].set_index("name")["value"]
        limiting = int(named.get("rate_limiting_step", -1))
        for step in sorted(by.get("dG_step", {})):
            rows.append({
                "study": group["study"].iloc[0], "site": group["site"].iloc[0], "step": int(step),
                "reaction": STEP_NAMES[int(step) - 1], "li_per_s8": by["Li_per_step"][step],
                "dG_eV": by["dG_step"][step], "dG_per_2e_eV": by["dG_step_per_2e"][step],
                "G_state_eV": by["G_state"][step], "rate_limiting": int(step) == limiting,
                "calc_id": calc_id,
            })  # fmt: skip
    return pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))


NEB_COLUMNS = ("study", "site", "path", "barrier_eV", "reverse_barrier_eV", "reaction_energy_eV",
               "climbing_image", "images", "calc_id")  # fmt: skip


def neb(
    store: ResultStore, where: QueryFilter | None = None, **filters: Unpack[FilterFields]
) -> pd.DataFrame:
    """CI-NEB barriers (eV) per site and path, with the climbing image's index."""
    import pandas as pd

    values = scalars(store, _filter(where, filters))
    values = values[values["name"].str.startswith("neb_")]
    rows = []
    for calc_id, group in values.groupby("calc_id", sort=True):
        named = group.set_index("name")["value"]
        rows.append({
            "study": group["study"].iloc[0], "site": group["site"].iloc[0],
            "path": group["adsorbate"].iloc[0], "barrier_eV": named["neb_barrier"],
            "reverse_barrier_eV": named["neb_reverse_barrier"],
            "reaction_energy_eV": named["neb_reaction_energy"],
            "climbing_image": int(named["neb_climbing_image"]),
            "images": int(named["neb_images"]), "calc_id": calc_id,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(NEB_COLUMNS))
