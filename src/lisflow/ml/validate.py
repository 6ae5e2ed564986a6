"""Validation of training tables, light on imports (numpy, pandas): ``lisflow ml`` checks its
arguments and tables with this module before it imports scikit-learn, XGBoost or pymatgen.

Rules for a table (violations raise ``InputError`` naming the column): the target column must
exist and be numeric; every other column must be numeric unless dropped (``drop``) or declared
categorical (``categorical``: one-hot encoded, categories sorted); no missing values; at least
``2 × folds`` rows. A ``site`` column, if present, names the rows (kept out of the features).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lisflow.errors import InputError

#: Feature groups of the catalogue (lisflow.ml.features.feature_catalogue; a test keeps the
#: two in step).
FEATURE_GROUPS = ("composite", "computed", "corrected_d", "element", "structure")


#: Inner-CV folds of the selection (lisflow.ml.selection.ModelConfig.inner_folds default).
INNER_FOLDS = 3


def check_folds(n_rows: int, folds: int) -> None:
    """Enough rows for the nested CV: ``2 × folds``, and every outer training part (the rows
    minus the largest outer test fold) at least :data:`INNER_FOLDS` rows for the inner CV."""
    if folds < 2:
        raise InputError("--folds", f"{folds} folds", ">= 2")
    need = max(2 * folds, next(n for n in range(2, 10_000) if n - -(-n // folds) >= INNER_FOLDS))
    if n_rows < need:
        raise InputError(
            "--folds",
            f"{n_rows} rows are too few for {folds}-fold nested CV",
            f">= {need} rows",
        )


def check_positive(**options: int) -> None:
    """``InputError`` for the first option (``--name``) below 1 (or below 0 for ``ensemble``)."""
    for name, value in options.items():
        low = 0 if name == "ensemble" else 1
        if value < low:
            raise InputError(f"--{name.replace('_', '-')}", f"{value}", f">= {low}")


def check_groups(groups: Sequence[str]) -> None:
    for group in groups:
        if group not in FEATURE_GROUPS:
            raise InputError(
                "--final-groups", f"unknown feature group {group!r}", ", ".join(FEATURE_GROUPS)
            )


#: Column naming the rows (site names); never a feature.
ID_COLUMN = "site"


@dataclass
class TrainingData:
    """Validated features ``x`` (float), target ``y``, the row names (sites) if known and the
    encoding (dropped columns, categorical levels) that turned the table into ``x``."""

    x: pd.DataFrame
    y: np.ndarray
    target: str
    sites: list[str]
    encoding: dict = field(default_factory=dict)


def read_table(path: str | Path) -> pd.DataFrame:
    file = Path(path)
    if not file.is_file():
        raise InputError("--table", f"no such file {str(file)!r}")
    try:
        return pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError("--table", f"{file} is not a readable CSV table ({exc})") from None


def prepare(
    frame: pd.DataFrame,
    target: str,
    drop: Sequence[str] = (),
    categorical: Sequence[str] = (),
    folds: int = 5,
) -> TrainingData:
    """Validate ``frame`` and split it into features and target (see module docstring)."""
    columns = list(frame.columns)
    if target not in columns:
        raise InputError(
            "--target", f"column {target!r} not in the table", ", ".join(map(str, columns))
        )
    for option, names in (("--drop", drop), ("--categorical", categorical)):
        for name in names:
            if name not in columns or name == target:
                raise InputError(option, f"column {name!r} not in the table (or is the target)")
    if not pd.api.types.is_numeric_dtype(frame[target]):
        raise InputError(target, "target column is not numeric")
    missing = [c for c in columns if c not in drop and frame[c].isna().any()]
    if missing:
        rows = frame.index[frame[missing[0]].isna()].tolist()[:5]
        raise InputError(missing[0], f"missing values (NaN) in rows {rows}", "finite numbers")
    sites = frame[ID_COLUMN].astype(str).tolist() if ID_COLUMN in columns else []
    skip = {target, ID_COLUMN, *drop}
    features = frame[[c for c in columns if c not in skip]]
    for column in features.columns:
        if column not in categorical and not pd.api.types.is_numeric_dtype(features[column]):
            raise InputError(
                column, "non-numeric column (declare it with --categorical or --drop it)"
            )
    if categorical:
        features = pd.get_dummies(features, columns=list(categorical), prefix_sep="=", dtype=float)
    features = features.astype(float)
    if not np.isfinite(features.to_numpy()).all():
        bad = features.columns[~np.isfinite(features.to_numpy()).all(axis=0)][0]
        raise InputError(str(bad), "infinite values", "finite numbers")
    if features.shape[1] == 0:
        raise InputError("--table", "no feature columns left")
    check_folds(len(frame), folds)
    encoding = {
        "target": target,
        "drop": list(drop),
        "categorical": {c: sorted(map(str, frame[c].unique())) for c in categorical},
        "raw_columns": [c for c in columns if c not in skip],
        "features": list(features.columns),
        "known_combinations": sorted(
            {tuple(map(str, r)) for r in frame[list(categorical)].itertuples(index=False)}
        )
        if categorical
        else [],
    }
    return TrainingData(
        features.reset_index(drop=True), frame[target].to_numpy(float), target, sites, encoding
    )


def category_grid(encoding: dict) -> pd.DataFrame:
    """Every combination of the categorical levels not in the training table (candidate rows of
    a table whose only features are categorical, e.g. catalyst × adsorbate)."""
    import itertools

    names = list(encoding["categorical"])
    if not names or set(encoding["raw_columns"]) != set(names):
        raise InputError(
            "--candidates",
            "the model's features are neither site features nor categorical levels only",
            "a candidate CSV with columns " + ", ".join(encoding.get("raw_columns", [])),
        )
    known = {tuple(k) for k in encoding["known_combinations"]}
    rows = [c for c in itertools.product(*encoding["categorical"].values()) if c not in known]
    if not rows:
        raise InputError("--model", "every combination of categories is already in the table")
    return pd.DataFrame(rows, columns=names)


def encode(frame: pd.DataFrame, encoding: dict) -> pd.DataFrame:
    """Encode candidate rows like the training table (``encoding`` of :func:`prepare`)."""
    raw = encoding["raw_columns"]
    missing = [c for c in raw if c not in frame.columns]
    if missing:
        raise InputError("--candidates", f"missing columns {missing[:5]}", ", ".join(raw))
    rows = frame[raw].copy()
    for column, levels in encoding["categorical"].items():
        unknown = sorted(set(rows[column].astype(str)) - set(levels))
        if unknown:
            raise InputError(column, f"categories not in the training table: {unknown[:5]}",
                             ", ".join(levels))  # fmt: skip
        values = rows.pop(column).astype(str)
        for level in levels:
            rows[f"{column}={level}"] = (values == level).astype(float)
    if rows.isna().any().any():
        raise InputError("--candidates", "missing values (NaN)", "finite numbers")
    return rows[encoding["features"]].astype(float)
