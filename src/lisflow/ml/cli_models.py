"""``lisflow ml fit|screen|transfer``: train the descriptor models of paper 002 (SCIENCE.md
``descriptor_ml``) on a table or the results database, rank candidates with them, and
continue a pre-trained model (registered on ``ml_app`` by :mod:`lisflow.ml.cli`)."""

from __future__ import annotations

from pathlib import Path

import typer

from lisflow.errors import InputError
from lisflow.progress import want_progress

_TARGET_DB = "energy_ev"
#: Baselines of lisflow.ml.models.BASELINES (repeated here: no heavy import before validation).
BASELINE_NAMES = ("rf", "xgb_default", "linear")


def _config(seed: int, estimators: int):
    from lisflow.ml.selection import ModelConfig

    return ModelConfig(n_estimators=estimators, seed=seed, n_jobs=1)


def _final_allowed(columns: list[str], groups: list[str]) -> set[str] | None:
    """Features allowed in the final stage: catalogue features of ``groups`` + non-catalogue ones."""
    if not groups:
        return None
    from lisflow.ml.features import feature_catalogue

    catalogue = {f.name: f.group for f in feature_catalogue()}
    return {c for c in columns if catalogue.get(c, groups[0]) in groups}


def _training_data(
    table: Path | None,
    target: str | None,
    *,
    drop: list[str],
    categorical: list[str],
    folds: int,
    from_db: bool = False,
    db: str | None = None,
    study: str | None = None,
    adsorbate: str | None = None,
):
    """Validated training data from a CSV table (light imports only) or the results database."""
    from lisflow.ml.validate import prepare, read_table

    if (table is None) == (not from_db):
        raise InputError("--table", "give exactly one of --table FILE or --from-db")
    if from_db:
        from lisflow.db.store import open_store
        from lisflow.ml.tables import table_from_db

        with open_store(db, create=True) as store:
            frame = table_from_db(store, study=study, adsorbate=adsorbate)
        target = target or _TARGET_DB
    else:
        if table is None:  # unreachable after the check above; narrows the type
            raise InputError("--table", "give exactly one of --table FILE or --from-db")
        if not target:
            raise InputError("--target", "missing: name the target column")
        frame = read_table(table)
    return prepare(frame, target, drop, categorical, folds)


def _fit(
    data,
    *,
    seed: int,
    folds: int,
    estimators: int,
    jobs: int = 1,
    final_groups=(),
    ensemble: int = 8,
    repeats: int = 1,
    baselines=BASELINE_NAMES,
    progress: bool = False,
):
    from lisflow.ml.pipeline import fit_pipeline
    from lisflow.progress import progress_bar

    config = _config(seed, estimators)
    allowed = _final_allowed(list(data.x.columns), list(final_groups))
    with progress_bar("nested CV", folds * repeats + 1, progress) as step:
        return fit_pipeline(
            data.x, data.y, data.target, config, folds, allowed, ensemble, repeats, jobs,
            tuple(baselines), progress=step,
        )  # fmt: skip


PROGRESS_OPTION = typer.Option(
    None, "--progress/--no-progress", help="Progress bar on stderr (default: when a terminal)."
)


def _baselines(names: list[str]) -> tuple[str, ...]:
    """``--baseline`` values: default all; ``none`` for stages only (XGBoost final model)."""
    if not names:
        return BASELINE_NAMES
    allowed = (*BASELINE_NAMES, "none")
    for name in names:
        if name not in allowed:
            raise InputError("--baseline", f"unknown baseline {name!r}", ", ".join(allowed))
    return tuple(n for n in names if n != "none")


def fit_command(
    table: Path | None = typer.Option(None, "--table", help="CSV table: one row per sample."),
    target: str | None = typer.Option(
        None, "--target", help="Target column (--from-db: energy_ev)."
    ),
    drop: list[str] = typer.Option([], "--drop", help="Column to ignore (repeatable)."),
    categorical: list[str] = typer.Option(
        [], "--categorical", help="Column to one-hot encode (repeatable)."
    ),
    from_db: bool = typer.Option(
        False, "--from-db", help="Adsorption energies + site features from the DB."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default $LISFLOW_DB_URL or SQLite)."
    ),
    study: str | None = typer.Option(None, "--study", help="Only this study (--from-db)."),
    adsorbate: str | None = typer.Option(
        None, "--adsorbate", help="Only this adsorbate (--from-db)."
    ),
    out: Path = typer.Option(
        Path("ml_fit"), "--out", help="Output directory (replaced atomically)."
    ),
    seed: int = typer.Option(0, "--seed"),
    folds: int = typer.Option(5, "--folds", help="Outer folds of the nested CV."),
    estimators: int = typer.Option(50, "--estimators", help="XGBoost trees of the stages."),
    jobs: int = typer.Option(
        1, "--jobs", help="Outer folds in parallel (processes; models single-threaded)."
    ),
    final_groups: list[str] = typer.Option(
        [], "--final-groups", help="Feature groups of the final stage (repeatable)."
    ),
    ensemble: int = typer.Option(8, "--ensemble", help="Bootstrap models for uncertainties."),
    repeats: int = typer.Option(
        1, "--repeats", help="Outer-CV seeds (seed, seed+1, ...) for stability selection."
    ),
    baseline: list[str] = typer.Option(
        [], "--baseline", help="Baselines: rf, xgb_default, linear (default all), none."
    ),
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """Stages (filter → wrapper → embedded → final) and baselines (RF, XGBoost, ridge) in one
    nested CV; the final model is the inner-CV choice on its stable feature set."""
    from lisflow.ml.validate import check_groups, check_positive

    check_positive(estimators=estimators, jobs=jobs, repeats=repeats, ensemble=ensemble)
    check_groups(final_groups)
    baselines = _baselines(baseline)
    data = _training_data(
        table, target, drop=drop, categorical=categorical, folds=folds,
        from_db=from_db, db=db, study=study, adsorbate=adsorbate,
    )  # fmt: skip
    from lisflow.ml.explain import write_fit
    from lisflow.ml.pipeline import format_stage_table

    result = _fit(
        data, seed=seed, folds=folds, estimators=estimators, jobs=jobs,
        final_groups=final_groups, ensemble=ensemble, repeats=repeats, baselines=baselines,
        progress=want_progress(progress),
    )  # fmt: skip
    write_fit(result, data.x, out, known_sites=data.sites, encoding=data.encoding)
    typer.echo(format_stage_table(result.stage_table))
    shown = ", ".join(result.features[:20])
    more = f" … (+{len(result.features) - 20})" if len(result.features) > 20 else ""
    typer.echo(f"final model {result.chosen}, {len(result.features)} features: {shown}{more}")
    typer.echo(f"wrote {out}")


def _table_proposal(predictor, encoding: dict, candidates: Path | None, goal, optimum):
    """Rank candidate rows of a table model: ``--candidates`` CSV, else the unseen combinations
    of its categorical levels. Returns the ranking (column ``candidate`` or ``site``)."""
    from lisflow.ml.screen import rank_rows
    from lisflow.ml.validate import ID_COLUMN, category_grid, encode, read_table

    if not encoding:
        raise InputError("--model", "the model directory has no table encoding (refit it)")
    raw = read_table(candidates) if candidates is not None else category_grid(encoding)
    features = encode(raw, encoding)
    if ID_COLUMN in raw.columns:
        names = raw[ID_COLUMN].astype(str).tolist()
    else:
        names = [", ".join(f"{c}={row[c]}" for c in encoding["raw_columns"]) for _, row in
                 raw.iterrows()]  # fmt: skip
    return rank_rows(predictor, features, names, goal, optimum)


def screen_command(
    model: Path | None = typer.Option(None, "--model", help="Model directory written by 'ml fit'."),
    table: Path | None = typer.Option(
        None, "--table", help="Fit on this table first (needs --target)."
    ),
    target: str | None = typer.Option(None, "--target"),
    drop: list[str] = typer.Option([], "--drop", help="Column to ignore (with --table)."),
    categorical: list[str] = typer.Option(
        [], "--categorical", help="Column to one-hot encode (with --table)."
    ),
    candidates: Path | None = typer.Option(
        None, "--candidates", help="CSV of candidate rows (models not on site features)."
    ),
    top: int = typer.Option(10, "--top", help="Sites to propose."),
    out: Path = typer.Option(
        Path("ml_screen.yaml"),
        "--out",
        help="Study definition to write (.csv: the proposal as a table).",
    ),
    study: str = typer.Option("ml_screen_round1", "--study", help="Study id of the proposal."),
    adsorbate: list[str] = typer.Option(
        ["Li2S"], "--adsorbate", help="Adsorbate(s) of the proposal."
    ),
    goal: str = typer.Option("min", "--goal", help="min or max of the target."),
    optimum: float | None = typer.Option(None, "--optimum", help="Rank by |prediction - optimum|."),
    metals: list[str] = typer.Option([], "--metal", help="Restrict the metal pool (repeatable)."),
    ranking: Path | None = typer.Option(None, "--ranking", help="Also write the full ranking CSV."),
    cell: int = typer.Option(
        6, "--cell", help="Graphene cell (n x n) of the candidates' built sites (training cell)."
    ),
    include_known: bool = typer.Option(
        False, "--include-known", help="Rank the training sites too (next round at DFT level)."
    ),
    seed: int = typer.Option(0, "--seed"),
    folds: int = typer.Option(5, "--folds"),
    estimators: int = typer.Option(50, "--estimators"),
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """Rank candidates and write the next round: every SASC/DASC (3d/4d/5d), or trimetallic
    sites, for a model on site features; a candidate table or the unseen category combinations
    for any other table model."""
    from lisflow.ml.validate import check_positive

    if (model is None) == (table is None):
        raise InputError("--model", "give exactly one of --model DIR or --table FILE")
    if goal not in ("min", "max"):
        raise InputError("--goal", f"unknown goal {goal!r}", "min, max")
    check_positive(top=top, estimators=estimators)
    if not 4 <= cell <= 12:
        raise InputError("--cell", f"{cell}", "integer 4-12")
    if model is not None:
        from lisflow.ml.explain import load_fit

        predictor = load_fit(model)
        meta = predictor.meta
        known, target_name, encoding = meta.get("known_sites", []), meta["target"], meta.get(
            "encoding", {})  # fmt: skip
    else:
        data = _training_data(table, target, drop=drop, categorical=categorical, folds=folds)
        predictor = _fit(data, seed=seed, folds=folds, estimators=estimators,
                         progress=want_progress(progress))  # fmt: skip
        known, target_name, encoding = data.sites, predictor.target, data.encoding
    from lisflow.fsutil import write_output_file
    from lisflow.ml.screen import (
        is_site_model,
        pick,
        rank_candidates,
        study_definition,
        write_study,
    )

    if candidates is None and is_site_model(predictor.features):
        exclude = () if include_known else known
        ranked = rank_candidates(predictor, metals or None, exclude, goal, optimum, cell)
    else:
        ranked = _table_proposal(predictor, encoding, candidates, goal, optimum)
    picked = pick(ranked, top)
    name = "site" if "site" in picked.columns else "candidate"
    tri = name == "site" and picked["site"].str.endswith("-N8").any()
    if name == "candidate" or tri or out.suffix == ".csv":
        if out.suffix != ".csv":
            raise InputError("--out", f"{out}: candidates are not M-N4/M1M2-N6 sites",
                             "a .csv path (the proposal as a table)")  # fmt: skip
        write_output_file(out, picked.to_csv(index=False))
    else:
        source = f"model {model}" if model is not None else f"table {table}"
        definition = study_definition(
            picked, study, adsorbate,
            description=f"ML screening proposal ({source}, target {target_name})",
        )  # fmt: skip
        write_study(out, definition, picked, target_name)
    if ranking is not None:
        write_output_file(ranking, ranked.to_csv(index=False), "--out (ranking CSV)")
    typer.echo(picked[["rank", name, "prediction", "uncertainty", "reason"]].to_string(index=False))
    typer.echo(f"wrote {out}")


def transfer_command(
    pretrained: Path = typer.Option(..., "--pretrained", help="'ml fit' directory (XGBoost)."),
    table: Path | None = typer.Option(None, "--table", help="CSV table of the new rows."),
    target: str | None = typer.Option(None, "--target"),
    drop: list[str] = typer.Option([], "--drop"),
    from_db: bool = typer.Option(False, "--from-db", help="New rows from the results DB."),
    db: str | None = typer.Option(None, "--db"),
    study: str | None = typer.Option(None, "--study"),
    adsorbate: str | None = typer.Option(None, "--adsorbate"),
    groups: list[str] = typer.Option(
        [], "--groups", help="Kept feature groups (default structure, composite, element)."
    ),
    extra_trees: int = typer.Option(50, "--extra-trees", help="Boosting rounds added."),
    folds: int = typer.Option(5, "--folds"),
    ensemble: int = typer.Option(8, "--ensemble"),
    out: Path = typer.Option(Path("ml_transfer"), "--out", help="Output directory."),
) -> None:
    """Paper 002's transfer: continue a pre-trained XGBoost model (same hyper-parameters) on
    site, structural and component features only; CV-scored against training from scratch."""
    from lisflow.ml.validate import check_groups, check_positive

    check_positive(extra_trees=extra_trees, ensemble=ensemble)
    check_groups(groups)
    if not (pretrained / "meta.json").is_file():
        raise InputError("--pretrained", f"{pretrained} is not a model directory (no meta.json)")
    data = _training_data(
        table, target, drop=drop, categorical=[], folds=folds,
        from_db=from_db, db=db, study=study, adsorbate=adsorbate,
    )  # fmt: skip
    from lisflow.ml.explain import load_fit, write_transfer
    from lisflow.ml.transfer import TRANSFER_GROUPS, transfer_fit

    model, cv_table = transfer_fit(
        load_fit(pretrained), data.x, data.y, tuple(groups) or TRANSFER_GROUPS,
        extra_trees, folds, ensemble,
    )  # fmt: skip
    meta = {"n_rows": len(data.x), "known_sites": data.sites, "encoding": data.encoding,
            "pretrained_dir": str(pretrained)}  # fmt: skip
    write_transfer(model, cv_table, out, meta)
    for row in cv_table.itertuples():
        typer.echo(f"{row.model:<16} {row.features:>4d} features  R² {row.r2_mean:.3f} ± {row.r2_std:.3f}")
    typer.echo(f"wrote {out}")
