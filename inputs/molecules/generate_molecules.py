"""One-off generator of the starting geometries in ``inputs/molecules/*.xyz``.

Run once (``python inputs/molecules/generate_molecules.py``); the xyz files are the committed
data that ``lisflow.structures.molecules.molecule`` loads, so neither this script nor rdkit is a
runtime dependency.

* Polysulfides (Li2S, Li2S2, Li2S4, Li2S6, Li2S8) and S8 are built from standard internal
  coordinates with numpy/scipy only (values and sources in ``POLYSULFIDE_GEOMETRY`` below).
  Li2S_n (n >= 4): an open S_n chain whose dihedrals are chosen (deterministic scipy
  minimisation) so that the two terminal S atoms are ``TERMINAL_SS`` apart; both Li bridge the
  two terminal S atoms, one on each side of the chain (the ring-like Li2S_n monomers of the
  DFT literature on LiPS adsorption: S-S ~2.05-2.10 A, Li-S ~2.3-2.4 A). These are starting
  geometries for DFT relaxation, not minima.
* Electrolyte species (DOL, DME, TFSI) are rdkit ETKDGv3 conformers (random seed 20231001)
  relaxed with MMFF94 (rdkit 2026.09.1, installed in a throwaway venv only for this step).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.optimize import minimize

HERE = Path(__file__).resolve().parent
SEED = 20231001

# Standard geometry of catenated sulfur: S-S 2.05-2.06 A, S-S-S 106-108 deg, torsion ~ 85-100 deg
# (orthorhombic alpha-S8: S-S 2.046-2.055 A, 108.0 deg, torsion 98.5 deg; Rettig & Trotter,
# Acta Cryst. C43, 2260 (1987)).
S8_BOND = 2.05  # A
S8_ANGLE = 108.0  # deg
CHAIN_BOND = 2.07  # A, S-S in Li2S_n chains (PBE values 2.05-2.10 A)
CHAIN_ANGLE = 107.0  # deg
S2_BOND = 2.10  # A, S2(2-) in Li2S2 (slightly longer than S8)
LI_S_BRIDGE = 2.38  # A, Li bridging two S (DFT literature 2.3-2.4 A)
LI_S_TERMINAL = 2.10  # A, Li2S monomer (one S per Li: shorter bond, PBE ~2.09-2.12 A)
LI2S_ANGLE = 110.0  # deg, bent C2v Li2S monomer (starting value)
TERMINAL_SS = 3.45  # A, target S1...Sn distance that both Li can bridge


def _write_xyz(
    name: str, symbols: list[str], xyz: np.ndarray, charge: int, comment: str, out_dir: Path = HERE
) -> None:
    xyz = np.asarray(xyz, float) - np.asarray(xyz, float).mean(axis=0)
    lines = [str(len(symbols)), f"charge={charge} multiplicity=1 source={comment}"]
    lines += [
        f"{s:<2s} {x:12.6f} {y:12.6f} {z:12.6f}" for s, (x, y, z) in zip(symbols, xyz, strict=True)
    ]
    (out_dir / f"{name}.xyz").write_text("\n".join(lines) + "\n")


def _place(a: np.ndarray, b: np.ndarray, c: np.ndarray, bond: float, angle: float, tors: float):
    """Natural-extension reference frame: atom D bonded to C with angle B-C-D and torsion A-B-C-D."""
    bc = c - b
    bc /= np.linalg.norm(bc)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    m = np.cross(n, bc)
    th, ph = np.radians(angle), np.radians(tors)
    d2 = np.array(
        [-bond * np.cos(th), bond * np.sin(th) * np.cos(ph), bond * np.sin(th) * np.sin(ph)]
    )
    return c + d2[0] * bc + d2[1] * m + d2[2] * n


def _chain(n: int, torsions: np.ndarray) -> np.ndarray:
    th = np.radians(CHAIN_ANGLE)
    pts = [np.zeros(3), np.array([CHAIN_BOND, 0, 0])]
    pts.append(pts[1] + CHAIN_BOND * np.array([-np.cos(th), np.sin(th), 0.0]))
    for k in range(3, n):
        pts.append(
            _place(pts[k - 3], pts[k - 2], pts[k - 1], CHAIN_BOND, CHAIN_ANGLE, torsions[k - 3])
        )
    return np.array(pts)


def _li2sn(n: int) -> np.ndarray:
    """S_n chain with terminal S ``TERMINAL_SS`` apart and two Li bridging them."""

    def cost(t: np.ndarray) -> float:
        s = _chain(n, t)
        c = (np.linalg.norm(s[0] - s[-1]) - TERMINAL_SS) ** 2
        for i in range(n):
            for j in range(i + 3, n):
                if (i, j) != (0, n - 1):
                    c += max(0.0, 3.4 - np.linalg.norm(s[i] - s[j])) ** 2
        return c

    start = np.full(n - 3, 80.0)  # same-sign torsions curl the chain towards a ring
    torsions = minimize(
        cost, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-12, "maxiter": 20000}
    ).x
    s = _chain(n, torsions)
    mid = 0.5 * (s[0] + s[-1])
    axis = (s[-1] - s[0]) / np.linalg.norm(s[-1] - s[0])
    inward = s[1:-1].mean(axis=0) - mid
    inward -= inward.dot(axis) * axis
    inward /= np.linalg.norm(inward)
    normal = np.cross(axis, inward)
    h = np.sqrt(LI_S_BRIDGE**2 - (np.linalg.norm(s[-1] - s[0]) / 2) ** 2)
    # Tilt both Li slightly away from the chain interior so they do not touch inner S atoms.
    best = None
    for tilt in np.radians(np.arange(0.0, 80.0, 1.0)):
        li = [mid + h * (np.cos(tilt) * sgn * normal - np.sin(tilt) * inward) for sgn in (1, -1)]
        inner = min(np.linalg.norm(x - y) for x in li for y in s[1:-1])
        if best is None or inner > best[0] + 1e-9:
            best = (inner, li)
        if inner >= 2.9:
            break
    return np.vstack([best[1][0], best[1][1], s])


def build_polysulfides(out_dir: Path = HERE) -> None:
    # Li2S: bent C2v.
    th = np.radians(LI2S_ANGLE / 2)
    li2s = np.array(
        [
            [0, 0, 0],
            [LI_S_TERMINAL * np.sin(th), 0, LI_S_TERMINAL * np.cos(th)],
            [-LI_S_TERMINAL * np.sin(th), 0, LI_S_TERMINAL * np.cos(th)],
        ]
    )
    _write_xyz(
        "Li2S",
        ["S", "Li", "Li"],
        li2s,
        0,
        "internal coordinates (Li-S 2.10 A, Li-S-Li 110 deg, C2v), lisflow generate_molecules.py",
        out_dir,
    )
    # Li2S2: planar rhombus, both Li bridge the S2 unit.
    h = np.sqrt(LI_S_BRIDGE**2 - (S2_BOND / 2) ** 2)
    li2s2 = np.array([[0, h, 0], [0, -h, 0], [-S2_BOND / 2, 0, 0], [S2_BOND / 2, 0, 0]])
    _write_xyz(
        "Li2S2",
        ["Li", "Li", "S", "S"],
        li2s2,
        0,
        "internal coordinates (S-S 2.10 A, Li-S 2.38 A, D2h rhombus), lisflow generate_molecules.py",
        out_dir,
    )
    for n in (4, 6, 8):
        xyz = _li2sn(n)
        _write_xyz(
            f"Li2S{n}",
            ["Li", "Li"] + ["S"] * n,
            xyz,
            0,
            f"internal coordinates (S-S {CHAIN_BOND} A, S-S-S {CHAIN_ANGLE} deg, both Li bridge "
            f"terminal S at {LI_S_BRIDGE} A), lisflow generate_molecules.py",
            out_dir,
        )
    # S8 crown (D4d): ring of radius R, alternate atoms at +-dz.
    r13 = 2 * S8_BOND * np.sin(np.radians(S8_ANGLE / 2))
    radius = r13 / (2 * np.sin(np.pi / 4))
    dz = 0.5 * np.sqrt(S8_BOND**2 - (2 * radius * np.sin(np.pi / 8)) ** 2)
    s8 = np.array(
        [
            [radius * np.cos(k * np.pi / 4), radius * np.sin(k * np.pi / 4), dz * (-1) ** k]
            for k in range(8)
        ]
    )
    _write_xyz(
        "S8",
        ["S"] * 8,
        s8,
        0,
        "D4d crown, S-S 2.05 A, S-S-S 108.0 deg (alpha-S8, Rettig & Trotter Acta Cryst C43 2260 1987)",
        out_dir,
    )
    _write_xyz("Li", ["Li"], np.zeros((1, 3)), 1, "Li+ ion, single atom", out_dir)


def build_electrolyte() -> None:
    from rdkit import Chem, rdBase
    from rdkit.Chem import AllChem

    species = {
        "DOL": ("C1OCCO1", 0, "1,3-dioxolane"),
        "DME": ("COCCOC", 0, "1,2-dimethoxyethane"),
        "TFSI": (
            "FC(F)(F)S(=O)(=O)[N-]S(=O)(=O)C(F)(F)F",
            -1,
            "bis(trifluoromethanesulfonyl)imide anion",
        ),
    }
    for name, (smiles, charge, what) in species.items():
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        params = AllChem.ETKDGv3()
        params.randomSeed = SEED
        AllChem.EmbedMolecule(mol, params)
        ff = "MMFF94"
        if AllChem.MMFFOptimizeMolecule(mol, maxIters=5000) == -1:
            AllChem.UFFOptimizeMolecule(mol, maxIters=5000)
            ff = "UFF"
        conf = mol.GetConformer()
        xyz = np.array([list(conf.GetAtomPosition(i)) for i in range(mol.GetNumAtoms())])
        symbols = [a.GetSymbol() for a in mol.GetAtoms()]
        _write_xyz(
            name,
            symbols,
            xyz,
            charge,
            f"{what}; rdkit {rdBase.rdkitVersion} ETKDGv3 seed {SEED} + {ff} ({smiles})",
        )


if __name__ == "__main__":
    build_polysulfides()
    build_electrolyte()
