"""Plain records passed in and out of ``ResultStore`` and the allowed values of their fields:
the ``calculations`` row as a dataclass, site charges, and duck-typed result rows (objects or
dicts) -> validated column dicts of the child tables of :mod:`lisflow.db.schema`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lisflow.errors import InputError

#: Life cycle of a calculation.
STATES = ("PLANNED", "RUNNING", "COMPLETED", "FAILED", "PARSE_ERROR")
#: Population-analysis methods of ``site_charges.method``.
CHARGE_METHODS = ("bader", "acf", "mulliken", "hirshfeld", "loewdin")
#: Angular momenta of ``band_centres.orbital``.
ORBITALS = ("s", "p", "d")
#: Spin channels of ``band_centres.spin``.
SPINS = ("up", "down", "total")


@dataclass
class CalculationRecord:
    """A ``calculations`` row as a plain dataclass (``ResultStore.upsert_calculation``/``get``).

    ``site`` and ``adsorbate`` columns are taken from ``labels``. In an upsert, fields left at
    None keep the stored value (``state`` becomes ``PLANNED`` for a new row).
    """

    calc_id: str
    study: str
    engine: str
    task: str
    role: str
    formula: str = ""
    n_atoms: int = 0
    input_hash: str | None = None
    state: str | None = None
    state_reason: str | None = None
    energy_ev: float | None = None
    energy_per_atom_ev: float | None = None
    fw_id: int | None = None
    run_dir: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Any] | None = None
    lisflow_version: str | None = None
    lisflow_commit: str | None = None
    pymatgen_version: str | None = None
    engine_version: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def site(self) -> str | None:
        value = self.labels.get("site")
        return None if value is None else str(value)

    @property
    def adsorbate(self) -> str | None:
        value = self.labels.get("adsorbate")
        return None if value is None else str(value)

    @classmethod
    def from_calculation(cls, calc: Any, input_hash: str | None = None, **extra: Any):
        """Record of a ``lisflow.calculation.Calculation`` (``extra``: fw_id, run_dir, ...)."""
        return cls(
            calc_id=calc.calc_id,
            study=calc.study,
            engine=calc.engine,
            task=calc.task,
            role=calc.role,
            formula=calc.formula,
            n_atoms=calc.n_atoms,
            input_hash=input_hash,
            labels=dict(calc.labels),
            **extra,
        )


@dataclass(frozen=True)
class SiteCharge:
    """Charge of atom ``site_index`` (0-based) by ``method``: net charge and valence electrons (e)."""

    site_index: int
    element: str
    method: str
    net_charge: float
    valence_electrons: float | None = None
    label: str | None = None


# --- duck-typed result rows -> column dicts (validated) ----------------------------------
# Band centres and ICOHPs have one record type each, the parser's
# (lisflow.parsers.bands.BandCentre, lisflow.parsers.lobster.BondIcohp); Bader sites come in as
# ``BaderResult.to_records()`` rows.


def _field(obj: Any, names: str | tuple[str, ...], where: str, default: Any = ...) -> Any:
    """First present attribute (or key) of ``names``; ``InputError`` when required and absent."""
    names = (names,) if isinstance(names, str) else names
    for name in names:
        value = obj.get(name, ...) if isinstance(obj, Mapping) else getattr(obj, name, ...)
        if value is not ...:
            return value
    if default is ...:
        raise InputError(f"{where}.{names[0]}", "missing")
    return default


def choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    """``value`` as the matching member of ``allowed`` (case-insensitive) or ``InputError``."""
    by_lower = {a.lower(): a for a in allowed}
    if str(value).lower() not in by_lower:
        raise InputError(where, f"{value!r} is not valid", allowed=", ".join(allowed))
    return by_lower[str(value).lower()]


def _opt(kind: type, value: Any) -> Any:
    return None if value is None else kind(value)


def charge_row(obj: Any, i: int, method: str | None = None) -> dict[str, Any]:
    """Columns of ``site_charges`` from ``obj``; ``method`` is used when ``obj`` has none."""
    w = f"charges[{i}]"
    return {
        "site_index": int(_field(obj, ("site_index", "index"), w)),
        "element": _opt(str, _field(obj, "element", w, None)),
        "method": choice(_field(obj, "method", w, method), CHARGE_METHODS, f"{w}.method"),
        "net_charge": _opt(float, _field(obj, "net_charge", w)),
        "valence_electrons": _opt(float, _field(obj, "valence_electrons", w, None)),
        "label": _opt(str, _field(obj, "label", w, None)),
    }


def band_row(obj: Any, i: int) -> dict[str, Any]:
    """Columns of ``band_centres`` from ``obj`` (spin defaults to ``total``)."""
    w = f"bands[{i}]"
    return {
        "site_index": int(_field(obj, ("site_index", "index"), w)),
        "element": _opt(str, _field(obj, "element", w, None)),
        "orbital": choice(_field(obj, "orbital", w), ORBITALS, f"{w}.orbital"),
        "spin": choice(_field(obj, "spin", w, "total"), SPINS, f"{w}.spin"),
        "centre_ev": float(_field(obj, "centre_ev", w)),
        "label": _opt(str, _field(obj, "label", w, None)),
    }


def icohp_row(obj: Any, i: int) -> dict[str, Any]:
    """Columns of ``bond_icohps`` from ``obj``."""
    w = f"icohps[{i}]"
    return {
        "label": str(_field(obj, "label", w)),
        "atom1": str(_field(obj, "atom1", w)),
        "atom2": str(_field(obj, "atom2", w)),
        "icohp_ev": float(_field(obj, "icohp_ev", w)),
        "length_a": _opt(float, _field(obj, "length_a", w, None)),
        **_translation(_field(obj, "translation", w, None), w),
    }


def _translation(value: Any, where: str) -> dict[str, int | None]:
    """``translation`` (three integers or None) as the three ``translation_*`` columns."""
    if value is None:
        return {"translation_a": None, "translation_b": None, "translation_c": None}
    if len(value) != 3:
        raise InputError(f"{where}.translation", f"{value!r} is not three integers")
    a, b, c = (int(v) for v in value)
    return {"translation_a": a, "translation_b": b, "translation_c": c}


def magmom_row(obj: Any, i: int) -> dict[str, Any]:
    """Columns of ``site_magmoms`` from ``obj`` (moment in μB)."""
    w = f"magmoms[{i}]"
    return {
        "site_index": int(_field(obj, ("site_index", "index"), w)),
        "element": _opt(str, _field(obj, "element", w, None)),
        "label": _opt(str, _field(obj, "label", w, None)),
        "moment_mub": float(_field(obj, "moment_mub", w)),
    }
