"""``lisflow submit``, ``lisflow run``, ``lisflow status``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from lisflow.errors import InputError
from lisflow.launch.profiles import load_profile

console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
PROFILE = typer.Option("local", "--profile", help="configs/profiles/<name>.yaml")
ENGINE = typer.Option(
    None, "--engine", help="Run adsorption/polymorph studies with this engine (mlip), as <study>_mlip."
)
MODEL = typer.Option(None, "--model", help="MLIP model with --engine mlip (chgnet, sevennet).")


def submit(
    specs: list[str] = typer.Argument(..., help="Study YAML files or study ids."),
    profile: str = PROFILE,
    replay: Path = typer.Option(
        None,
        "--replay",
        help="JSON {calc_id: reference run dir}: "
        "use the replay engine (checks inputs, copies outputs).",
    ),
    progress: bool = typer.Option(
        None, "--progress/--no-progress", help="Progress bar on stderr (default: when a terminal)."
    ),
    engine: str = ENGINE,
    model: str = MODEL,
) -> None:
    """Add each study's not-yet-done calculations to the LaunchPad as a Workflow."""
    from lisflow.spec import resolve_study

    files = [resolve_study(spec) for spec in specs]
    options = None
    if replay is not None:
        if not replay.is_file():
            raise InputError("--replay", f"no such file {str(replay)!r}")
        options = {"engine": "replay", "references": json.loads(replay.read_text())}
    from lisflow.launch.local import submit as do_submit  # heavy: after the argument checks
    from lisflow.spec.engine_override import engine_override

    prof = load_profile(profile)
    override = engine_override(engine, model, prof.engine_override)
    from lisflow.progress import progress_bar, want_progress

    with progress_bar("submitting", 2 * len(files), want_progress(progress)) as step:
        reports = do_submit(files, prof, options, progress=step, override=override)
    for report in reports:
        rerun = f", {len(report.rerun)} FIZZLED rerun" if report.rerun else ""
        console.print(
            f"{report.study}: {len(report.new)} new Fireworks, "
            f"{len(report.done)} already completed, {len(report.queued)} already queued{rerun}"
        )


def run(
    profile: str = PROFILE,
    max_launches: int = typer.Option(0, "--max", help="Stop after N launches (0: all)."),
) -> None:
    """Run READY Fireworks on this machine (rapidfire) with a progress bar.

    Exits with code 1 when a Firework FIZZLED (in this run or earlier and not yet rerun)."""
    from lisflow.launch.local import run_local

    if max_launches < 0:
        raise InputError("--max", "must be >= 0", "0 (all) or a positive integer")
    summary = run_local(load_profile(profile), max_launches)
    console.print(
        f"launched {summary.launched}; LaunchPad: {summary.completed} COMPLETED, "
        f"{summary.fizzled} FIZZLED"
    )
    if summary.fizzled:
        names = ", ".join(summary.fizzled_names[:3]) + (", ..." if summary.fizzled > 3 else "")
        err_console.print(
            f"error: {summary.fizzled} Fireworks FIZZLED ({len(summary.failed)} in this run): "
            f"{names}; reasons: lisflow status --fireworks; rerun: lisflow doctor --rerun",
            highlight=False,
        )
        raise typer.Exit(1)


def status(
    profile: str = PROFILE,
    fireworks: bool = typer.Option(False, "--fireworks", help="One row per Firework."),
    study: str = typer.Option(None, "--study", help="Only this study's Fireworks."),
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
) -> None:
    """Table of workflows (or Fireworks) and their states, with Slurm job states.

    With a Slurm profile, ``--fireworks`` adds each Firework's Slurm job and its squeue state
    (``gone`` once Slurm has forgotten the job). An empty LaunchPad exits with 1, a ``--study``
    without Fireworks with 2."""
    from lisflow.tables import check_format, emit

    check_format(fmt)
    from lisflow.launch.states import firework_states, workflow_states

    prof = load_profile(profile)
    rows = firework_states(prof, study) if fireworks else workflow_states(prof)
    if study is not None and not rows:
        known = sorted({str(r.get("name")) for r in workflow_states(prof)})
        raise InputError("--study", f"unknown study {study!r}: no Fireworks on the LaunchPad",
                         allowed=", ".join(known) or "none: the LaunchPad is empty")  # fmt: skip
    if fireworks and prof.queue:
        from lisflow.launch.offline import job_ids
        from lisflow.launch.slurm import slurm_states

        jobs = job_ids(prof)
        states = slurm_states(list(jobs.values()))
        for row in rows:
            if row["fw_id"] in jobs:
                row["slurm_job"] = jobs[row["fw_id"]]
                row["slurm_state"] = states.get(jobs[row["fw_id"]], "gone")
    columns = sorted(
        {key for row in rows for key in row},
        key=lambda k: (k not in ("fw_id", "workflow", "name", "state", "fireworks"), k),
    )
    emit([{c: row.get(c, "") for c in columns} for row in rows], fmt,
         empty="no workflows on the LaunchPad (lisflow submit adds them)")


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.command("run")(run)
    app.command("status")(status)
