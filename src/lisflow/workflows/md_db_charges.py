"""Electrode charges of an MD study from a calculation in the results database.

An MD system with ``charges: db:<calc_id>`` (and optionally ``charges_db: <url>``, default the
profile's database, :func:`lisflow.db.store.default_url`) takes the population-analysis charges
stored for that calculation. The planner reads them here, once, into a charge set *as data*
(element, Cartesian xyz in Å, net charge in e per site of the calculation's stored final
structure, plus provenance) that travels in the calculation parameters; the box builder maps
it onto the MD electrode by local motif and makes the box neutral exactly as for the other
sources (:mod:`lisflow.forcefield.charges`, :mod:`lisflow.structures.md_charges`).

Which charges: the first method stored for the calculation in :data:`METHOD_PREFERENCE`
(Bader first: paper 000 takes the electrode charges from Bader analysis; then Henkelman ACF,
Hirshfeld, Mulliken, Löwdin), or the one named by ``db:<calc_id>#<method>``.
"""

from __future__ import annotations

from lisflow.errors import InputError

#: Methods tried in this order when the study names none.
METHOD_PREFERENCE = ("bader", "acf", "hirshfeld", "mulliken", "loewdin")
PREFIX = "db:"


def parse_db_source(text: str) -> tuple[str, str | None]:
    """``db:<calc_id>[#<method>]`` → (calc_id, method or None)."""
    body = text[len(PREFIX) :]
    calc_id, _, method = body.partition("#")
    if not calc_id:
        raise InputError("charges", "db: needs a calculation id (db:<calc_id>[#method])")
    if method and method not in METHOD_PREFERENCE:
        raise InputError(
            "charges", f"unknown charge method {method!r}", ", ".join(METHOD_PREFERENCE)
        )
    return calc_id, method or None


def electrode_charges_from_db(source: str, url: str | None = None) -> dict:
    """The charge set of ``source`` (``db:<calc_id>[#method]``) from the database at ``url``.

    Refused (one line) when the calculation is missing, not COMPLETED, has no charges (of the
    named method), has a site without a net charge, or has no stored final structure.
    """
    from lisflow.db import queries
    from lisflow.db.store import final_structure_dicts, mask_url, open_store, resolve_url

    calc_id, wanted = parse_db_source(source)
    shown = mask_url(resolve_url(url))
    with open_store(url) as store:
        record = store.get(calc_id)
        if record is None:
            raise InputError("charges", f"no calculation {calc_id!r} in {shown}")
        if record.state != "COMPLETED":
            raise InputError(
                "charges", f"calculation {calc_id} is {record.state}, not COMPLETED ({shown})"
            )
        frame = queries.charges(store, calc_id=calc_id)
        structures = final_structure_dicts(store, [calc_id])
    methods = [m for m in METHOD_PREFERENCE if m in set(frame["method"])] if len(frame) else []
    method = wanted if wanted in methods else (None if wanted else next(iter(methods), None))
    if method is None:
        what = f"{wanted} charges" if wanted else "charges"
        raise InputError("charges", f"calculation {calc_id} has no stored {what} ({shown})")
    rows = frame[frame["method"] == method].sort_values("site_index")
    if calc_id not in structures:
        raise InputError(
            "charges",
            f"calculation {calc_id} has no stored final structure to map charges by motif",
        )
    from pymatgen.core import Structure

    structure = Structure.from_dict(structures[calc_id][0])
    indices = [int(i) for i in rows["site_index"]]
    if indices != list(range(len(structure))):
        raise InputError(
            "charges",
            f"calculation {calc_id}: {method} charges of {len(indices)} sites, "
            f"the structure has {len(structure)}",
        )
    if rows["net_charge"].isna().any():
        raise InputError("charges", f"calculation {calc_id}: a {method} site has no net charge")
    return {
        "source": f"db:{calc_id}",
        "method": f"{method} net charges stored in the results database",
        "database": shown,
        "calculation": {
            "calc_id": calc_id,
            "study": record.study,
            "engine": record.engine,
            "engine_version": record.engine_version,
            "input_hash": record.input_hash,
            "lisflow_version": record.lisflow_version,
            "structure_source": structures[calc_id][1],
            "charge_method": method,
        },
        "lattice": [list(map(float, row)) for row in structure.lattice.matrix],
        "sites": [
            {
                "element": site.specie.symbol,
                "xyz": [float(x) for x in site.coords],
                "charge": float(q),
            }
            for site, q in zip(structure, rows["net_charge"], strict=True)
        ],
    }
