"""VASP run directory -> :class:`VaspResult` (energies eV, forces eV/Å, moments μB).

vasprun.xml(.gz) is the primary source (parsed by pymatgen ``Vasprun``); OUTCAR(.gz) adds
per-site magnetic moments, and is the fallback for energy/forces/structure (read with ASE's
``vasp-out`` reader) when vasprun.xml is absent.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Outcar, Vasprun

from lisflow.errors import ParseError
from lisflow.parsers import check_file_text, find_output, read_text, require_finite

if TYPE_CHECKING:
    from ase import Atoms

_VERSION_RE = re.compile(r"vasp\.(\d+\.\d+\.\d+)")
_POTCAR_RE = re.compile(r"^\s*POTCAR:\s+(.+?)\s*$", re.MULTILINE)
_EDIFF_REACHED = "aborting loop because EDIFF is reached"
_IONIC_REACHED = "reached required accuracy"
#: First line of the footer VASP writes at the end of a finished OUTCAR.
OUTCAR_FOOTER = "General timing and accounting informations for this job"


@dataclass(frozen=True)
class VaspResult:
    """Summary of one VASP run.

    Units: ``final_energy``/``energy_per_atom``/``efermi``/``ionic_energies`` eV (the
    ``energy(sigma->0)`` value VASP reports, as ``Vasprun.final_energy``), ``forces`` and
    ``max_force`` eV/Å (last ionic step), ``magmoms``/``total_magnetization`` μB.
    """

    final_energy: float
    energy_per_atom: float
    forces: np.ndarray
    max_force: float
    magmoms: tuple[float, ...] | None
    total_magnetization: float | None
    converged_electronic: bool
    converged_ionic: bool
    structure: Structure
    formula: str
    n_atoms: int
    efermi: float | None
    vasp_version: str | None
    incar: dict[str, Any]
    potcar_symbols: tuple[str, ...]
    ionic_energies: tuple[float, ...]
    source: str
    failure: str | None = None  # why the run is unfinished/unconverged (None when usable)
    failure_source: str | None = None  # the file that shows it

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays to lists, structure to pymatgen ``as_dict``)."""
        data = asdict(self)
        data["forces"] = self.forces.tolist()
        data["structure"] = self.structure.as_dict()
        data["magmoms"] = list(self.magmoms) if self.magmoms is not None else None
        data["potcar_symbols"] = list(self.potcar_symbols)
        data["ionic_energies"] = list(self.ionic_energies)
        return data


def parse_vasp(run_dir: Path) -> VaspResult:
    """Parse the VASP run in ``run_dir`` (plain or ``.gz`` files).

    Raises :class:`ParseError` naming the file when vasprun.xml and OUTCAR are both missing,
    or when the file in use is truncated/corrupt (e.g. unterminated vasprun.xml, cut OUTCAR).
    """
    run_dir = Path(run_dir)
    vasprun_path = find_output(run_dir, "vasprun.xml", required=False)
    outcar_path = find_output(run_dir, "OUTCAR", required=False)
    if vasprun_path is None and outcar_path is None:
        raise ParseError(run_dir / "vasprun.xml", "neither vasprun.xml nor OUTCAR found")
    outcar = _read_outcar(outcar_path) if outcar_path is not None else None
    if vasprun_path is not None:
        result, run = _from_vasprun(vasprun_path, outcar)
        _check_same_run(run_dir, run, vasprun_path, outcar_path, outcar)
    else:
        if outcar_path is None or outcar is None:  # unreachable: one of the two exists
            raise ParseError(run_dir / "OUTCAR", "OUTCAR not found")
        result = _from_outcar(run_dir, outcar_path, outcar)
    source = Path(result.source)
    require_finite(source, result.ionic_energies, "energy(sigma->0) of an ionic step")
    require_finite(source, result.final_energy, "final energy")
    require_finite(source, result.forces.ravel(), "forces")
    require_finite(source, result.structure.lattice.matrix.ravel(), "final lattice")
    require_finite(source, result.structure.cart_coords.ravel(), "final positions")
    failure, failure_source = _failure(result, outcar_path)
    return replace(result, failure=failure, failure_source=failure_source)


#: INCAR tags that must agree between the run directory's INCAR and vasprun.xml.
SAME_RUN_TAGS = ("NSW", "IBRION", "ISIF", "ISPIN", "ENCUT")


def _check_same_run(
    run_dir: Path, run: Vasprun, vasprun_path: Path, outcar_path: Path | None, outcar: Outcar | None
) -> None:
    """vasprun.xml, OUTCAR and INCAR must come from one run: the OUTCAR's last free energy
    equals vasprun's, and the INCAR tags in :data:`SAME_RUN_TAGS` agree."""
    fr_outcar = getattr(outcar, "final_fr_energy", None) if outcar is not None else None
    fr_vasprun = float(run.ionic_steps[-1]["e_fr_energy"])
    if fr_outcar is not None and abs(float(fr_outcar) - fr_vasprun) > 1e-5:
        raise ParseError(
            outcar_path, f"last free energy {fr_outcar} eV, but {vasprun_path.name} has "
            f"{fr_vasprun} eV: not the same run"
        )  # fmt: skip
    if outcar_path is not None:
        # every electronic step vasprun.xml records has its LOOP line in the OUTCAR: a block cut
        # out of the OUTCAR would hand over an earlier step's magnetisation or moments
        loops = read_text(outcar_path).count(" LOOP: ")
        scf = sum(len(step.get("electronic_steps", ())) for step in run.ionic_steps)
        if scf and loops != scf:
            raise ParseError(
                outcar_path, f"{loops} electronic steps (LOOP lines), but {vasprun_path.name} "
                f"has {scf}: cut, edited or not the same run"
            )  # fmt: skip
    incar_path = find_output(run_dir, "INCAR", required=False)
    if incar_path is None:
        return
    try:
        incar = Incar.from_str(read_text(incar_path))
    except Exception as exc:  # pymatgen raises assorted errors on corrupt files
        raise ParseError(incar_path, f"corrupt INCAR: {exc}") from exc
    for tag in SAME_RUN_TAGS:
        ours, theirs = incar.get(tag), run.incar.get(tag)
        if ours is not None and theirs is not None and ours != theirs:
            raise ParseError(
                vasprun_path, f"made with {tag}={theirs}, but the run's INCAR has {tag}={ours}: "
                "not this run's output"
            )  # fmt: skip


def _failure(result: VaspResult, outcar_path: Path | None) -> tuple[str | None, str | None]:
    """Why the run cannot be used: a cut OUTCAR, an unconverged last SCF or relaxation."""
    if outcar_path is not None and OUTCAR_FOOTER not in read_text(outcar_path):
        return (
            "truncated OUTCAR: no 'General timing' footer (VASP was killed or is still running)",
            str(outcar_path),
        )
    n = len(result.ionic_energies)
    if not result.converged_electronic:
        nelm = result.incar.get("NELM", 60)
        return (
            f"electronic SCF of ionic step {n} did not reach EDIFF within NELM={nelm} steps",
            result.source,
        )
    if not result.converged_ionic:
        nsw = result.incar.get("NSW", "?")
        return (
            f"run stopped after ionic step {n} of NSW={nsw} without reaching EDIFFG",
            result.source,
        )
    return None, None


def _read_outcar(path: Path) -> Outcar:
    check_file_text(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcar = Outcar(str(path))
    except Exception as exc:  # pymatgen raises assorted errors on corrupt files
        raise ParseError(path, f"corrupt OUTCAR: {exc}") from exc
    if outcar.final_energy is None:
        raise ParseError(path, "truncated OUTCAR: no 'free energy TOTEN' line")
    return outcar


def _site_magmoms(outcar: Outcar | None) -> tuple[float, ...] | None:
    if outcar is None or not outcar.magnetization:
        return None
    return tuple(float(site["tot"]) for site in outcar.magnetization)


def _from_vasprun(path: Path, outcar: Outcar | None) -> tuple[VaspResult, Vasprun]:
    check_file_text(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = Vasprun(
                str(path),
                parse_dos=True,  # the Fermi level is read with the DOS block
                parse_eigen=False,
                parse_projected_eigen=False,
                parse_potcar_file=False,
                exception_on_bad_xml=True,
            )
        steps = run.ionic_steps
        if not steps:
            raise ValueError("no ionic step")
        final_energy = float(run.final_energy)
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(path, f"truncated or corrupt vasprun.xml: {exc}") from exc
    structure = run.final_structure
    forces = np.asarray(steps[-1].get("forces", np.zeros((len(structure), 3))), dtype=float)
    total_mag = None
    if outcar is not None and outcar.total_mag is not None:
        total_mag = float(outcar.total_mag)
    result = VaspResult(
        final_energy=final_energy,
        energy_per_atom=final_energy / len(structure),
        forces=forces,
        max_force=_max_force(forces),
        magmoms=_site_magmoms(outcar),
        total_magnetization=total_mag,
        converged_electronic=bool(run.converged_electronic),
        converged_ionic=bool(run.converged_ionic),
        structure=structure,
        formula=structure.composition.reduced_formula,
        n_atoms=len(structure),
        efermi=None if run.efermi is None else float(run.efermi),
        vasp_version=run.vasp_version,
        incar=dict(run.incar),
        potcar_symbols=tuple(run.potcar_symbols),
        ionic_energies=tuple(_step_energy(s) for s in steps),
        source=str(path),
    )
    return result, run


def _from_outcar(run_dir: Path, path: Path, outcar: Outcar) -> VaspResult:
    from ase.io import read as ase_read
    from pymatgen.io.ase import AseAtomsAdaptor

    text = read_text(path)
    try:
        # index=":" always gives a list (ASE's annotation also allows one Atoms)
        frames = cast("list[Atoms]", ase_read(str(path), index=":", format="vasp-out"))
    except Exception as exc:
        raise ParseError(path, f"truncated or corrupt OUTCAR: {exc}") from exc
    if not frames:
        raise ParseError(path, "OUTCAR holds no complete ionic step")
    last = frames[-1]
    structure = AseAtomsAdaptor.get_structure(last)
    if not isinstance(structure, Structure):
        raise ParseError(path, "the last OUTCAR frame is not a periodic structure")
    forces = np.asarray(last.get_forces(), dtype=float)
    # ASE reports energy(sigma->0) as the potential energy, like Vasprun.final_energy.
    energies = tuple(float(f.get_potential_energy()) for f in frames)
    nsw = re.search(r"NSW\s*=\s*(\d+)", text)
    ibrion = re.search(r"IBRION\s*=\s*(-?\d+)", text)
    static = (nsw is not None and int(nsw.group(1)) == 0) or (
        ibrion is not None and int(ibrion.group(1)) == -1
    )
    incar_path = find_output(run_dir, "INCAR", required=False)
    incar = dict(Incar.from_file(str(incar_path))) if incar_path else {}
    if nsw is not None:
        incar.setdefault("NSW", int(nsw.group(1)))
    version = _VERSION_RE.search(text)
    symbols = list(dict.fromkeys(_POTCAR_RE.findall(text)))
    return VaspResult(
        final_energy=energies[-1],
        energy_per_atom=energies[-1] / len(structure),
        forces=forces,
        max_force=_max_force(forces),
        magmoms=_site_magmoms(outcar),
        total_magnetization=None if outcar.total_mag is None else float(outcar.total_mag),
        converged_electronic=text.count(_EDIFF_REACHED) >= len(frames),
        converged_ionic=static or _IONIC_REACHED in text,
        structure=structure,
        formula=structure.composition.reduced_formula,
        n_atoms=len(structure),
        efermi=None if outcar.efermi is None else float(outcar.efermi),
        vasp_version=version.group(1) if version else None,
        incar=incar,
        potcar_symbols=tuple(symbols),
        ionic_energies=energies,
        source=str(path),
    )


def _step_energy(step: dict[str, Any]) -> float:
    """energy(sigma->0) of one ionic step, with pymatgen's ``final_energy`` bug-fix.

    Some VASP 5 vasprun.xml files write e_0_energy of the ionic step wrongly (e.g. 0.0);
    as in ``Vasprun.final_energy`` it is rebuilt from e_fr_energy and the last
    electronic step's (e_0_energy - e_fr_energy).
    """
    energy = float(step["e_0_energy"])
    electronic = step.get("electronic_steps") or []
    if electronic and "e_0_energy" in electronic[-1] and "e_fr_energy" in electronic[-1]:
        diff = electronic[-1]["e_0_energy"] - electronic[-1]["e_fr_energy"]
        fixed = round(float(diff + step["e_fr_energy"]), 8)
        if abs(energy - fixed) > 1e-7:
            return fixed
    return energy


def _max_force(forces: np.ndarray) -> float:
    return float(np.linalg.norm(forces, axis=1).max()) if forces.size else 0.0
