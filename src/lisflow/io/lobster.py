"""LOBSTER input (lobsterin) with pymatgen's standard settings.

``Lobsterin.standard_calculations_from_vasp_files(option="standard")`` (pymatgen
``pymatgen.io.lobster.inputs``): basisSet pbeVaspFit2015, COHPstartEnergy −35 eV,
COHPendEnergy 5 eV, cohpGenerator "from 0.1 to 6.0 orbitalwise", saveProjectionToFile, and
gaussianSmearingWidth = SIGMA when ISMEAR = 0. Basis functions per POTCAR symbol come from
pymatgen's ``lobster_basis/BASIS_PBE_54_standard.yaml`` (``Lobsterin.get_basis``), as
pymatgen's ``LobsterSet`` uses them; NBANDS for the VASP static is the number of those basis
functions (``LobsterSet.incar_updates``), so that LOBSTER can project every band it needs.
"""

from __future__ import annotations

import functools
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pymatgen.core import Structure
from pymatgen.io.vasp import Incar

from lisflow.calculation import Calculation, InputSet
from lisflow.errors import InputError
from lisflow.io.vasp import VaspInputGenerator


@dataclass(frozen=True)
class LobsterInputs(InputSet):
    """The typed input set of a LOBSTER run: ``vasp`` the input set of the static it runs on
    (its INCAR decides the lobsterin), ``parent_run_dir`` that static's run directory (set
    when the Firework runs, from the parent's output)."""

    vasp: VaspInputGenerator
    parent_run_dir: str | None = None

    def key_parameters(self, calc: Calculation) -> dict[str, Any]:
        """The static's preset, task and role (the dry-run manifest)."""
        return {"preset": self.vasp.preset_name, "task": self.vasp.task, "role": self.vasp.role}


def basis_functions(structure: Structure, potcar_symbols: list[str]) -> dict[str, str]:
    """Element -> LOBSTER basis functions (pymatgen's standard pbeVaspFit2015 table)."""
    try:
        lines = _basis_lines(frozenset(structure.symbol_set), tuple(potcar_symbols))
    except ValueError as exc:
        raise InputError("potcar_symbols", f"no LOBSTER basis: {exc}") from exc
    return dict(line.split(" ", 1) for line in lines)


@functools.lru_cache(maxsize=256)
def _basis_lines(elements: frozenset[str], potcar_symbols: tuple[str, ...]) -> tuple[str, ...]:
    """``Lobsterin.get_basis`` once per (elements, POTCAR symbols): it parses pymatgen's
    whole basis YAML on every call (~80 ms) and reads nothing of the structure but its
    element set."""
    from pymatgen.io.lobster import Lobsterin

    stand_in = SimpleNamespace(symbol_set=tuple(sorted(elements)))
    return tuple(
        Lobsterin.get_basis(structure=stand_in, potcar_symbols=list(potcar_symbols))  # type: ignore[arg-type]
    )


def lobster_nbands(structure: Structure, potcar_symbols: list[str]) -> int:
    """Number of LOBSTER basis functions of the cell (NBANDS of the static, pymatgen LobsterSet)."""
    from pymatgen.io.lobster import Lobsterin

    basis = [f"{el} {funcs}" for el, funcs in basis_functions(structure, potcar_symbols).items()]
    return int(Lobsterin({"basisfunctions": basis})._get_nbands(structure=structure))


def lobsterin_text(structure: Structure, incar: dict[str, Any], potcar_symbols: list[str]) -> str:
    """The lobsterin of pymatgen's "standard" option for this structure and INCAR.

    With the basis given, pymatgen reads nothing of the structure and only ISMEAR and SIGMA
    of the INCAR (``Lobsterin.standard_calculations_from_vasp_files``), so the text is made
    once per (basis, ISMEAR, SIGMA)."""
    basis = basis_functions(structure, potcar_symbols)
    smearing = tuple((key, incar[key]) for key in sorted(incar) if key.upper() in _SMEARING)
    return _standard_lobsterin(tuple(basis.items()), _hashable(smearing))


#: The only INCAR tags ``standard_calculations_from_vasp_files`` reads.
_SMEARING = ("ISMEAR", "SIGMA")


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


@functools.lru_cache(maxsize=64)
def _standard_lobsterin(basis: tuple[tuple[str, str], ...], smearing: tuple) -> str:
    """pymatgen's standard lobsterin for ``basis`` (element, functions) and the INCAR tags
    ``smearing``, through its own file reader and writer (so its INCAR value parsing holds)."""
    from pymatgen.io.lobster import Lobsterin

    with tempfile.TemporaryDirectory() as tmp:
        incar_file, out = Path(tmp) / "INCAR", Path(tmp) / "lobsterin"
        Incar(dict(smearing)).write_file(incar_file)
        with warnings.catch_warnings():  # "Always check and test the provided basis functions"
            warnings.simplefilter("ignore")
            lobsterin = Lobsterin.standard_calculations_from_vasp_files(
                str(Path(tmp) / "POSCAR"),  # not read: the basis is given
                str(incar_file),
                dict_for_basis=dict(basis),
                option="standard",
            )
        lobsterin.write_lobsterin(str(out))
        return out.read_text()


def read_lobsterin(text: str) -> dict[str, Any]:
    """Keyword (lower case) -> value of a lobsterin: ``True`` for a bare flag, the rest of the
    line otherwise, a list for repeated keywords (``basisfunctions``); comments dropped."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        line = line.split("!")[0].split("#")[0].strip()
        if not line:
            continue
        key, _, rest = line.partition(" ")
        key = key.lower()
        value: str | bool = " ".join(rest.split()) or True
        if key in out:
            out[key] = [*(out[key] if isinstance(out[key], list) else [out[key]]), value]
        else:
            out[key] = value
    return out
