"""Pieces every engine shares: writing an input set atomically and running custodian."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lisflow.errors import EngineError, ParseError
from lisflow.fsutil import atomic_write_text

if TYPE_CHECKING:
    from lisflow.calculation import Calculation


def write_files(directory: Path, files: dict[str, str]) -> list[str]:
    """Write ``name -> text`` into ``directory`` (each file atomically); return the names."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        atomic_write_text(directory / name, text)
    return sorted(files)


def engine_command(variable: str, default: str | None) -> str:
    """The engine command from the environment (set by the run profile) or the default.

    Raises ``EngineError`` when neither is usable (e.g. no VASP on this machine).
    """
    command = os.environ.get(variable) or default
    if not command:
        raise EngineError(f"no command configured: set {variable} (e.g. in configs/profiles)")
    program = command.split()[0]
    if shutil.which(program) is None and not Path(program).is_file():
        raise EngineError(f"{variable}: program {program!r} not found on PATH")
    return command


def run_custodian(
    directory: Path, handlers: list, jobs: list, validators: list | None = None, max_errors: int = 5
) -> None:
    """Run custodian in ``directory``; its failure becomes ``EngineError`` with the reason."""
    from custodian import Custodian
    from custodian.custodian import CustodianError

    cwd = os.getcwd()
    os.chdir(directory)
    try:
        Custodian(
            handlers,
            jobs,
            validators=validators or [],
            max_errors=max_errors,
            polling_time_step=2,
            monitor_freq=5,
            directory=str(directory),
        ).run()
    except CustodianError as exc:
        raise EngineError(f"{directory.name}: {exc}") from None
    finally:
        os.chdir(cwd)


def require_usable(path: str | Path, failure: str | None) -> None:
    """ParseError naming ``path`` when the parser found the run unfinished or unconverged
    (``failure`` is its reason): such a run is never stored as COMPLETED."""
    if failure:
        raise ParseError(path, failure)


def require_planned_atoms(calc, path: str | Path, symbols: list[str] | None, n_atoms: int) -> None:
    """The output must describe the planned structure: same number of atoms and, when the
    output names them (``symbols``), the same elements. A foreign file fails here."""
    if calc.structure is None:
        return
    planned = [site.specie.symbol for site in calc.structure]
    if n_atoms != len(planned):
        raise ParseError(
            path, f"output has {n_atoms} atoms, the planned structure of {calc.calc_id} has "
            f"{len(planned)}: not this calculation's output"
        )  # fmt: skip
    if symbols is not None and sorted(symbols) != sorted(planned):
        raise ParseError(
            path, f"output holds {_formula(symbols)}, the planned structure of {calc.calc_id} "
            f"{_formula(planned)}: not this calculation's output"
        )  # fmt: skip


def _formula(symbols: list[str]) -> str:
    return "".join(f"{el}{symbols.count(el)}" for el in dict.fromkeys(symbols))


def site_labels(calc: Calculation, n_atoms: int) -> list[str]:
    """Site labels of the planned structure (same order as the run's sites); ``""`` for
    every site when the calculation has no structure of ``n_atoms`` sites."""
    if calc.structure is not None and len(calc.structure) == n_atoms:
        return [str(site.properties.get("label", "")) for site in calc.structure]
    return [""] * n_atoms


def labelled_site_rows(
    records: Iterable[Any], labels: list[str], method: str | None = None
) -> list[dict[str, Any]]:
    """Per-site rows (charges) as dicts with the planned site's ``label`` (``""`` past the
    end of ``labels``) and, when given, the charge ``method``. The one place site labels are
    copied onto parsed per-site results."""
    rows = []
    for record in records:
        row = dict(record) if isinstance(record, dict) else record.to_dict()
        index = row["site_index"]
        row["label"] = labels[index] if index < len(labels) else ""
        if method is not None:
            row["method"] = method
        rows.append(row)
    return rows
