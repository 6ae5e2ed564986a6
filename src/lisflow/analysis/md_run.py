"""Analyses of a finished LAMMPS run, for the database: one streaming pass over its DCD.

The polysulfide S and the electrode atoms are selected by LAMMPS type ids from the
``system.types.json`` written next to the data file (TFSI also contains S). Bulk boxes get
S clustering and MSD; interfaces add the S count within 0–15 Å of the surface, the
dense-phase distance and the S6²⁻ slice charge density. Only the frames of the study's
analysis window are used (``params["analysis_window"]`` in ``lisflow_md.json``; dense phase:
42–82 ns every 10 ps, paper 000); time series are also block-averaged per
``average_every_ns``. D (cm²/s) is fitted over 10–50 % of the lag times inside the window;
the stored scalars ``window_start_ns``, ``window_stop_ns``, ``window_sample_ps`` say which
frames D used. The Mo-centre charge of the electrode is stored too (from the types file).
A run continued from restart files is read across all its DCD segments, later segments
superseding earlier frames from their restart step on (:mod:`lisflow.analysis.segments`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from lisflow.analysis.base import run_analyses
from lisflow.analysis.clusters import SulfurClusters
from lisflow.analysis.dcdblock import read_only
from lisflow.analysis.msd import MeanSquaredDisplacement, diffusion_coefficient
from lisflow.analysis.profiles import DensePhaseDistance, SliceChargeDensity, SurfaceSulfurCount
from lisflow.analysis.segments import load_run_universe
from lisflow.analysis.window import AnalysisWindow, block_average

FIT_WINDOW_FRACTION = (0.1, 0.5)


def run_window(directory: Path) -> AnalysisWindow:
    """The analysis window of the run in ``directory`` (whole trajectory if none stated)."""
    state = Path(directory) / "lisflow_md.json"
    params = json.loads(state.read_text()).get("params", {}) if state.is_file() else {}
    return AnalysisWindow.from_dict(params.get("analysis_window"))


def analyse_lammps_run(
    directory: Path, dump_every_ps: float, window: AnalysisWindow | None = None
) -> tuple[dict, dict[str, Any]]:
    """(series, scalars) of the run in ``directory`` over ``window`` (default: the study's,
    from the run's state file); empty when the window has < 3 frames."""
    directory = Path(directory)
    types_file, data = directory / "system.types.json", directory / "system.data"
    if not (types_file.is_file() and data.is_file()):
        return {}, {}
    types = json.loads(types_file.read_text())
    universe, run = load_run_universe(directory, data)  # every restart segment, in order
    if universe is None:
        return {}, {}
    window = window or run_window(directory)
    n_frames = run.n_frames
    if n_frames < 3 or not types["s6_sulfur_types"]:
        return {}, {}
    start, stop, step = window.frames(dump_every_ps, n_frames)
    if len(range(start, stop, step)) < 3:
        return {}, {}
    chosen = slice(start, stop, step)
    sulfur = universe.select_atoms("type " + " ".join(map(str, types["s6_sulfur_types"])))
    periodic_z = bool(types.get("periodic_z", True))
    analyses = [SulfurClusters(sulfur, periodic=(True, True, periodic_z)),
                MeanSquaredDisplacement(sulfur, "xyz", unwrap=True)]
    electrode = None
    if types.get("electrode_types"):
        electrode = universe.select_atoms("type " + " ".join(map(str, types["electrode_types"])))
        analyses += [SurfaceSulfurCount(sulfur, electrode), DensePhaseDistance(sulfur, electrode),
                     SliceChargeDensity(sulfur, grouping="residues")]
    read_only(universe, sulfur, electrode)  # the DCD reader skips every other atom
    run_analyses(universe, analyses, progress=False, frames=run.frames[chosen],
                 times=run.times_ps[chosen])
    series: dict = {}
    for analysis in analyses:
        series.update(analysis.to_series())
    if window.average_every_ns:
        for (name, quantity), (x, y, xu, yu) in list(series.items()):
            if xu == "ps" and not name.startswith("msd"):
                bx, by = block_average(x, y, window.average_every_ns)
                if len(bx):
                    series[(name, f"{quantity}_per_ns")] = (bx, by, xu, yu)
    msd = analyses[1]
    lags = np.asarray(msd.results.lagtimes)
    fit = (FIT_WINDOW_FRACTION[0] * lags.max(), FIT_WINDOW_FRACTION[1] * lags.max())
    scalars: dict[str, Any] = {}
    for quantity, values, dim in (("D_3d", msd.results.timeseries, 3), ("D_z", msd.axis_msd("z"), 1)):
        if (lags >= fit[0]).sum() >= 2 and ((lags >= fit[0]) & (lags <= fit[1])).sum() >= 2:
            d_cm2_s, _ = diffusion_coefficient(lags, values, dim, fit)
            scalars[quantity] = (d_cm2_s, "cm^2/s")
    if scalars:
        scalars.update(window.scalars(dump_every_ps, n_frames))
    charges = types.get("electrode_charges") or {}
    if "mo_total_charge" in charges:
        scalars["electrode_mo_total_charge"] = (float(charges["mo_total_charge"]), "e")
        scalars["electrode_mo_centre_charge"] = (float(charges["mo_per_centre_charge"]), "e")
    return series, scalars
