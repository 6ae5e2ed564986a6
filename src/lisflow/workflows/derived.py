"""Derived-quantity Fireworks of the built-in study kinds: adsorption energies (E_ads) and
polymorph formation energies (E_f), each a small Firework that runs once its calculations
are done and is skipped when its result is stored or already queued.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fireworks import Firework

from lisflow.calculation import Calculation
from lisflow.workflows.firetasks import AdsorptionEnergyTask, PolymorphEnergyTask

if TYPE_CHECKING:
    from lisflow.db.store import ResultStore


@dataclass
class DerivedContext:
    """What a kind's derived-Fireworks builder needs besides the spec and its plan.

    ``fireworks``: calc id -> the new Firework of that calculation (absent when done or
    queued); ``links``: parent Firework -> children, to extend; ``active_names``: Firework
    names already in the LaunchPad; ``db_url``: the URL the Firetasks write to (or None)."""

    fireworks: dict[str, Firework]
    links: dict[Firework, list[Firework]]
    store: ResultStore
    db_url: str | None
    active_names: Set[str]

    def add(self, task: Any, name: str, study: str, parents: tuple[str, ...]) -> Firework:
        """An analysis Firework ``name`` running ``task`` after the new ``parents``."""
        fw = Firework([task], spec={"_category": "analysis", "study": study}, name=name)
        for parent in parents:
            if parent in self.fireworks:
                self.links.setdefault(self.fireworks[parent], []).append(fw)
        return fw


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


def adsorption_energy_fireworks(
    spec: Any, calcs: list[Calculation], ctx: DerivedContext
) -> list[Firework]:
    """One E_ads Firework per (adslab, slab, molecule) not stored yet."""
    new = []
    stored = set(_stored_adsorptions(ctx.store, spec.study))
    for adslab, slab_id, molecule_id in adsorption_triples(calcs):
        name = adslab.calc_id.replace("/adslab/", "/eads/").rsplit("/", 1)[0]
        if adslab.calc_id in stored or name in ctx.active_names:
            continue
        task = AdsorptionEnergyTask(
            adslab=adslab.calc_id, slab=slab_id, molecule=molecule_id, db_url=ctx.db_url
        )
        new.append(ctx.add(task, name, spec.study, (adslab.calc_id, slab_id, molecule_id)))
    return new


def formation_energy_fireworks(
    spec: Any, calcs: list[Calculation], ctx: DerivedContext
) -> list[Firework]:
    """One E_f Firework per polymorph not stored yet (a FIZZLED E_f is not active: rebuilt
    here and rerun in place), after its relaxation when that gets a new Firework."""
    new = []
    stored = set(_stored_polymorphs(ctx.store, spec.study))
    for calc in calcs:
        name = calc.calc_id.replace("/bulk/", "/formation/").rsplit("/", 1)[0]
        if not calc.labels["final"] or calc.calc_id in stored or name in ctx.active_names:
            continue
        record = ctx.store.get(calc.calc_id)
        if calc.calc_id in ctx.active_names and (record is None or record.state != "COMPLETED"):
            continue  # relaxation queued, not done: its E_f was submitted with it
        task = PolymorphEnergyTask(
            calc_id=calc.calc_id, polymorph=calc.labels["polymorph"], db_url=ctx.db_url
        )
        new.append(ctx.add(task, name, spec.study, (calc.calc_id,)))
    return new


def _stored_polymorphs(store: ResultStore, study: str) -> list[str]:
    from lisflow.db import queries

    return list(queries.polymorphs(store, study=study).get("calc_id", []))


def _stored_adsorptions(store: ResultStore, study: str) -> list[str]:
    from lisflow.db import queries

    frame = queries.adsorption(store, study=study)
    if "adslab_calc_id" not in frame:
        return []
    return list(frame.loc[frame["state"] == "COMPLETED", "adslab_calc_id"])  # FAILED: retried
