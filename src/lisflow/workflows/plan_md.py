"""MD study → list of :class:`~lisflow.calculation.Calculation` (engine ``lammps``, task ``md``)."""

from __future__ import annotations

from pathlib import Path

from lisflow.calculation import Calculation
from lisflow.io.lammps import LammpsInputs
from lisflow.spec.md import MdStudy

_RUN_KEYS = (
    "timestep_fs",
    "dump_every_ps",
    "thermo_every_ps",
    "restart_every_ps",
    "thermostat_damp_ps",
    "barostat_damp_ps",
    "cutoff_a",
    "pppm_accuracy",
    "neighbor_skin_a",
    "minimize_max_iter",
    "time_scale",
    "seed",
)


def plan_md(spec: MdStudy, spec_file: Path | None = None) -> list[Calculation]:
    """One calculation per system: ``calc_id = <study>/<system name>``.

    ``role`` is ``box`` for bulk boxes and ``interface`` for boxes with an electrode; the
    structure is None (the box is packed by the engine); the :class:`LammpsInputs` carry
    the builder arguments (``system``), the protocol (``stages``) and every run setting.
    """
    calcs = []
    for system in spec.systems:
        builder_args = system.builder_args(spec.scale)
        if system.charges and system.charges.startswith("db:"):
            from lisflow.workflows.md_db_charges import electrode_charges_from_db

            # read once here (the builder layers never open the database); data travel along
            builder_args["charges"] = electrode_charges_from_db(system.charges, system.charges_db)
        labels_solvents = None
        if system.solvents:  # user force fields travel with the calculation (file contents)
            builder_args["custom_species"] = [spec.custom_species(n) for n in system.solvents]
            labels_solvents = dict(system.solvents)
        inputs = LammpsInputs(
            system=builder_args,
            stages=tuple(stage.model_dump() for stage in spec.protocol),
            scale=spec.scale,
            analysis_window=spec.analysis_window(),  # ns, scaled by time_scale
            **{key: getattr(spec, key) for key in _RUN_KEYS},
        )
        labels = {
            "system": system.name,
            "kind": system.kind,
            "n_li2s6": system.n_li2s6,
            "scale": spec.scale,
        }
        if system.electrode:
            labels["electrode"] = system.electrode
            default = "builtin:mo4ng_bader_cp2k" if system.electrode == "mo_ngraphene" else "none"
            labels["electrode_charges"] = system.charges or default
        if labels_solvents:
            labels["solvents"] = labels_solvents
        if system.wt_percent_reading:
            labels["wt_percent_reading"] = system.wt_percent_reading
        calcs.append(
            Calculation(
                calc_id=f"{spec.study}/{system.name}",
                study=spec.study,
                engine="lammps",
                task="md",
                role="box" if system.kind == "bulk" else "interface",
                structure=None,
                inputs=inputs,
                labels=labels,
            )
        )
    return calcs
