"""Bader charges: run baderkit on a VASP CHGCAR, or read a Henkelman ``ACF.dat``.

Units: electrons (e) for populations and charges, Å³ for volumes, Å for distances.
``net_charge = ZVAL - valence_electrons`` (positive = electron loss), ZVAL taken from the
OUTCAR (``ZVAL`` lines of the POTCARs used) when available, else ``None``.
"""

from __future__ import annotations

import gzip
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from lisflow.errors import ParseError
from lisflow.parsers import find_output, read_text, require_finite, to_float

_ACF_ROW = re.compile(r"^\s*(\d+)\s+" + r"\s+".join([r"(-?[\d.Ee+-]+)"] * 6) + r"\s*$")
_ACF_FOOT = re.compile(r"^\s*(VACUUM CHARGE|VACUUM VOLUME|NUMBER OF ELECTRONS):\s*(\S+)")


@dataclass(frozen=True)
class BaderSite:
    """Bader result of one site: electrons (e), net charge (e), basin volume (Å³)."""

    index: int
    element: str | None
    valence_electrons: float
    net_charge: float | None
    atomic_volume: float
    min_dist: float | None = None


@dataclass(frozen=True)
class BaderResult:
    """Per-site Bader populations plus totals (e, Å³). ``method`` says how it was made."""

    sites: tuple[BaderSite, ...]
    total_electrons: float
    vacuum_charge: float
    vacuum_volume: float
    method: str
    source: str

    @property
    def valence_electrons(self) -> list[float]:
        return [s.valence_electrons for s in self.sites]

    @property
    def net_charges(self) -> list[float | None]:
        return [s.net_charge for s in self.sites]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per site (``site_index``, element, valence_electrons, net_charge, ...)."""
        return [{"site_index": s.index, **asdict(s)} for s in self.sites]


def zval_from_outcar(run_dir: Path) -> dict[str, float] | None:
    """ZVAL per element from ``run_dir``/OUTCAR(.gz) (pymatgen ``read_pseudo_zval``)."""
    path = find_output(run_dir, "OUTCAR", required=False)
    if path is None:
        return None
    from pymatgen.io.vasp import Outcar

    try:
        outcar = Outcar(str(path))
        outcar.read_pseudo_zval()
    except Exception:  # ZVAL is optional; a damaged OUTCAR only loses net charges
        return None
    return {str(k): float(v) for k, v in outcar.zval_dict.items()} or None


def bader_charges(run_dir: Path, zval: dict[str, float] | None = None) -> BaderResult:
    """Bader analysis of ``run_dir``/CHGCAR(.gz) with baderkit (``neargrid-weight`` method).

    The partition uses AECCAR0+AECCAR2 (core + valence all-electron density) as reference
    when both are present, as recommended for PAW (Henkelman group, ``bader CHGCAR -ref``);
    otherwise the CHGCAR itself. Vacuum detection is off, as in the Henkelman code's
    default (``-vac off``), so ``total_electrons`` is the integral of the whole CHGCAR.
    ``zval`` (element -> valence electrons) defaults to the OUTCAR's ZVAL values.
    """
    from baderkit.bader import Bader
    from baderkit.toolkit import Grid

    run_dir = Path(run_dir)
    chgcar = find_output(run_dir, "CHGCAR")
    aeccar0 = find_output(run_dir, "AECCAR0", required=False)
    aeccar2 = find_output(run_dir, "AECCAR2", required=False)
    zval = zval if zval is not None else zval_from_outcar(run_dir)
    with tempfile.TemporaryDirectory(prefix="lisflow-bader-") as tmp:
        charge = _load_grid(Grid, chgcar, Path(tmp))
        reference = None
        method = "baderkit neargrid-weight on CHGCAR"
        if aeccar0 is not None and aeccar2 is not None:
            core = _load_grid(Grid, aeccar0, Path(tmp))
            valence = _load_grid(Grid, aeccar2, Path(tmp))
            if tuple(core.shape) != tuple(charge.shape):
                raise ParseError(aeccar0, f"grid {core.shape} differs from CHGCAR {charge.shape}")
            reference = core.linear_add(valence)
            method += ", reference AECCAR0+AECCAR2"
        try:
            bader = Bader(charge_grid=charge, reference_grid=reference, vacuum_tol=False)
            electrons = [float(x) for x in bader.atom_charges]
            volumes = [float(x) for x in bader.atom_volumes]
            total = float(bader.total_electron_number)
        except Exception as exc:
            raise ParseError(chgcar, f"baderkit failed: {exc}") from exc
    structure = charge.structure
    sites = tuple(
        BaderSite(
            index=i,
            element=site.specie.symbol,
            valence_electrons=electrons[i],
            net_charge=_net(zval, site.specie.symbol, electrons[i]),
            atomic_volume=volumes[i],
        )
        for i, site in enumerate(structure)
    )
    return BaderResult(sites, total, 0.0, 0.0, method, str(chgcar))


def _load_grid(grid_cls: Any, path: Path, tmp: Path) -> Any:
    """baderkit reads plain files only: decompress ``.gz`` into ``tmp`` first."""
    if path.suffix == ".gz":
        plain = tmp / path.stem
        try:
            with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except (OSError, EOFError) as exc:
            raise ParseError(path, f"corrupt gzip: {exc}") from exc
        read_path = plain
    else:
        read_path = path
    try:
        return grid_cls.from_vasp(read_path, data_type="charge")
    except Exception as exc:
        raise ParseError(path, f"truncated or corrupt volumetric file: {exc}") from exc


def _net(zval: dict[str, float] | None, element: str | None, electrons: float) -> float | None:
    if zval is None or element is None or element not in zval:
        return None
    return zval[element] - electrons


def read_acf(
    path: Path, structure: Structure | None = None, zval: dict[str, float] | None = None
) -> BaderResult:
    """Read a Henkelman-code ``ACF.dat``; values are exactly those printed in the file.

    Elements come from ``structure`` or, if not given, from POSCAR/CONTCAR next to the file
    (``None`` when neither exists). ``net_charge`` needs ``zval`` (element -> ZVAL).
    """
    path = Path(path)
    text = read_text(path)
    rows: list[tuple[float, ...]] = []
    footer: dict[str, float] = {}
    for line in text.splitlines():
        if match := _ACF_ROW.match(line):
            try:
                rows.append(tuple(float(x) for x in match.groups()))
            except ValueError:
                raise ParseError(path, f"corrupt atom row {line.strip()[:60]!r}") from None
        elif match := _ACF_FOOT.match(line):
            footer[match.group(1)] = to_float(path, match.group(2), match.group(1))
    if not rows or set(footer) != {"VACUUM CHARGE", "VACUUM VOLUME", "NUMBER OF ELECTRONS"}:
        raise ParseError(path, "empty or truncated ACF.dat (no atom rows or no 3-line footer)")
    if [int(r[0]) for r in rows] != list(range(1, len(rows) + 1)):
        raise ParseError(path, "atom rows are not numbered 1..N (cut or corrupt row)")
    require_finite(path, [x for row in rows for x in row], "atom row")
    require_finite(path, list(footer.values()), "footer")
    summed = sum(r[4] for r in rows) + footer["VACUUM CHARGE"]
    if abs(summed - footer["NUMBER OF ELECTRONS"]) > 1e-3 + 5e-5 * len(rows):
        raise ParseError(
            path,
            f"atom charges + vacuum charge sum to {summed:.4f}, but NUMBER OF ELECTRONS is "
            f"{footer['NUMBER OF ELECTRONS']}: cut or corrupt",
        )
    if structure is None:
        for name in ("POSCAR", "CONTCAR"):
            found = find_output(path.parent, name, required=False)
            if found is not None:
                try:
                    structure = Structure.from_file(str(found))
                except Exception as exc:  # pymatgen raises assorted errors on bad files
                    raise ParseError(found, f"corrupt structure file: {exc}") from exc
                break
    if structure is not None and len(structure) != len(rows):
        raise ParseError(path, f"{len(rows)} atoms, but the structure has {len(structure)}")
    sites = []
    for i, row in enumerate(rows):
        element = structure[i].specie.symbol if structure is not None else None
        sites.append(
            BaderSite(
                index=i,
                element=element,
                valence_electrons=row[4],
                net_charge=_net(zval, element, row[4]),
                atomic_volume=row[6],
                min_dist=row[5],
            )
        )
    return BaderResult(
        sites=tuple(sites),
        total_electrons=footer["NUMBER OF ELECTRONS"],
        vacuum_charge=footer.get("VACUUM CHARGE", 0.0),
        vacuum_volume=footer.get("VACUUM VOLUME", 0.0),
        method="Henkelman bader (ACF.dat)",
        source=str(path),
    )
