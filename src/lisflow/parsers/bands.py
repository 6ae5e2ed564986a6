"""Orbital band centres (e.g. the d-band centre of Hammer and Nørskov) from projected DOS.

    centre = ∫ E ρ(E) dE / ∫ ρ(E) dE      (trapezoid rule on the DOS energy grid)

with E relative to the Fermi level (eV) and ρ the site- and orbital-projected DOS summed over
the chosen sites and the m-components of the orbital (s, p or d).

Integration window (default): the **occupied states**, from the bottom of the DOS file up to
E_F (``emin=None, emax=0.0``). The whole range (``emax=None``) is not the default because a
VASP DOS spans up to ~100 eV above E_F, where the tails of the sphere-projected "d" weight
of free-electron-like states dominate the first moment (bcc Fe fixture: ~54 eV). Only grid
points with ``emin <= E <= emax`` are used (no interpolation at the window edges). Note
that LOBSTER writes its DOS only between COHPstartEnergy and COHPendEnergy.

Sources: a VASP run directory (vasprun.xml(.gz), LORBIT=11, read by pymatgen), a VASP
``DOSCAR`` or a LOBSTER ``DOSCAR.lobster`` file (plain or .gz). Both DOSCAR flavours share
one text layout and are read by :func:`read_doscar`; VASP energies are shifted by the E_F in
the header, LOBSTER energies are already relative to E_F.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lisflow.errors import InputError, ParseError
from lisflow.parsers import check_file_text, find_output, read_text, require_finite

ORBITALS = ("s", "p", "d", "f")
SPINS = ("up", "down", "total")
# VASP LORBIT=11 column order of the lm-decomposed DOS (VASP manual, DOSCAR).
_VASP_LM = ("s", "py", "pz", "px", "dxy", "dyz", "dz2", "dxz", "dx2", *["f"] * 7)
_LOBSTER_ORBITAL = re.compile(r"^\d*([spdf])")


@dataclass(frozen=True)
class ProjectedDos:
    """Site/orbital-projected DOS: ``pdos[site][orbital][spin]`` (states/eV), E - E_F in eV."""

    energies: np.ndarray
    efermi: float
    pdos: tuple[dict[str, dict[str, np.ndarray]], ...]
    elements: tuple[str | None, ...]
    spin_polarized: bool
    source: str


@dataclass(frozen=True)
class BandCentre:
    """Centre (eV, relative to E_F) of the ``orbital`` band of atom ``site_index`` (0-based):
    the one record type from the parser to the ``band_centres`` table."""

    site_index: int
    element: str | None
    orbital: str
    centre_ev: float
    spin: str = "total"
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def band_centre(
    dos_source: Path | ProjectedDos,
    site_indices: Sequence[int],
    orbital: str = "d",
    spin: str = "total",
    emin: float | None = None,
    emax: float | None = 0.0,
) -> float:
    """Band centre (eV, relative to E_F) of ``orbital`` summed over ``site_indices``.

    ``spin``: "up", "down" or "total" (up + down). ``emin``/``emax``: window in eV relative to
    E_F, ``None`` = edge of the DOS; default bottom of the DOS .. E_F (module docstring).
    """
    dos = dos_source if isinstance(dos_source, ProjectedDos) else load_projected_dos(dos_source)
    if orbital not in ORBITALS:
        raise InputError("orbital", f"unknown orbital {orbital!r}", ", ".join(ORBITALS))
    if spin not in SPINS:
        raise InputError("spin", f"unknown spin {spin!r}", ", ".join(SPINS))
    if spin != "total" and not dos.spin_polarized:
        raise InputError("spin", f"{dos.source} is not spin-polarised", "total")
    if not site_indices:
        raise InputError("site_indices", "no site given", f"0..{len(dos.pdos) - 1}")
    rho = np.zeros_like(dos.energies)
    for index in site_indices:
        if not 0 <= index < len(dos.pdos):
            raise InputError(
                "site_indices", f"site {index} out of range", f"0..{len(dos.pdos) - 1}"
            )
        channels = dos.pdos[index].get(orbital)
        if channels is None:
            raise InputError("orbital", f"site {index} has no {orbital} projection in {dos.source}")
        rho = rho + channels[spin]
    energies = dos.energies
    mask = np.ones(energies.shape, dtype=bool)
    if emin is not None:
        mask &= energies >= emin
    if emax is not None:
        mask &= energies <= emax
    weight = np.trapezoid(rho[mask], energies[mask])
    if mask.sum() < 2 or weight <= 0.0:
        raise InputError(
            "emin/emax", f"no {orbital} states of sites {list(site_indices)} in window"
        )
    return float(np.trapezoid(energies[mask] * rho[mask], energies[mask]) / weight)


def band_centres(
    run_dir: Path,
    sites_by_label: Mapping[str, Sequence[int]] | Sequence[int],
    spin: str | Sequence[str] = "total",
    emin: float | None = None,
    emax: float | None = 0.0,
    orbital: str = "d",
) -> list[BandCentre]:
    """One :class:`BandCentre` per site, orbital and spin.

    ``sites_by_label`` maps orbital label to sites, e.g. ``{"d": [0], "p": [5, 6]}``; a plain
    list of site indices uses ``orbital``. ``spin`` may be one value or several
    (e.g. ``("up", "down")``). Window as in :func:`band_centre`.
    """
    dos = load_projected_dos(run_dir)
    if isinstance(sites_by_label, Mapping):
        groups = list(sites_by_label.items())
    else:
        groups = [(orbital, list(sites_by_label))]
    spins = [spin] if isinstance(spin, str) else list(spin)
    return [
        BandCentre(
            index,
            dos.elements[index],
            orb,
            band_centre(dos, [index], orb, one_spin, emin, emax),
            spin=one_spin,
        )
        for orb, indices in groups
        for index in indices
        for one_spin in spins
    ]


def load_projected_dos(source: Path) -> ProjectedDos:
    """Projected DOS of a run directory (vasprun.xml) or of a DOSCAR / DOSCAR.lobster file."""
    source = Path(source)
    if source.is_dir():
        vasprun = find_output(source, "vasprun.xml", required=False)
        if vasprun is not None:
            return _from_vasprun(vasprun)
        doscar = find_output(source, "DOSCAR.lobster", required=False) or find_output(
            source, "DOSCAR"
        )
        return read_doscar(doscar)
    return read_doscar(source)


def _from_vasprun(path: Path) -> ProjectedDos:
    import warnings

    from pymatgen.electronic_structure.core import Spin
    from pymatgen.io.vasp import Vasprun

    check_file_text(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = Vasprun(str(path), parse_potcar_file=False, exception_on_bad_xml=True)
        dos = run.complete_dos
    except Exception as exc:
        raise ParseError(path, f"truncated or corrupt vasprun.xml: {exc}") from exc
    if not dos.pdos:
        raise ParseError(path, "no projected DOS (run with LORBIT=11)")
    spin_polarized = Spin.down in dos.densities
    pdos = []
    for site in dos.structure:
        by_type: dict[str, dict[str, Any]] = {}  # arrays; 0.0 until a channel is added
        for orb, densities in dos.pdos[site].items():
            kind = orb.orbital_type.name
            channels = by_type.setdefault(kind, {"up": 0.0, "down": 0.0})
            channels["up"] = channels["up"] + densities[Spin.up]
            if spin_polarized:
                channels["down"] = channels["down"] + densities[Spin.down]
        pdos.append(_with_total(by_type, spin_polarized))
    require_finite(path, dos.efermi, "Fermi energy")
    require_finite(path, np.asarray(dos.energies, dtype=float), "DOS energies")
    for i, site_pdos in enumerate(pdos):
        for kind, channels in site_pdos.items():
            require_finite(path, channels["total"], f"projected {kind} DOS of site {i + 1}")
    return ProjectedDos(
        energies=np.asarray(dos.energies, dtype=float) - float(dos.efermi),
        efermi=float(dos.efermi),
        pdos=tuple(pdos),
        elements=tuple(site.specie.symbol for site in dos.structure),
        spin_polarized=spin_polarized,
        source=str(path),
    )


def _with_total(by_type: dict[str, dict[str, Any]], spin_polarized: bool) -> dict[str, Any]:
    for channels in by_type.values():
        up = np.asarray(channels["up"], dtype=float)
        down = np.asarray(channels["down"], dtype=float) if spin_polarized else np.zeros_like(up)
        channels.update(up=up, down=down, total=up + down)
    return by_type


def read_doscar(path: Path) -> ProjectedDos:
    """Read a VASP ``DOSCAR`` (LORBIT=11) or LOBSTER ``DOSCAR.lobster`` (plain or .gz)."""
    path = Path(path)
    lines = read_text(path).splitlines()
    lobster = "lobster" in path.name.lower() or (len(lines) > 4 and "LOBSTER" in lines[4])
    try:
        n_atoms = int(lines[0].split()[0])
        header = lines[5].split(";")[0].split()
        n_e, efermi = int(header[2]), float(header[3])
        total = np.array([line.split() for line in lines[6 : 6 + n_e]], dtype=float)
    except (IndexError, ValueError) as exc:
        raise ParseError(path, f"truncated or corrupt DOSCAR header/total DOS: {exc}") from exc
    if total.ndim != 2 or total.shape[0] != n_e or total.shape[1] not in (3, 5):
        raise ParseError(path, f"total DOS has {total.shape[0]} of {n_e} rows (cut or corrupt)")
    require_finite(path, efermi, "Fermi energy")
    require_finite(path, total.ravel(), "total DOS")
    spin_polarized = total.shape[1] == 5
    energies = total[:, 0] if lobster else total[:, 0] - efermi
    pdos = []
    start = 6 + n_e
    if n_atoms and start >= len(lines) - 1:
        raise ParseError(path, "no projected DOS in this DOSCAR (VASP needs LORBIT=11)")
    for site in range(n_atoms):
        block_header = lines[start] if start < len(lines) else ""
        rows = lines[start + 1 : start + 1 + n_e]
        try:
            block = np.array([line.split() for line in rows], dtype=float)
        except ValueError as exc:
            raise ParseError(path, f"corrupt projected DOS of site {site + 1}: {exc}") from exc
        if block.ndim != 2 or block.shape[0] != n_e:
            raise ParseError(path, f"truncated: projected DOS of site {site + 1} is incomplete")
        require_finite(path, block.ravel(), f"projected DOS of site {site + 1}")
        pdos.append(_split_columns(block[:, 1:], block_header, lobster, spin_polarized, path))
        start += n_e + 1
    elements = _elements_next_to(path, n_atoms)
    return ProjectedDos(energies, efermi, tuple(pdos), elements, spin_polarized, str(path))


def _elements_next_to(path: Path, n_atoms: int) -> tuple[str | None, ...]:
    """Element of each site from a POSCAR/CONTCAR beside the DOSCAR (None if absent)."""
    from pymatgen.core import Structure

    for name in ("POSCAR", "CONTCAR"):
        found = find_output(path.parent, name, required=False)
        if found is None:
            continue
        try:
            structure = Structure.from_file(str(found))
        except Exception:  # element labels are a convenience only
            continue
        if len(structure) != n_atoms:
            raise ParseError(path, f"{n_atoms} atoms, but {found.name} beside it has {len(structure)}")
        return tuple(site.specie.symbol for site in structure)
    return (None,) * n_atoms


def _split_columns(
    columns: np.ndarray, header: str, lobster: bool, spin_polarized: bool, path: Path
) -> dict[str, dict[str, np.ndarray]]:
    step = 2 if spin_polarized else 1
    n_orbitals = columns.shape[1] // step
    if lobster:
        names = header.split(";")[-1].split() if ";" in header else []
        kinds = [m.group(1) for n in names if (m := _LOBSTER_ORBITAL.match(n))]
    else:
        kinds = [lm[0] for lm in _VASP_LM[:n_orbitals]]
    if len(kinds) != n_orbitals:
        raise ParseError(path, f"cannot assign {n_orbitals} orbital columns (header {header!r})")
    by_type: dict[str, dict[str, Any]] = {}
    for k, kind in enumerate(kinds):
        channels = by_type.setdefault(kind, {"up": 0.0, "down": 0.0})
        channels["up"] = channels["up"] + columns[:, step * k]
        if spin_polarized:
            channels["down"] = channels["down"] + columns[:, step * k + 1]
    return _with_total(by_type, spin_polarized)
