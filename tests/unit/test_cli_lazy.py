"""`lisflow --help` and argument errors stay fast: the command modules load only when used."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import typer
from typer.testing import CliRunner

from lisflow.cli import COMMAND_MODULES, LAZY_COMMANDS, app

#: Libraries that take seconds to import on a loaded machine.
HEAVY = ("pymatgen", "fireworks", "sqlalchemy", "pandas", "numba", "sklearn", "scipy", "xgboost")

PROBE = """
import json, sys
from typer.testing import CliRunner
import lisflow.cli
result = CliRunner().invoke(lisflow.cli.app, sys.argv[1:])
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))
print(json.dumps({"exit_code": result.exit_code, "loaded": loaded, "output": result.output}))
"""


def _probe(*args: str) -> dict:
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    run = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(run.stdout.splitlines()[-1])


def test_import_and_help_load_no_heavy_library():
    run = subprocess.run(
        [sys.executable, "-c", f"import sys, lisflow.cli; print(sorted(m for m in {HEAVY!r} "
         "if m in sys.modules))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert run.stdout.strip() == "[]"
    help_run = _probe("--help")
    assert help_run["exit_code"] == 0 and help_run["loaded"] == []
    for name in LAZY_COMMANDS:
        assert name in help_run["output"]


def test_argument_errors_load_only_what_the_command_needs():
    bad = _probe("dry-run", "--no-such-option")
    assert bad["exit_code"] == 2 and "No such option" in bad["output"]
    assert bad["loaded"] == []
    pack = _probe("pack", "--no-such-option")
    assert pack["exit_code"] == 2 and pack["loaded"] == []  # no pymatgen for `pack`
    query = _probe("query", "adsorption", "--format")
    assert query["exit_code"] == 2 and query["loaded"] == []  # no SQLAlchemy, no pandas


def test_query_help_table_matches_the_queries():
    """``lisflow query``'s subcommands (known without importing the DB layer) are exactly the
    queries, each with its docstring's first line; each still runs its query."""
    from lisflow.db import queries
    from lisflow.db.cli import QUERY_HELP

    assert list(QUERY_HELP) == list(queries.QUERIES)
    for name, function in queries.QUERIES.items():
        assert QUERY_HELP[name] == (function.__doc__ or "").splitlines()[0]


def test_lazy_table_matches_registered_commands():
    """Every command a module registers is in LAZY_COMMANDS with the same module and help."""
    registered = {}
    for module_name in COMMAND_MODULES:
        sub_app = typer.Typer()
        importlib.import_module(module_name).register(sub_app)
        for name, command in typer.main.get_group(sub_app).commands.items():
            registered[name] = (module_name, command.get_short_help_str(limit=500))
    assert registered == LAZY_COMMANDS


def test_lazy_command_runs_and_parses_its_options():
    runner = CliRunner()
    result = runner.invoke(app, ["studies"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["query", "--help"])
    assert result.exit_code == 0 and "adsorption" in result.output
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code == 2 and "No such command" in result.output
