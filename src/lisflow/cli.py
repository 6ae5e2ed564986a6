"""Command-line interface: ``lisflow <command>``. Bad input exits with code 2 and one line."""

from __future__ import annotations

import importlib
import warnings

import typer
from rich.console import Console
from typer.core import TyperGroup

from lisflow.errors import InputError, LisflowError

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class LisflowGroup(TyperGroup):
    """Root command group: lisflow errors become one line on stderr and an exit code.

    ``InputError`` (bad spec, option, table) exits with 2; other ``LisflowError`` with 1.
    Doing this in the group (not in ``main``) makes ``CliRunner`` tests see the same codes.
    """

    def invoke(self, ctx):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except InputError as exc:
            err_console.print(f"error: {exc}")
            raise typer.Exit(2) from None
        except LisflowError as exc:
            err_console.print(f"error: {exc}")
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=LisflowGroup,
    no_args_is_help=True,
    add_completion=False,
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


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_register_commands()


def quiet_library_warnings() -> None:
    """Hide two harmless pymatgen warnings that would otherwise flood the terminal
    (deprecated ``gcd`` inside pymatgen; site properties that only some sites carry)."""
    warnings.filterwarnings("ignore", message="gcd is deprecated", category=FutureWarning)
    warnings.filterwarnings("ignore", message="Not all sites have property tags")


def main() -> None:
    """Console entry point (``lisflow``)."""
    quiet_library_warnings()
    app()


if __name__ == "__main__":
    main()
