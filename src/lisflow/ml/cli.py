"""``lisflow ml fit|screen|features|synthetic``: descriptor ML of paper 002 (SCIENCE.md ``descriptor_ml``)."""

from __future__ import annotations

from pathlib import Path

import typer

from lisflow.errors import InputError

ml_app = typer.Typer(
    no_args_is_help=True, help="Feature selection, XGBoost models and screening (paper 002)."
)

_TARGET_DB = "energy_ev"


def _config(seed: int, estimators: int, jobs: int):
    from lisflow.ml.selection import ModelConfig

    if estimators < 1:
        raise InputError("--estimators", f"{estimators}", ">= 1")
    if jobs < 1:
        raise InputError("--jobs", f"{jobs}", ">= 1")
    return ModelConfig(n_estimators=estimators, seed=seed, n_jobs=jobs)


def _final_allowed(columns: list[str], groups: list[str]) -> set[str] | None:
    """Features allowed in the final stage: catalogue features of ``groups`` + non-catalogue ones."""
    if not groups:
        return None
    from lisflow.ml.features import feature_catalogue

    catalogue = {f.name: f.group for f in feature_catalogue()}
    known = sorted(set(catalogue.values()))
    for group in groups:
        if group not in known:
            raise InputError("--final-groups", f"unknown feature group {group!r}", ", ".join(known))
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
    """Validated training data from a CSV table or the results database."""
    from lisflow.ml.tables import prepare, read_table, table_from_db

    if (table is None) == (not from_db):
        raise InputError("--table", "give exactly one of --table FILE or --from-db")
    if from_db:
        from lisflow.db.store import ResultStore

        with ResultStore(db) as store:
            frame = table_from_db(store, study=study, adsorbate=adsorbate)
        target = target or _TARGET_DB
    else:
        frame = read_table(table)
        if not target:
            raise InputError("--target", "missing: name the target column")
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
):
    from lisflow.ml.pipeline import fit_pipeline

    config = _config(seed, estimators, jobs)
    allowed = _final_allowed(list(data.x.columns), list(final_groups))
    return fit_pipeline(data.x, data.y, data.target, config, folds, allowed, ensemble)


@ml_app.command("fit")
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
    estimators: int = typer.Option(200, "--estimators", help="XGBoost trees."),
    jobs: int = typer.Option(1, "--jobs", help="XGBoost threads (fixed for reproducibility)."),
    final_groups: list[str] = typer.Option(
        [], "--final-groups", help="Feature groups of the final stage (repeatable)."
    ),
    ensemble: int = typer.Option(8, "--ensemble", help="Bootstrap models for uncertainties."),
) -> None:
    """Filter → wrapper → embedded XGBoost with nested-CV R² per stage; writes tables, plots, model."""
    from lisflow.ml.explain import write_fit
    from lisflow.ml.pipeline import format_stage_table

    data = _training_data(
        table, target, drop=drop, categorical=categorical, folds=folds,
        from_db=from_db, db=db, study=study, adsorbate=adsorbate,
    )  # fmt: skip
    result = _fit(
        data, seed=seed, folds=folds, estimators=estimators, jobs=jobs,
        final_groups=final_groups, ensemble=ensemble,
    )  # fmt: skip
    write_fit(result, data.x, out, known_sites=data.sites)
    typer.echo(format_stage_table(result.stage_table))
    typer.echo(f"final features: {', '.join(result.features)}")
    typer.echo(f"wrote {out}")


@ml_app.command("screen")
def screen_command(
    model: Path | None = typer.Option(None, "--model", help="Model directory written by 'ml fit'."),
    table: Path | None = typer.Option(
        None, "--table", help="Fit on this table first (needs --target)."
    ),
    target: str | None = typer.Option(None, "--target"),
    top: int = typer.Option(10, "--top", help="Sites to propose."),
    out: Path = typer.Option(Path("ml_screen.yaml"), "--out", help="Study definition to write."),
    study: str = typer.Option("ml_screen_round1", "--study", help="Study id of the proposal."),
    adsorbate: list[str] = typer.Option(
        ["Li2S"], "--adsorbate", help="Adsorbate(s) of the proposal."
    ),
    goal: str = typer.Option("min", "--goal", help="min or max of the target."),
    optimum: float | None = typer.Option(None, "--optimum", help="Rank by |prediction - optimum|."),
    metals: list[str] = typer.Option([], "--metal", help="Restrict the metal pool (repeatable)."),
    ranking: Path | None = typer.Option(None, "--ranking", help="Also write the full ranking CSV."),
    seed: int = typer.Option(0, "--seed"),
    folds: int = typer.Option(5, "--folds"),
    estimators: int = typer.Option(200, "--estimators"),
) -> None:
    """Predict every SASC/DASC (3d/4d/5d), rank, write the top candidates as a study YAML."""
    from lisflow.fsutil import atomic_write_text
    from lisflow.ml.explain import load_fit
    from lisflow.ml.screen import pick, rank_candidates, study_definition, write_study

    if (model is None) == (table is None):
        raise InputError("--model", "give exactly one of --model DIR or --table FILE")
    if model is not None:
        predictor = load_fit(model)
        known, target_name = predictor.meta.get("known_sites", []), predictor.meta["target"]
    else:
        data = _training_data(table, target, drop=[], categorical=[], folds=folds)
        predictor = _fit(data, seed=seed, folds=folds, estimators=estimators)
        known, target_name = data.sites, predictor.target
    ranked = rank_candidates(predictor, metals or None, known, goal, optimum)
    picked = pick(ranked, top)
    source = f"model {model}" if model is not None else f"table {table}"
    definition = study_definition(
        picked,
        study,
        adsorbate,
        description=f"ML screening proposal ({source}, target {target_name})",
    )
    write_study(out, definition, picked, target_name)
    if ranking is not None:
        atomic_write_text(ranking, ranked.to_csv(index=False))
    typer.echo(
        picked[["rank", "site", "prediction", "uncertainty", "reason"]].to_string(index=False)
    )
    typer.echo(f"wrote {out}")


@ml_app.command("features")
def features_command(
    catalogue: Path | None = typer.Option(
        None, "--catalogue", help="Catalogue CSV (default inputs/ml/)."
    ),
    sites: list[str] = typer.Option([], "--site", help="Site name, e.g. FeCo-N6 (repeatable)."),
    out: Path | None = typer.Option(None, "--out", help="Feature table CSV of --site sites."),
) -> None:
    """Write the feature catalogue and, for --site names, their feature table."""
    from lisflow.fsutil import atomic_write_text
    from lisflow.ml.features import (
        CATALOGUE_PATH,
        feature_catalogue,
        feature_frame,
        parse_site_name,
        write_feature_catalogue,
    )

    path = write_feature_catalogue(catalogue or CATALOGUE_PATH)
    typer.echo(f"wrote {path} ({len(feature_catalogue())} features)")
    if sites:
        if out is None:
            raise InputError("--out", "missing: where to write the feature table of --site")
        frame = feature_frame([parse_site_name(s) for s in sites])
        atomic_write_text(out, frame.to_csv())
        typer.echo(f"wrote {out} ({frame.shape[0]} sites x {frame.shape[1]} features)")


@ml_app.command("synthetic")
def synthetic_command(
    out: Path = typer.Option(..., "--out", help="CSV to write."),
    seed: int = typer.Option(0, "--seed"),
    noise: float = typer.Option(0.05, "--noise", help="Noise standard deviation (eV)."),
    sample: int | None = typer.Option(None, "--sample", help="Random subset of this many sites."),
) -> None:
    """Write the SYNTHETIC benchmark table (real site features, stated formula + noise)."""
    from lisflow.fsutil import atomic_write_text
    from lisflow.ml.datasets import SYNTHETIC_FORMULA, SYNTHETIC_TARGET, synthetic_adsorption_table

    if noise < 0:
        raise InputError("--noise", f"{noise}", ">= 0")
    frame = synthetic_adsorption_table(noise_ev=noise, seed=seed, sample=sample)
    atomic_write_text(out, frame.to_csv(index=False))
    typer.echo(
        f"wrote {out}: {len(frame)} sites, target {SYNTHETIC_TARGET} (SYNTHETIC: {SYNTHETIC_FORMULA})"
    )


def register(app: typer.Typer) -> None:
    """Add the ``ml`` sub-command group to the root app."""
    app.add_typer(ml_app, name="ml")
