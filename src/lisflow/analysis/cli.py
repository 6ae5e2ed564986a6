"""CLI: ``lisflow analyze`` (MD trajectory) and ``lisflow experiment ...`` (paper 000 Methods)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import typer

from lisflow.analysis import experiment as ex
from lisflow.errors import InputError

experiment_app = typer.Typer(
    no_args_is_help=True, help="Analyse in-situ experiment data (paper 000)."
)

CSV_OPTION = typer.Option(..., "--csv", help="CSV file with a header row.")
FORMAT_OPTION = typer.Option("table", "--format", help="table, csv or json.")


def _emit(title: str, values: dict[str, object], fmt: str) -> None:
    """One result: a quantity/value table, a one-row CSV, or one JSON object (full precision)."""
    from lisflow.tables import check_format, emit

    check_format(fmt)
    if fmt == "json":
        typer.echo(json.dumps(values, indent=1))
    elif fmt == "csv":
        emit([values], fmt)
    else:
        emit([{"quantity": k, "value": v} for k, v in values.items()], fmt, title=title)


def _flat(values: dict, prefix: str = "") -> dict[str, object]:
    """Nested summary keys joined with dots (``D_xyz_fit.window``), for table and CSV."""
    flat: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@experiment_app.command("stokes")
def stokes(
    csv: Path = CSV_OPTION,
    origins: str = typer.Option("first", help="MSD origins: first or all."),
    temperature: float = typer.Option(ex.T_PAPER_K, help="Temperature, K."),
    fmt: str = FORMAT_OPTION,
) -> None:
    """Einstein–Stokes D (nm²/s), drift velocity (nm/s) and force (pN) from columns t (s), x (nm), y (nm)."""
    data = ex.read_columns(csv, ["t", "x", "y"])
    fit = ex.einstein_diffusion_2d(data["t"], data["x"], data["y"], origins=origins)
    _, speed = ex.drift_velocity(data["t"], data["x"], data["y"])
    force = ex.stokes_force_pn(speed, fit.d_nm2_s, temperature)
    _emit(
        "Einstein–Stokes",
        {
            "D_nm2_s": fit.d_nm2_s,
            "fit_r2": fit.r_squared,
            "mean_velocity_nm_s": float(np.mean(speed)),
            "max_velocity_nm_s": float(np.max(speed)),
            "mean_force_pN": float(np.mean(force)),
            "max_force_pN": float(np.max(force)),
        },
        fmt,
    )


@experiment_app.command("lsw")
def lsw(csv: Path = CSV_OPTION, fmt: str = FORMAT_OPTION) -> None:
    """LSW growth exponent n of area ∝ tⁿ from columns t (s), area (nm²)."""
    data = ex.read_columns(csv, ["t", "area"])
    fit = ex.lsw_exponent(data["t"], data["area"])
    values = asdict(fit) | {"reaction_limited": fit.reaction_limited}
    _emit("Lifshitz–Slyozov–Wagner", values, fmt)


@experiment_app.command("arrhenius")
def arrhenius(csv: Path = CSV_OPTION, fmt: str = FORMAT_OPTION) -> None:
    """Activation energy Ea (eV) from columns T (K), R_ct (Ω)."""
    data = ex.read_columns(csv, ["T", "R_ct"], min_rows=2)
    _emit("Arrhenius", asdict(ex.arrhenius_activation_energy(data["T"], data["R_ct"])), fmt)


@experiment_app.command("capacity")
def capacity(
    csv: Path = CSV_OPTION,
    sulfur_mass_mg: float = typer.Option(None, help="Sulfur mass, mg (for mAh/g S)."),
    fmt: str = FORMAT_OPTION,
) -> None:
    """Faraday capacity ∫ I dt (mAh, and mAh/g S) from columns t (s), I (mA)."""
    data = ex.read_columns(csv, ["t", "I"], min_rows=2)
    _emit(
        "Faraday capacity", asdict(ex.faraday_capacity(data["t"], data["I"], sulfur_mass_mg)), fmt
    )


def analyze(
    trajectory: Path = typer.Argument(..., help="DCD, XTC or LAMMPS dump."),
    topology: Path = typer.Option(..., "--topology", help="LAMMPS data file (or other topology)."),
    analyses: str = typer.Option("clusters,msd,slices,surface,dense", help="Comma-separated."),
    out: Path = typer.Option(Path("analysis_out"), "--out", help="Output directory."),
    step: int = typer.Option(1, help="Analyse every step-th frame."),
    dt_ps: float = typer.Option(None, "--dt-ps", help="Time between frames, ps (LAMMPS output)."),
    s_select: str = typer.Option(
        None,
        help="MDAnalysis selection of S atoms (default: the S6(2-) S types of the "
        "<topology stem>.types.json that pack writes; by mass only without it).",
    ),
    electrode_select: str = typer.Option(
        None, help="Selection of electrode atoms (default: electrode types of the types file)."
    ),
    start: float = typer.Option(None, "--start", help="Window start, ns (t of frame k = k dt)."),
    stop: float = typer.Option(None, "--stop", help="Window end, ns (inclusive)."),
    sample_every: float = typer.Option(
        None, "--sample-every", help="Sampling interval, ps (a multiple of the frame interval)."
    ),
    periodic_z: bool = typer.Option(False, help="Clusters periodic in z too (bulk boxes)."),
    unwrap: bool = typer.Option(False, help="Unwrap a wrapped trajectory frame to frame for MSD."),
    grouping: str = typer.Option("residues", help="S6 units by residues or consecutive."),
    window: str = typer.Option(
        None, help="MSD fit window 'start_ps,end_ps' (default: 10–50 % of lags)."
    ),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    fmt: str = typer.Option(
        "table", "--format", help="Summary as table, csv or json (summary.json: always JSON)."
    ),
    calc_id: str = typer.Option(
        None, "--calc-id", help="Also store the series under this calculation."
    ),
    db: str = typer.Option(
        None, "--db", help="Database URL for --calc-id (default: $LISFLOW_DB_URL)."
    ),
) -> None:
    """One streaming pass over TRAJ; writes series.json, summary.json and PNG plots to --out."""
    from lisflow.analysis.base import run_analyses, save_series
    from lisflow.analysis.msd import MeanSquaredDisplacement, diffusion_coefficient
    from lisflow.analysis.plotting import MsdFit, plot_series, write_series_json
    from lisflow.analysis.trajectory import (
        ELECTRODE_SELECTION,
        SULFUR_SELECTION,
        build_analyses,
        load_universe,
    )
    from lisflow.analysis.window import AnalysisWindow
    from lisflow.fsutil import atomic_directory
    from lisflow.tables import check_format

    check_format(fmt)
    if step < 1:
        raise InputError("step", f"{step}", ">= 1")
    from lisflow.analysis.segments import STATE, TRAJECTORY, load_run_universe

    run = None  # a lisflow run's traj.dcd: read with its restart segments (analysis.segments)
    if trajectory.name == TRAJECTORY and (trajectory.parent / STATE).is_file() and topology.suffix == ".data":
        universe, run = load_run_universe(trajectory.parent, topology)
    if run is None:
        universe = load_universe(trajectory, topology, dt_ps=dt_ps)
    type_s, type_electrode = selections_from_types(topology)
    frame_window = AnalysisWindow(start or 0.0, stop, sample_every)
    frame_dt = dt_ps if dt_ps is not None else float(universe.trajectory.dt)
    if run is not None and dt_ps is None and run.n_frames > 1:
        frame_dt = float(run.times_ps[1] - run.times_ps[0])
    n_frames = run.n_frames if run is not None else len(universe.trajectory)
    first, last, every = frame_window.frames(frame_dt, n_frames)
    built = build_analyses(
        universe,
        [n.strip() for n in analyses.split(",") if n.strip()],
        sulfur_selection=s_select or type_s or SULFUR_SELECTION,
        electrode_selection=electrode_select or type_electrode or ELECTRODE_SELECTION,
        periodic_z=periodic_z,
        unwrap=unwrap,
        grouping=grouping,
    )
    if run is not None:
        chosen = slice(first, last, every * step)
        report = run_analyses(
            universe, built, progress=progress, frames=run.frames[chosen],
            times=run.times_ps[chosen],
        )
    else:
        report = run_analyses(
            universe, built, start=first, stop=last, step=every * step, progress=progress
        )
    series = {}
    ms_per_frame: dict[str, float] = {}
    summary: dict[str, object] = {
        "n_frames": report.n_frames,
        "window_ns": [first * frame_dt / 1000.0, (last - 1) * frame_dt / 1000.0],
        "sample_ps": every * step * frame_dt,
        "sulfur_selection": s_select or type_s or SULFUR_SELECTION,
        "ms_per_frame": ms_per_frame,
    }
    fits: dict[tuple[str, str], MsdFit] = {}
    for analysis in built:
        series.update(analysis.to_series())
        ms_per_frame[analysis.name] = 1e3 * report.s_per_frame[analysis.name]
        if isinstance(analysis, MeanSquaredDisplacement) and len(analysis.results.lagtimes) > 2:
            fit_window = _parse_window(window, analysis.results.lagtimes)
            curves = {analysis.msd_type: (analysis.results.timeseries, len(analysis.dims))}
            if "z" in analysis.msd_type and len(analysis.dims) > 1:
                curves["z"] = (analysis.axis_msd("z"), 1)  # eq. 8
            for label, (msd, dim) in curves.items():
                d_cm2_s, fit = diffusion_coefficient(analysis.results.lagtimes, msd, dim, fit_window)
                summary[f"D_{label}_cm2_s"] = d_cm2_s
                summary[f"D_{label}_fit"] = asdict(fit)
                quantity = "msd" if label == analysis.msd_type else f"msd_{label}"
                fits[(analysis.name, quantity)] = MsdFit(
                    fit.slope, fit.intercept, fit.window, d_cm2_s
                )
    with atomic_directory(out) as tmp:
        write_series_json(series, tmp / "series.json")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1))
        plot_series(series, tmp, fits=fits)
    if calc_id is not None:
        from lisflow.db.store import open_store

        with open_store(db, create=True) as store:
            summary["stored_points"] = save_series(store, calc_id, series)
    if fmt == "json":
        typer.echo(json.dumps(summary, indent=1))
    else:
        _emit("summary", _flat(summary), fmt)


def selections_from_types(topology: Path) -> tuple[str | None, str | None]:
    """S6(2-) S and electrode selections by LAMMPS type from ``<stem>.types.json`` (written
    by ``pack`` next to the data file); ``(None, None)`` when there is no such file. TFSI
    contains S too, so selecting S by mass would mix TFSI S into the polysulfide S."""
    types_file = Path(topology).with_suffix(".types.json")
    if not types_file.is_file():
        return None, None
    types = json.loads(types_file.read_text())
    s_types = types.get("s6_sulfur_types") or []
    e_types = types.get("electrode_types") or []
    return (
        "type " + " ".join(map(str, s_types)) if s_types else None,
        "type " + " ".join(map(str, e_types)) if e_types else None,
    )


def _parse_window(text: str | None, lagtimes: np.ndarray) -> tuple[float, float]:
    if text is None:
        return 0.1 * float(lagtimes[-1]), 0.5 * float(lagtimes[-1])
    try:
        start, end = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError("window", f"{text!r}", "'start_ps,end_ps'") from None
    return start, end


def register(app: typer.Typer) -> None:
    """Add ``analyze`` and the ``experiment`` group to the root app."""
    app.command("analyze")(analyze)
    app.add_typer(experiment_app, name="experiment")
