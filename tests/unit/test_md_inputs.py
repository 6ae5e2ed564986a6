"""MD study specs, planning and LAMMPS input scripts (protocols of paper 000 Methods MD)."""

from __future__ import annotations

import pytest
import yaml

from lisflow import WORKFLOWS_DIR
from lisflow.errors import InputError
from lisflow.io.lammps import input_script, plan_stages
from lisflow.io.lammps_data import data_text, layout
from lisflow.spec.md import load_md_study
from lisflow.structures.md_boxes import build_system
from lisflow.workflows.plan_md import plan_md


def _plan(name: str, **kw):
    return plan_md(load_md_study(WORKFLOWS_DIR / f"{name}.yaml", **kw))


def test_plan_ids_roles_and_params():
    calcs = _plan("interface_md")
    assert [c.calc_id for c in calcs][:2] == ["interface_md/mo_n65", "interface_md/mo_n125"]
    assert {c.engine for c in calcs} == {"lammps"} and {c.task for c in calcs} == {"md"}
    assert {c.role for c in calcs} == {"interface"} and all(c.structure is None for c in calcs)
    bulk = _plan("electrolyte_md")
    assert {c.role for c in bulk} == {"box"}
    assert bulk[0].inputs.timestep_fs == 1.0 and bulk[0].inputs.thermostat_damp_ps == 0.1


@pytest.mark.parametrize(
    "study, total_ns",
    [("electrolyte_md", 92.0), ("interface_md", 92.0), ("dense_phase_md", 82.0)],
)
def test_protocol_lengths_match_paper(study, total_ns):
    params = _plan(study)[0].inputs.run_parameters(periodic_z=True)
    stages = plan_stages(params)
    assert stages[-1].end_step == round(total_ns * 1e6)  # 1 fs steps
    assert stages[-1].end_ps == pytest.approx(total_ns * 1000)


def test_bulk_script_npt_then_nvt():
    calc = _plan("electrolyte_md")[0]
    params = calc.inputs.run_parameters(periodic_z=True)
    params["periodic_z"] = True
    text = input_script(params, layout(build_system(calc.inputs.system)))
    assert "boundary p p p" in text and "kspace_modify slab" not in text
    assert "processors" not in text
    assert "fix integ mobile npt temp 300.0 300.0 100.0 iso 0.986923 0.986923 1000.0" in text
    assert "run 2000000 upto" in text and "run 92000000 upto" in text
    assert "dump traj all dcd 10000 traj.dcd" in text  # every 10 ps
    assert "pair_style lj/cut/coul/long 12.0" in text and "kspace_style pppm 1e-05" in text
    assert "pair_modify mix arithmetic" in text and "minimize" in text
    assert "thermo_style custom step time temp press pe ke etotal vol" in text


def test_interface_script_slab_and_fixed_electrode():
    calc = _plan("interface_md", scale=0.05)[0]
    system = build_system(calc.inputs.system)
    params = calc.inputs.run_parameters(periodic_z=True)
    params["periodic_z"] = system.periodic_z
    lay = layout(system)
    text = input_script(params, lay)
    assert "boundary p p f" in text and "kspace_modify slab 3.0" in text
    lines = text.splitlines()  # slab: no MPI split along z, set before the box exists
    assert lines.index("processors * * 1") < lines.index("read_data system.data")
    restart = input_script(params, lay, restart="restart.1000", restart_step=1000)
    lines = restart.splitlines()
    assert lines.index("processors * * 1") < lines.index("read_restart restart.1000")
    assert f"group electrode type {' '.join(map(str, lay.electrode_types))}" in text
    assert "fix freeze electrode setforce 0.0 0.0 0.0" in text and "wall/reflect" in text
    # one Nose-Hoover thermostat per species group (paper 000 Methods MD, "respectively")
    groups = lay.thermostat_groups
    assert list(groups) == ["Li2S6", "LiTFSI", "DOL", "DME"]
    n_e = len(system.electrode)
    assert groups["Li2S6"][0][0] == n_e + 1
    ends = [r for ranges in groups.values() for r in ranges]
    assert sum(b - a + 1 for a, b in ends) == system.n_atoms - n_e  # every mobile atom once
    for name, ranges in groups.items():
        ids = " ".join(f"{a}:{b}" for a, b in ranges)
        assert f"group g_{name} id {ids}" in text
        assert f"fix nvt_{name} g_{name} nvt temp 300.0 300.0 100.0" in text
        assert f"unfix nvt_{name}" in text
    assert "fix integ" not in text and "npt" not in text


def test_dense_phase_anneal_and_time_scale():
    calc = _plan("dense_phase_md", time_scale=1e-4)[0]
    params = calc.inputs.run_parameters(periodic_z=True)
    text = input_script(params, layout(build_system({**calc.inputs.system, "scale": 0.01})))
    assert "nvt temp 500.0 500.0 100.0" in text and "nvt temp 500.0 300.0 100.0" in text
    assert "nvt temp 350.0 350.0 100.0" in text
    assert "run 8200 upto" in text  # 82 ns x 1e-4


def test_restart_script_skips_finished_stages():
    calc = _plan("electrolyte_md", time_scale=1e-3)[0]
    params = {**calc.inputs.run_parameters(periodic_z=True), "timestep_fs": 0.5}
    lay = layout(build_system({**calc.inputs.system, "scale": 0.01}))
    text = input_script(params, lay, restart="restart.3000", restart_step=3000, elapsed_ps=3.0)
    assert "read_restart restart.3000" in text and "read_data" not in text
    assert "npt" not in text and "minimize" not in text
    assert "run 181000 upto" in text  # 92 - 3 ps left at 0.5 fs
    assert "dump traj all dcd 20 traj.3000.dcd" in text


def test_data_file_topology_counts():
    system = build_system({"kind": "bulk", "n_li2s6": 30, "scale": 0.01})
    import numpy as np

    text = data_text(system, np.zeros((system.n_atoms, 3)))
    assert "326 atoms" in text and "307 bonds" in text
    angles = 4 + 3 * 25 + 10 * 20 + 10 * 26
    dihedrals = 3 + 3 * 24 + 10 * 21 + 10 * 21
    assert f"{angles} angles" in text and f"{dihedrals} dihedrals" in text


def test_spec_errors_name_the_field(tmp_path):
    data = yaml.safe_load((WORKFLOWS_DIR / "interface_md.yaml").read_text())
    data["timestep"] = 2.0
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="timestep"):
        load_md_study(tmp_path / "bad.yaml")
    data.pop("timestep")
    data["systems"][0].pop("electrode")
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="needs electrode"):
        load_md_study(tmp_path / "bad.yaml")
    with pytest.raises(InputError, match="scale"):
        load_md_study(WORKFLOWS_DIR / "interface_md.yaml", scale=2.0)


def test_cli_md_info_and_pack(tmp_path):
    from typer.testing import CliRunner

    from lisflow.cli import app

    runner = CliRunner()
    info = runner.invoke(app, ["md-info", str(WORKFLOWS_DIR / "electrolyte_md.yaml")])
    assert info.exit_code == 0, info.output
    for text in ("bulk_n30", "2.506", "5.276", "17.932", "33660"):
        assert text in info.output
    out = tmp_path / "packed"
    spec = str(WORKFLOWS_DIR / "electrolyte_md.yaml")
    packed = runner.invoke(
        app, ["pack", spec, "--system", "bulk_n30", "--scale", "0.01", "--out", str(out)]
    )
    assert packed.exit_code == 0, packed.output
    assert "326 atoms" in (out / "system.data").read_text() and "wrote" in packed.output
    bad = runner.invoke(app, ["pack", spec, "--system", "nope", "--out", str(out)])
    assert bad.exit_code == 2
