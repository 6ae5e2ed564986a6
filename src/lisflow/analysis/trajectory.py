"""Open an MD trajectory and build the requested streaming analyses for it."""

from __future__ import annotations

from pathlib import Path

import MDAnalysis as mda

from lisflow.analysis.base import StreamingAnalysis
from lisflow.analysis.clusters import SulfurClusters
from lisflow.analysis.dcdblock import FORMAT as BLOCK_DCD
from lisflow.analysis.dcdblock import read_only
from lisflow.analysis.msd import MeanSquaredDisplacement
from lisflow.analysis.profiles import DensePhaseDistance, SliceChargeDensity, SurfaceSulfurCount
from lisflow.errors import InputError

ANALYSES = ("clusters", "msd", "slices", "surface", "dense")
#: Default selections by atomic mass (IUPAC standard atomic weights: S 32.06, Mo 95.95,
#: Ti 47.867); LAMMPS data files carry masses, not element names.
SULFUR_SELECTION = "prop mass > 32.0 and prop mass < 32.1"
ELECTRODE_SELECTION = (
    "(prop mass > 95.9 and prop mass < 96.0) or (prop mass > 47.8 and prop mass < 47.9)"
)
#: DCD goes through lisflow.analysis.dcdblock (reads only the atoms the analyses need).
_FORMATS = {".lammpstrj": "LAMMPSDUMP", ".dump": "LAMMPSDUMP", ".dcd": BLOCK_DCD, ".xtc": "XTC"}


def load_universe(
    trajectory: str | Path,
    topology: str | Path,
    atom_style: str | None = None,
    dt_ps: float | None = None,
):
    """MDAnalysis Universe from a LAMMPS data file (or any topology) and a DCD/XTC/dump file.

    ``atom_style`` defaults to LAMMPS ``full`` (``id resid type charge x y z``) for data files.
    ``dt_ps`` sets the time between frames (ps): LAMMPS dumps carry only step numbers and DCD
    headers are read in AKMA units by MDAnalysis, so give it for LAMMPS output.
    """
    trajectory, topology = Path(trajectory), Path(topology)
    for label, path in (("trajectory", trajectory), ("topology", topology)):
        if not path.is_file():
            raise InputError(label, f"file {path} does not exist")
    kwargs = {}
    name = topology.name.removesuffix(".bz2").removesuffix(".gz")
    if name.endswith(".data") or name.startswith("data."):
        kwargs["format"] = "DATA"
        kwargs["atom_style"] = atom_style or "id resid type charge x y z"
    suffix = trajectory.suffix.lower()
    traj_format = _FORMATS.get(suffix)
    if traj_format is None:
        raise InputError("trajectory", f"unknown format {suffix!r}", ", ".join(_FORMATS))
    topology_format = kwargs.pop("format", None)
    if dt_ps is not None and dt_ps <= 0:
        raise InputError("dt_ps", f"{dt_ps}", "> 0")

    def universe(**extra):
        return mda.Universe(
            str(topology),
            str(trajectory),
            topology_format=topology_format,
            format=traj_format,
            **kwargs,
            **extra,
        )

    if dt_ps is None:
        return universe()
    if traj_format != "LAMMPSDUMP":
        return universe(dt=float(dt_ps))
    # a dump's time is step × dt: scale the per-step dt so frames are dt_ps apart
    probe = universe(dt=1.0)
    steps = [ts.time for ts in probe.trajectory[:2]]
    per_frame = steps[1] - steps[0] if len(steps) == 2 and steps[1] > steps[0] else 1.0
    return universe(dt=float(dt_ps) / per_frame)


def select(universe, selection: str, field: str):
    """Atoms of ``selection``; InputError if empty."""
    atoms = universe.select_atoms(selection)
    if len(atoms) == 0:
        raise InputError(field, f"selection {selection!r} matches no atom")
    return atoms


def build_analyses(
    universe,
    names: list[str],
    sulfur_selection: str = SULFUR_SELECTION,
    electrode_selection: str = ELECTRODE_SELECTION,
    periodic_z: bool = False,
    unwrap: bool = False,
    grouping: str = "residues",
) -> list[StreamingAnalysis]:
    """The analyses named in ``names`` (subset of :data:`ANALYSES`) on S and electrode atoms.

    A DCD opened by :func:`load_universe` then reads only those atoms (the others are NaN).
    """
    unknown = [n for n in names if n not in ANALYSES]
    if unknown or not names:
        raise InputError(
            "analyses", f"unknown {unknown}" if unknown else "empty", ",".join(ANALYSES)
        )
    sulfur = select(universe, sulfur_selection, "s_select")
    needs_electrode = {"surface", "dense"} & set(names)
    electrode = (
        select(universe, electrode_selection, "electrode_select") if needs_electrode else None
    )
    read_only(universe, sulfur, electrode)  # DCD: read only the S (+ electrode) atoms
    built: list[StreamingAnalysis] = []
    for name in names:
        if name == "clusters":
            built.append(SulfurClusters(sulfur, periodic=(True, True, periodic_z)))
        elif name == "msd":
            built.append(MeanSquaredDisplacement(sulfur, "xyz", unwrap=unwrap))  # + MSD_z
        elif name == "slices":
            built.append(SliceChargeDensity(sulfur, grouping=grouping))
        elif name == "surface":
            built.append(SurfaceSulfurCount(sulfur, electrode))
        elif name == "dense":
            built.append(DensePhaseDistance(sulfur, electrode))
    return built
