"""``lisflow ml fit|screen|transfer|dataset-study|export-dataset|features|synthetic``:
descriptor ML of paper 002 (SCIENCE.md ``descriptor_ml``). The commands live in
:mod:`lisflow.ml.cli_models` (models) and :mod:`lisflow.ml.cli_datasets` (data sets)."""

from __future__ import annotations

import typer

from lisflow.ml.cli_datasets import (
    dataset_study_command,
    export_dataset_command,
    features_command,
    synthetic_command,
)
from lisflow.ml.cli_models import fit_command, screen_command, transfer_command

ml_app = typer.Typer(
    no_args_is_help=True, help="Feature selection, XGBoost models and screening (paper 002)."
)
ml_app.command("fit")(fit_command)
ml_app.command("screen")(screen_command)
ml_app.command("transfer")(transfer_command)
ml_app.command("dataset-study")(dataset_study_command)
ml_app.command("export-dataset")(export_dataset_command)
ml_app.command("features")(features_command)
ml_app.command("synthetic")(synthetic_command)


def register(app: typer.Typer) -> None:
    """Add the ``ml`` sub-command group to the root app."""
    app.add_typer(ml_app, name="ml")
