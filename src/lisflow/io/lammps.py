"""LAMMPS input scripts for the MD protocols of paper 000 (Methods MD).

Units ``real`` inside LAMMPS (fs, kcal/mol, Å, K, atm→bar handled below); every time in the
parameters is in ps and every length in Å. Stages run with ``run N upto`` on one cumulative
step counter, so a script restarted from ``restart.<step>`` skips finished stages
(:func:`input_script` with ``restart``). Trajectories are binary DCD (unwrapped coordinates).

The typed input set of an MD calculation is :class:`LammpsInputs` (built by
:func:`lisflow.workflows.plan_md.plan_md`); the script renderer works on its run parameters
(:meth:`LammpsInputs.run_parameters`, kept in the run state ``lisflow_md.json`` so that error
handlers can change them between segments), with the keys:
``stages`` (list of dicts: name, ensemble minimize|nvt|npt|nve, time_ps, temperature_k,
temperature_end_k, pressure_bar), ``timestep_fs``, ``dump_every_ps``, ``thermo_every_ps``,
``restart_every_ps``, ``thermostat_damp_ps``, ``barostat_damp_ps``, ``cutoff_a``,
``pppm_accuracy``, ``time_scale``, ``neighbor_skin_a``, ``neigh_every``, ``seed``,
``minimize_max_iter``,
``periodic_z`` (False for electrode boxes: ``boundary p p f`` + ``kspace_modify slab 3.0``),
``thermostat_per_group`` (default True: NVT stages couple each species group, LiTFSI, Li2S6,
DOL, DME, to its own Nosé–Hoover thermostat, paper 000 Methods MD; NPT stages use one
``fix npt`` on all mobile atoms, since one barostat must act on the whole box).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from lisflow.calculation import InputSet
from lisflow.errors import InputError
from lisflow.forcefield.mixing import pair_coeff_lines
from lisflow.io.lammps_data import Layout

ATM_PER_BAR = 1.0 / 1.01325  # LAMMPS real units use atm
DEFAULTS: dict[str, Any] = {
    "timestep_fs": 1.0,  # paper 000 Methods MD
    "thermostat_damp_ps": 0.1,  # Nose-Hoover time constant, paper 000 Methods MD
    "barostat_damp_ps": 1.0,  # not given in the paper; LAMMPS guidance: ~1000 timesteps
    "dump_every_ps": 10.0,  # clusters/S counts every 10 ps (paper 000 Methods MD)
    "thermo_every_ps": 10.0,
    "restart_every_ps": 1000.0,
    "cutoff_a": 12.0,  # LJ/real-space Coulomb cutoff (not given in the paper)
    "pppm_accuracy": 1.0e-5,
    "time_scale": 1.0,
    # neighbour skin 0.5 A (LAMMPS' real-units default is 2 A): with "neigh_modify every 1
    # delay 0 check yes" no pair is ever missed, so the forces are the same. Sweeps of
    # benchmarks/bench_lammps_sweep.py (interface box, 1779 atoms, PPPM 1e-5, 1 rank,
    # 2026-12-02), s/100 steps: skin 3: 0.79, 2: 0.75, 1: 0.70, 0.5: 0.64; last sweep
    # 0.3: 0.636, 0.5: 0.640 (within 1 %)
    "neighbor_skin_a": 0.5,
    "neigh_every": 1,
    "seed": 20231001,
    "periodic_z": True,
    "slab_factor": 3.0,
    "minimize_max_iter": 1000,
}
ENSEMBLES = ("minimize", "nvt", "npt", "nve")
LOG_NAME = "log.lammps"
TRAJECTORY = "traj.dcd"
FINAL_RESTART = "final.restart"


@dataclass(frozen=True)
class LammpsInputs(InputSet):
    """The typed input set of a LAMMPS MD calculation (times ps, lengths Å).

    ``system`` the box builder's keyword arguments
    (:func:`lisflow.structures.md_boxes.build_system`), ``stages`` the protocol (dicts: name,
    ensemble, time_ps, temperature_k, temperature_end_k, pressure_bar), ``scale`` the box
    scale, ``analysis_window`` the fit window (ns). The run settings default to
    :data:`DEFAULTS`; the fields left None are not set (the renderer's defaults apply, and
    ``periodic_z`` follows the box)."""

    system: dict[str, Any]
    stages: tuple[dict[str, Any], ...] = ()
    timestep_fs: float = DEFAULTS["timestep_fs"]
    dump_every_ps: float = DEFAULTS["dump_every_ps"]
    thermo_every_ps: float = DEFAULTS["thermo_every_ps"]
    restart_every_ps: float = DEFAULTS["restart_every_ps"]
    thermostat_damp_ps: float = DEFAULTS["thermostat_damp_ps"]
    barostat_damp_ps: float = DEFAULTS["barostat_damp_ps"]
    cutoff_a: float = DEFAULTS["cutoff_a"]
    pppm_accuracy: float = DEFAULTS["pppm_accuracy"]
    neighbor_skin_a: float = DEFAULTS["neighbor_skin_a"]
    minimize_max_iter: int = DEFAULTS["minimize_max_iter"]
    time_scale: float = DEFAULTS["time_scale"]
    seed: int = DEFAULTS["seed"]
    scale: float | None = None
    analysis_window: dict[str, Any] | None = None
    neigh_every: int | None = None
    slab_factor: float | None = None
    periodic_z: bool | None = None
    z_walls: bool | None = None
    thermostat_per_group: bool | None = None

    def run_parameters(self, periodic_z: bool) -> dict[str, Any]:
        """The renderer's parameters: :data:`DEFAULTS` < the fields set; ``periodic_z``
        (the box's) unless the field sets it."""
        params = merged(
            {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}
        )
        params["stages"] = [dict(stage) for stage in self.stages]
        params["periodic_z"] = periodic_z if self.periodic_z is None else self.periodic_z
        return params


@dataclass(frozen=True)
class StagePlan:
    """One stage with its absolute end step and end time (ps; 0 for minimisation)."""

    name: str
    ensemble: str
    steps: int
    end_step: int
    end_ps: float
    t_start: float
    t_end: float
    pressure_bar: float | None


def steps_of(time_ps: float, params: dict[str, Any]) -> int:
    """Number of MD steps of ``time_ps`` (ps) after ``time_scale``; at least 1."""
    fs = time_ps * 1000.0 * params["time_scale"]
    return max(1, round(fs / params["timestep_fs"]))


def plan_stages(
    params: dict[str, Any], restart_step: int = 0, elapsed_ps: float = 0.0
) -> list[StagePlan]:
    """Stages with cumulative end steps (minimisation does not advance the counter).

    After a restart at ``restart_step`` (simulated time ``elapsed_ps``) the end steps of the
    remaining stages follow from the current ``timestep_fs`` (it may have been reduced)."""
    out, step, t_ps = [], 0, 0.0
    dt_ps = params["timestep_fs"] / 1000.0
    for i, st in enumerate(params["stages"]):
        ens = st["ensemble"]
        if ens not in ENSEMBLES:
            raise InputError(f"protocol[{i}].ensemble", f"unknown {ens!r}", ", ".join(ENSEMBLES))
        n = 0 if ens == "minimize" else steps_of(st["time_ps"], params)
        step += n
        t_ps += n * dt_ps
        end = step
        if restart_step and t_ps > elapsed_ps + 1e-9:
            end = restart_step + max(1, round((t_ps - elapsed_ps) / dt_ps))
        elif restart_step:
            end = 0  # finished before the restart
        t0 = float(st.get("temperature_k", 300.0))
        out.append(
            StagePlan(
                st["name"],
                ens,
                n,
                end,
                t_ps,
                t0,
                float(st.get("temperature_end_k") or t0),
                st.get("pressure_bar"),
            )
        )
    return out


def trajectory_name(restart_step: int = 0) -> str:
    """DCD file of a run segment: ``traj.dcd``, then ``traj.<step>.dcd`` after each restart."""
    return TRAJECTORY if restart_step == 0 else f"traj.{restart_step}.dcd"


def merged(params: dict[str, Any]) -> dict[str, Any]:
    """``DEFAULTS`` overlaid with ``params``."""
    return {**DEFAULTS, **params}


def _every(ps: float, p: dict[str, Any]) -> int:
    return steps_of(ps, p)


def input_script(
    params: dict[str, Any],
    lay: Layout,
    data_file: str = "system.data",
    restart: str | None = None,
    restart_step: int = 0,
    elapsed_ps: float = 0.0,
) -> str:
    """The complete LAMMPS input. With ``restart`` it reads that restart file and runs only
    the stages (or the rest of the stage) after ``restart_step`` (time ``elapsed_ps``)."""
    p = merged(params)
    stages = plan_stages(p, restart_step if restart else 0, elapsed_ps)
    damp_t = p["thermostat_damp_ps"] * 1000.0
    damp_p = p["barostat_damp_ps"] * 1000.0
    L = [
        f"# lisflow LAMMPS input ({'restart from ' + restart if restart else 'fresh start'})",
        "# units real: fs, kcal/mol, A, K, atm; paper 000 Methods MD",
        "variable walltime index 0  # seconds; set with -var walltime S to stop cleanly",
        'if "${walltime} > 0" then "timer timeout ${walltime} every 100"',
    ]
    if not p["periodic_z"]:
        # slab boxes: split the ranks over x, y only, never along z where the box is mostly
        # vacuum (a z split leaves one rank nearly idle); same results, one rank unchanged.
        # benchmarks/bench_lammps_sweep.py, 2 ranks on a shared 2-core machine, 2026-12-02:
        # with it / without it 1.15x, 0.82x, 1.72x faster in three sweeps (noisy: shared cores)
        L.append("processors * * 1")
    if restart is None:
        L += [
            "units real",
            "atom_style full",
            f"boundary p p {'p' if p['periodic_z'] else 'f'}",
            "bond_style harmonic",
            "angle_style harmonic",
            "dihedral_style opls",
            "special_bonds lj/coul 0.0 0.0 0.5  # OPLS-AA 1-4 scaling",
            f"read_data {data_file}",
        ]
    else:
        L += [f"read_restart {restart}"]
    L += [
        f"pair_style lj/cut/coul/long {p['cutoff_a']}",
        "pair_modify mix arithmetic  # Lorentz-Berthelot (eq. 7); explicit lines below",
        *pair_coeff_lines(lay.atom_types),
        f"kspace_style pppm {p['pppm_accuracy']:g}",
    ]
    if not p["periodic_z"]:
        L.append(f"kspace_modify slab {p['slab_factor']}")
    L += [
        f"neighbor {p['neighbor_skin_a']} bin",
        f"neigh_modify every {p['neigh_every']} delay 0 check yes",
        f"timestep {p['timestep_fs']}",
    ]
    walls = p.get("z_walls", True) and not p["periodic_z"]
    if lay.electrode_types:
        L += [
            f"group electrode type {' '.join(map(str, lay.electrode_types))}",
            "group mobile subtract all electrode",
            "neigh_modify exclude group electrode electrode",
            "fix freeze electrode setforce 0.0 0.0 0.0  # electrode atoms fixed (paper 000)",
        ]
    else:
        L += ["group mobile union all"]
    if walls:
        L.append("fix walls mobile wall/reflect zlo EDGE zhi EDGE  # keep the p p f box closed")
    groups = lay.thermostat_groups if p.get("thermostat_per_group", True) else {}
    for name, ranges in groups.items():
        ids = " ".join(f"{a}:{b}" for a, b in ranges)
        L.append(f"group g_{name} id {ids}")
    L += [
        "thermo_style custom step time temp press pe ke etotal vol",
        "thermo_modify flush yes",
        f"thermo {_every(p['thermo_every_ps'], p)}",
    ]
    restart_line = f"restart {_every(p['restart_every_ps'], p)} restart.*"
    if restart is not None:
        L.append(restart_line)
    first_md = True
    for st in stages:
        if st.ensemble == "minimize":
            if restart is None:
                L += [
                    f"# stage {st.name}: energy minimisation",
                    f"minimize 1.0e-4 1.0e-6 {p['minimize_max_iter']} {10 * p['minimize_max_iter']}",
                    "reset_timestep 0",
                ]
            continue
        if restart is not None and st.end_step <= restart_step:
            continue
        if restart is None and first_md:
            L.append(restart_line)
        L.append(f"# stage {st.name}: {st.ensemble} {st.steps} steps, T {st.t_start}->{st.t_end} K")
        if first_md:
            if restart is None:
                L.append(
                    f"velocity mobile create {st.t_start} {p['seed']} dist gaussian mom yes rot yes"
                )
            traj = TRAJECTORY if restart is None else trajectory_name(restart_step)
            L += [
                f"dump traj all dcd {_every(p['dump_every_ps'], p)} {traj}",
                "dump_modify traj unwrap yes",
            ]
            first_md = False
        fixes = ["integ"]
        if st.ensemble == "nvt" and len(groups) > 1:
            # one Nose-Hoover chain per species group (paper 000 Methods MD, "respectively")
            fixes = [f"nvt_{name}" for name in groups]
            L += [
                f"fix nvt_{name} g_{name} nvt temp {st.t_start} {st.t_end} {damp_t}"
                for name in groups
            ]
        elif st.ensemble == "nvt":
            L.append(f"fix integ mobile nvt temp {st.t_start} {st.t_end} {damp_t}")
        elif st.ensemble == "npt":
            bar = (st.pressure_bar if st.pressure_bar is not None else 1.0) * ATM_PER_BAR
            L.append(
                f"fix integ mobile npt temp {st.t_start} {st.t_end} {damp_t} "
                f"iso {bar:.6f} {bar:.6f} {damp_p}"
            )
        else:
            L.append("fix integ mobile nve")
        L += [f"run {st.end_step} upto", *(f"unfix {f}" for f in fixes), "write_restart restart.*"]
    L.append(f"write_restart {FINAL_RESTART}")
    return "\n".join(L) + "\n"
