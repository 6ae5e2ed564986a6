"""``lisflow launch``, ``lisflow recover``, ``lisflow doctor`` (Slurm, offline mode)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from lisflow.launch.profiles import load_profile

console = Console()
PROFILE = typer.Option(
    "slurm", "--profile", help="configs/profiles/<name>.yaml, or a path to a profile YAML file."
)


def launch(
    profile: str = PROFILE,
    max_jobs: int = typer.Option(0, "--max-jobs", help="Submit at most N jobs (0: all READY)."),
    category: str = typer.Option(None, "--category", help="Only this engine: cp2k, lammps, vasp, lobster."),
    walltime: str = typer.Option(None, "--walltime", help="Slurm time limit for these jobs."),
) -> None:
    """Reserve READY Fireworks and submit one offline Slurm job for each."""
    from lisflow.launch.slurm import launch_jobs

    report = launch_jobs(load_profile(profile), max_jobs, category, walltime)
    for fw_id, name, job_id in report.jobs:
        console.print(f"fw {fw_id} {name} -> Slurm job {job_id}", highlight=False)
    console.print(f"submitted {len(report.jobs)} jobs")
    if report.failed:
        Console(stderr=True).print(f"error: {report.failed}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def recover(profile: str = PROFILE) -> None:
    """Recover offline launches, store their results, run analysis Fireworks that are READY."""
    from lisflow.launch.offline import recover as do_recover

    report = do_recover(load_profile(profile))
    console.print(
        f"recovered {report.recovered} launches: {len(report.completed)} COMPLETED, "
        f"{len(report.fizzled)} FIZZLED, {len(report.running)} still running, "
        f"{len(report.unreadable)} unreadable; stored {len(report.ingested)} results; "
        f"ran {report.analysis} analysis Fireworks"
    )


def doctor(
    profile: str = PROFILE,
    rerun: bool = typer.Option(False, "--rerun", help="Re-queue lost and FIZZLED Fireworks."),
    max_retries: int = typer.Option(3, "--max-retries", help="Retry budget per Firework."),
    grace: float = typer.Option(
        300.0, "--grace", help="Seconds before an unsubmitted reservation counts as lost."
    ),
) -> None:
    """Find lost (Slurm job gone), FIZZLED and stuck runs; with --rerun, re-queue them."""
    from lisflow.errors import InputError
    from lisflow.launch.doctor import doctor as do_doctor

    if max_retries < 0:
        raise InputError("--max-retries", "must be >= 0", "0, 1, 2, ...")
    report = do_doctor(load_profile(profile), rerun, max_retries, grace)
    table = Table("fw_id", "name", "problem", "slurm job", "retries", "action", "reason")
    for f in report.findings:
        table.add_row(
            str(f.fw_id), f.name, f.problem, f.job_id or "", str(f.retries), f.action, f.reason
        )
    console.print(table)
    console.print(f"{len(report.findings)} problems, {report.reruns} re-queued")


def register(app: typer.Typer) -> None:
    app.command("launch")(launch)
    app.command("recover")(recover)
    app.command("doctor")(doctor)
