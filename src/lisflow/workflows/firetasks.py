"""FireWorks Firetasks: write inputs -> run the engine -> parse -> store.

Each calculation's parsed results are first written next to its outputs
(``lisflow_result.json``, atomically) and then stored in the results database in one
transaction, so a run on a node that cannot reach the database (offline mode) is stored
later by ``lisflow recover`` from that file, and storing twice never duplicates.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fireworks import FiretaskBase, FWAction, explicit_serialize

from lisflow.calculation import Calculation, calc_to_dict
from lisflow.db.validate import NonFiniteValueError
from lisflow.engines.base import ParsedResult
from lisflow.engines.registry import calc_from_dict
from lisflow.errors import EngineError, InputError, LisflowError, ParseError
from lisflow.fsutil import atomic_write_text, hash_directory
from lisflow.io.lobster import LobsterInputs

if TYPE_CHECKING:
    from lisflow.db.store import ResultStore

RESULT_FILE = "lisflow_result.json"
STRUCTURE_FILE = "final_structure.json"


def spec_key(calc_id: str) -> str:
    """A calc id as a MongoDB-safe key (no dots, no '->')."""
    return calc_id.replace(".", "_").replace("/", "|")


def deferrable_store(db_url: str | None) -> ResultStore | None:
    """The results database, or None when storing is deferred (``LISFLOW_DEFER_STORE=1``:
    compute nodes without database access; ``lisflow recover`` stores the result files)."""
    if os.environ.get("LISFLOW_DEFER_STORE") == "1":
        return None
    from lisflow.db.store import open_store

    return open_store(db_url, create=True)  # None: $LISFLOW_DB_URL, else the default


def required_store(db_url: str | None, task: str) -> ResultStore:
    """The results database for a task that reads stored results (derived quantities);
    LisflowError when storing is deferred (those tasks run where the database is)."""
    store = deferrable_store(db_url)
    if store is None:
        raise LisflowError(f"{task} reads the results database; LISFLOW_DEFER_STORE=1 defers it")
    return store


#: Atoms a child calculation may add to its parent's final structure (AIMD stage 2 adds the
#: electrode Li under the sheet, paper 000 Methods DFT); they keep the child's own positions.
ADDED_LABELS = ("electrode_Li",)


def with_parent_structure(calc: Calculation, fw_spec: dict[str, Any]) -> Calculation:
    """A static (or AIMD stage) starts from its parent's final structure, keeping site labels.

    Same atom count: the parent's positions (and MD velocities) with the child's site
    properties. When the child has extra atoms labelled :data:`ADDED_LABELS` (the six
    electrode Li of AIMD stage 2), the parent's atoms are matched in order to the child's
    other atoms (same elements required) and the added atoms keep the child's positions
    with zero velocity, so ``FIXED_ATOMS`` indices of the child stay valid. Anything else
    raises InputError rather than silently dropping atoms.
    """
    outputs = fw_spec.get("lisflow_parents", {})
    if calc.task == "neb":  # two parents: the relaxed endpoints (firetasks_mechanism)
        from lisflow.workflows.firetasks_mechanism import with_neb_endpoints

        return with_neb_endpoints(calc, outputs)
    for parent in calc.parents:
        final = outputs.get(spec_key(parent), {}).get("structure")
        if final is None:
            continue
        from pymatgen.core import Structure

        # FireWorks deserialises MSONable dicts in specs; accept both forms.
        structure = final.copy() if isinstance(final, Structure) else Structure.from_dict(final)
        if calc.structure is not None:
            structure = merge_parent_structure(calc.structure, structure, parent)
        calc.structure = structure
    return calc


def merge_parent_structure(child, parent_final, parent_id: str = "parent"):
    """The child's structure with the parent's final positions/velocities (see above)."""
    from pymatgen.core import Structure

    from lisflow.io.cp2k import VELOCITY_PROPERTY

    labels = child.site_properties.get("label", [None] * len(child))
    carried = [i for i, lab in enumerate(labels) if lab not in ADDED_LABELS]
    if len(parent_final) == len(child):
        carried = list(range(len(child)))
    if len(carried) != len(parent_final):
        raise InputError(
            "parents",
            f"{parent_id} ended with {len(parent_final)} atoms; the child has {len(child)} "
            f"of which {len(child) - len(carried)} are added ({', '.join(ADDED_LABELS)})",
        )
    for i, site in zip(carried, parent_final, strict=True):
        if site.specie.symbol != child[i].specie.symbol:
            raise InputError(
                "parents", f"{parent_id} atom order differs from the child at site {i}"
            )
    coords = child.cart_coords.copy()
    coords[carried] = parent_final.cart_coords
    props = {k: list(v) for k, v in child.site_properties.items()}
    if len(parent_final) == len(child):  # keep what the parent's run added (e.g. magmom)
        for key, values in parent_final.site_properties.items():
            props.setdefault(key, list(values))
    velocities = parent_final.site_properties.get(VELOCITY_PROPERTY)
    if velocities is not None:
        full = [[0.0, 0.0, 0.0] for _ in range(len(child))]
        for i, v in zip(carried, velocities, strict=True):
            full[i] = list(v)
        props[VELOCITY_PROPERTY] = full
    merged = Structure(
        parent_final.lattice, [s.specie for s in child], coords, coords_are_cartesian=True,
        site_properties=props, charge=getattr(child, "charge", 0) or 0,
    )
    merged.properties = dict(getattr(child, "properties", {}) or {})
    return merged


def with_parent_run_dir(calc: Calculation, fw_spec: dict[str, Any]) -> Calculation:
    """A LOBSTER step runs on its parent static's outputs: ``inputs.parent_run_dir``."""
    if not isinstance(calc.inputs, LobsterInputs):
        return calc
    outputs = fw_spec.get("lisflow_parents", {})
    for parent in calc.parents:
        run_dir = outputs.get(spec_key(parent), {}).get("run_dir")
        if run_dir:
            calc.inputs = replace(calc.inputs, parent_run_dir=run_dir)
    return calc


def provenance() -> dict[str, str]:
    import pymatgen.core

    import lisflow

    return {"lisflow_version": lisflow.__version__, "pymatgen_version": pymatgen.core.__version__}


def store_parsed(
    store,
    calc: Calculation,
    parsed: ParsedResult,
    run_dir: Path,
    input_hash: str,
    fw_id: int | None,
) -> None:
    """Upsert the calculation row, then its results, series and scalars (idempotent)."""
    with store.transaction():  # one transaction: the row and all its results, or nothing
        _store_parsed(store, calc, parsed, run_dir, input_hash, fw_id)


def _store_parsed(store, calc, parsed, run_dir, input_hash, fw_id) -> None:
    from lisflow.db.schema import CalculationRecord

    record = CalculationRecord.from_calculation(
        calc,
        input_hash,
        fw_id=fw_id,
        run_dir=str(run_dir),
        engine_version=parsed.engine_version,
        **provenance(),
    )
    record.formula = calc.formula or parsed.formula or ""  # the full cell, not reduced
    record.n_atoms = parsed.n_atoms or calc.n_atoms
    store.upsert_calculation(record)
    store.store_results(
        calc.calc_id,
        energy_ev=parsed.energy_ev,
        charges=parsed.charges,
        bands=parsed.bands,
        icohps=parsed.icohps,
        files=parsed.files,
    )
    _store_final_structure(store, calc, run_dir)
    if parsed.magmoms:
        store.store_magmoms(calc.calc_id, parsed.magmoms)
    for (analysis, quantity), (x, y, x_unit, y_unit) in parsed.series.items():
        store.store_series(calc.calc_id, analysis, quantity, x, y, x_unit, y_unit)
    for name, (value, unit) in parsed.scalars.items():
        store.store_scalar(calc.calc_id, name, value, unit)


def _store_final_structure(store, calc: Calculation, run_dir: Path) -> None:
    """The engine's final structure (``final_structure.json``); for a single point (static,
    energy) without one, its input structure; a relaxation without one stores nothing."""
    from pymatgen.core import Structure

    from lisflow.db.store import store_final_structure

    final = run_dir / STRUCTURE_FILE
    if final.exists():
        store_final_structure(store, calc.calc_id, json.loads(final.read_text()), "engine")
    elif calc.task in ("static", "energy") and isinstance(calc.structure, Structure):
        store_final_structure(store, calc.calc_id, calc.structure.as_dict(), "input")


def _result_json(
    calc: Calculation, parsed: ParsedResult, input_hash: str, fw_id: int | None
) -> str:
    payload: dict[str, Any] = {
        "calc": {k: v for k, v in calc_to_dict(calc).items() if k != "structure"},
        "input_hash": input_hash,
        "fw_id": fw_id,
        "parsed": asdict(parsed),
    }
    payload["parsed"]["series"] = [
        [list(k), [list(map(float, v[0])), list(map(float, v[1])), v[2], v[3]]]
        for k, v in parsed.series.items()
    ]
    return json.dumps(payload, default=str)


def ingest_result_file(store, run_dir: Path, calc: Calculation) -> bool:
    """Store a run's ``lisflow_result.json`` (written on a node without DB access)."""
    file = run_dir / RESULT_FILE
    if not file.exists():
        return False
    data = json.loads(file.read_text())
    parsed = dict(data["parsed"])
    parsed["series"] = {tuple(k): tuple(v) for k, v in parsed["series"]}
    store_parsed(store, calc, ParsedResult(**parsed), run_dir, data["input_hash"], data["fw_id"])
    return True


@explicit_serialize
class RunCalculationTask(FiretaskBase):
    """Write inputs, run the engine (unless the same inputs already completed), parse, store.

    Spec fields: ``calc`` (a Calculation as dict), optional ``db_url`` (no secrets: a URL with
    a password is taken from ``$LISFLOW_DB_URL`` at run time), ``engine_options``.
    """

    required_params = ["calc"]
    optional_params = ["db_url", "engine_options", "walltime_s"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        from lisflow.engines.registry import get_engine

        calc = with_parent_structure(calc_from_dict(self["calc"]), fw_spec)  # old form too
        calc = with_parent_run_dir(calc, fw_spec)
        engine = get_engine(
            self.get("engine_options", {}).get("engine", calc.engine),
            **{k: v for k, v in self.get("engine_options", {}).items() if k != "engine"},
        )
        run_dir = Path.cwd()
        files = engine.write_inputs(calc, run_dir)
        input_hash = hash_directory(run_dir, files)
        fw_id = fw_spec.get("_lisflow_fw_id") or self.get("fw_id")
        store = deferrable_store(self.get("db_url"))
        previous = store.completed_by_hash(input_hash) if store is not None else None
        if (
            previous is not None
            and previous.run_dir
            and (
                previous.calc_id == calc.calc_id
                or ingest_result_file(store, Path(previous.run_dir), calc)
            )
        ):  # same inputs already computed (this calc id or another): reuse, don't run
            return self._action(calc, Path(previous.run_dir), skipped=True)
        walltime = self.get("walltime_s") or _walltime_from_env()
        try:
            engine.run(calc, run_dir, walltime_s=walltime)
        except EngineError as exc:
            _mark(store, calc, "FAILED", str(exc))
            raise
        parse_and_store(engine, calc, run_dir, store, input_hash, fw_id)
        return self._action(calc, run_dir)

    def _action(self, calc: Calculation, run_dir: Path, skipped: bool = False) -> FWAction:
        final = run_dir / STRUCTURE_FILE
        structure = json.loads(final.read_text()) if final.exists() else None
        output = {"run_dir": str(run_dir), "structure": structure}
        return FWAction(
            stored_data={"calc_id": calc.calc_id, "skipped": skipped, "run_dir": str(run_dir)},
            mod_spec=[{"_set": {f"lisflow_parents->{spec_key(calc.calc_id)}": output}}],
        )


def parse_and_store(
    engine, calc: Calculation, run_dir: Path, store, input_hash: str, fw_id: int | None
) -> ParsedResult:
    """Parse the finished run, write its final structure and result file, store it.

    Any failure of these steps (a ParseError naming the file, a non-finite value refused by
    the store, or an unexpected exception inside a parser) leaves a PARSE_ERROR row whose
    reason names the file, and is raised as a lisflow error, so the Firework fizzles with
    that one-line reason and nothing downstream (E_ads) runs on it. Nothing is stored as
    COMPLETED unless all of it succeeded.
    """
    try:
        parsed = engine.parse(calc, run_dir)
        check_parsed(parsed, run_dir)
        _write_final_structure(engine, calc, run_dir)
        text = _result_json(calc, parsed, input_hash, fw_id)
    except LisflowError as exc:
        _mark(store, calc, "PARSE_ERROR", str(exc))
        raise
    except Exception as exc:  # a parser bug must still leave a row naming the run's outputs
        error = ParseError(run_dir, f"{engine.name} outputs: {type(exc).__name__}: {exc}")
        _mark(store, calc, "PARSE_ERROR", str(error))
        raise error from exc
    atomic_write_text(run_dir / RESULT_FILE, text)
    if store is not None:
        try:
            store_parsed(store, calc, parsed, run_dir, input_hash, fw_id)
        except NonFiniteValueError as exc:
            _mark(store, calc, "PARSE_ERROR", f"{run_dir}: {exc}")
            raise
    return parsed


def check_parsed(parsed: ParsedResult, run_dir: Path) -> None:
    """ParseError naming the run directory if a parsed number is NaN or infinite (the
    parsers refuse those naming the file; this catches any they let through)."""
    from lisflow.parsers import require_finite

    require_finite(run_dir, parsed.energy_ev, "energy_ev")
    for what, rows in (("charges", parsed.charges), ("bands", parsed.bands),
                       ("icohps", parsed.icohps)):  # fmt: skip
        for i, row in enumerate(rows):
            values = row if isinstance(row, dict) else asdict(row)
            numbers = [v for v in values.values() if isinstance(v, int | float)]
            require_finite(run_dir, [v for v in numbers if not isinstance(v, bool)], f"{what}[{i}]")
    for (analysis, quantity), (x, y, _, _) in parsed.series.items():
        require_finite(run_dir, list(map(float, x)), f"{analysis}/{quantity} x")
        require_finite(run_dir, list(map(float, y)), f"{analysis}/{quantity} y")
    for name, (value, _) in parsed.scalars.items():
        require_finite(run_dir, value, name)


def _write_final_structure(engine, calc: Calculation, run_dir: Path) -> None:
    final = getattr(engine, "final_structure", None)
    structure = final(calc, run_dir) if final else None
    if structure is not None:
        atomic_write_text(run_dir / STRUCTURE_FILE, json.dumps(structure.as_dict()))


def _mark(store, calc: Calculation, state: str, reason: str) -> None:
    from lisflow.db.schema import CalculationRecord

    if store is None:
        return
    store.upsert_calculation(CalculationRecord.from_calculation(calc))
    store.set_state(calc.calc_id, state, reason)


def _walltime_from_env() -> float | None:
    """Seconds left in the Slurm job (``LISFLOW_WALLTIME_S`` set by the job script)."""
    value = os.environ.get("LISFLOW_WALLTIME_S")
    return float(value) if value else None


@explicit_serialize
class AdsorptionEnergyTask(FiretaskBase):
    """E_ads = E_adslab − E_slab − E_molecule (paper 000 eq. 6) from the stored energies."""

    required_params = ["adslab", "slab", "molecule"]
    optional_params = ["db_url"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        # upsert_adsorption refuses a parent that is not COMPLETED (failed, unconverged)
        energy = required_store(self.get("db_url"), "AdsorptionEnergyTask").upsert_adsorption(
            self["adslab"], self["slab"], self["molecule"]
        )
        return FWAction(stored_data={"adslab": self["adslab"], "energy_ev": energy})


@explicit_serialize
class PolymorphEnergyTask(FiretaskBase):
    """E_f = E_crystal / n (paper 000 eq. 5) from the stored energy of the relaxation."""

    required_params = ["calc_id", "polymorph"]
    optional_params = ["db_url"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        from lisflow.db.store import MissingResultError

        store = required_store(self.get("db_url"), "PolymorphEnergyTask")
        record = store.get(self["calc_id"])
        if record is None or record.state != "COMPLETED" or record.energy_ev is None:
            state = "missing" if record is None else record.state
            raise MissingResultError(f"no COMPLETED total energy for {self['calc_id']} ({state})")
        per_atom = record.energy_ev / record.n_atoms
        store.upsert_polymorph(self["calc_id"], self["polymorph"], per_atom)
        spots = store_relaxed_diffraction(store, record, self["polymorph"])
        return FWAction(
            stored_data={
                "polymorph": self["polymorph"],
                "energy_per_atom_ev": per_atom,
                "diffraction_spots": spots,
            }
        )


def store_relaxed_diffraction(store, record, polymorph: str) -> int:
    """Electron diffraction of the relaxed crystal (paper 000 Fig. 2d,e for tetragonal Li2S2):
    PNGs + CSV in ``<run_dir>/diffraction`` and the spots as the series ``electron_diffraction``
    / ``[uvw] spots`` (x: d spacing Å, y: normalised intensity). 0 when no relaxed structure."""
    final = Path(record.run_dir or "") / STRUCTURE_FILE
    if not record.run_dir or not final.exists():
        return 0
    from pymatgen.core import Structure

    from lisflow.structures.diffraction import relaxed_patterns

    structure = Structure.from_dict(json.loads(final.read_text()))
    out = Path(record.run_dir) / "diffraction"
    patterns = relaxed_patterns(structure, polymorph, out)
    count = 0
    for pattern in patterns:
        zone = "".join(map(str, pattern.zone))
        d = [s.d_spacing for s in pattern.spots]
        intensity = [s.intensity for s in pattern.spots]
        store.store_series(record.calc_id, "electron_diffraction", f"[{zone}] spots", d,
                           intensity, "A", "normalised")  # fmt: skip
        count += len(d)
    store.store_results(record.calc_id, files={"diffraction": str(out)})
    return count
