"""spec -> FireWorks Workflow, skipping what is already done.

One Firework per calculation (named by its calc id, run in ``<run_root>/<calc id>``), plus
one small Firework per adsorption energy / polymorph formation energy that runs once its
calculations are done. Clean slabs and isolated molecules appear once and feed every
adsorbate/site pair. A calculation already COMPLETED in the results database, or already
queued/running/completed in the LaunchPad, gets no new Firework (duplicate detection).
"""

from __future__ import annotations

import json
from collections.abc import Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fireworks import Firework, Workflow

from lisflow.calculation import Calculation, calc_to_dict
from lisflow.urls import has_credentials
from lisflow.workflows.firetasks import (
    STRUCTURE_FILE,
    AdsorptionEnergyTask,
    PolymorphEnergyTask,
    RunCalculationTask,
    spec_key,
)
from lisflow.workflows.plan import plan

#: Firework states that mean "already in hand": no second Firework for the same calc id.
ACTIVE_STATES = ("READY", "WAITING", "RESERVED", "RUNNING", "COMPLETED", "PAUSED")


@dataclass
class BuildReport:
    study: str
    planned: int = 0
    new: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    #: FIZZLED earlier: the original Firework is rerun with these (current) inputs
    rerun: dict[str, Firework] = field(default_factory=dict)


def adsorption_triples(calcs: list[Calculation]) -> list[tuple[Calculation, str, str]]:
    """(final adslab calc, final slab id, final molecule id) for every adsorption energy."""
    finals = [c for c in calcs if c.labels.get("final")]
    slabs = {c.labels["site"]: c.calc_id for c in finals if c.role == "slab"}
    molecules = {c.labels["adsorbate"]: c.calc_id for c in finals if c.role == "molecule"}
    return [
        (c, slabs[c.labels["site"]], molecules[c.labels["adsorbate"]])
        for c in finals
        if c.role == "adslab"
    ]


def build_workflow(
    spec,
    spec_file: Path | None,
    store,
    run_root: Path,
    db_url: str | None,
    active_names: Set[str] = frozenset(),
    engine_options: dict | None = None,
    rerun: Set[str] = frozenset(),
) -> tuple[Workflow | None, BuildReport]:
    """The Workflow of what still has to run for ``spec`` (None when nothing does).

    Calculations named in ``rerun`` (FIZZLED Fireworks already in the LaunchPad) get no new
    Firework: theirs is returned in ``report.rerun`` for the caller to rerun in place."""
    calcs = plan(spec, spec_file)
    report = BuildReport(study=spec.study, planned=len(calcs))
    fireworks: dict[str, Firework] = {}
    links: dict[Firework, list[Firework]] = {}
    # no credentials in Firework specs (launchpad.json): the task reads $LISFLOW_DB_URL then
    public_db = db_url if db_url and not has_credentials(db_url) else None
    for calc in calcs:
        record = store.get(calc.calc_id)
        if record is not None and record.state == "COMPLETED":
            report.done.append(calc.calc_id)
            if calc.calc_id not in rerun:
                continue
            # FIZZLED after its result was stored: rerun in place (the task reuses the stored
            # result) so the Fireworks waiting on it (E_f, E_ads, statics) can run
        if calc.calc_id in active_names:
            report.queued.append(calc.calc_id)
            continue
        spec_dict: dict[str, Any] = {
            "calc_id": calc.calc_id,
            "study": calc.study,
            "_category": calc.engine,
            "_launch_dir": str(run_root / calc.calc_id),
            "lisflow_parents": _done_parents(calc, store),
        }
        task = RunCalculationTask(
            calc=calc_to_dict(calc), db_url=public_db, engine_options=engine_options or {}
        )
        fw = Firework([task], spec=spec_dict, name=calc.calc_id)
        if calc.calc_id in rerun:
            report.rerun[calc.calc_id] = fw
            continue
        fireworks[calc.calc_id] = fw
        report.new.append(calc.calc_id)
        for parent in calc.parents:
            if parent in fireworks:
                links.setdefault(fireworks[parent], []).append(fw)
    energy_fws = _energy_fireworks(spec, calcs, fireworks, store, public_db, active_names, links)
    for fw in [fw for fw in energy_fws if fw.name in rerun]:
        report.rerun[fw.name] = fw
        energy_fws.remove(fw)
        for children in links.values():
            if fw in children:
                children.remove(fw)
    report.new += [fw.name for fw in energy_fws]
    if not report.new:
        return None, report  # (report.rerun may still hold Fireworks to rerun)
    wf = Workflow(
        list(fireworks.values()) + energy_fws,
        links_dict=links,
        name=spec.study,
        metadata={"study": spec.study},
    )
    return wf, report


def _done_parents(calc: Calculation, store) -> dict[str, Any]:
    """Outputs of parents completed in an earlier submission (their final structures)."""
    outputs = {}
    for parent in calc.parents:
        record = store.get(parent)
        if record is not None and record.state == "COMPLETED" and record.run_dir:
            final = Path(record.run_dir) / STRUCTURE_FILE
            structure = json.loads(final.read_text()) if final.exists() else None
            outputs[spec_key(parent)] = {"run_dir": record.run_dir, "structure": structure}
    return outputs


def _energy_fireworks(spec, calcs, fireworks, store, db_url, active_names, links) -> list[Firework]:
    """Adsorption / formation-energy Fireworks that are not stored yet."""
    new = []
    if getattr(spec, "kind", "") == "adsorption":
        stored = set(_stored_adsorptions(store, spec.study))
        for adslab, slab_id, molecule_id in adsorption_triples(calcs):
            name = adslab.calc_id.replace("/adslab/", "/eads/").rsplit("/", 1)[0]
            if adslab.calc_id in stored or name in active_names:
                continue
            task = AdsorptionEnergyTask(
                adslab=adslab.calc_id, slab=slab_id, molecule=molecule_id, db_url=db_url
            )
            fw = Firework([task], spec={"_category": "analysis", "study": spec.study}, name=name)
            for parent in (adslab.calc_id, slab_id, molecule_id):
                if parent in fireworks:
                    links.setdefault(fireworks[parent], []).append(fw)
            new.append(fw)
    if getattr(spec, "kind", "") == "polymorphs":
        stored = set(_stored_polymorphs(store, spec.study))
        for calc in calcs:
            name = calc.calc_id.replace("/bulk/", "/formation/").rsplit("/", 1)[0]
            if not calc.labels["final"] or calc.calc_id in stored or name in active_names:
                continue  # (a FIZZLED E_f is not active: rebuilt here, rerun in place)
            record = store.get(calc.calc_id)
            if calc.calc_id in active_names and (record is None or record.state != "COMPLETED"):
                continue  # relaxation queued, not done: its E_f was submitted with it
            task = PolymorphEnergyTask(
                calc_id=calc.calc_id, polymorph=calc.labels["polymorph"], db_url=db_url
            )
            fw = Firework([task], spec={"_category": "analysis", "study": spec.study}, name=name)
            if calc.calc_id in fireworks:
                links.setdefault(fireworks[calc.calc_id], []).append(fw)
            new.append(fw)
    return new


def _stored_adsorptions(store, study: str) -> list[str]:
    from lisflow.db import queries

    frame = queries.adsorption(store, study=study)
    if "adslab_calc_id" not in frame:
        return []
    return list(frame.loc[frame["state"] == "COMPLETED", "adslab_calc_id"])  # FAILED: retried


def _stored_polymorphs(store, study: str) -> list[str]:
    from lisflow.db import queries

    return list(queries.polymorphs(store, study=study).get("calc_id", []))
