"""Paper 002's transfer step: the pre-trained model's hyper-parameters and weights carried to a
model on site, structural and component features only.

Paper 002 (text after Fig. 1): the embedded XGBoost model "was considered pre-trained, still
including numerous reference features. We then applied the hyperparameters and weights from
this model to a dataset comprising only site, structural, and component features" (R² 0.63 →
0.82). Here: the pre-trained XGBoost booster (a ``lisflow ml fit`` directory whose final model
is XGBoost) is continued with ``extra_trees`` more boosting rounds (``xgb_model=`` continued
training) with the *same* hyper-parameters (depth, learning rate, subsampling, λ, bins) on the
new rows. The new rows carry values only for the kept features (feature groups
``groups``, default structure + composite + element: site, structural and component
features); every other pre-trained feature is passed as missing (NaN), so the pre-trained trees
route it by their learned default direction and the new trees can only split on kept features.

The transfer is scored honestly by K-fold CV on the new rows (the pre-trained booster is fixed,
only the continued trees see the training part) next to a model trained from scratch with the
same hyper-parameters on the kept features, and the pre-trained booster alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold
from xgboost import XGBRegressor

from lisflow.errors import InputError
from lisflow.ml.selection import ModelConfig, make_xgb

#: Hyper-parameters carried from the pre-trained model (ModelConfig field names = XGBoost's).
CARRIED = ("max_depth", "learning_rate", "subsample", "colsample_bytree", "min_child_weight",
           "reg_lambda", "max_bin")  # fmt: skip
#: Default kept groups: "site, structural and component features" (paper 002).
TRANSFER_GROUPS = ("structure", "composite", "element")


@dataclass
class TransferredModel:
    """The continued booster; ``predict`` masks the non-kept pre-trained features as missing."""

    meta: dict
    model: XGBRegressor
    ensemble: list[XGBRegressor]

    @property
    def features(self) -> list[str]:
        return list(self.meta["transfer"]["kept"])

    def matrix(self, x: pd.DataFrame) -> np.ndarray:
        return _masked(x, self.meta["transfer"]["pretrained_features"], self.features)

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Prediction and ensemble standard deviation (target units)."""
        values = self.matrix(x)
        prediction = self.model.predict(values).astype(float)
        if not self.ensemble:
            return prediction, np.zeros(len(x))
        spread = np.array([m.predict(values) for m in self.ensemble])
        return prediction, spread.std(axis=0).astype(float)

    @classmethod
    def from_saved(cls, meta: dict, model, ensemble: list | None = None) -> TransferredModel:
        return cls(meta, model, ensemble or [])


def _masked(x: pd.DataFrame, pretrained: list[str], kept: list[str]) -> np.ndarray:
    """Columns in the pre-trained order; the non-kept ones NaN (missing)."""
    out = np.full((len(x), len(pretrained)), np.nan)
    for j, name in enumerate(pretrained):
        if name in kept:
            out[:, j] = x[name].to_numpy(float)
    return out


def kept_features(
    pretrained: list[str], columns: list[str], groups: tuple[str, ...] = TRANSFER_GROUPS
) -> list[str]:
    """Pre-trained features present in ``columns`` whose catalogue group is in ``groups``
    (features outside the catalogue are kept when present)."""
    from lisflow.ml.features import feature_catalogue

    group_of = {f.name: f.group for f in feature_catalogue()}
    kept = [f for f in pretrained if f in columns and group_of.get(f, groups[0]) in groups]
    if not kept:
        raise InputError(
            "--groups",
            "no pre-trained feature of these groups is in the new table",
            ", ".join(pretrained[:8]),
        )
    return kept


def _continued(config: ModelConfig, booster, values, y, seed: int | None = None) -> XGBRegressor:
    model = make_xgb(config, seed=seed)
    return model.fit(values, y, xgb_model=booster)


def transfer_fit(
    pretrained,
    x: pd.DataFrame,
    y: np.ndarray,
    groups: tuple[str, ...] = TRANSFER_GROUPS,
    extra_trees: int | None = None,
    folds: int = 5,
    n_ensemble: int = 8,
) -> tuple[TransferredModel, pd.DataFrame]:
    """Continue ``pretrained`` (a :class:`lisflow.ml.explain.SavedModel` with an XGBoost final
    model) on (x, y); return the transferred model and its CV table (transfer, scratch,
    pre-trained only: R² mean ± std over ``folds`` folds)."""
    if pretrained.meta.get("model_kind", "xgb") != "xgb" or pretrained.meta.get("transfer"):
        raise InputError(
            "--pretrained",
            f"final model is {pretrained.meta.get('model_kind')!r}",
            "a 'ml fit' directory whose final model is XGBoost (a stage, or xgb_default)",
        )
    y = np.asarray(y, dtype=float)
    names = list(pretrained.features)
    kept = kept_features(names, list(x.columns), tuple(groups))
    base = ModelConfig(**pretrained.meta["config"])
    params = pretrained.meta.get("model_params") or {}
    carried = {k: params[k] for k in CARRIED if k in params}
    config = replace(base, **carried, n_estimators=extra_trees or base.n_estimators)
    booster = pretrained.model.get_booster()
    values = _masked(x, names, kept)
    cv = KFold(folds, shuffle=True, random_state=config.seed)
    scores: dict[str, list[float]] = {"transfer": [], "scratch": [], "pretrained_only": []}
    for train, test in cv.split(values):
        model = _continued(config, booster, values[train], y[train])
        scores["transfer"].append(r2_score(y[test], model.predict(values[test])))
        scratch = make_xgb(config).fit(x[kept].to_numpy(float)[train], y[train])
        scores["scratch"].append(r2_score(y[test], scratch.predict(x[kept].to_numpy(float)[test])))
        scores["pretrained_only"].append(r2_score(y[test], booster.inplace_predict(values[test])))
    table = pd.DataFrame(
        {
            "model": list(scores),
            "features": [len(kept), len(kept), len(names)],
            "r2_mean": [float(np.mean(v)) for v in scores.values()],
            "r2_std": [float(np.std(v)) for v in scores.values()],
        }
    )
    model = _continued(config, booster, values, y)
    rng = np.random.default_rng(config.seed)
    ensemble = []
    for i in range(n_ensemble):
        rows = rng.integers(0, len(x), len(x))
        ensemble.append(_continued(config, booster, values[rows], y[rows], config.seed + i + 1))
    meta = {
        "target": pretrained.meta["target"],
        "features": kept,
        "model_kind": "xgb",
        "config": {**pretrained.meta["config"], **carried, "n_estimators": config.n_estimators},
        "model_params": {**params, "n_estimators": config.n_estimators},
        "transfer": {
            "pretrained_features": names,
            "kept": kept,
            "groups": list(groups),
            "pretrained_trees": int(booster.num_boosted_rounds()),
            "extra_trees": config.n_estimators,
        },
    }  # fmt: skip
    return TransferredModel(meta, model, ensemble), table
