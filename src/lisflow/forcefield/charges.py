"""Atomic charges of the fixed electrode atoms from Bader analysis (paper 000 Methods MD:
"electrode atom charges from Bader analysis of the DFT cell"; Mo centre +7.37 e, Fig. 4e).

A charge source gives per-site charges (e) of a reference DFT electrode cell:

* ``builtin:<name>`` or a ``.json`` file in the format of ``inputs/electrode_charges/``
  (cell, per-site element, xyz and charge, with method and provenance); the shipped default
  :data:`DEFAULT_MO_NGRAPHENE` comes from a CP2K + baderkit run made here
  (``inputs/electrode_charges/make_mo4ng_charges.py``);
* a Henkelman ``ACF.dat`` (POSCAR/CONTCAR and OUTCAR with ZVAL next to it);
* a CSV ``site_index,charge`` of the lisflow ``mo_ngraphene(4)`` cell;
* a mapping ``{site_index: charge}`` or a callable returning one, of that same cell;
* a charge set as data (``sites`` with element, xyz, charge; ``lattice``): the charges and
  final structure of a results-database calculation, read by the planner
  (:mod:`lisflow.workflows.md_db_charges`; this layer never imports the database).

:func:`map_by_motif` puts them on an MD electrode: atoms with the same element and the same
first neighbour shell (element counts within 1.15 × the sum of covalent radii) get the mean
charge of the reference sites with that motif; an atom whose motif does not occur in the
reference gets the mean of its element (counted and reported). Neutrality is made by the box
builder (:mod:`lisflow.structures.md_boxes`): the residual of the whole system is spread
evenly over the electrode C atoms (Ti slabs: over the Ti atoms).
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np
from pymatgen.core import Element, Lattice, Structure

from lisflow import INPUTS_DIR
from lisflow.errors import InputError

#: Site index -> charge (mapping, callable or CSV path), a charge set as data (mapping with
#: ``sites``) or a JSON / ``builtin:`` / ACF.dat path.
ChargeSource = (
    Mapping[int, float] | Mapping[str, Any] | Callable[[], Mapping[int, float]] | str | Path | None
)
CHARGES_DIR = INPUTS_DIR / "electrode_charges"
#: Shipped Bader charges of the Mo4/N-G DFT cell (CP2K + baderkit, made here).
DEFAULT_MO_NGRAPHENE = "builtin:mo4ng_bader_cp2k"
BOND_SCALE = 1.15  # neighbour if d < 1.15 (r_cov,i + r_cov,j): C-C 1.42 in, C-C 2.46 out


@dataclass(frozen=True)
class ChargeTable:
    """Charges (e) of the sites of a reference cell and where they came from."""

    structure: Structure
    charges: tuple[float, ...]
    source: str
    method: str
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.charges) != len(self.structure):
            raise InputError(
                "charges", f"{len(self.charges)} charges for {len(self.structure)} sites"
            )

    def element_total(self, element: str) -> float:
        return float(sum(q for s, q in zip(self.structure, self.charges, strict=True)
                         if s.specie.symbol == element))


@dataclass(frozen=True)
class MappedCharges:
    """Charges (e) of the target sites, their motif keys, and the mapping record."""

    charges: np.ndarray
    motifs: list[str]
    table: dict[str, dict]  # motif -> {charge, n_reference, reference_sites}
    unmatched: dict[str, int]  # motif -> count of target atoms given the element mean


def read_charge_csv(path: str | Path) -> dict[int, float]:
    """``site_index,charge`` rows (e) → dict; InputError naming the file on bad content."""
    path = Path(path)
    if not path.is_file():
        raise InputError("charges", f"file {path} does not exist")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"site_index", "charge"} <= set(reader.fieldnames):
            raise InputError("charges", f"{path} needs the columns site_index,charge")
        try:
            return {int(row["site_index"]): float(row["charge"]) for row in reader}
        except ValueError as exc:
            raise InputError("charges", f"{path}: {exc}") from None


def electrode_charges(n_sites: int, source: ChargeSource = None) -> list[float]:
    """Charges (e) of ``n_sites`` sites from a mapping / callable / CSV (absent sites 0 e)."""
    if source is None:
        return [0.0] * n_sites
    mapping: Mapping[Any, float]
    if isinstance(source, str | Path):
        mapping = read_charge_csv(source)
    elif callable(source):
        mapping = dict(source())
    else:
        mapping = dict(source)
    bad = [i for i in mapping if not 0 <= int(i) < n_sites]
    if bad:
        raise InputError("charges.site_index", f"indices {bad[:5]} outside 0..{n_sites - 1}")
    return [float(mapping.get(i, 0.0)) for i in range(n_sites)]


def resolve_path(source: str | Path) -> Path:
    """``builtin:<name>`` → ``inputs/electrode_charges/<name>.json``; else the path itself."""
    text = str(source)
    if text.startswith("builtin:"):
        path = CHARGES_DIR / f"{text.split(':', 1)[1]}.json"
        if not path.is_file():
            known = sorted(p.stem for p in CHARGES_DIR.glob("*.json"))
            raise InputError("charges", f"no built-in charge set {text!r}", ", ".join(known))
        return path
    path = Path(text)
    if not path.is_file():
        raise InputError("charges", f"file {path} does not exist")
    return path


def read_charge_json(path: Path) -> ChargeTable:
    """A charge file of ``inputs/electrode_charges/`` (see make_mo4ng_charges.py)."""
    try:
        data = json.loads(Path(path).read_text())
    except ValueError as exc:
        raise InputError("charges", f"{path}: not a lisflow charge file ({exc})") from None
    if not isinstance(data, dict):
        raise InputError("charges", f"{path}: not a lisflow charge file (not a mapping)")
    return charge_table_from_data(data, str(path))


def charge_table_from_data(data: Mapping, source: str) -> ChargeTable:
    """A charge set given as data (``lattice`` 3×3 Å or orthorhombic ``cell``, ``sites`` with
    element, xyz (Å) and charge (e), ``method``, provenance), e.g. read from the results
    database by the planner (:mod:`lisflow.workflows.md_db_charges`)."""
    try:
        sites = data["sites"]
        if "lattice" in data:
            lattice = Lattice(data["lattice"])
        else:
            lattice = Lattice.orthorhombic(*data["cell"])
        structure = Structure(
            lattice, [s["element"] for s in sites], [s["xyz"] for s in sites],
            coords_are_cartesian=True,
        )
        charges = tuple(float(s["charge"]) for s in sites)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError("charges", f"{source}: not a charge set ({exc})") from None
    meta = {k: v for k, v in data.items() if k not in ("sites", "lattice")}
    return ChargeTable(structure, charges, str(data.get("source", source)),
                       str(data.get("method", "")), meta)


def _read_acf(path: Path) -> ChargeTable:
    from lisflow.parsers.bader import read_acf, zval_from_outcar

    zval = zval_from_outcar(path.parent)
    if zval is None:
        raise InputError("charges", f"{path}: no OUTCAR with ZVAL next to it (net charges)")
    result = read_acf(path, zval=zval)
    poscar = next(
        (path.parent / n for n in ("CONTCAR", "POSCAR") if (path.parent / n).is_file()), None
    )
    if poscar is None:
        raise InputError("charges", f"{path}: no POSCAR/CONTCAR next to it (site positions)")
    structure = Structure.from_file(str(poscar))
    net = result.net_charges
    if any(q is None for q in net):
        raise InputError("charges", f"{path}: an atom has no net charge (ZVAL missing)")
    return ChargeTable(structure, tuple(float(q) for q in net if q is not None), str(path),
                       result.method)


def _is_charge_data(source: ChargeSource) -> TypeGuard[Mapping[str, Any]]:
    """A charge set given as data (a mapping with ``sites``), not a site-index mapping."""
    return isinstance(source, Mapping) and "sites" in source


def load_charge_table(source: ChargeSource, reference: Structure | None = None) -> ChargeTable:
    """The :class:`ChargeTable` of ``source``; CSV / mapping / callable sources index the
    sites of ``reference`` (the builder's DFT cell)."""
    if source is None:
        raise InputError("charges", "no charge source given")
    if _is_charge_data(source):
        return charge_table_from_data(source, str(source.get("source", "charge set")))
    if isinstance(source, str | Path):
        text = str(source)
        if text.startswith("builtin:") or text.endswith(".json"):
            return read_charge_json(resolve_path(text))
        if Path(text).name.startswith("ACF"):
            return _read_acf(resolve_path(text))
        if reference is None:
            raise InputError("charges", f"{text}: a CSV source needs the reference cell")
        charges = electrode_charges(len(reference), text)
        return ChargeTable(reference, tuple(charges), text, "CSV site_index,charge")
    if reference is None:
        raise InputError("charges", "a mapping source needs the reference cell")
    charges = electrode_charges(len(reference), source)
    return ChargeTable(reference, tuple(charges), "mapping given in Python", "mapping")


def _radius(symbol: str) -> float:
    from pymatgen.analysis.molecule_structure_comparator import CovalentRadius

    r = CovalentRadius.radius.get(symbol)
    return float(r) if r is not None else float(Element(symbol).atomic_radius or 1.5)


def motif_keys(structure: Structure) -> list[str]:
    """``El:n1El1,n2El2`` per site: element and the element counts of its first shell."""
    symbols = [s.specie.symbol for s in structure]
    elements = sorted(set(symbols))
    radius = np.array([_radius(e) for e in elements])
    code = np.array([elements.index(e) for e in symbols], dtype=np.intp)
    rmax = 2 * BOND_SCALE * float(radius.max())
    centres, points, _, dists = structure.get_neighbor_list(rmax)
    # neighbour pairs, all at once (the same float arithmetic as per pair)
    r_sum = radius[code[centres]] + radius[code[points]]
    bonded = ((centres != points) | (dists > 1e-6)) & (dists < BOND_SCALE * r_sum)
    counts = np.zeros((len(symbols), len(elements)), dtype=np.int64)
    np.add.at(counts, (centres[bonded], code[points[bonded]]), 1)
    shell_text: dict[bytes, str] = {}  # one string per distinct shell
    keys = []
    for el, row in zip(symbols, counts, strict=True):
        raw = row.tobytes()
        if raw not in shell_text:
            shell_text[raw] = ",".join(
                f"{n}{e}" for e, n in zip(elements, row.tolist(), strict=True) if n
            )
        keys.append(f"{el}:{shell_text[raw]}")
    return keys


def map_by_motif(table: ChargeTable, target: Structure) -> MappedCharges:
    """Mean reference charge of each (element, first shell) motif onto ``target``'s sites."""
    ref_keys = motif_keys(table.structure)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(ref_keys):
        groups[key].append(i)
    by_element: dict[str, list[float]] = defaultdict(list)
    for site, charge in zip(table.structure, table.charges, strict=True):
        by_element[site.specie.symbol].append(charge)
    record: dict[str, dict[str, Any]] = {
        key: {
            "charge": float(np.mean([table.charges[i] for i in idx])),
            "n_reference": len(idx),
            "reference_sites": idx,
        }
        for key, idx in sorted(groups.items())
    }
    keys = motif_keys(target)
    q = np.zeros(len(target))
    unmatched: Counter = Counter()
    for i, key in enumerate(keys):
        if key in record:
            q[i] = record[key]["charge"]
            continue
        element = key.split(":")[0]
        if element not in by_element:
            raise InputError("charges", f"{table.source} has no {element} site to map from")
        q[i] = float(np.mean(by_element[element]))
        unmatched[key] += 1
    used = set(keys)
    table_used = {k: v for k, v in record.items() if k in used}
    return MappedCharges(q, keys, table_used, dict(unmatched))
