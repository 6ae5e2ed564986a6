"""Command-line interface: ``lisflow <command>``. Bad input exits with code 2 and one line."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from lisflow.errors import InputError, LisflowError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
err_console = Console(stderr=True)

#: Modules that add their commands to ``app`` through a ``register(app)`` function.
COMMAND_MODULES = (
    "lisflow.workflows.cli",
    "lisflow.launch.cli",
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


def main() -> None:
    """Console entry point: run the app, map lisflow errors to one-line messages."""
    try:
        app(standalone_mode=False)
    except InputError as exc:
        err_console.print(f"error: {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except LisflowError as exc:
        err_console.print(f"error: {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors arrive as click exceptions
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
