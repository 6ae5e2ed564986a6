"""Screening: predict every SASC and M1–M2 DASC of the 3d/4d/5d metals and propose the next DFT.

Candidates are :func:`lisflow.ml.datasets.all_sites` (30 SASCs + 465 DASC pairs, homonuclear
included) minus the sites already in the training data. Each gets the final model's prediction
and the standard deviation of the bootstrap ensemble (uncertainty, target units). The proposal
holds the ``ceil(top/2)`` best-scored sites (exploitation) and then the most uncertain of the rest
(exploration), written as an ``adsorption`` study definition for ``lisflow dry-run``/``submit``.

Score (lower is better): ``goal="min"`` the prediction (e.g. strongest binding), ``"max"`` its
negative, or with ``optimum`` the distance |prediction − optimum| (Sabatier-type target).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import yaml

from lisflow.errors import InputError
from lisflow.fsutil import write_output_file
from lisflow.ml.datasets import all_sites, trimetallic_sites
from lisflow.ml.features import (
    COMPUTED_CATALOGUE,
    feature_frame,
    parse_site_name,
    site_feature_names,
    site_name,
)

GOALS = ("min", "max")


#: Refusal when nothing is left to screen (e.g. a data set that covers every enumerated site).
KNOWN_ONLY = (
    "every candidate site is already in the training data"
    " (--include-known ranks them for a DFT round)"
)


class Predictor(Protocol):
    @property
    def features(self) -> list[str]: ...

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]: ...


def _canonical(names: Sequence[str]) -> set[str]:
    """Canonical names (lower Z first) of the parseable site names in ``names``."""
    out = set()
    for name in names:
        try:
            out.add(site_name(parse_site_name(name)))
        except InputError:
            out.add(name)
    return out


def rank_rows(
    predictor: Predictor,
    features: pd.DataFrame,
    names: Sequence[str],
    goal: str = "min",
    optimum: float | None = None,
    name_column: str = "candidate",
) -> pd.DataFrame:
    """Rows of ``features`` (named ``names``) with prediction, uncertainty and score, best first."""
    if goal not in GOALS:
        raise InputError("--goal", f"unknown goal {goal!r}", ", ".join(GOALS))
    prediction, uncertainty = predictor.predict(features)
    if optimum is not None:
        score = np.abs(prediction - optimum)
    else:
        score = prediction if goal == "min" else -prediction
    table = pd.DataFrame(
        {
            name_column: list(names),
            "prediction": prediction,
            "uncertainty": uncertainty,
            "score": score,
        }
    )
    table = table.sort_values(["score", name_column], kind="mergesort").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def is_site_model(features: Sequence[str]) -> bool:
    """True when every model feature is a catalogue feature (computed DB features included:
    :func:`rank_candidates` then names those it cannot compute for unseen sites)."""
    return set(features) <= set(site_feature_names(trimetallic=True)) | set(COMPUTED_CATALOGUE)


def rank_candidates(
    predictor: Predictor,
    metals: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    goal: str = "min",
    optimum: float | None = None,
    cell: int = 6,
) -> pd.DataFrame:
    """Every candidate site with prediction, uncertainty and score, best first.

    A model with trimetallic features (``M3_…``) ranks the trimetallic sites of ``metals``
    (default: Fe with any two metals, paper 002's Fe-based extension); otherwise every SASC and
    DASC of ``metals`` (default: the 3d/4d/5d metals), their structural features from the site
    built in a ``cell`` × ``cell`` graphene cell (the training data's cell, e.g. 4 for the MLIP
    data set; 6: the papers'). Sites in ``exclude`` are left out."""
    if goal not in GOALS:
        raise InputError("--goal", f"unknown goal {goal!r}", ", ".join(GOALS))
    trimetallic = any(f.startswith("M3_") or f.startswith("tri_") for f in predictor.features)
    sites = trimetallic_sites(metals) if trimetallic else all_sites(metals)
    excluded = _canonical(exclude)
    sites = [s for s in sites if site_name(s) not in excluded]
    if not sites:
        raise InputError("--model", KNOWN_ONLY)
    structures = None
    if cell != 6 and not trimetallic:
        from lisflow.structures.support import dasc_graphene

        structures = {site_name(s): dasc_graphene(list(s), supercell=cell) for s in sites}
    frame = feature_frame(sites, structures)
    if frame.empty:
        raise InputError("--model", KNOWN_ONLY)
    missing = [f for f in predictor.features if f not in frame.columns]
    if missing:
        raise InputError(
            "--model",
            f"model features cannot be computed for unseen sites: {', '.join(missing[:5])}",
            "catalogue features without computed (DB) ones",
        )
    return rank_rows(predictor, frame, list(frame.index), goal, optimum, name_column="site")


def pick(table: pd.DataFrame, top: int) -> pd.DataFrame:
    """``ceil(top/2)`` best by score, then the most uncertain of the rest; column ``reason``."""
    if top < 1:
        raise InputError("--top", f"{top}", ">= 1")
    n_best = math.ceil(top / 2)
    name = "site" if "site" in table.columns else "candidate"
    best = table.head(n_best).assign(reason="best_predicted")
    rest = table.iloc[n_best:].sort_values(
        ["uncertainty", name], ascending=[False, True], kind="mergesort"
    )
    uncertain = rest.head(top - n_best).assign(reason="most_uncertain")
    return pd.concat([best, uncertain], ignore_index=True)


def study_definition(
    picked: pd.DataFrame,
    study: str = "ml_screen_round1",
    adsorbates: Sequence[str] = ("Li2S",),
    preset: str = "paper002",
    description: str = "",
) -> dict:
    """The ``kind: adsorption`` study mapping for the picked sites (paper 002 VASP preset)."""
    substrates = [{"builder": "dasc", "metals": list(parse_site_name(s))} for s in picked["site"]]
    if any(len(s["metals"]) > 2 for s in substrates):
        raise InputError(
            "--out",
            "trimetallic sites have no structure builder in the study schema yet",
            "a .csv path (the proposal as a table)",
        )
    return {
        "study": study,
        "kind": "adsorption",
        "engine": "vasp",
        "preset": preset,
        "description": description or f"ML screening proposal: {len(substrates)} sites",
        "substrates": substrates,
        "adsorbates": list(adsorbates),
        "configurations": 1,
    }


def write_study(path: str | Path, definition: dict, picked: pd.DataFrame, target: str) -> Path:
    """Write the study YAML atomically; a comment block lists each pick's prediction."""
    lines = [f"# Proposed by lisflow ml screen; predicted {target} ± ensemble std:"]
    for row in picked.itertuples():
        lines.append(
            f"#   {row.site:<10} {row.prediction:+.3f} ± {row.uncertainty:.3f}  "
            f"(rank {row.rank}, {row.reason})"
        )
    body = yaml.safe_dump(definition, sort_keys=False, default_flow_style=None, allow_unicode=True)
    return write_output_file(path, "\n".join(lines) + "\n" + body)
