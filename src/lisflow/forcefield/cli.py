"""CLI: ``lisflow pack`` (packmol + LAMMPS data file) and ``lisflow md-info`` for MD studies."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from lisflow.errors import InputError

console = Console(highlight=False, width=160)


def _system(spec: Path, name: str, scale: float | None):
    from lisflow.spec.md import load_md_study
    from lisflow.workflows.plan_md import plan_md

    study = load_md_study(spec, scale=scale)
    calcs = {c.name: c for c in plan_md(study)}
    if name not in calcs:
        raise InputError("--system", f"no system {name!r} in {spec}", ", ".join(calcs))
    return calcs[name]


def register(app: typer.Typer) -> None:
    @app.command("pack")
    def pack_cmd(
        spec: Path = typer.Argument(..., help="MD study file (workflows/*_md.yaml)"),
        system: str = typer.Option(..., "--system", help="system name in the study"),
        scale: float = typer.Option(None, "--scale", help="shrink counts and area (0 < S <= 1)"),
        out: Path = typer.Option(..., "--out", help="directory for packmol files and system.data"),
    ) -> None:
        """Pack one MD box with packmol and write its LAMMPS data file (full scale works)."""
        from lisflow.structures.md_boxes import build_system, pack

        calc = _system(spec, system, scale)
        box = build_system(calc.inputs.system)
        console.print(
            f"{calc.calc_id}: {box.n_atoms} atoms, box "
            f"{' x '.join(f'{v:.2f}' for v in box.box)} A; running packmol ..."
        )
        start = time.monotonic()

        def show(line: str) -> None:
            low = line.lower()
            if "restraint-only" not in low and any(
                k in low
                for k in ("packing molecules", "moving", "function value", "success", "solution")
            ):
                console.print(f"  [{time.monotonic() - start:7.1f} s] {line.strip()}")

        path = pack(box, out, progress=show)
        console.print(f"wrote {path} in {time.monotonic() - start:.1f} s")

    @app.command("md-info")
    def md_info(
        spec: Path = typer.Argument(..., help="MD study file (workflows/*_md.yaml)"),
        scale: float = typer.Option(None, "--scale", help="shrink counts and area (0 < S <= 1)"),
        fmt: str = typer.Option("table", "--format", help="table, csv or json."),
    ) -> None:
        """Counts, Li2S6 wt%, atoms, net charge and box of every system of an MD study."""
        from lisflow.tables import check_format, emit

        check_format(fmt)
        from lisflow.io.lammps import LammpsInputs
        from lisflow.spec.md import load_md_study
        from lisflow.structures.md_boxes import build_system, li2s6_weight_percent
        from lisflow.workflows.plan_md import plan_md

        rows = []
        for calc in plan_md(load_md_study(spec, scale=scale)):
            if not isinstance(calc.inputs, LammpsInputs):
                raise TypeError(f"{calc.calc_id}: an MD calculation without LammpsInputs")
            box = build_system(calc.inputs.system)
            c = box.counts
            rows.append({
                "system": calc.name,
                **{name: int(c[name]) for name in ("Li2S6", "LiTFSI", "DOL", "DME")},
                "wt% Li2S6": float(li2s6_weight_percent(c)),
                "atoms": int(box.n_atoms),
                "charge (e)": float(box.total_charge),
                "box (A)": [float(v) for v in box.box],
                "electrode": None if box.electrode is None
                else box.electrode.composition.formula.replace(" ", ""),
            })  # fmt: skip
        emit(rows, fmt, empty=f"no systems in {spec}")
