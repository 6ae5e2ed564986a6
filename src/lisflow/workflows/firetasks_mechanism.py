"""The ΔG profile of sulfur reduction, derived from stored energies, ZPEs and TS terms.

Reaction steps (per S8; paper 002, Supplementary Fig. 22 plots S8 → Li2S8 → Li2S6 → Li2S4 →
Li2S2 → Li2S; the balancing below is the one of the usual step equations, e.g. Zhou et al.,
Nano Lett. 20, 1252 (2020), SI: S8 + 2Li → Li2S8; 3Li2S8 + 2Li → 4Li2S6; 2Li2S6 + 2Li →
3Li2S4; Li2S4 + 2Li → 2Li2S2; Li2S2 + 2Li → 2Li2S, written here per S8 so the steps add up):

    0  S8(ref) + 16 Li(bulk) + *
    1  S8*                        + 16 Li          (S8 adsorption, no Li)
    2  Li2S8*                     + 14 Li          (2 Li)
    3  4/3 Li2S6*                 + 40/3 Li        (2/3 Li)
    4  2 Li2S4*                   + 12 Li          (4/3 Li)
    5  4 Li2S2*                   + 8 Li           (4 Li)
    6  8 Li2S*                                     (8 Li)

with G(k X*) = k·[G(X*) − G(*)] (k independent sites), G(X*) = E + ZPE − TS of the adsorbate
modes (slab fixed, its modes cancel), μ_Li = E(bcc Li)/atom (no ZPE/TS), μ_S8 = E + ZPE − TS
of the S8 molecule (vibrations only: the reference stands for solid sulfur, whose
translations/rotations are frozen). ΔG per step = ΔE + ΔZPE − TΔS = G_k − G_(k−1); the steps
sum to ΔG(overall) = 8 G(Li2S*) − 8 G(*) − μ_S8 − 16 μ_Li. ``dG per 2e`` = ΔG·2/n_Li is the
step as the usual equations write it (2 Li⁺ + 2e⁻ each); the rate-limiting step is the
reduction step (2–6) with the largest ΔG per 2e⁻ (equivalently per electron).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from fireworks import FiretaskBase, FWAction, explicit_serialize

from lisflow.errors import LisflowError

#: (intermediate, number of X* units per S8) in reaction order.
STATES: tuple[tuple[str, Fraction], ...] = (
    ("S8", Fraction(1)), ("Li2S8", Fraction(1)), ("Li2S6", Fraction(4, 3)),
    ("Li2S4", Fraction(2)), ("Li2S2", Fraction(4)), ("Li2S", Fraction(8)),
)  # fmt: skip
#: Step labels (step k goes from state k−1 to state k).
STEP_NAMES = ("S8 -> S8*", "S8* -> Li2S8*", "Li2S8* -> Li2S6*", "Li2S6* -> Li2S4*",
              "Li2S4* -> Li2S2*", "Li2S2* -> Li2S*")  # fmt: skip


def _li_s(name: str) -> tuple[int, int]:
    """(Li, S) atoms of S8 / Li2Sn."""
    return (0, 8) if name == "S8" else (2, int(name[4:] or 1))


@dataclass
class Profile:
    """States G_k (eV, k = 0..6) relative to S8 + 16 Li + *, steps, Li consumed per step."""

    g_states: list[float]
    dg_steps: list[float]
    li_per_step: list[float]
    dg_per_2e: list[float]
    rate_limiting: int  # step index (2..6)
    composition: list[dict[str, float]] = field(default_factory=list)  # per state, all atoms

    @property
    def dg_overall(self) -> float:
        return self.g_states[-1] - self.g_states[0]


def free_energy_profile(g_rel: dict[str, float], mu_s8: float, mu_li: float) -> Profile:
    """The profile from G(X*) − G(*) per intermediate (eV), μ_S8 and μ_Li (eV)."""
    g = [0.0]
    composition = [{"Li": 16.0, "S": 8.0}]
    li_bound = [Fraction(0)]
    for name, units in STATES:
        li, s = _li_s(name)
        g.append(float(units) * g_rel[name] - mu_s8 - float(units * li) * mu_li)
        li_bound.append(units * li)
        composition.append({"Li": float(units * li + (16 - units * li)), "S": float(units * s)})
    dg = [g[k] - g[k - 1] for k in range(1, len(g))]
    li_step = [float(li_bound[k] - li_bound[k - 1]) for k in range(1, len(g))]
    per_2e = [d * 2 / n if n else d for d, n in zip(dg, li_step, strict=True)]
    limiting = max(range(2, 7), key=lambda k: per_2e[k - 1])
    return Profile(g, dg, li_step, per_2e, limiting, composition)


def _completed(store, calc_id: str):
    record = store.get(calc_id)
    if record is None or record.state != "COMPLETED" or record.energy_ev is None:
        state = "missing" if record is None else record.state
        raise LisflowError(f"{calc_id} is not COMPLETED ({state})")
    return record


def _vib_terms(store, calc_id: str) -> tuple[float, float]:
    from lisflow.db import queries

    _completed(store, calc_id)
    frame = queries.scalars(store, calc_id=calc_id)
    values = dict(zip(frame["name"], frame["value"], strict=True))
    if "zpe" not in values or "ts_vib" not in values:
        raise LisflowError(f"{calc_id}: no zpe / ts_vib stored")
    return float(values["zpe"]), float(values["ts_vib"])


def _formula_counts(record) -> dict[str, float]:
    from pymatgen.core import Composition

    return dict(Composition(record.formula).get_el_amt_dict())


def gather(store, inputs: dict[str, Any]) -> tuple[dict[str, float], float, float, dict]:
    """G(X*) − G(*) per intermediate (best configuration), μ_S8, μ_Li and the per-intermediate
    (E, ZPE, TS); LisflowError naming the first input that is not COMPLETED or whose atoms do
    not match (adslab = slab + X exactly)."""
    slab = _completed(store, inputs["slab"])
    slab_counts = _formula_counts(slab)
    s8 = _completed(store, inputs["s8"][0])
    zpe8, ts8 = _vib_terms(store, inputs["s8"][1])
    li = _completed(store, inputs["li"])
    mu_li = li.energy_ev / li.n_atoms
    mu_s8 = s8.energy_ev + zpe8 - ts8
    g_rel, terms = {}, {"S8(g)": (s8.energy_ev, zpe8, ts8)}
    for name, pairs in inputs["intermediates"].items():
        if not pairs:
            raise LisflowError(f"{name}: no configuration planned")
        best = None
        for relax_id, vib_id in pairs:
            record = _completed(store, relax_id)
            zpe, ts = _vib_terms(store, vib_id)
            counts = _formula_counts(record)
            extra = {el: counts.get(el, 0) - slab_counts.get(el, 0) for el in counts | slab_counts}
            li_n, s_n = _li_s(name)
            if {k: v for k, v in extra.items() if v} != {k: v for k, v in
                                                         (("Li", li_n), ("S", s_n)) if v}:
                raise LisflowError(f"{relax_id}: adslab − slab is not {name} ({extra})")
            g = record.energy_ev + zpe - ts - slab.energy_ev
            if best is None or g < best[0]:
                best = (g, record.energy_ev, zpe, ts)
        if best is None:
            raise LisflowError(f"{name}: no configuration")
        g_rel[name] = best[0]
        terms[name] = best[1:]
    return g_rel, mu_s8, mu_li, terms


def store_profile(store, study: str, site: str, engine: str, inputs: dict[str, Any]) -> Profile:
    """Compute and store the profile of one site (``<study>/free_energy/<site>``); a missing
    or failed input leaves that row FAILED with the reason, and raises."""
    from lisflow.db.schema import CalculationRecord

    calc_id = f"{study}/free_energy/{site}"
    record = CalculationRecord(calc_id=calc_id, study=study, engine=engine, task="free_energy",
                               role="profile", labels={"site": site})  # fmt: skip
    store.upsert_calculation(record)
    try:
        g_rel, mu_s8, mu_li, terms = gather(store, inputs)
    except LisflowError as exc:
        store.set_state(calc_id, "FAILED", f"free-energy profile refused: {exc}")
        raise
    profile = free_energy_profile(g_rel, mu_s8, mu_li)
    with store.transaction():
        states = list(range(len(profile.g_states)))
        steps = list(range(1, len(profile.dg_steps) + 1))
        store.store_series(calc_id, "free_energy", "G_state", states, profile.g_states, "state", "eV")
        store.store_series(calc_id, "free_energy", "dG_step", steps, profile.dg_steps, "step", "eV")
        store.store_series(calc_id, "free_energy", "dG_step_per_2e", steps, profile.dg_per_2e,
                           "step", "eV")  # fmt: skip
        store.store_series(calc_id, "free_energy", "Li_per_step", steps, profile.li_per_step,
                           "step", "Li per S8")  # fmt: skip
        store.store_scalar(calc_id, "dG_overall", profile.dg_overall, "eV")
        store.store_scalar(calc_id, "rate_limiting_step", float(profile.rate_limiting), "step")
        store.store_scalar(calc_id, "dG_rate_limiting_per_2e",
                           profile.dg_per_2e[profile.rate_limiting - 1], "eV")  # fmt: skip
        store.store_scalar(calc_id, "temperature", float(inputs["temperature_k"]), "K")
        store.store_scalar(calc_id, "mu_Li", mu_li, "eV")
        store.store_scalar(calc_id, "mu_S8", mu_s8, "eV")
        for name, (energy, zpe, ts) in terms.items():
            store.store_scalar(calc_id, f"E {name}", energy, "eV")
            store.store_scalar(calc_id, f"ZPE {name}", zpe, "eV")
            store.store_scalar(calc_id, f"TS {name}", ts, "eV")
        store.set_state(calc_id, "COMPLETED", None)
    return profile


@explicit_serialize
class FreeEnergyProfileTask(FiretaskBase):
    """ΔG profile of sulfur reduction on one site from the stored results (module docstring)."""

    required_params = ["study", "site", "engine", "inputs"]
    optional_params = ["db_url"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        from lisflow.workflows.firetasks import required_store

        store = required_store(self.get("db_url"), "FreeEnergyProfileTask")
        profile = store_profile(store, self["study"], self["site"], self["engine"], self["inputs"])
        return FWAction(stored_data={"site": self["site"], "dG_overall_ev": profile.dg_overall,
                                     "rate_limiting_step": profile.rate_limiting})  # fmt: skip


def profile_fireworks(spec: Any, calcs: list, ctx: Any) -> list:
    """One FreeEnergyProfileTask Firework per site, after all the calculations it reads
    (``ctx``: :class:`lisflow.workflows.derived.DerivedContext`)."""
    from lisflow.workflows.plan_mechanism import profile_inputs

    new = []
    for site, inputs in profile_inputs(spec, calcs).items():
        name = f"{spec.study}/free_energy/{site}"
        record = ctx.store.get(name)
        if name in ctx.active_names or (record is not None and record.state == "COMPLETED"):
            continue
        task = FreeEnergyProfileTask(study=spec.study, site=site, engine=spec.engine,
                                     inputs=inputs, db_url=ctx.db_url)  # fmt: skip
        parents = [inputs["slab"], inputs["li"], *inputs["s8"]]
        parents += [i for pairs in inputs["intermediates"].values() for p in pairs for i in p]
        new.append(ctx.add(task, name, spec.study, tuple(parents)))
    return new


def with_neb_endpoints(calc, outputs: dict[str, Any]):
    """A VASP NEB whose endpoint relaxations ran: the initial state and ``neb.final_structure``
    become their relaxed structures (the images are interpolated from them when the inputs are
    written). Parents not done yet (dry-run): the planned endpoints stay."""
    from pymatgen.core import Structure

    from lisflow.workflows.firetasks import merge_parent_structure, spec_key

    relaxed = []
    for parent in calc.parents:
        final = outputs.get(spec_key(parent), {}).get("structure")
        relaxed.append(None if final is None else
                       final if isinstance(final, Structure) else Structure.from_dict(final))  # fmt: skip
    if len(relaxed) != 2 or None in relaxed:
        return calc
    neb = getattr(calc.inputs, "neb", None)
    if neb is None:
        raise LisflowError(f"{calc.calc_id}: a NEB calculation without NebInputs")
    planned_final = neb.final()
    calc.structure = merge_parent_structure(calc.structure, relaxed[0], calc.parents[0])
    final = merge_parent_structure(planned_final, relaxed[1], calc.parents[1])
    calc.inputs = dataclasses.replace(
        calc.inputs, neb=dataclasses.replace(neb, final_structure=final.as_dict())
    )
    return calc
