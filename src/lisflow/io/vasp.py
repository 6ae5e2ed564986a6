"""VASP input sets with each paper's parameters (presets in ``inputs/presets/vasp.yaml``).

The generator follows atomate2's input-set generators: a small frozen dataclass that turns a
structure into the text of INCAR, KPOINTS, POSCAR and POTCAR (or POTCAR.spec). It is also the
typed input set a VASP :class:`~lisflow.calculation.Calculation` carries (``VaspInputs``).
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Kpoints
from pymatgen.io.vasp.sets import MPRelaxSet

from lisflow import INPUTS_DIR
from lisflow.calculation import Calculation, InputSet
from lisflow.errors import InputError
from lisflow.io.mechanism import NebInputs

#: Roles whose cell has vacuum along z: dipole correction along z (IDIPOL = 3).
SLAB_ROLES = ("slab", "adslab", "interface")
#: POTCAR functional directory used with PMG_VASP_PSP_DIR (pymatgen naming).
POTCAR_FUNCTIONAL = "PBE_54"


@functools.cache
def vasp_presets() -> dict[str, Any]:
    """All VASP presets (``inputs/presets/vasp.yaml``)."""
    return yaml.safe_load((INPUTS_DIR / "presets" / "vasp.yaml").read_text())


def preset(name: str) -> dict[str, Any]:
    presets = vasp_presets()
    if name not in presets:
        raise InputError("preset", f"unknown VASP preset {name!r}", ", ".join(presets))
    return presets[name]


@functools.cache
def _mp_defaults() -> tuple[dict[str, float], dict[str, str]]:
    """Initial magnetic moments (μB) and POTCAR symbols of pymatgen's MPRelaxSet."""
    config = MPRelaxSet.CONFIG
    return dict(config["INCAR"]["MAGMOM"]), dict(config["POTCAR"])


def initial_magmoms(structure: Structure) -> list[float]:
    """Starting moments per site (μB): pymatgen MPRelaxSet's table, 0.6 otherwise (same default)."""
    table, _ = _mp_defaults()
    return [float(table.get(site.specie.symbol, 0.6)) for site in structure]


def potcar_symbols(structure: Structure) -> list[str]:
    """POTCAR symbols in POSCAR block order (MPRelaxSet's choice per element)."""
    _, table = _mp_defaults()
    # = Poscar(structure).site_symbols, without building a Poscar (a structure copy)
    blocks = [symbol for symbol, _ in itertools.groupby(site.specie.symbol for site in structure)]
    return [table.get(symbol, symbol) for symbol in blocks]


def kpoint_mesh(
    structure: Structure, rule: dict[str, Any], vacuum_axes: tuple[int, ...]
) -> tuple[int, int, int]:
    """Γ-centred mesh. ``length`` rule: n_i = max(1, round(L / a_i)) (paper 000: n·a ≈ 20 Å);
    axes with vacuum get 1. ``mesh`` rule: the given mesh (paper 002: 2×2×1)."""
    if rule["rule"] == "mesh":
        return tuple(int(n) for n in rule["mesh"])  # type: ignore[return-value]
    lengths = structure.lattice.abc
    mesh = [max(1, int(math.floor(rule["length"] / a + 0.5))) for a in lengths]
    for axis in vacuum_axes:
        mesh[axis] = 1
    return tuple(mesh)  # type: ignore[return-value]


@dataclass(frozen=True)
class VaspInputGenerator(InputSet):
    """INCAR/KPOINTS/POSCAR/POTCAR for one task of one preset.

    ``task``: relax | static; ``role`` decides the dipole correction (slabs) and vacuum axes;
    ``extra_blocks`` names further preset blocks to merge (e.g. ``lobster``);
    ``overrides`` are applied last (any INCAR tag; null removes it); ``kpoints`` a k-point
    rule (``{"rule": "length", "length": 20}`` or ``{"rule": "mesh", "mesh": [2, 2, 1]}``)
    replacing the preset's.
    """

    preset_name: str
    task: str
    role: str = "bulk"
    extra_blocks: tuple[str, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)
    kpoints: dict[str, Any] | None = None
    #: task ``neb``: the end state and band settings (lisflow.io.vasp_neb)
    neb: NebInputs | None = None

    def incar(self, structure: Structure, per_site: bool = True) -> dict[str, Any]:
        """The INCAR tags; ``per_site=False`` leaves out the three computed from the sites
        (MAGMOM, NBANDS, DIPOL: none of them a :data:`KEY_TAGS` tag), every other tag as is."""
        chosen = preset(self.preset_name)
        if self.task not in chosen:
            raise InputError(
                "task",
                f"preset {self.preset_name!r} has no {self.task!r} block",
                ", ".join(k for k in chosen if k not in ("source", "kpoints", "common")),
            )
        tags: dict[str, Any] = dict(chosen.get("common", {}))
        tags.update(chosen[self.task])
        for block in self.extra_blocks:
            tags.update(chosen.get(block, {}))
        if tags.get("ISPIN", 1) == 2 and per_site:
            tags["MAGMOM"] = initial_magmoms(structure)
        if "lobster" in self.extra_blocks and per_site:  # as many bands as LOBSTER basis functions
            from lisflow.io.lobster import lobster_nbands  # (pymatgen LobsterSet.incar_updates)

            tags["NBANDS"] = lobster_nbands(structure, potcar_symbols(structure))
        if self.role in SLAB_ROLES:
            tags.update(LDIPOL=True, IDIPOL=3)
            if per_site:
                tags["DIPOL"] = [0.5, 0.5, round(dipole_centre_z(structure), 4)]
        for key, value in self.overrides.items():
            if value is None:
                tags.pop(key.upper(), None)  # an override of null removes the tag
            else:
                tags[key.upper()] = value
        return tags

    def key_parameters(self, calc: Calculation) -> dict[str, Any]:
        """INCAR tags and the k-mesh a reader checks first (the dry-run manifest)."""
        structure = calc.periodic_structure()
        incar = self.incar(structure, per_site=False)  # (the key tags need no site loop)
        params = {key: incar[key] for key in KEY_TAGS if key in incar}
        params["kpoints"] = list(kpoint_mesh(structure, self.kpoint_rule(), self.vacuum_axes()))
        params["preset"] = self.preset_name
        return params

    def vacuum_axes(self) -> tuple[int, ...]:
        """Axes with vacuum (one k-point): all for a molecule, z for slabs and interfaces."""
        return (0, 1, 2) if self.role == "molecule" else (2,) if self.role in SLAB_ROLES else ()

    def kpoint_rule(self) -> dict[str, Any]:
        return self.kpoints or preset(self.preset_name)["kpoints"]

    def files(self, structure: Structure) -> dict[str, str]:
        """File name -> text of the complete input set (POTCAR or POTCAR.spec)."""
        mesh = kpoint_mesh(structure, self.kpoint_rule(), self.vacuum_axes())
        kpoints = Kpoints.gamma_automatic(mesh)
        kpoints.comment = f"lisflow {self.preset_name} {self.kpoint_rule()['rule']} rule"
        files = {
            "INCAR": Incar(self.incar(structure)).get_str(sort_keys=True),
            "KPOINTS": str(kpoints),
            "POSCAR": poscar_text(structure, structure.composition.formula,
                                  selective_dynamics=structure.site_properties.get(
                                      "selective_dynamics"  # frequency runs: slab fixed
                                  )),  # fmt: skip
        }
        files.update(potcar_files(potcar_symbols(structure)))
        return files


#: The typed input set of a VASP calculation.
VaspInputs = VaspInputGenerator
#: INCAR tags of the dry-run manifest.
KEY_TAGS = (
    "ENCUT", "GGA", "ISPIN", "IVDW", "EDIFFG", "ISMEAR", "SIGMA", "IBRION", "ISIF", "NSW",
    "LORBIT", "LCHARG", "LAECHG", "LDIPOL", "IDIPOL", "ISYM",
)  # fmt: skip


def bare(structure: Structure) -> Structure:
    """The structure without site properties (labels are lisflow's, not VASP's)."""
    return Structure(structure.lattice, structure.species, structure.frac_coords)


def poscar_text(
    structure: Structure,
    comment: str,
    selective_dynamics: Any = None,
    significant_figures: int = 10,
) -> str:
    """POSCAR text, byte for byte ``Poscar(bare(structure), comment, selective_dynamics)
    .get_str(significant_figures=...)`` of pymatgen (direct coordinates, VASP 5 symbols line),
    without the two structure copies Poscar makes (most of a dry-run's VASP writing time)."""
    if not structure.is_ordered:
        raise ValueError("Disordered structure with partial occupancies cannot be converted into POSCAR!")
    matrix = structure.lattice.matrix
    if np.linalg.det(matrix) < 0:  # pymatgen inverts a left-handed cell (VASP's bug)
        matrix = -matrix
    fmt = f"{{:{significant_figures + 5}.{significant_figures}f}}".format
    lines = [comment, "1.0"] + [" ".join(fmt(c) for c in vec) for vec in matrix]
    species = structure.species
    blocks = [(symbol, len(list(run))) for symbol, run in itertools.groupby(
        sp.symbol for sp in species)]  # fmt: skip
    lines.append(" ".join(symbol for symbol, _ in blocks))
    lines.append(" ".join(str(n) for _, n in blocks))
    flags = None
    if selective_dynamics is not None:
        flags = np.asarray(selective_dynamics)
        if flags.all():  # all free: pymatgen writes no selective dynamics
            flags = None
    if flags is not None and len(structure):
        lines.append("Selective dynamics")
    lines.append("direct")
    # (Python floats: the same digits as numpy's float64, formatted faster)
    for index, (frac, specie) in enumerate(zip(structure.frac_coords.tolist(), species, strict=True)):
        line = " ".join(fmt(c) for c in frac)
        if flags is not None:
            line += " " + " ".join("T" if j else "F" for j in flags[index][:3])
        lines.append(f"{line} {specie}")
    return "\n".join(lines) + "\n"


def dipole_centre_z(structure: Structure) -> float:
    """Fractional z of DIPOL: half a cell from the middle of the vacuum.

    VASP applies the dipole correction about DIPOL; the potential step (the field's
    discontinuity) lies at DIPOL ± 1/2 (VASP wiki, DIPOL/IDIPOL). Putting DIPOL half a cell away
    from the vacuum midpoint puts the step in the middle of the vacuum, as far from every atom
    as the cell allows, whether or not the slab crosses the cell top.
    """
    from lisflow.structures.adsorption import vacuum_gap

    _, middle, _ = vacuum_gap(structure)
    return float((middle + 0.5) % 1.0)


def potcar_settings() -> tuple[Path | None, str]:
    """(POTCAR directory, functional) as pymatgen users configure them: ``$PMG_VASP_PSP_DIR``,
    else pymatgen's settings (``~/.config/.pmgrc.yaml`` or ``$PMG_CONFIG_FILE``:
    ``PMG_VASP_PSP_DIR``); functional ``$PMG_DEFAULT_FUNCTIONAL``, else the settings' one, else
    PBE_54. The directory is None when it is not set or not a directory."""
    from pymatgen.core import SETTINGS

    psp = os.environ.get("PMG_VASP_PSP_DIR") or SETTINGS.get("PMG_VASP_PSP_DIR")
    functional = (
        os.environ.get("PMG_DEFAULT_FUNCTIONAL")
        or SETTINGS.get("PMG_DEFAULT_FUNCTIONAL")
        or POTCAR_FUNCTIONAL
    )
    directory = Path(os.path.expandvars(str(psp))).expanduser() if psp else None
    return (directory if directory is not None and directory.is_dir() else None), str(functional)


def potcar_path(directory: Path, functional: str, symbol: str) -> Path:
    """The POTCAR of ``symbol`` in pymatgen's layout: ``<dir>/<functional dir>/<symbol>/POTCAR``
    or ``<dir>/<functional dir>/POTCAR.<symbol>`` (optionally ``.gz``); the functional dir
    from ``PMG_VASP_PSP_SUB_DIRS`` or pymatgen's map (PBE_54 -> POT_GGA_PAW_PBE_54)."""
    from pymatgen.core import SETTINGS
    from pymatgen.io.vasp.inputs import PotcarSingle

    sub = (SETTINGS.get("PMG_VASP_PSP_SUB_DIRS") or {}).get(functional)
    sub = sub or PotcarSingle.functional_dir.get(functional)
    if sub is None:
        raise InputError(
            "PMG_DEFAULT_FUNCTIONAL",
            f"unknown POTCAR functional {functional!r}",
            ", ".join(PotcarSingle.functional_dir),
        )
    base = directory / sub
    for candidate in (base / symbol / "POTCAR", base / f"POTCAR.{symbol}"):
        for path in (candidate, candidate.with_name(candidate.name + ".gz")):
            if path.is_file():
                return path
    raise InputError("PMG_VASP_PSP_DIR", f"no POTCAR for {symbol} ({functional}) under {base}")


def potcar_files(symbols: list[str]) -> dict[str, str]:
    """A real POTCAR (the symbols' files concatenated) when a POTCAR directory is configured
    (:func:`potcar_settings`), else POTCAR.spec (the symbols only)."""
    directory, functional = potcar_settings()
    if directory is None:
        return {"POTCAR.spec": "\n".join(symbols) + "\n"}
    from monty.io import zopen

    texts = []
    for symbol in symbols:
        with zopen(potcar_path(directory, functional, symbol), mode="rt") as handle:
            text = handle.read()
        texts.append(text if text.endswith("\n") else text + "\n")
    return {"POTCAR": "".join(texts)}


def potcar_notice() -> str | None:
    """One line for the user when only POTCAR.spec files can be written."""
    if potcar_settings()[0] is not None:
        return None
    return (
        "note: no POTCAR directory (PMG_VASP_PSP_DIR in the environment or in pymatgen's "
        "~/.config/.pmgrc.yaml); wrote POTCAR.spec (symbols only) instead of POTCAR"
    )
