"""Layer-resolved Bader charges of the polysulfide ions of the AIMD model (paper 000, ED Fig.
8g: "internal, middle and external layers" by lateral distance from the Mo centre).

An ion is the S6 of one Li2S6 unit (site property ``molecule`` = ``Li2S6:<k>``, element S);
its charge is the sum of the Bader net charges of its six S (e). Its lateral distance is the
x–y minimum-image distance (Å) of its S centroid from the centroid of the Mo atoms. Ions are
ranked by that distance and split into three layers of (as nearly as possible) equal size:
internal, middle, external (paper 000 gives no distance thresholds; 3 Li2S6 give one ion per
layer). Cubes are CP2K ``<project>-ELECTRON_DENSITY-1_<step>.cube`` written every N MD steps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lisflow.errors import InputError, ParseError

LAYERS = ("internal", "middle", "external")
_STEP = re.compile(r"ELECTRON_DENSITY-1_(\d+)\.cube$")


def polysulfide_ions(structure) -> dict[str, list[int]]:
    """``Li2S6:<k>`` → indices of its S atoms (needs site property ``molecule``)."""
    groups = structure.site_properties.get("molecule")
    if groups is None:
        raise InputError("structure", "no 'molecule' site property (AIMD model sites)")
    ions: dict[str, list[int]] = {}
    for i, (site, group) in enumerate(zip(structure, groups, strict=True)):
        if str(group).startswith("Li2S6:") and site.specie.symbol == "S":
            ions.setdefault(str(group), []).append(i)
    return ions


def layer_charges(structure, net_charges: Sequence[float]) -> dict[str, dict]:
    """Per layer: ions, their lateral distances (Å) and charges (e), and the layer mean (e)."""
    if len(net_charges) != len(structure):
        raise InputError("charges", f"{len(net_charges)} charges for {len(structure)} sites")
    mo = [i for i, s in enumerate(structure) if s.specie.symbol == "Mo"]
    if not mo:
        raise InputError("structure", "no Mo atoms: the Mo centre is undefined")
    ions = polysulfide_ions(structure)
    if len(ions) < len(LAYERS):
        raise InputError("structure", f"{len(ions)} polysulfide ions, need >= {len(LAYERS)}")
    lattice = structure.lattice
    ab = np.array([lattice.a, lattice.b])
    centre = structure.cart_coords[mo, :2].mean(axis=0)
    q = np.asarray(net_charges, float)
    rows = []
    for name, idx in ions.items():
        xy = structure.cart_coords[idx, :2]
        xy = xy[0] + (xy - xy[0] - ab * np.round((xy - xy[0]) / ab))  # unwrap the ion in x, y
        d = xy.mean(axis=0) - centre
        d -= ab * np.round(d / ab)
        rows.append((float(np.hypot(*d)), name, float(q[idx].sum())))
    rows.sort()
    bounds = np.array_split(np.arange(len(rows)), len(LAYERS))
    out = {}
    for layer, members in zip(LAYERS, bounds, strict=True):
        chosen = [rows[k] for k in members]
        out[layer] = {
            "ions": [r[1] for r in chosen],
            "lateral_distance_a": [r[0] for r in chosen],
            "charges_e": [r[2] for r in chosen],
            "mean_charge_e": float(np.mean([r[2] for r in chosen])),
        }
    return out


def cube_step(path: str | Path) -> int:
    """MD step of a CP2K density cube from its file name."""
    match = _STEP.search(str(path))
    if match is None:
        raise InputError("cube", f"{path} is not a CP2K ELECTRON_DENSITY-1_<step>.cube")
    return int(match.group(1))


def layer_series(structure, cubes: Sequence[Path], timestep_fs: float, valence: dict) -> dict:
    """``("aimd_layers", "q_<layer>")`` → (t ps, mean ion charge e, "ps", "e") over the
    cubes (each partitioned with baderkit; the cube's own atom positions are used)."""
    from pymatgen.core import Structure

    from lisflow.analysis.cube_bader import bader_from_cube

    times: list[float] = []
    values: dict[str, list[float]] = {layer: [] for layer in LAYERS}
    for cube in sorted(cubes, key=cube_step):
        result = bader_from_cube(cube, valence)
        frame = Structure(
            structure.lattice,
            [s.specie for s in structure],
            _cube_positions(cube, len(structure)),
            coords_are_cartesian=True,
            site_properties={"molecule": structure.site_properties["molecule"]},
        )
        charges = [s.net_charge for s in result.sites]
        if any(q is None for q in charges):
            raise ParseError(cube, "Bader partition left an atom without a net charge")
        layers = layer_charges(frame, [q for q in charges if q is not None])
        times.append(cube_step(cube) * timestep_fs / 1000.0)
        for layer in LAYERS:
            values[layer].append(layers[layer]["mean_charge_e"])
    return {
        ("aimd_layers", f"q_{layer}"): (np.array(times), np.array(values[layer]), "ps", "e")
        for layer in LAYERS
    }


def _cube_positions(cube: Path, n_atoms: int) -> np.ndarray:
    """Atom positions (Å) from a Gaussian cube header (bohr)."""
    bohr = 0.529177210903  # Å, CODATA 2018
    lines = Path(cube).read_text().splitlines()[: 6 + n_atoms]
    n = abs(int(lines[2].split()[0]))
    if n != n_atoms:
        raise InputError("cube", f"{cube} has {n} atoms, the model {n_atoms}")
    return np.array([[float(w) for w in ln.split()[2:5]] for ln in lines[6 : 6 + n]]) * bohr
