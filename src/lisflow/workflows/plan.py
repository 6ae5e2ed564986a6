"""spec -> structures -> list of Calculations (the plan every later layer follows).

calc ids read as paths: ``<study>/slab/<site>/relax``, ``<study>/molecule/<name>/static``,
``<study>/adslab/<site>/<adsorbate>/c<i>/relax``, ``<study>/bulk/<polymorph>/relax``,
``<study>/aimd/<stage>``. The calculation whose energy enters E_ads / E_f carries
``labels["final"] = True`` (the static when statics are run, else the relaxation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel
from pymatgen.analysis.adsorption import AdsorbateSiteFinder
from pymatgen.core import Molecule, Structure

from lisflow.calculation import Calculation
from lisflow.errors import InputError
from lisflow.io.cp2k import AimdSettings, Cp2kInputs
from lisflow.io.lobster import LobsterInputs
from lisflow.io.mlip import mlip_settings
from lisflow.io.vasp import VaspInputs
from lisflow.spec.models import (
    Adsorbate,
    AdsorptionStudy,
    AimdStudy,
    CustomAdsorbate,
    DascSubstrate,
    FileSubstrate,
    MoleculeSubstrate,
    MoNGrapheneSubstrate,
    PolymorphStudy,
    TiSubstrate,
    adsorbate_key,
    resolve_path,
)
from lisflow.structures import adsorption as adsorption_builders
from lisflow.structures import molecules as molecule_builders
from lisflow.structures import support
from lisflow.structures.sorted_sites import sorted_by_electronegativity


def plan(spec: BaseModel, spec_file: Path | None = None) -> list[Calculation]:
    """All calculations of a study, parents before children, in a stable order (the
    planner of its kind, :mod:`lisflow.workflows.kinds`)."""
    from lisflow.workflows.kinds import study_kind

    return study_kind(spec).plan(spec, spec_file)


def substrate_structure(sub: Any, spec_file: Path | None) -> tuple[str, Structure]:
    """(site name, slab) for one substrate entry of an adsorption spec."""
    if isinstance(sub, MoNGrapheneSubstrate):
        return f"Mo{sub.n_mo}-NG", support.mo_ngraphene(sub.n_mo)
    if isinstance(sub, DascSubstrate):
        slab = support.dasc_graphene(
            sub.metals, supercell=sub.supercell, a=sub.a, vacuum=sub.vacuum
        )
        if sub.multiplicity is not None:  # magnetic site: UKS 2S+1 for slab and adslabs
            slab.properties["spin_multiplicity"] = sub.multiplicity
        return site_name(sub.metals), slab
    if isinstance(sub, TiSubstrate):
        slab = support.ti0001(layers=sub.layers, a=sub.a, size=sub.size, vacuum=sub.vacuum)
        return "Ti001", slab
    if isinstance(sub, MoleculeSubstrate):
        slab = boxed(adsorbate_molecule(sub.name), sub.box)
        slab.add_site_property("label", ["support"] * len(slab))
        slab.properties["isolated"] = True
        return f"{sub.name}-mol", slab
    if isinstance(sub, FileSubstrate):
        path = resolve_path(spec_file or Path.cwd() / "spec.yaml", sub.path)
        if not path.is_file():
            raise InputError("substrates[].path", f"no such structure file {str(path)!r}")
        slab = Structure.from_file(path)
        slab.add_site_property("label", ["slab"] * len(slab))
        return sub.name, slab
    raise InputError("substrates[].builder", f"unknown builder {sub!r}")


def site_name(metals: list[str]) -> str:
    """``[Fe, Co]`` -> ``FeCo-N6`` (DASC); ``[Fe]`` -> ``Fe-N4`` (SASC)."""
    return "".join(metals) + ("-N6" if len(metals) == 2 else "-N4")


#: Bond lengths (Å) of the diatomic elemental references: experimental r_e, NIST CCCBDB
#: (Huber & Herzberg, Constants of Diatomic Molecules, 1979): H2 0.7414, N2 1.0977, O2 1.2075.
DIMER_BOND = {"H2": 0.7414, "N2": 1.0977, "O2": 1.2075}


def adsorbate_molecule(entry: Adsorbate, spec_file: Path | None = None) -> Molecule:
    """Named Li2S_n/S8 geometry, an X2 reference dimer, a single atom for an element symbol,
    ``ase:<name>`` from
    ASE's collection, or a :class:`CustomAdsorbate` (structure file or ASE, charge, 2S+1)."""
    if isinstance(entry, CustomAdsorbate):
        if entry.ase is not None:
            return molecule_builders.ase_molecule(entry.ase, entry.charge, entry.multiplicity)
        path = resolve_path(spec_file or Path.cwd() / "spec.yaml", str(entry.file))
        return molecule_builders.molecule_from_file(
            path, entry.key, entry.charge, entry.multiplicity
        )
    if entry.startswith("ase:"):
        return molecule_builders.ase_molecule(entry.removeprefix("ase:"))
    if entry in molecule_builders.POLYSULFIDES:
        return molecule_builders.molecule(entry)
    if entry in DIMER_BOND:  # X2 reference dimer
        xyz = [[0.0, 0.0, 0.0], [0.0, 0.0, DIMER_BOND[entry]]]
        return Molecule([entry[0]] * 2, xyz, site_properties={"label": ["adsorbate"] * 2})
    return Molecule([entry], [[0.0, 0.0, 0.0]], site_properties={"label": ["adsorbate"]})


def _electronic_state(structure: Structure, mol: Molecule, isolated: bool) -> Structure:
    """Carry the adsorbate's charge (e) onto the cell, and a multiplicity the study gave onto
    the isolated molecule (``properties``: ``charge``, ``spin_multiplicity``). Without them
    the inputs stay as before (neutral; spin from the electron parity)."""
    if mol.charge:
        structure.properties["charge"] = int(mol.charge)
    if isolated and mol.properties.get("multiplicity"):
        structure.properties["spin_multiplicity"] = int(mol.properties["multiplicity"])
    return structure


def boxed(molecule: Molecule, box: float) -> Structure:
    """Molecule centred in a cubic box of edge ``box`` Å (isolated-molecule reference)."""
    structure = cast(Structure, molecule.get_boxed_structure(box, box, box))
    if "label" not in structure.site_properties:
        structure.add_site_property("label", ["adsorbate"] * len(structure))
    return structure


def _configurations(spec: AdsorptionStudy, slab: Structure, mol: Molecule) -> list[Structure]:
    if spec.placement == "site_finder":
        found = AdsorbateSiteFinder(slab).generate_adsorption_structures(mol)
        return found[: spec.configurations]
    configs = adsorption_builders.adsorption_configurations(
        slab, mol, n_orientations=spec.configurations, li_towards_n=spec.li_towards_n
    )
    if slab.properties.get("isolated"):  # a molecular substrate: re-centre the complex in its box
        configs = [_recentred(c) for c in configs]
    return configs


def _recentred(structure: Structure) -> Structure:
    """The same atoms, their centre moved to the box centre (isolated, non-periodic models)."""
    centred = structure.copy()
    shift = structure.lattice.abc[0] / 2 - structure.cart_coords.mean(axis=0)
    centred.translate_sites(list(range(len(centred))), shift, frac_coords=False, to_unit_cell=False)
    return centred


def _overrides(spec: Any, task: str, role: str) -> dict[str, Any]:
    """spec.overrides < overrides_by_task[task] < overrides_by_role[role] < [role.task]."""
    by_role = getattr(spec, "overrides_by_role", {})
    return {
        **spec.overrides,
        **spec.overrides_by_task.get(task, {}),
        **by_role.get(role, {}),
        **by_role.get(f"{role}.{task}", {}),
    }


def _vasp_inputs(
    spec: Any, task: str, role: str, extra: tuple[str, ...] = (), multiplicity: int | None = None
) -> VaspInputs:
    by_role = getattr(spec, "kpoints_by_role", {})
    kpoints = by_role.get(f"{role}.{task}") or by_role.get(role) or getattr(spec, "kpoints", None)
    overrides = _overrides(spec, task, role)
    if multiplicity is not None:  # a custom adsorbate's 2S+1: NUPDOWN = 2S (spec overrides win)
        overrides = {"ISPIN": 2, "NUPDOWN": multiplicity - 1, **overrides}
    return VaspInputs(
        preset_name=spec.preset,
        task=task,
        role=role,
        extra_blocks=extra,
        overrides=overrides,
        kpoints=kpoints.model_dump(exclude_none=True) if kpoints else None,
    )


def _cp2k_inputs(
    spec: Any, task: str, role: str, periodic: str, aimd: AimdSettings | None = None
) -> Cp2kInputs:
    return Cp2kInputs(
        task=task, periodic=periodic, overrides=_overrides(spec, task, role), aimd=aimd
    )


def _mlip_calc(
    spec: Any,
    calc_id: str,
    role: str,
    structure: Structure,
    labels: dict[str, Any],
    parents: tuple[str, ...] = (),
) -> Calculation:
    """An MLIP relaxation (static when the study does not relax; cell too for bulk)."""
    prerelax = spec.engine != "mlip"
    task = "relax" if (prerelax or getattr(spec, "relax", True)) else "static"
    overrides = {} if prerelax else _overrides(spec, task, role)
    return Calculation(
        calc_id=calc_id,
        study=spec.study,
        engine="mlip",
        task=task,
        role=role,
        structure=structure,
        inputs=mlip_settings(spec.model, task, overrides, relax_cell=role == "bulk"),
        labels=labels,
        parents=parents,
    )


def _stage_pair(
    spec: AdsorptionStudy, base: str, role: str, structure: Structure, labels: dict[str, Any]
) -> list[Calculation]:
    """Relaxation (+ static when the study asks for it) of one structure; ``prerelax: mlip``
    puts an MLIP relaxation first whose final structure starts the DFT calculation."""
    if spec.engine == "vasp":  # one POSCAR/POTCAR block per element (sorted by electronegativity)
        structure = sorted_by_electronegativity(structure)
    if spec.engine == "mlip":
        name = "relax" if spec.relax else "static"
        return [_mlip_calc(spec, f"{base}/{name}", role, structure, {**labels, "final": True})]
    pre = []
    if spec.prerelax == "mlip":
        pre = [_mlip_calc(spec, f"{base}/prerelax", role, structure, {**labels, "final": False})]
    first_parents = tuple(c.calc_id for c in pre)
    return pre + _dft_stages(spec, base, role, structure, labels, first_parents)


def _dft_stages(spec, base, role, structure, labels, first_parents) -> list[Calculation]:
    if spec.engine == "cp2k":
        isolated = role == "molecule" or structure.properties.get("isolated", False)
        periodic = "NONE" if isolated else "XYZ"
        task = "geo_opt" if spec.relax else "energy"
        return [
            Calculation(
                calc_id=f"{base}/{'relax' if spec.relax else 'energy'}",
                study=spec.study,
                engine="cp2k",
                task=task,
                role=role,
                structure=structure,
                inputs=_cp2k_inputs(spec, task, role, periodic),
                labels={**labels, "final": True},
                parents=first_parents,
            )
        ]
    calcs: list[Calculation] = []
    spin = structure.properties.get("spin_multiplicity")
    if spec.relax:
        calcs.append(
            Calculation(
                calc_id=f"{base}/relax",
                study=spec.study,
                engine=spec.engine,
                task="relax",
                role=role,
                structure=structure,
                inputs=_vasp_inputs(spec, "relax", role, multiplicity=spin),
                labels={**labels, "final": not spec.static},
                parents=first_parents,
            )
        )
    if spec.static or not spec.relax:
        extra = ("lobster",) if spec.lobster else ()
        calcs.append(
            Calculation(
                calc_id=f"{base}/static",
                study=spec.study,
                engine=spec.engine,
                task="static",
                role=role,
                structure=structure,
                inputs=_vasp_inputs(spec, "static", role, extra, multiplicity=spin),
                labels={**labels, "final": True, "bader": spec.bader},
                parents=tuple(c.calc_id for c in calcs) or first_parents,
            )
        )
        if spec.lobster and role in ("slab", "adslab"):  # ICOHPs of paper 002, Fig. 3
            static = calcs[-1]
            calcs.append(
                Calculation(
                    calc_id=f"{base}/lobster",
                    study=spec.study,
                    engine="lobster",
                    task="lobster",
                    role=role,
                    structure=structure,
                    inputs=LobsterInputs(cast(VaspInputs, static.inputs)),  # its INCAR decides
                    labels={**labels, "final": False},
                    parents=(static.calc_id,),
                )
            )
    return calcs


def plan_adsorption(spec: AdsorptionStudy, spec_file: Path | None = None) -> list[Calculation]:
    """Each clean slab and each isolated molecule once, shared by every adsorbate/site pair."""
    calcs: list[Calculation] = []
    molecules = {adsorbate_key(e): adsorbate_molecule(e, spec_file) for e in spec.adsorbates}
    if spec.engine == "vasp":
        for name, mol in molecules.items():
            if mol.charge:
                raise InputError(
                    "adsorbates[].charge",
                    f"{name}: charged adsorbates need engine cp2k (lisflow does not set "
                    "VASP's NELECT)",
                )
    slabs, adslabs = [], {}
    for sub in spec.substrates:
        site, slab = substrate_structure(sub, spec_file)
        configs = {name: _configurations(spec, slab, mol) for name, mol in molecules.items()}
        slab, configs = _common_vacuum(slab, configs)
        slabs.append((site, slab))
        adslabs[site] = configs
    for site, slab in slabs:
        labels: dict[str, Any] = {"site": site, **_grown(slab)}
        calcs += _stage_pair(spec, f"{spec.study}/slab/{site}", "slab", slab, labels)
    for name, mol in molecules.items():
        ref = spec.references.get(name)  # ½X2 / S8/8: the reference molecule, not the atom
        labels = {"adsorbate": name} | ({"reference": ref} if ref else {})
        calcs += _stage_pair(
            spec,
            f"{spec.study}/molecule/{name}" + (f"_{ref}" if ref else ""),  # e.g. H_H2
            "molecule",
            _electronic_state(
                boxed(adsorbate_molecule(ref) if ref else mol, spec.molecule_box),
                mol,
                isolated=True,
            ),
            labels,
        )
    for site, configs in adslabs.items():
        for name, mol in molecules.items():
            for i, adslab in enumerate(configs[name]):
                adslab = _electronic_state(adslab, mol, isolated=False)
                labels = {"site": site, "adsorbate": name, "configuration": i, **_grown(adslab)}
                calcs += _stage_pair(
                    spec, f"{spec.study}/adslab/{site}/{name}/c{i}", "adslab", adslab, labels
                )
    return calcs


def _common_vacuum(
    slab: Structure, configs: dict[str, list[Structure]]
) -> tuple[Structure, dict[str, list[Structure]]]:
    """Slab and all its adslabs in one cell with >= the builder's ``min_vacuum`` above the
    highest atom of each (paper 002: ~15 Å for all surfaces); unchanged when it has none."""
    min_vacuum = slab.properties.get("min_vacuum")
    if min_vacuum is None or slab.properties.get("isolated"):
        return slab, configs
    flat = [slab] + [c for name in configs for c in configs[name]]
    fitted = iter(adsorption_builders.with_vacuum(flat, float(min_vacuum)))
    slab = next(fitted)
    return slab, {name: [next(fitted) for _ in configs[name]] for name in configs}


def _grown(structure: Structure) -> dict[str, float]:
    """``cell_c_grown_from`` label (Å) when the builder's cell was made taller for vacuum."""
    grown = structure.properties.get("c_grown_from")
    return {} if grown is None else {"cell_c_grown_from": float(grown)}


def plan_polymorphs(spec: PolymorphStudy, spec_file: Path | None = None) -> list[Calculation]:
    """One full (ISIF 3) relaxation per Li2S2 polymorph; E_f = E / n (paper 000 eq. 5)."""
    from lisflow.structures.polymorphs import li2s2_polymorphs

    available = li2s2_polymorphs()
    calcs = []
    for index, name in enumerate(spec.polymorphs):
        if name not in available:
            raise InputError(
                f"polymorphs[{index}]", f"unknown polymorph {name!r}", ", ".join(available)
            )
        base = f"{spec.study}/bulk/{name}"
        structure = sorted_by_electronegativity(available[name])
        labels = {"polymorph": name, "final": True}
        if spec.engine == "mlip":
            calcs.append(_mlip_calc(spec, f"{base}/relax", "bulk", structure, labels))
            continue
        if spec.prerelax == "mlip":
            calcs.append(
                _mlip_calc(spec, f"{base}/prerelax", "bulk", structure, {**labels, "final": False})
            )
        calcs.append(
            Calculation(
                calc_id=f"{spec.study}/bulk/{name}/relax",
                study=spec.study,
                engine="vasp",
                task="relax",
                role="bulk",
                structure=(  # (sorted once; a copy of its own beside an MLIP prerelax)
                    sorted_by_electronegativity(available[name])
                    if spec.prerelax == "mlip"
                    else structure
                ),
                inputs=_vasp_inputs(spec, "relax", "bulk"),
                labels=labels,
                parents=(calcs[-1].calc_id,) if spec.prerelax == "mlip" else (),
            )
        )
    return calcs


def plan_aimd(spec: AimdStudy, spec_file: Path | None = None) -> list[Calculation]:
    """Stages in order; a stage with ``electrode_li`` adds the six Li under the sheet (fixed)."""
    from lisflow.structures.aimd import aimd_interface_model

    model = aimd_interface_model(
        n_li2s6=spec.n_li2s6,
        n_litfsi=spec.n_litfsi,
        n_dol=spec.n_dol,
        n_dme=spec.n_dme,
        electrode_li=spec.electrode_li,
        deuterate=spec.deuterate,
    )
    electrode = [i for i, s in enumerate(model) if s.properties.get("label") == "electrode_Li"]
    without_li = model.copy()
    without_li.remove_sites(electrode)
    calcs: list[Calculation] = []
    for stage in spec.stages:
        structure = model if stage.electrode_li else without_li
        fixed = tuple(
            i for i, s in enumerate(structure) if s.properties.get("label") == "electrode_Li"
        )
        settings = AimdSettings(
            time_ps=stage.time_ps,
            temperature_k=spec.temperature_k,
            timestep_fs=spec.timestep_fs,
            gamma_per_fs=spec.langevin_gamma_per_fs,
            region_gamma={
                "Mo": spec.region_gamma_mo_per_fs,
                "other": spec.region_gamma_other_per_fs,
            },
            fixed_indices=fixed,
        )
        calcs.append(
            Calculation(
                calc_id=f"{spec.study}/aimd/{stage.name}",
                study=spec.study,
                engine="cp2k",
                task="aimd",
                role="interface",
                structure=structure,
                inputs=_cp2k_inputs(spec, "aimd", "interface", "XYZ", settings),
                labels={"stage": stage.name, "electrode_li": stage.electrode_li, "final": True},
                parents=(calcs[-1].calc_id,) if calcs else (),
            )
        )
    return calcs
