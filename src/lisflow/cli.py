"""Command-line interface: ``lisflow <command>``. Bad input exits with code 2 and one line."""

from __future__ import annotations

import importlib
import warnings

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from lisflow.errors import InputError, LisflowError

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
#: Library field name -> the CLI option that sets it (errors name what the user typed).
FIELD_OPTIONS = {"db_url": "--db"}


def _input_error_text(exc: InputError) -> str:
    text = str(exc)
    option = FIELD_OPTIONS.get(exc.field)
    return option + text[len(exc.field) :] if option else text


class LisflowGroup(TyperGroup):
    """Root command group: lisflow errors become one line on stderr and an exit code.

    ``InputError`` (bad spec, option, table) exits with 2; other ``LisflowError`` with 1.
    Doing this in the group (not in ``main``) makes ``CliRunner`` tests see the same codes.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*LAZY_COMMANDS, *(name for name in self.commands if name not in LAZY_COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A registered command, or (for help listings) a placeholder that loads on use."""
        if cmd_name in self.commands or cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        return LazyCommand(self, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """The command named by ``args[0]``; a typo gets one "Did you mean" (lazy names too)."""
        try:
            name, command, rest = click.Group.resolve_command(self, ctx, args)
        except click.UsageError as exc:
            if not args or not exc.message.startswith("No such command"):
                raise
            from difflib import get_close_matches

            matches = get_close_matches(args[0], self.list_commands(ctx), n=1)
            hint = f" Did you mean {matches[0]!r}?" if matches else ""
            raise click.UsageError(f"No such command {args[0]!r}.{hint}", ctx) from None
        if isinstance(command, LazyCommand):
            command = command.load()
        return name, command, rest

    def load_module_of(self, cmd_name: str) -> click.Command:
        """Import the module registering ``cmd_name`` and add all its commands to this group."""
        module_name = LAZY_COMMANDS[cmd_name][0]
        sub_app = typer.Typer()
        importlib.import_module(module_name).register(sub_app)
        sub_group = typer.main.get_group(sub_app)
        for name, command in sub_group.commands.items():
            self.commands.setdefault(name, command)
            _suggest_once(command)
        return self.commands[cmd_name]

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            err_console.print(f"error: {_input_error_text(exc)}")
            raise typer.Exit(2) from None
        except LisflowError as exc:
            err_console.print(f"error: {exc}")
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=LisflowGroup,
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion (typer)
    help="Declarative DFT/AIMD/MD/ML workflows for lithium-sulfur battery chemistry.",
    pretty_exceptions_show_locals=False,  # locals may hold database credentials
)

def _print_version(value: bool) -> None:
    if value:
        import lisflow

        typer.echo(f"lisflow {lisflow.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
    verbose: int = typer.Option(
        0, "-v", "--verbose", count=True, help="Log lisflow/custodian steps (-vv: debug)."
    ),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Errors only: no warnings, no logs."),
) -> None:
    """Declarative DFT/AIMD/MD/ML workflows for lithium-sulfur battery chemistry."""
    configure_logging(verbose, quiet)


def configure_logging(verbose: int = 0, quiet: bool = False) -> int:
    """Log level of lisflow and the libraries it drives (custodian, FireWorks, pymatgen):
    WARNING by default, INFO with -v, DEBUG with -vv, ERROR with --quiet (which also hides
    Python warnings). Returns the level."""
    import logging

    if quiet and verbose:
        raise InputError("--quiet", "cannot be combined with -v/--verbose")
    level = logging.ERROR if quiet else max(logging.DEBUG, logging.WARNING - 10 * verbose)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name in ("lisflow", "custodian", "fireworks", "pymatgen"):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if verbose and not any(getattr(h, "_lisflow", False) for h in logger.handlers):
            handler._lisflow = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
    if quiet:
        warnings.simplefilter("ignore")
    return level


#: Modules that add their commands to ``app`` through a ``register(app)`` function.
COMMAND_MODULES = (
    "lisflow.workflows.cli",
    "lisflow.launch.cli",
    "lisflow.launch.queue_cli",
    "lisflow.launch.lpad",
    "lisflow.db.cli",
    "lisflow.analysis.cli",
    "lisflow.forcefield.cli",
    "lisflow.ml.cli",
)

#: Root command -> (module registering it, its one-line help for ``lisflow --help``).
#: Modules are imported only when one of their commands runs, so ``lisflow --help`` and
#: argument errors never import pymatgen, FireWorks, SQLAlchemy, pandas, numba or sklearn.
#: tests/unit/test_cli_lazy.py checks this table against what the modules register.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "studies": ("lisflow.workflows.cli", "List the study definitions shipped in workflows/."),
    "dry-run": (
        "lisflow.workflows.cli",
        "Write the inputs of every calculation (one directory each) and manifest.json.",
    ),
    "submit": (
        "lisflow.launch.cli",
        "Add each study's not-yet-done calculations to the LaunchPad as a Workflow.",
    ),
    "run": (
        "lisflow.launch.cli",
        "Run READY Fireworks on this machine (rapidfire) with a progress bar.",
    ),
    "lpad": (
        "lisflow.launch.lpad",
        "Run FireWorks' lpad on lisflow's LaunchPad: `lisflow lpad -- get_wflows -d more`.",
    ),
    "status": (
        "lisflow.launch.cli",
        "Table of workflows (or Fireworks) and their states, with Slurm job states.",
    ),
    "launch": (
        "lisflow.launch.queue_cli",
        "Reserve READY Fireworks and submit one offline Slurm job for each.",
    ),
    "recover": (
        "lisflow.launch.queue_cli",
        "Recover offline launches, store their results, run analysis Fireworks that are READY.",
    ),
    "doctor": (
        "lisflow.launch.queue_cli",
        "Find lost (Slurm job gone), FIZZLED and stuck runs; with --rerun, re-queue them.",
    ),
    "query": ("lisflow.db.cli", "Print results from the database."),
    "db": ("lisflow.db.cli", "The results database: `lisflow db version` (schema revision)."),
    "report": (
        "lisflow.db.cli",
        "Write one PNG per query type with data (adsorption.png, bands.png, ...) and the claims.",
    ),
    "analyze": (
        "lisflow.analysis.cli",
        "One streaming pass over TRAJ; writes series.json, summary.json and PNG plots to --out.",
    ),
    "experiment": ("lisflow.analysis.cli", "Analyse in-situ experiment data (paper 000)."),
    "pack": (
        "lisflow.forcefield.cli",
        "Pack one MD box with packmol and write its LAMMPS data file (full scale works).",
    ),
    "md-info": (
        "lisflow.forcefield.cli",
        "Counts, Li2S6 wt%, atoms, net charge and box of every system of an MD study.",
    ),
    "ml": ("lisflow.ml.cli", "Feature selection, XGBoost models and screening (paper 002)."),
}


def _suggest_once(command: click.Command) -> None:
    """Click >= 8.4 suggests a close sub-command name itself; typer would add a second one."""
    if isinstance(command, click.Group):
        if hasattr(click.exceptions, "NoSuchCommand"):
            command.suggest_commands = False  # type: ignore[attr-defined]
        for sub in command.commands.values():
            _suggest_once(sub)


class LazyCommand(click.Command):
    """Stand-in for a not-yet-imported command: its name and help line, loaded when used."""

    def __init__(self, group: LisflowGroup, name: str) -> None:
        super().__init__(name, short_help=LAZY_COMMANDS[name][1], help=LAZY_COMMANDS[name][1])
        self.group = group
        self.command_name = name

    def load(self) -> click.Command:
        return self.group.load_module_of(self.command_name)

    def main(self, *args, **kwargs):  # pragma: no cover - only when called directly
        return self.load().main(*args, **kwargs)


def quiet_library_warnings() -> None:
    """Hide two harmless pymatgen warnings that would otherwise flood the terminal
    (deprecated ``gcd`` inside pymatgen; site properties that only some sites carry)."""
    warnings.filterwarnings("ignore", message="gcd is deprecated", category=FutureWarning)
    warnings.filterwarnings("ignore", message="Not all sites have property tags")


def _exit_on_sigterm() -> None:
    """SIGTERM (``kill``, a Slurm time limit) unwinds like Ctrl-C, so temporary directories
    (``.study.*``) and half-written files are removed on the way out."""
    import signal
    import sys

    def handler(signum, frame):
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main() -> None:
    """Console entry point (``lisflow``)."""
    quiet_library_warnings()
    _exit_on_sigterm()
    app()


if __name__ == "__main__":
    main()
