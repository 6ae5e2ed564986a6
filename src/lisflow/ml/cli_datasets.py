"""``lisflow ml dataset-study|export-dataset|features|synthetic``: the data sets of the
descriptor models (registered on ``ml_app`` by :mod:`lisflow.ml.cli`): the MLIP adsorption
study that computes one, its export with provenance, the site feature catalogue and the
SYNTHETIC benchmark table."""

from __future__ import annotations

from pathlib import Path

import typer

from lisflow.errors import InputError


def dataset_study_command(
    out: Path = typer.Option(..., "--out", help="Study YAML to write."),
    sites: str = typer.Option("all", "--sites", help="all, sasc (M-N4) or dasc (M1M2-N6)."),
    metals: list[str] = typer.Option([], "--metal", help="Restrict the metal pool (repeatable)."),
    study: str = typer.Option("mlip_sites_li2s", "--study", help="Study id."),
    supercell: int = typer.Option(4, "--supercell", help="n of the n x n graphene cell."),
    fmax: float = typer.Option(0.15, "--fmax", help="Relaxation force threshold (eV/Å)."),
    steps: int = typer.Option(120, "--steps", help="Optimiser steps before FAILED."),
    optimizer: str = typer.Option("BFGS", "--optimizer", help="BFGS or FIRE."),
    model: str = typer.Option("chgnet", "--model", help="chgnet or sevennet."),
    order: str = typer.Option("shuffled", "--order", help="shuffled (seeded) or catalogue."),
    seed: int = typer.Option(0, "--seed", help="Seed of the shuffled order."),
    limit: int | None = typer.Option(None, "--limit", help="Keep the first N sites only."),
    part: str | None = typer.Option(None, "--part", help="I/N: the I-th of N slices."),
) -> None:
    """Write the adsorption study (engine mlip) of Li2S on every site 'ml screen' enumerates:
    the computed data set for 'ml fit --from-db' (submit it, or its --part slices, and run)."""
    from lisflow.ml.dataset_study import (
        DatasetSettings,
        dataset_sites,
        dataset_study,
        parse_part,
        part_of,
        write_dataset_study,
    )

    settings = DatasetSettings(supercell, fmax, steps, optimizer, model)
    if limit is not None and limit < 1:
        raise InputError("--limit", f"{limit}", ">= 1")
    slice_ = parse_part(part)
    chosen = dataset_sites(sites, metals or None, order, seed)[:limit]
    chosen = part_of(chosen, slice_)
    definition = dataset_study(chosen, study, settings)
    from lisflow.spec import validate_spec

    try:  # a study that lisflow submit accepts, or nothing written
        validate_spec(definition)
    except InputError as exc:
        raise InputError(
            "--part", f"{len(chosen)} sites do not make one valid study ({exc})",
            "--part I/N with slices of at most 50 sites (the study schema's substrate limit)",
        ) from None  # fmt: skip
    path = write_dataset_study(out, definition, slice_)
    typer.echo(f"wrote {path}: study {study}, {len(chosen)} sites")


def export_dataset_command(
    study: str = typer.Option(..., "--study", help="Study of the computed data set."),
    out: Path = typer.Option(
        ..., "--out", help="Training table CSV (+ .energies.csv, .provenance.json)."
    ),
    db: str | None = typer.Option(None, "--db", help="Database URL (default $LISFLOW_DB_URL)."),
    commit: str | None = typer.Option(
        None, "--lisflow-commit", help="Commit of the lisflow that ran it (default: from the DB)."
    ),
) -> None:
    """Write a computed data set (Li2S E_ads + relaxed-site features) as CSV with provenance."""
    from lisflow.db.store import open_store
    from lisflow.ml.export import export_dataset

    with open_store(db, create=False) as store:
        provenance = export_dataset(store, study, out, commit)
    typer.echo(
        f"wrote {out}: {provenance['n_sites']} sites "
        f"({provenance['n_sites_relaxed_features']} with relaxed-structure features)"
    )


def features_command(
    catalogue: Path | None = typer.Option(
        None, "--catalogue", help="Catalogue CSV (default inputs/ml/)."
    ),
    sites: list[str] = typer.Option([], "--site", help="Site name, e.g. FeCo-N6 (repeatable)."),
    out: Path | None = typer.Option(None, "--out", help="Feature table CSV of --site sites."),
) -> None:
    """Write the feature catalogue and, for --site names, their feature table."""
    from lisflow.fsutil import write_output_file
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
        write_output_file(out, frame.to_csv())
        typer.echo(f"wrote {out} ({frame.shape[0]} sites x {frame.shape[1]} features)")


def synthetic_command(
    out: Path = typer.Option(..., "--out", help="CSV to write."),
    seed: int = typer.Option(0, "--seed"),
    noise: float = typer.Option(0.05, "--noise", help="Noise standard deviation (eV)."),
    sample: int | None = typer.Option(None, "--sample", help="Random subset of this many sites."),
) -> None:
    """Write the SYNTHETIC benchmark table (real site features, stated formula + noise)."""
    from lisflow.fsutil import write_output_file
    from lisflow.ml.datasets import SYNTHETIC_FORMULA, SYNTHETIC_TARGET, synthetic_adsorption_table

    if noise < 0:
        raise InputError("--noise", f"{noise}", ">= 0")
    frame = synthetic_adsorption_table(noise_ev=noise, seed=seed, sample=sample)
    write_output_file(out, frame.to_csv(index=False))
    typer.echo(
        f"wrote {out}: {len(frame)} sites, target {SYNTHETIC_TARGET} (SYNTHETIC: {SYNTHETIC_FORMULA})"
    )
