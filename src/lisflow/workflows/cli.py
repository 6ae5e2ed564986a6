"""``lisflow studies`` and ``lisflow dry-run``."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from rich.console import Console

from lisflow.errors import InputError
from lisflow.spec import resolve_study, study_files

console = Console()


def studies(
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
) -> None:
    """List the study definitions shipped in workflows/."""
    from lisflow.tables import check_format, emit

    check_format(fmt)
    rows = []
    for path in study_files():
        data = yaml.safe_load(path.read_text())
        rows.append({key: data.get(key, "?") for key in ("study", "kind", "engine")}
                    | {"description": data.get("description", "")})  # fmt: skip
    emit(rows, fmt, empty="no study definitions found")


def dry_run(
    specs: list[str] = typer.Argument(None, help="Study YAML files or study ids."),
    all_studies: bool = typer.Option(False, "--all", help="Every study in workflows/."),
    studies_dir: list[Path] = typer.Option(
        None, "--studies", help="Extra directory searched for study ids (also $LISFLOW_PATH)."
    ),
    out: Path = typer.Option(Path("dry-run"), "--out", help="Output directory."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    engine: str = typer.Option(
        None, "--engine", help="Run adsorption/polymorph studies with this engine (mlip)."
    ),
    model: str = typer.Option(None, "--model", help="MLIP model with --engine mlip."),
) -> None:
    """Write the inputs of every calculation (one directory each) and manifest.json."""
    files = [resolve_study(spec, studies_dir) for spec in specs or []]
    files += study_files() if all_studies else []
    if not files:
        raise InputError("specs", "give study files or --all", "workflows/*.yaml")
    from lisflow.io.vasp import potcar_notice  # heavy (pymatgen): after the argument checks
    from lisflow.spec.engine_override import engine_override
    from lisflow.workflows.dryrun import dry_run as run

    override = engine_override(engine, model)

    entries = run(files, out, progress=progress, override=override)
    per_study: dict[str, int] = {}
    for entry in entries:
        per_study[entry.study] = per_study.get(entry.study, 0) + 1
    for study, count in per_study.items():
        console.print(f"{study}: {count} calculations -> {out / study}")
    console.print(f"manifest: {out / 'manifest.json'}")
    if any(e.engine == "vasp" for e in entries) and (notice := potcar_notice()):
        console.print(notice)


def register(app: typer.Typer) -> None:
    app.command("studies")(studies)
    app.command("dry-run")(dry_run)
