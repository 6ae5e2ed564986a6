"""VASP engine: inputs from ``lisflow.io.vasp``, the user's VASP through custodian, parsers."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from lisflow.calculation import Calculation, InputSet
from lisflow.engines.base import ParsedResult
from lisflow.engines.common import (
    engine_command,
    labelled_site_rows,
    require_planned_atoms,
    require_usable,
    run_custodian,
    site_labels,
    write_files,
)
from lisflow.errors import EngineError, InputError, ParseError
from lisflow.io.vasp import VaspInputGenerator

if TYPE_CHECKING:
    from pymatgen.core import Structure


def generator(calc: Calculation) -> VaspInputGenerator:
    """The typed VASP input set of ``calc`` (EngineError if it carries another)."""
    if not isinstance(calc.inputs, VaspInputGenerator):
        raise EngineError(f"{calc.calc_id}: vasp needs VaspInputs, got {calc.inputs!r}")
    return calc.inputs


@dataclass
class VaspEngine:
    """``LISFLOW_VASP_CMD`` (e.g. ``srun vasp_std``) runs VASP through custodian's handlers."""

    name: str = "vasp"
    inputs_type: ClassVar[type[InputSet]] = VaspInputGenerator

    def input_files(self, calc: Calculation) -> dict[str, str]:
        if calc.task == "neb":  # one directory per image (lisflow.io.vasp_neb)
            from lisflow.io.vasp_neb import neb_files

            return neb_files(generator(calc), calc.periodic_structure())
        return generator(calc).files(calc.periodic_structure())

    def write_inputs(self, calc: Calculation, directory: Path) -> list[str]:
        return write_files(directory, self.input_files(calc))

    def run(self, calc: Calculation, directory: Path, walltime_s: float | None = None) -> None:
        from custodian.vasp.jobs import VaspJob

        from lisflow.engines.handlers import vasp_handlers, vasp_validators

        command = shlex.split(engine_command("LISFLOW_VASP_CMD", None))
        run_custodian(
            directory,
            vasp_handlers(walltime_s),
            [VaspJob(command, auto_npar=False)],
            vasp_validators(),
        )

    def parse(self, calc: Calculation, directory: Path) -> ParsedResult:
        return parse_vasp_run(calc, directory)

    def final_structure(self, calc: Calculation, directory: Path) -> Structure | None:
        return final_vasp_structure(calc, directory)


def parse_vasp_run(calc: Calculation, directory: Path) -> ParsedResult:
    """Energy always; Bader charges, band centres and ICOHPs when their files are there.

    Raises ParseError naming the file when the run is cut, unconverged (electronic or
    ionic; see :func:`lisflow.parsers.vasp.parse_vasp`), not this calculation's output, or
    when one of the optional files is corrupt or incomplete.
    """
    from lisflow.parsers.vasp import parse_vasp

    result = parse_vasp(directory)
    require_usable(result.failure_source or result.source, result.failure)
    symbols = [site.specie.symbol for site in result.structure]
    require_planned_atoms(calc, result.source, symbols, result.n_atoms)
    parsed = ParsedResult(
        energy_ev=result.final_energy,
        n_atoms=result.n_atoms,
        formula=result.formula,
        engine_version=result.vasp_version,
    )
    labels = site_labels(calc, result.n_atoms)
    if result.magmoms is not None:  # spin-polarised: OUTCAR "magnetization (x)", tot (μB)
        parsed.magmoms = [
            {"site_index": i, "element": site.specie.symbol, "label": labels[i], "moment_mub": m}
            for i, (site, m) in enumerate(zip(result.structure, result.magmoms, strict=True))
        ]
    if result.total_magnetization is not None:
        parsed.scalars["total_magnetization"] = (result.total_magnetization, "muB")
    if calc.labels.get("bader") and _exists(directory, "CHGCAR"):
        from lisflow.parsers.bader import bader_charges

        parsed.charges = labelled_site_rows(bader_charges(directory).to_records(), labels, "bader")
        parsed.files["CHGCAR"] = str(_existing(directory, "CHGCAR"))
    if calc.task == "freq":  # IBRION 5: ZPE and TS of the free atoms (engines.mlip_mechanism)
        from lisflow.engines.mlip_mechanism import vasp_vibration_scalars

        parsed.scalars.update(vasp_vibration_scalars(calc, directory))
    if calc.task == "static" and result.incar.get("LORBIT"):
        parsed.bands = band_records(directory, labels)
    if _exists(directory, "ICOHPLIST.lobster"):
        from lisflow.parsers.lobster import read_icohplist

        path = _existing(directory, "ICOHPLIST.lobster")
        parsed.icohps = [b.to_dict() for b in read_icohplist(path, structure=result.structure)]
    return parsed


def band_records(directory: Path, labels: list[str]) -> list[dict]:
    """d-band centres of metal sites and p-band centres of coordinating N (both spins, eV vs E_F)."""
    from lisflow.parsers.bands import band_centres

    sites = {
        "metal": ("d", [i for i, lab in enumerate(labels) if lab == "metal"]),
        "coordinating_N": ("p", [i for i, lab in enumerate(labels) if lab == "coordinating_N"]),
    }
    records = []
    for label, (orbital, indices) in sites.items():
        if indices:
            try:
                centres = band_centres(directory, indices, orbital=orbital)
            except InputError as exc:  # e.g. no states below E_F: a DOS that cannot be right
                source = _dos_file(directory)
                raise ParseError(source, f"no {orbital}-band centre of {label} sites: {exc}") from None
            for record in centres:
                records.append({**_as_dict(record), "label": label})
    return records


def _dos_file(directory: Path) -> Path:
    for name in ("vasprun.xml", "DOSCAR.lobster", "DOSCAR"):
        if _exists(directory, name):
            return _existing(directory, name)
    return directory / "vasprun.xml"


def _as_dict(record) -> dict:
    return dict(record) if isinstance(record, dict) else record.to_dict()


def _existing(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.exists():
            return candidate
    return directory / name


def _exists(directory: Path, name: str) -> bool:
    return _existing(directory, name).exists()


def final_vasp_structure(calc: Calculation, directory: Path):
    """Relaxed structure (CONTCAR, else vasprun's final) with the planned site labels.

    Site properties become plain lists (a selective-dynamics CONTCAR gives numpy arrays,
    which JSON cannot hold). ParseError naming CONTCAR when it is corrupt, non-finite or
    holds other atoms than the run.
    """
    from pymatgen.core import Structure

    from lisflow.parsers import check_file_text, require_finite
    from lisflow.parsers.vasp import parse_vasp

    contcar = _existing(directory, "CONTCAR")
    if contcar.exists() and contcar.stat().st_size > 0:
        check_file_text(contcar)
        try:
            structure = Structure.from_file(contcar)
        except Exception as exc:  # pymatgen raises assorted errors on corrupt files
            raise ParseError(contcar, f"corrupt CONTCAR: {exc}") from exc
        require_finite(contcar, structure.lattice.matrix.ravel(), "lattice")
        require_finite(contcar, structure.cart_coords.ravel(), "positions")
        if structure.volume <= 1e-6:
            raise ParseError(contcar, "corrupt CONTCAR: zero cell volume")
        symbols = [site.specie.symbol for site in structure]
        require_planned_atoms(calc, contcar, symbols, len(structure))
    else:
        structure = parse_vasp(directory).structure
    for key, values in list(structure.site_properties.items()):
        structure.add_site_property(key, [_plain(v) for v in values])
    if calc.structure is not None and len(calc.structure) == len(structure):
        for key, values in calc.structure.site_properties.items():
            structure.add_site_property(key, [_plain(v) for v in values])
    return structure


def _plain(value):
    """numpy arrays and scalars as lists / Python numbers (JSON-serialisable)."""
    return value.tolist() if hasattr(value, "tolist") else value

