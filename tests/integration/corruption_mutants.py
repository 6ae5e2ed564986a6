"""Mutants of real fixture runs and the check that none stores a wrong number (issue 10).

Each fixture run (VASP, LOBSTER, Bader ACF, CP2K, LAMMPS log) is copied into ``tmp_path``; one
of its files is mutated (seeded): truncated at several fractions, overwritten with garbage
bytes, a number replaced by ``NaN``/``*****``/``inf``, a line deleted, emptied, replaced by the
same file of another run, or (CONTCAR) rewritten with selective dynamics. Every mutant goes
through the real :class:`~lisflow.workflows.firetasks.RunCalculationTask` (write inputs -> run
-> parse -> final structure -> result file -> store) with an engine whose ``run`` does nothing
(the outputs are already there). The outcome of each mutant is classified:

- ``accepted``: COMPLETED, and every stored value equals the intact run's stored value;
- ``refused``: a lisflow error, a FAILED/PARSE_ERROR row naming a file of the run, nothing stored;
- ``traceback``: any other exception escaped the Firetask;
- ``unrecorded``: refused, but no FAILED/PARSE_ERROR row naming a file;
- ``wrong``: a stored value differs from the intact run's (or anything stored for a failure).
"""

from __future__ import annotations

import bz2
import copy
import gzip
import random
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymatgen.core import Molecule, Structure
from sqlalchemy import select

from lisflow.calculation import Calculation, calc_to_dict
from lisflow.db import schema as s
from lisflow.engines.base import ParsedResult
from lisflow.errors import LisflowError

#: Child tables whose rows are compared with the intact run's.
CHILD_TABLES = ("site_charges", "band_centres", "bond_icohps", "md_series", "md_scalars")
TRUNCATIONS = (0.25, 0.5, 0.75, 0.95)
NON_FINITE = ("NaN", "*****", "inf")
_FLOAT = re.compile(rb"(?<![\w.+-])-?\d+\.\d+(?:[EeDd][+-]?\d+)?(?![\w.])")
#: ZVAL of the H2O Bader fixture's PAW potentials (H: 1, O: 6 valence electrons).
H2O_ZVAL = {"H": 1.0, "O": 6.0}


@dataclass
class RunCase:
    """One intact fixture run: where it is, how it is parsed, which files are mutated."""

    name: str
    kind: str  # "vasp", "cp2k", "lammps_log", "acf"
    source: str  # relative to the fixture directory
    task: str
    role: str = "slab"
    rename: dict[str, str] = field(default_factory=dict)  # fixture file -> run-dir name
    mutate: tuple[str, ...] = ()  # run-dir names (uncompressed) to mutate
    foreign: dict[str, str] = field(default_factory=dict)  # run-dir name -> other fixture file
    drop: tuple[str, ...] = ()  # fixture files not copied
    label_metal: tuple[str, ...] = ()  # elements labelled "metal" (band centres)
    bader: bool = False
    light: bool = False  # fewer mutants (slow parses): keeps CI fast


RUNS = [
    RunCase(
        "au_mol_static", "vasp", "vasp/adsorption_o_on_au100_slab_atomate2/mol_static",
        "static", "molecule", mutate=("vasprun.xml", "OUTCAR", "CONTCAR"),
        foreign={"vasprun.xml": "vasp/adsorption_o_on_au100_slab_atomate2/mol_relax/vasprun.xml.gz",
                 "OUTCAR": "vasp/adsorption_o_on_au100_slab_atomate2/slab_static/OUTCAR.gz"},
    ),
    RunCase(
        "au_slab_static", "vasp", "vasp/adsorption_o_on_au100_slab_atomate2/slab_static",
        "static", "slab", mutate=("vasprun.xml",), label_metal=("Au",), light=True,
        foreign={"vasprun.xml": "vasp/adsorption_o_on_au100_slab_atomate2/ads_static_1_3/vasprun.xml.gz"},
    ),
    RunCase(
        "au_mol_relax", "vasp", "vasp/adsorption_o_on_au100_slab_atomate2/mol_relax",
        "relax", "molecule", mutate=("vasprun.xml", "OUTCAR", "CONTCAR"),
    ),
    RunCase(
        "nacl_lobster", "vasp", "lobster/nacl_lobster511_custodian", "static", "bulk",
        mutate=("ICOHPLIST.lobster", "vasprun.xml"),
        foreign={"ICOHPLIST.lobster": "lobster/fe_bcc_spin_polarized_atomate2/ICOHPLIST.lobster.gz"},
    ),
    RunCase(
        "fe_lobster", "vasp", "lobster/fe_bcc_spin_polarized_atomate2", "static", "bulk",
        mutate=("ICOHPLIST.lobster",), light=True,
        foreign={"ICOHPLIST.lobster": "lobster/nacl_lobster511_custodian/ICOHPLIST.lobster"},
    ),
    RunCase(
        "k4sn4o6_doscar", "vasp", "vasp/k4sn4o6_ispin2_static_doscar_custodian", "static", "bulk",
        drop=("vasprun.xml.gz", "PROCAR.gz", "EIGENVAL"), mutate=("DOSCAR", "OUTCAR"),
        label_metal=("Sn",),
    ),
    RunCase(
        "h2o_outcar_relax", "vasp", "vasp/h2o_molecule_in_box_relax_outcar_pyiron", "relax",
        "molecule", mutate=("OUTCAR",),
    ),
    RunCase("lih_r2scan", "vasp", "bader/lih_rocksalt_chgcar_r2scan_atomate_v1", "relax", "bulk",
            drop=("CHGCAR.gz", "INCAR"), mutate=("vasprun.xml", "CONTCAR", "OUTCAR")),
    RunCase("v4o10_unconverged", "vasp", "vasp_errors/electronic_unconverged_custodian", "relax",
            "bulk", mutate=("vasprun.xml",), light=True),
    RunCase("max_force", "vasp", "vasp_errors/max_force_custodian", "relax", "bulk",
            mutate=("vasprun.xml",)),
    RunCase("real_optlay", "vasp", "vasp_errors/real_optlay_large_cell_custodian", "relax",
            "bulk", mutate=()),
    RunCase("edddav_aborted", "vasp", "vasp_errors/edddav_zhegv_aborted_tin_ni_pyiron", "relax",
            "slab", mutate=()),
    RunCase("h2o_acf", "acf", "bader/h2o_molecule_acf_pyiron", "static", "molecule",
            drop=("AECCAR0.gz", "AECCAR2.gz"), mutate=("ACF.dat",)),
    RunCase("si_cp2k_static", "cp2k", "cp2k/si_static_density_cube_atomate2", "static", "bulk",
            drop=("CP2K-ELECTRON_DENSITY-1_0.cube",), mutate=("cp2k.out",),
            foreign={"cp2k.out": "cp2k/scf_error_outputs_custodian/cp2k.out.unconverged"}),
    RunCase("c2h4_cp2k_geo_opt", "cp2k", "cp2k/c2h4_molecule_geo_opt_cp2k2024_aiida", "geo_opt",
            "molecule", rename={"GEO_OPT_v2024.3.out.gz": "cp2k.out"}, mutate=("cp2k.out",),
            foreign={"cp2k.out": "cp2k/si_static_density_cube_atomate2/cp2k.out"}),
    RunCase("rutile_cp2k_geo_opt", "cp2k", "cp2k/rutile110_water_slab_geo_opt_cp2kdata",
            "geo_opt", "slab", rename={"cp2k.out.gz": "cp2k.out"}, mutate=("cp2k.out",)),
    RunCase("li6ps5cl_cp2k_aimd", "cp2k", "cp2k/li6ps5cl_aimd_npt_cp2kdata", "aimd", "bulk",
            rename={"output.gz": "cp2k.out"}, drop=("system-pos-1.xyz",), mutate=("cp2k.out",)),
    RunCase("cp2k_scf_unconverged", "cp2k", "cp2k/scf_error_outputs_custodian", "static", "bulk",
            rename={"cp2k.out.unconverged": "cp2k.out"}, mutate=("cp2k.out",),
            drop=("cp2k.out.cholesky", "cp2k.out.hybrid", "cp2k.out.imprecise", "std_err.txt")),
    RunCase("cp2k_scf_stalled", "cp2k", "cp2k/scf_error_outputs_custodian", "static", "bulk",
            rename={"cp2k.out.imprecise": "cp2k.out"}, mutate=(),
            drop=("cp2k.out.cholesky", "cp2k.out.hybrid", "cp2k.out.unconverged", "std_err.txt")),
    RunCase("peo_lammps_log", "lammps_log", "lammps/peo_polymer_npt_atomate_v1", "md", "box",
            rename={"peo.log": "log.lammps"}, mutate=("log.lammps",),
            drop=("peo.dcd", "peo.dump", "peo.data", "log.lammps")),
]  # fmt: skip


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".gz":
        return gzip.decompress(data)
    if path.suffix == ".bz2":
        return bz2.decompress(data)
    return data


def copy_run(fixtures: Path, case: RunCase, dest: Path) -> Path:
    """The intact run directory (files uncompressed where they are mutated)."""
    dest.mkdir(parents=True)
    for src in sorted((fixtures / case.source).iterdir()):
        if src.name in case.drop or not src.is_file():
            continue
        name = case.rename.get(src.name, src.name)
        suffix = src.suffix if src.suffix in (".gz", ".bz2") else ""
        plain = name.removesuffix(suffix) if suffix else name
        if suffix and (not name.endswith(suffix) or plain in case.mutate):
            (dest / plain).write_bytes(read_bytes(src))
        else:
            shutil.copy2(src, dest / name)
    return dest


def _cp2k_structure(text: str) -> Molecule | None:
    """Species and first coordinates of a CP2K output (ATOMIC COORDINATES block), if any."""
    start = re.search(r"ATOMIC COORDINATES IN (?:angstrom|ANGSTROM)", text)
    if start is None:
        return None
    species, coords = [], []
    for line in text[start.end() :].splitlines()[3:]:
        parts = line.split()
        if not parts:
            if species:
                break
            continue
        if not parts[0].isdigit():
            break
        species.append(parts[2])
        coords.append([float(x) for x in parts[4:7]])
    return Molecule(species, coords)


def make_calc(case: RunCase, run_dir: Path, calc_id: str) -> Calculation:
    """The planned calculation: the structure is the run's input (POSCAR / CP2K coordinates)."""
    structure: Any = None
    if case.kind == "cp2k":
        structure = _cp2k_structure((run_dir / "cp2k.out").read_text(errors="replace"))
    elif case.kind in ("vasp", "acf"):
        for name in ("POSCAR", "POSCAR.gz"):
            if (run_dir / name).exists():
                structure = Structure.from_file(run_dir / name)
                break
    if structure is not None:
        labels = ["metal" if site.specie.symbol in case.label_metal else "" for site in structure]
        structure.add_site_property("label", labels)
    engine = {"acf": "vasp", "lammps_log": "lammps"}.get(case.kind, case.kind)
    labels = {"bader": True} if case.bader else {}
    return Calculation(
        calc_id, "corrupt", engine, case.task, case.role, structure, labels=labels
    )


def parse_acf_run(calc: Calculation, run_dir: Path) -> ParsedResult:
    """Bader charges of an ``ACF.dat`` (as the VASP engine stores Bader charges)."""
    from lisflow.parsers.bader import read_acf

    result = read_acf(run_dir / "ACF.dat", structure=calc.structure, zval=H2O_ZVAL)
    charges = [{**r, "method": "acf", "label": ""} for r in result.to_records()]
    return ParsedResult(n_atoms=len(result.sites), charges=charges)


def parse_lammps_log_run(calc: Calculation, run_dir: Path) -> ParsedResult:
    """Energy and thermo series of a LAMMPS log, as the LAMMPS engine reads them."""
    from lisflow.engines import lammps
    from lisflow.errors import ParseError
    from lisflow.parsers.lammps_log import parse_log

    log = parse_log(run_dir / "log.lammps")
    if log.errors:
        raise ParseError(run_dir / "log.lammps", f"LAMMPS stopped with {log.errors[0]}")
    return lammps.result_from_logs([log], run_dir)


class NoRunEngine:
    """The real engine's ``parse``/``final_structure``; ``run`` does nothing."""

    def __init__(self, case: RunCase, tag: str) -> None:
        from lisflow.engines.registry import get_engine

        self.tag = tag
        self.name = "vasp" if case.kind == "acf" else get_engine(make_engine_name(case)).name
        inner = get_engine(make_engine_name(case))
        self._parse = {"acf": parse_acf_run, "lammps_log": parse_lammps_log_run}.get(
            case.kind, inner.parse
        )
        if case.kind == "vasp" and hasattr(inner, "final_structure"):
            self.final_structure = inner.final_structure

    def write_inputs(self, calc: Calculation, directory: Path) -> list[str]:
        (directory / "case.txt").write_text(self.tag)  # a distinct input hash per mutant
        return ["case.txt"]

    def run(self, calc: Calculation, directory: Path, walltime_s: float | None = None) -> None:
        return None

    def parse(self, calc: Calculation, directory: Path) -> ParsedResult:
        return self._parse(calc, directory)


def make_engine_name(case: RunCase) -> str:
    return {"acf": "vasp", "lammps_log": "lammps"}.get(case.kind, case.kind)


# --- mutants ---------------------------------------------------------------------------------


def _selective_dynamics(data: bytes) -> bytes | None:
    from pymatgen.io.vasp import Poscar

    try:
        poscar = Poscar.from_str(data.decode())
    except Exception:
        return None
    flags = [[i % 2 == 0] * 3 for i in range(len(poscar.structure))]
    return Poscar(poscar.structure, selective_dynamics=flags).get_str().encode()


def mutants(
    case: RunCase, run_dir: Path, fixtures: Path, seed: int
) -> list[tuple[str, str, bytes]]:
    """(label, run-dir file name, new bytes) of every mutant of ``case``."""
    rng = random.Random(f"{seed}:{case.name}")
    out: list[tuple[str, str, bytes]] = []
    for name in case.mutate:
        data = (run_dir / name).read_bytes()
        for fraction in (0.5, 0.95) if case.light else TRUNCATIONS:
            out.append((f"{name}:truncate{fraction}", name, data[: int(len(data) * fraction)]))
        out.append((f"{name}:empty", name, b""))
        start = rng.randrange(len(data) // 4, max(len(data) // 4 + 1, len(data) - 64))
        junk = bytes(rng.choice(list(range(0x80, 0x100)) + [0]) for _ in range(48))
        out.append((f"{name}:garbage@{start}", name, data[:start] + junk + data[start + 48 :]))
        numbers = list(_FLOAT.finditer(data))
        energy = [m for m in numbers if b"energy" in _line_of(data, m.start()).lower()]
        picks = ([energy[-1]] if energy else []) + rng.sample(numbers, min(2, len(numbers)))
        picks = picks[:1] if case.light else picks
        for k, match in enumerate(picks):
            bad = NON_FINITE[k % len(NON_FINITE)].encode()
            mutated = data[: match.start()] + bad + data[match.end() :]
            out.append((f"{name}:{bad.decode()}@{match.start()}", name, mutated))
        lines = data.splitlines(keepends=True)
        if len(lines) > 8:
            i = rng.randrange(len(lines) // 3, len(lines) - 2)
            if not case.light:
                out.append((f"{name}:delete-line{i}", name, b"".join(lines[:i] + lines[i + 1 :])))
            j = len(lines) // 2
            cut = lines[:j] + lines[j + max(1, len(lines) // 10) :]
            out.append((f"{name}:delete-block{j}", name, b"".join(cut)))
        if name in case.foreign:
            other = read_bytes(fixtures / case.foreign[name])
            out.append((f"{name}:foreign", name, other))
        if name == "CONTCAR" and (sd := _selective_dynamics(data)) is not None:
            out.append((f"{name}:selective-dynamics", name, sd))
    return out


def _line_of(data: bytes, pos: int) -> bytes:
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    return data[start : end if end >= 0 else len(data)]


# --- running and judging ---------------------------------------------------------------------


def stored_values(store, calc_id: str) -> dict[str, Any] | None:
    """State, reason, energy and every child row of ``calc_id`` (None if no row)."""
    with store.transaction(write=False) as session:
        row = session.scalar(select(s.CalculationRow).where(s.CalculationRow.calc_id == calc_id))
        if row is None:
            return None
        out: dict[str, Any] = {
            "state": row.state,
            "reason": row.state_reason,
            "energy_ev": row.energy_ev,
            "energy_per_atom_ev": row.energy_per_atom_ev,
        }
        for name in CHILD_TABLES:
            table = s.TABLES[name]
            columns = [
                c.name for c in table.__table__.columns if c.name not in ("id", "calculation_id")
            ]
            rows = session.execute(select(table).where(table.calculation_id == row.id)).scalars()
            out[name] = sorted(tuple(repr(getattr(r, c)) for c in columns) for r in rows)
        return out


def run_firetask(
    case: RunCase, run_dir: Path, calc: Calculation, db_url: str, monkeypatch
) -> Exception | None:
    """Run the real RunCalculationTask on ``run_dir``; the exception it raised, if any."""
    from lisflow.engines import registry
    from lisflow.workflows.firetasks import RunCalculationTask

    engine = NoRunEngine(case, calc.calc_id)
    with monkeypatch.context() as patch:
        patch.chdir(run_dir)
        patch.setattr(registry, "get_engine", lambda *a, **k: engine)
        task = RunCalculationTask(calc=calc_to_dict(calc), db_url=db_url)
        try:
            task.run_task({})
        except Exception as exc:  # noqa: BLE001 - classified by the caller
            return exc
    return None


def judge(
    intact: dict[str, Any] | None,
    got: dict[str, Any] | None,
    exc: Exception | None,
    files: list[str],
) -> str:
    """Outcome of one mutant (module docstring)."""
    values = ("energy_ev", "energy_per_atom_ev", *CHILD_TABLES)
    if exc is not None and not isinstance(exc, LisflowError):
        return "traceback"
    if got is not None and got["state"] == "COMPLETED":
        if intact is None or intact["state"] != "COMPLETED" or exc is not None:
            return "wrong"
        return "accepted" if all(got[k] == intact[k] for k in values) else "wrong"
    if got is not None and (got["energy_ev"] is not None or any(got[t] for t in CHILD_TABLES)):
        return "wrong"
    if exc is None or got is None or got["state"] not in ("FAILED", "PARSE_ERROR"):
        return "unrecorded"
    reason = got["reason"] or ""
    return "refused" if any(name in reason for name in files) else "unrecorded"


def corruption_run(
    case: RunCase,
    fixtures: Path,
    tmp: Path,
    db_url: str,
    monkeypatch,
    seed: int = 10,
    limit: int | None = None,
) -> tuple[Counter, list[str]]:
    """Run the intact run and all its mutants; (outcome counts, descriptions of bad outcomes)."""
    from lisflow.db.store import ResultStore

    intact_dir = copy_run(fixtures, case, tmp / case.name / "intact")
    files = sorted({p.name.removesuffix(".gz") for p in intact_dir.iterdir()} | {"cp2k.out"})
    store = ResultStore(db_url)
    intact_id = f"corrupt/{case.name}/intact"
    planned = make_calc(case, intact_dir, intact_id)
    intact_exc = run_firetask(case, intact_dir, planned, db_url, monkeypatch)
    intact = stored_values(store, intact_id)
    counts: Counter = Counter()
    bad: list[str] = []
    outcome = judge(intact, intact, intact_exc, files)
    counts[outcome] += 1
    if outcome not in ("accepted", "refused"):
        bad.append(f"{case.name}:intact -> {outcome}: {intact_exc!r} {intact and intact['reason']}")
    if intact is not None and intact["state"] != "COMPLETED":
        intact = None
    cases = mutants(case, intact_dir, fixtures, seed)
    for k, (label, name, data) in enumerate(cases[:limit]):
        run_dir = tmp / case.name / f"m{k}"
        shutil.copytree(
            intact_dir, run_dir, ignore=shutil.ignore_patterns("case.txt", "lisflow_*", "final_*")
        )
        (run_dir / name).write_bytes(data)
        calc_id = f"corrupt/{case.name}/m{k}"
        calc = copy.deepcopy(planned)
        calc.calc_id = calc_id
        exc = run_firetask(case, run_dir, calc, db_url, monkeypatch)
        got = stored_values(store, calc_id)
        outcome = judge(intact, got, exc, files)
        if label.endswith("selective-dynamics") and outcome != "accepted":
            outcome = "traceback" if outcome == "refused" else outcome  # must be stored
        counts[outcome] += 1
        if outcome not in ("accepted", "refused"):
            bad.append(
                f"{case.name}:{label} -> {outcome}: {exc!r:.300} {got and got['reason']!r:.200}"
            )
    store.close()
    return counts, bad
