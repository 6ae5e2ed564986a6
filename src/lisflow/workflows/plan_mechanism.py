"""Plans of the mechanism studies (``free_energy``, ``neb``; lisflow.spec.mechanism).

free_energy, per substrate: the clean slab relaxation, and per intermediate and orientation
``adslab/<site>/<X>/c<i>/relax`` then ``…/vib`` (mlip) or ``…/freq`` (VASP IBRION 5) of the
adsorbate atoms only (slab fixed). Once: ``molecule/S8/relax`` + ``vib``/``freq`` (the S8
reference) and ``bulk/Li/relax`` (the Li reference, cell relaxed; no vibrations: the solid's
ZPE/TS are left out as usual for the Li chemical potential). The ΔG profile itself is a
derived Firework (lisflow.workflows.firetasks_mechanism.FreeEnergyProfileTask).

neb, per substrate and path: ``neb/<site>/<path>`` (mlip: endpoints relaxed inside the run,
then CI-NEB); VASP: ``…/initial/relax``, ``…/final/relax`` and the ``…/neb`` input set.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from lisflow.calculation import Calculation
from lisflow.io.mechanism import NebInputs, VibrationInputs
from lisflow.io.mlip import mlip_settings
from lisflow.spec.mechanism import FreeEnergyStudy, NebStudy
from lisflow.structures import adsorption as adsorption_builders
from lisflow.structures.mechanism import bulk_li, li2s_split_endpoints, li_hop_endpoints
from lisflow.structures.sorted_sites import sorted_by_electronegativity
from lisflow.workflows.plan import (
    _common_vacuum,
    _mlip_calc,
    _vasp_inputs,
    adsorbate_molecule,
    boxed,
    substrate_structure,
)


def _free_flags(structure: Structure) -> Structure:
    """Selective dynamics: only ``adsorbate``-labelled atoms free (frequency runs)."""
    labels = structure.site_properties.get("label", ["adsorbate"] * len(structure))
    flagged = structure.copy()
    flagged.add_site_property("selective_dynamics", [[lab == "adsorbate"] * 3 for lab in labels])
    return flagged


def _relax(spec, calc_id: str, role: str, structure: Structure, labels) -> Calculation:
    if spec.engine == "mlip":
        return _mlip_calc(spec, calc_id, role, structure, labels)
    structure = sorted_by_electronegativity(structure)
    return Calculation(calc_id=calc_id, study=spec.study, engine="vasp", task="relax", role=role,
                       structure=structure, inputs=_vasp_inputs(spec, "relax", role),
                       labels=labels)  # fmt: skip


def _vibrations(spec: FreeEnergyStudy, relax: Calculation, free_molecule: bool) -> Calculation:
    """Frequencies of the adsorbate atoms at the relaxed geometry (parent: ``relax``)."""
    structure = _free_flags(relax.periodic_structure())
    base = relax.calc_id.rsplit("/", 1)[0]
    labels = {**relax.labels, "final": False}
    if spec.engine == "vasp":  # parse: engines.mlip_mechanism.vasp_vibration_scalars
        labels |= {"temperature_k": spec.temperature_k,
                   "low_mode_floor_cm1": spec.vibrations.low_mode_floor_cm1}  # fmt: skip
        return Calculation(calc_id=f"{base}/freq", study=spec.study, engine="vasp", task="freq",
                           role=relax.role, structure=structure,
                           inputs=_vasp_inputs(spec, "freq", relax.role), labels=labels,
                           parents=(relax.calc_id,))  # fmt: skip
    labels_ = structure.site_properties["label"]
    inputs = dataclasses.replace(
        mlip_settings(spec.model, "vib", dict(spec.overrides)),
        temperature_k=spec.temperature_k,
        fixed_indices=tuple(i for i, lab in enumerate(labels_) if lab != "adsorbate"),
        vibrations=VibrationInputs(**spec.vibrations.model_dump(), free_molecule=free_molecule),
    )
    return Calculation(calc_id=f"{base}/vib", study=spec.study, engine="mlip", task="vib",
                       role=relax.role, structure=structure, inputs=inputs, labels=labels,
                       parents=(relax.calc_id,))  # fmt: skip


def _sites(spec, spec_file: Path | None, names: tuple[str, ...]):
    """(site, slab, {name: [adslab, ...]}) per substrate, one cell height per site."""
    molecules = {name: adsorbate_molecule(name) for name in names}
    for sub in spec.substrates:
        site, slab = substrate_structure(sub, spec_file)
        configs = {
            name: adsorption_builders.adsorption_configurations(
                slab, mol, n_orientations=spec.configurations, li_towards_n=spec.li_towards_n
            )
            for name, mol in molecules.items()
        }
        slab, configs = _common_vacuum(slab, configs)
        yield site, slab, configs


def plan_free_energy(spec: FreeEnergyStudy, spec_file: Path | None = None) -> list[Calculation]:
    """Slab, S8 molecule, bulk Li, and per intermediate relax + frequencies."""
    calcs: list[Calculation] = []
    study = spec.study
    mol = boxed(adsorbate_molecule("S8"), spec.molecule_box)
    s8 = _relax(spec, f"{study}/molecule/S8/relax", "molecule", mol,
                {"adsorbate": "S8", "final": True})  # fmt: skip
    li = _relax(spec, f"{study}/bulk/Li/relax", "bulk", bulk_li(spec.li_bulk_a),
                {"adsorbate": "Li", "final": True})  # fmt: skip
    calcs += [s8, _vibrations(spec, s8, free_molecule=True), li]
    for site, slab, configs in _sites(spec, spec_file, tuple(spec.intermediates)):
        calcs.append(_relax(spec, f"{study}/slab/{site}/relax", "slab", slab,
                            {"site": site, "final": True}))  # fmt: skip
        for name in spec.intermediates:
            for i, adslab in enumerate(configs[name]):
                labels = {"site": site, "adsorbate": name, "configuration": i, "final": True}
                relax = _relax(spec, f"{study}/adslab/{site}/{name}/c{i}/relax", "adslab",
                               adslab, labels)  # fmt: skip
                calcs += [relax, _vibrations(spec, relax, free_molecule=False)]
    return calcs


def profile_inputs(spec: FreeEnergyStudy, calcs: list[Calculation]) -> dict[str, dict[str, Any]]:
    """Per site: the calc ids the ΔG profile reads (slab, S8, Li, each intermediate's
    (relax, vib) per configuration)."""
    freq = "vib" if spec.engine == "mlip" else "freq"
    ids = {c.calc_id for c in calcs}
    study = spec.study
    out: dict[str, dict[str, Any]] = {}
    for calc in calcs:
        if calc.role != "slab":
            continue
        site = calc.labels["site"]
        inter = {}
        for name in spec.intermediates:
            pairs = []
            for i in range(spec.configurations):
                base = f"{study}/adslab/{site}/{name}/c{i}"
                if f"{base}/relax" in ids:
                    pairs.append([f"{base}/relax", f"{base}/{freq}"])
            inter[name] = pairs
        out[site] = {
            "slab": calc.calc_id,
            "s8": [f"{study}/molecule/S8/relax", f"{study}/molecule/S8/{freq}"],
            "li": f"{study}/bulk/Li/relax",
            "intermediates": inter,
            "temperature_k": spec.temperature_k,
        }
    return out


def plan_neb(spec: NebStudy, spec_file: Path | None = None) -> list[Calculation]:
    """One CI-NEB per substrate and path."""
    calcs: list[Calculation] = []
    split = any(p.name == "li2s_decomposition" for p in spec.paths)
    for site, slab, configs in _sites(spec, spec_file, ("Li2S",) if split else ()):
        for path in spec.paths:
            if path.name == "li_diffusion":
                initial, final = li_hop_endpoints(slab, path.hop)
            else:
                initial, final = li2s_split_endpoints(configs["Li2S"][0], path.hop)
            base = f"{spec.study}/neb/{site}/{path.name}"
            labels = {"site": site, "adsorbate": path.name, "final": True}
            calcs += _neb_calcs(spec, base, initial, final, labels)
    return calcs


def _neb_calcs(spec: NebStudy, base: str, initial, final, labels) -> list[Calculation]:
    def band(end: Structure) -> NebInputs:
        return NebInputs(final_structure=end.as_dict(), images=spec.images, spring=spec.spring,
                         neb_fmax=spec.neb_fmax, neb_steps=spec.neb_steps, vtst=spec.vtst)  # fmt: skip

    if spec.engine == "mlip":
        settings = dataclasses.replace(
            mlip_settings(spec.model, "neb", dict(spec.overrides)), neb=band(final)
        )
        return [Calculation(calc_id=base, study=spec.study, engine="mlip", task="neb",
                            role="adslab", structure=initial, inputs=settings,
                            labels=labels)]  # fmt: skip
    ends = [_relax(spec, f"{base}/{name}/relax", "adslab", s, {**labels, "final": False})
            for name, s in (("initial", initial), ("final", final))]  # fmt: skip
    # same species order in both endpoints: the stable sort keeps atom i ↔ atom i
    inputs = dataclasses.replace(
        _vasp_inputs(spec, "neb", "adslab"), neb=band(sorted_by_electronegativity(final))
    )
    neb = Calculation(calc_id=f"{base}/neb", study=spec.study, engine="vasp", task="neb",
                      role="adslab", structure=sorted_by_electronegativity(initial), inputs=inputs,
                      labels=labels, parents=tuple(c.calc_id for c in ends))  # fmt: skip
    return ends + [neb]
