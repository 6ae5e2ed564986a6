"""spec -> FireWorks Workflow, skipping what is already done.

One Firework per calculation (named by its calc id, run in ``<run_root>/<calc id>``), plus
the derived-quantity Fireworks of the study's kind (:mod:`lisflow.workflows.kinds`; e.g. one
small Firework per adsorption energy / polymorph formation energy that runs once its
calculations are done). Clean slabs and isolated molecules appear once and feed every
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
from lisflow.workflows.derived import DerivedContext, adsorption_triples
from lisflow.workflows.firetasks import STRUCTURE_FILE, RunCalculationTask, spec_key
from lisflow.workflows.kinds import study_kind
from lisflow.workflows.plan import plan

__all__ = ["ACTIVE_STATES", "BuildReport", "adsorption_triples", "build_workflow"]

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
    context = DerivedContext(fireworks, links, store, public_db, active_names)
    energy_fws = study_kind(spec).derived_fireworks(spec, calcs, context)
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
