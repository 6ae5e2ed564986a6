"""`lisflow --version`, `-v/-vv` and `-q/--quiet` on the root command."""

from __future__ import annotations

import logging
import warnings

import pytest
from typer.testing import CliRunner

import lisflow
from lisflow.cli import app, configure_logging

LOGGERS = ("lisflow", "custodian", "fireworks", "pymatgen")


@pytest.fixture(autouse=True)
def restore_logging():
    saved = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in LOGGERS}
    with warnings.catch_warnings():
        yield
    for name, (level, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"lisflow {lisflow.__version__}\n"


@pytest.mark.parametrize(
    ("flags", "level"),
    [([], logging.WARNING), (["-v"], logging.INFO), (["-vv"], logging.DEBUG),
     (["--quiet"], logging.ERROR)],
)  # fmt: skip
def test_verbosity_sets_the_library_log_level(flags, level):
    result = CliRunner().invoke(app, [*flags, "studies"])
    assert result.exit_code == 0, result.output
    assert "dasc_adsorption" in result.output
    assert {logging.getLogger(n).level for n in LOGGERS} == {level}
    if "--quiet" in flags:
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn("hidden", UserWarning, stacklevel=1)
        assert caught == [] or all(w.message.args[0] != "hidden" for w in caught)


def test_verbose_logs_reach_stderr(capfd):
    assert configure_logging(verbose=1) == logging.INFO
    logging.getLogger("custodian.custodian").info("a custodian step")
    assert "INFO custodian.custodian: a custodian step" in capfd.readouterr().err


def test_quiet_and_verbose_conflict():
    result = CliRunner().invoke(app, ["-q", "-v", "studies"])
    assert result.exit_code == 2
    assert "--quiet" in result.output
