"""Final structures of calculations (pymatgen ``Structure.as_dict()`` JSON) in the results
database, and the adsorbate-dissociation note derived from them for adsorption energies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lisflow.db import schema as s
from lisflow.errors import InputError

if TYPE_CHECKING:
    from lisflow.db.store_core import StoreCore

#: Where a stored final structure came from (``final_structures.source``).
STRUCTURE_SOURCES = ("engine", "input")


def store_final_structure(
    store: StoreCore, calc_id: str, structure: Mapping[str, Any], source: str
) -> None:
    """Insert or replace the final structure (``Structure.as_dict()``) of ``calc_id``."""
    source = s.choice(source, STRUCTURE_SOURCES, "source")
    if not {"lattice", "sites"} <= set(structure):
        raise InputError("structure", "not a pymatgen Structure dict (needs lattice and sites)")
    with store.transaction() as session:
        values = {
            "calculation_id": store._pk(session, calc_id),
            "source": source,
            "structure": dict(structure),
        }
        store._upsert(session, s.FinalStructureRow, values, ["calculation_id"])


def dissociation_note(session: Session, rows: list[s.CalculationRow]) -> str | None:
    """Note on a COMPLETED E_ads whose adsorbate broke apart in the relaxed adslab (None when
    it did not, or when a final structure is not stored): ``structures.integrity``."""
    from pymatgen.core import Structure

    from lisflow.structures import integrity

    ids = [r.id for r in rows]
    query = select(s.FinalStructureRow.calculation_id, s.FinalStructureRow.structure).where(
        s.FinalStructureRow.calculation_id.in_(ids)
    )
    found: dict[int, dict[str, Any]] = dict(session.execute(query).tuples().all())
    if len(found) < len(ids):
        return None
    adslab, slab, molecule = (Structure.from_dict(found[i]) for i in ids)
    return integrity.dissociation_note(adslab, slab, molecule)


def final_structure_dicts(
    store: StoreCore, calc_ids: Iterable[str] | None = None
) -> dict[str, tuple[dict[str, Any], str]]:
    """calc_id -> (pymatgen Structure dict, source) of the stored final structures."""
    query = select(
        s.CalculationRow.calc_id, s.FinalStructureRow.structure, s.FinalStructureRow.source
    ).join(s.CalculationRow, s.FinalStructureRow.calculation_id == s.CalculationRow.id)
    if calc_ids is not None:
        query = query.where(s.CalculationRow.calc_id.in_(list(calc_ids)))
    with store.transaction(write=False) as session:
        return {cid: (data, source) for cid, data, source in session.execute(query)}
