"""Bader charges of the Mo4/N-G electrode from a CP2K single point (re-runnable).

Builds ``lisflow.structures.support.mo_ngraphene(4)`` (the 114-atom DFT cell of paper 000,
Methods DFT: 106 C + 4 N + 4 Mo, 17.09 x 17.22 x 22 A; builder geometry, not relaxed), runs a
CP2K ENERGY single point that writes the valence electron density cube (&E_DENSITY_CUBE),
partitions it with baderkit and writes ``mo4ng_bader_cp2k.json`` next to this script.

    python inputs/electrode_charges/make_mo4ng_charges.py [--workdir DIR] [--skip-run]

Settings (affordable on one core; stated in the JSON): Quickstep GPW, PBE, GTH-PBE
pseudopotentials, SZV-MOLOPT-SR-GTH basis (paper 000: DZVP; too slow on the 2 shared
cores here), CUTOFF 200 Ry / REL_CUTOFF 30,
Gamma point, closed shell, diagonalisation with Fermi-Dirac smearing (300 K) and Broyden
mixing (alpha 0.15, Kerker beta 1.5), EPS_SCF 1e-4 (SCF_GUESS RESTART: a .wfn left in the
work directory by an earlier attempt is reused). Net charge = GTH valence (qN) - Bader
electrons.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT_JSON = HERE / "mo4ng_bader_cp2k.json"
PROJECT = "mo4ng"
CUTOFF_RY, REL_CUTOFF_RY = 200, 30
BASIS = "SZV-MOLOPT-SR-GTH"
SMEAR_K = 300.0
EPS_SCF = 1.0e-4  # Bader charges are reported to 0.01 e; the density converges far below that
CUBE_STRIDE = 2  # every 2nd grid point: ~0.23 A voxels, 75 x 75 x 96 (Bader in minutes here)
MIX_ALPHA = 0.15  # alpha 0.3 without Kerker damping oscillated at ~1e-3 (first attempt)


def cp2k_input(structure) -> str:
    from lisflow.io.cp2k import render

    kinds = [
        {"_": el, "ELEMENT": el, "BASIS_SET": BASIS, "POTENTIAL": "GTH-PBE"}
        for el in sorted({s.specie.symbol for s in structure})
    ]
    coords = [f"{s.specie.symbol} {x:.10f} {y:.10f} {z:.10f}" for s in structure for x, y, z in [s.coords]]
    m = structure.lattice.matrix
    sections = {
        "GLOBAL": {"PROJECT": PROJECT, "RUN_TYPE": "ENERGY", "PRINT_LEVEL": "MEDIUM"},
        "FORCE_EVAL": {
            "METHOD": "QUICKSTEP",
            "DFT": {
                "BASIS_SET_FILE_NAME": "BASIS_MOLOPT",
                "POTENTIAL_FILE_NAME": "GTH_POTENTIALS",
                "MGRID": {"CUTOFF": CUTOFF_RY, "REL_CUTOFF": REL_CUTOFF_RY, "NGRIDS": 4},
                "QS": {"METHOD": "GPW", "EPS_DEFAULT": 1.0e-10},
                "SCF": {
                    "EPS_SCF": EPS_SCF,
                    "MAX_SCF": 300,
                    "SCF_GUESS": "RESTART",  # CP2K falls back to ATOMIC without a .wfn
                    "ADDED_MOS": 60,
                    "DIAGONALIZATION": {"ALGORITHM": "STANDARD"},
                    "SMEAR": {"_": "ON", "METHOD": "FERMI_DIRAC", "ELECTRONIC_TEMPERATURE": SMEAR_K},
                    "MIXING": {
                        "METHOD": "BROYDEN_MIXING",
                        "ALPHA": MIX_ALPHA,
                        "BETA": 1.5,
                        "NBROYDEN": 8,
                    },
                },
                "XC": {"XC_FUNCTIONAL": {"_": "PBE"}},
                "PRINT": {
                    "E_DENSITY_CUBE": {"STRIDE": CUBE_STRIDE},
                    "MULLIKEN": {"_": "ON"},
                    "HIRSHFELD": {"_": "ON"},
                },
            },
            "SUBSYS": {
                "CELL": {"A": tuple(float(v) for v in m[0]), "B": tuple(float(v) for v in m[1]), "C": tuple(float(v) for v in m[2]), "PERIODIC": "XYZ"},
                "COORD": {"_lines": coords},
                "KIND": kinds,
            },
        },
    }
    return render(sections) + "\n"


def run(workdir: Path, skip_run: bool) -> dict:
    from lisflow.analysis.cube_bader import bader_from_cube
    from lisflow.io.cp2k import GTH_VALENCE
    from lisflow.structures.support import mo_ngraphene

    structure = mo_ngraphene(4)
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "cp2k.out"
    if not skip_run:
        (workdir / "cp2k.inp").write_text(cp2k_input(structure))
        t0 = time.time()
        with out.open("w") as handle:
            subprocess.run(["cp2k.psmp", "-i", "cp2k.inp"], cwd=workdir, stdout=handle, check=True)
        print(f"cp2k finished in {time.time() - t0:.0f} s", file=sys.stderr)
    text = out.read_text()
    if "PROGRAM ENDED" not in text:
        raise SystemExit(f"{out}: CP2K did not finish")
    if "SCF run NOT converged" in text:
        raise SystemExit(f"{out}: SCF not converged; no charges written")
    version = re.search(r"CP2K\| version string:\s+(.*)", text).group(1).strip()
    energy = float(re.findall(r"ENERGY\| Total FORCE_EVAL \( QS \) energy \[a\.u\.\]:\s+(\S+)", text)[-1])
    n_scf = int(re.findall(r"SCF run converged in\s+(\d+) steps", text)[-1])
    cube = workdir / f"{PROJECT}-ELECTRON_DENSITY-1_0.cube"
    bader = bader_from_cube(cube, {el: float(q) for el, q in GTH_VALENCE.items()})
    labels = structure.site_properties["label"]
    sites = []
    for i, (site, b) in enumerate(zip(structure, bader.sites, strict=True)):
        if b.element != site.specie.symbol:
            raise SystemExit(f"site {i}: cube has {b.element}, structure {site.specie.symbol}")
        sites.append(
            {
                "site_index": i,
                "element": site.specie.symbol,
                "label": labels[i],
                "xyz": [round(float(v), 6) for v in site.coords],
                "bader_electrons": round(b.valence_electrons, 5),
                "charge": round(b.net_charge, 5),
            }
        )
    mo_total = sum(s["charge"] for s in sites if s["element"] == "Mo")
    record = {
        "what": "Bader net charges (e) of the Mo4/N-G DFT cell (lisflow mo_ngraphene(4))",
        "method": "CP2K single point -> valence electron density cube -> baderkit "
        "(neargrid-weight) with a reference density = valence + Gaussian core peaks at the "
        "nuclei (sigma 0.3 A; lisflow.analysis.cube_bader); net charge = GTH valence qN - "
        "Bader electrons",
        "cp2k_version": version,
        "settings": {
            "xc": "PBE",
            "basis": BASIS,
            "potential": "GTH-PBE",
            "cutoff_ry": CUTOFF_RY,
            "rel_cutoff_ry": REL_CUTOFF_RY,
            "kpoints": "Gamma",
            "spin": "restricted (closed shell)",
            "scf": f"diagonalisation, Fermi-Dirac smearing {SMEAR_K} K, Broyden mixing alpha "
            f"{MIX_ALPHA} beta 1.5, EPS_SCF {EPS_SCF:g}",
            "geometry": "lisflow builder geometry (not relaxed)",
            "density_cube": f"valence density, E_DENSITY_CUBE STRIDE {CUBE_STRIDE}",
        },
        "cell": [round(float(x), 6) for x in structure.lattice.abc],
        "energy_hartree": energy,
        "scf_steps": n_scf,
        "total_bader_electrons": round(bader.total_electrons, 4),
        "n_valence_electrons": sum(GTH_VALENCE[s.specie.symbol] for s in structure),
        "mo_total_charge": round(mo_total, 4),
        "paper_mo_centre_charge": 7.37,
        "paper_source": "Zhou et al., Nature 621, 75 (2023), Fig. 4e caption / Suppl. Fig. 31c",
        "sites": sites,
    }
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/lisflow-mo4ng-cp2k"))
    parser.add_argument("--skip-run", action="store_true", help="reuse cp2k.out and the cube")
    args = parser.parse_args()
    record = run(args.workdir, args.skip_run)
    tmp = OUT_JSON.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    tmp.replace(OUT_JSON)
    print(f"Mo total {record['mo_total_charge']:+.3f} e (paper 000: +7.37 e) -> {OUT_JSON}")


if __name__ == "__main__":
    main()
