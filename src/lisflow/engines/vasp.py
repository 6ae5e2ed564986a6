"""VASP engine: inputs from ``lisflow.io.vasp``, the user's VASP through custodian, parsers."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from lisflow.calculation import Calculation
from lisflow.engines.base import ParsedResult
from lisflow.engines.common import engine_command, run_custodian, write_files
from lisflow.io.vasp import VaspInputGenerator


def generator(calc: Calculation) -> VaspInputGenerator:
    params = calc.params
    return VaspInputGenerator(
        preset_name=params["preset"],
        task=params["task"],
        role=params["role"],
        extra_blocks=tuple(params.get("extra_blocks", ())),
        overrides=params.get("overrides", {}),
        kpoints=params.get("kpoints"),
    )


@dataclass
class VaspEngine:
    """``LISFLOW_VASP_CMD`` (e.g. ``srun vasp_std``) runs VASP through custodian's handlers."""

    name: str = "vasp"

    def input_files(self, calc: Calculation) -> dict[str, str]:
        return generator(calc).files(calc.structure)

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


def parse_vasp_run(calc: Calculation, directory: Path) -> ParsedResult:
    """Energy always; Bader charges, band centres and ICOHPs when their files are there."""
    from lisflow.parsers.vasp import parse_vasp

    result = parse_vasp(directory)
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

        parsed.charges = _with_labels(bader_charges(directory).to_records(), labels, "bader")
        parsed.files["CHGCAR"] = str(_existing(directory, "CHGCAR"))
    if calc.task == "static" and result.incar.get("LORBIT"):
        parsed.bands = band_records(directory, labels)
    if _exists(directory, "ICOHPLIST.lobster"):
        from lisflow.parsers.lobster import read_icohplist

        parsed.icohps = [
            b.to_dict() for b in read_icohplist(_existing(directory, "ICOHPLIST.lobster"))
        ]
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
            for record in band_centres(directory, indices, orbital=orbital):
                records.append({**_as_dict(record), "label": label})
    return records


def site_labels(calc: Calculation, n_atoms: int) -> list[str]:
    """Site labels of the planned structure (same order as the run's sites)."""
    if calc.structure is not None and len(calc.structure) == n_atoms:
        return [str(site.properties.get("label", "")) for site in calc.structure]
    return [""] * n_atoms


def _with_labels(records: list, labels: list[str], method: str) -> list[dict]:
    out = []
    for record in records:
        row = _as_dict(record)
        index = row["site_index"]
        row.setdefault("label", labels[index] if index < len(labels) else "")
        row["method"] = method
        out.append(row)
    return out


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
    """Relaxed structure (CONTCAR, else vasprun's final) with the planned site labels."""
    from pymatgen.core import Structure

    contcar = _existing(directory, "CONTCAR")
    if contcar.exists() and contcar.stat().st_size > 0:
        structure = Structure.from_file(contcar)
    else:
        from lisflow.parsers.vasp import parse_vasp

        structure = parse_vasp(directory).structure
    if calc.structure is not None and len(calc.structure) == len(structure):
        for key, values in calc.structure.site_properties.items():
            structure.add_site_property(key, values)
    return structure


VaspEngine.final_structure = staticmethod(final_vasp_structure)  # type: ignore[attr-defined]
