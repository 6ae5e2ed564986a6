"""Synthetic trajectories with known answers, for tests and benchmarks.

In-memory universes (MDAnalysis ``MemoryReader``) and a DCD generator shaped like the paper's
dense-phase model: Li2S6 units whose S atoms form compact clusters over an electrode, the rest
of the atoms a random walk.
"""

from __future__ import annotations

from pathlib import Path

import MDAnalysis as mda
import numpy as np
from MDAnalysis.coordinates.memory import MemoryReader

from lisflow.analysis.dcdblock import FORMAT as BLOCK_DCD

#: Dense-phase model box, Å (paper 000, Methods MD / SCIENCE.md dense_phase_md).
DENSE_BOX_A = (172.2, 153.39, 250.0)
#: 3,060 Li2S6 → 18,360 S (SCIENCE.md dense_phase_md).
DENSE_N_S6 = 3060


def memory_universe(
    positions: np.ndarray,
    box: tuple[float, float, float],
    dt_ps: float = 1.0,
    resids: np.ndarray | None = None,
    masses: np.ndarray | None = None,
):
    """Universe over ``positions`` (n_frames × n_atoms × 3, Å) in an orthorhombic ``box``.

    ``resids`` (per atom) defines residues; ``masses`` (per atom) enables mass selections.
    """
    n_frames, n_atoms, _ = positions.shape
    resids = np.arange(n_atoms) if resids is None else np.asarray(resids)
    _, resindex = np.unique(resids, return_inverse=True)
    n_res = int(resindex.max()) + 1
    u = mda.Universe.empty(n_atoms, n_residues=n_res, atom_resindex=resindex, trajectory=True)
    u.add_TopologyAttr("masses", np.ones(n_atoms) if masses is None else np.asarray(masses))
    u.add_TopologyAttr("resids", np.arange(1, n_res + 1))
    dims = np.tile(np.array([*box, 90.0, 90.0, 90.0], dtype=np.float32), (n_frames, 1))
    u.load_new(
        np.asarray(positions, dtype=np.float32), format=MemoryReader, dimensions=dims, dt=dt_ps
    )
    return u


def random_walk(
    n_frames: int, n_atoms: int, d_a2_ps: float, dt_ps: float, box, seed: int = 0
) -> np.ndarray:
    """Unwrapped 3-D Gaussian random walk (Å) with diffusion coefficient ``d_a2_ps`` (Å²/ps)."""
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(2.0 * d_a2_ps * dt_ps)
    steps = rng.normal(0.0, sigma, (n_frames, n_atoms, 3))
    steps[0] = rng.uniform(0.0, 1.0, (n_atoms, 3)) * np.asarray(box)
    return np.cumsum(steps, axis=0)


#: Electrode atoms of the synthetic dense-phase model: a flat square grid at z = 2 Å.
DENSE_N_ELECTRODE = 2000
#: Masses written to the synthetic topology (IUPAC standard atomic weights: S 32.06, Mo 95.95).
_MASS_S, _MASS_MO, _MASS_OTHER = 32.06, 95.95, 12.011


def dense_phase_frame(
    rng: np.random.Generator,
    n_atoms: int,
    n_s6: int,
    box=DENSE_BOX_A,
    centres: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One frame: S6 units (first ``6·n_s6`` atoms) clustered in the lower part of the box.

    S atoms sit around ``centres`` (one per S6, z in 5–80 Å, about 1.5 Å spread); the last
    :data:`DENSE_N_ELECTRODE` atoms are the electrode plate at z = 2 Å; other atoms are
    uniform in the box. Returns (positions float32, centres).
    """
    box = np.asarray(box)
    if centres is None:
        centres = rng.uniform(0.0, 1.0, (n_s6, 3)) * box * (1.0, 1.0, 0.3) + (0.0, 0.0, 5.0)
    sulfur = (centres[:, None, :] + rng.normal(0.0, 1.5, (n_s6, 6, 3))).reshape(-1, 3)
    side = int(np.ceil(np.sqrt(DENSE_N_ELECTRODE)))
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2)
    plate = np.c_[grid[:DENSE_N_ELECTRODE] * box[:2] / side, np.full(DENSE_N_ELECTRODE, 2.0)]
    rest = rng.uniform(0.0, 1.0, (n_atoms - 6 * n_s6 - DENSE_N_ELECTRODE, 3)) * box
    positions = np.concatenate([sulfur, rest, plate])
    positions[:, :2] %= box[:2]
    return positions.astype(np.float32), centres


def dense_phase_universe(dcd: str | Path, n_atoms: int = 150_000, n_s6: int = DENSE_N_S6):
    """Universe over a DCD from :func:`write_dense_phase_dcd`: one residue per S6, masses and charges."""
    n_s = 6 * n_s6
    resindex = np.r_[np.repeat(np.arange(n_s6), 6), n_s6 + np.arange(n_atoms - n_s)]
    u = mda.Universe.empty(n_atoms, n_residues=n_s6 + n_atoms - n_s, atom_resindex=resindex)
    masses = np.full(n_atoms, _MASS_OTHER)
    masses[:n_s] = _MASS_S
    masses[n_atoms - DENSE_N_ELECTRODE :] = _MASS_MO
    u.add_TopologyAttr("masses", masses)
    charges = np.zeros(n_atoms)
    charges[:n_s] = (
        -2.0 / 6.0
    )  # S6²⁻ spread over its six S (synthetic; LinearDensity needs charges)
    u.add_TopologyAttr("charges", charges)
    u.load_new(str(dcd), format=BLOCK_DCD)  # build_analyses restricts it to S + electrode
    return u


def write_dense_phase_dcd(
    path: str | Path, n_frames: int, n_atoms: int = 150_000, n_s6: int = DENSE_N_S6, seed: int = 0
) -> Path:
    """Write a DCD (``n_frames`` × ``n_atoms``, 10 ps apart) shaped like the dense-phase model.

    S6 centres random-walk (0.3 Å per frame); frames are written one at a time (memory flat)
    to a temporary name that replaces ``path`` when complete.
    """
    path = Path(path)
    rng = np.random.default_rng(seed)
    dims = np.array([*DENSE_BOX_A, 90.0, 90.0, 90.0])
    u = mda.Universe.empty(n_atoms, trajectory=True)
    centres = None
    tmp = path.with_suffix(".tmp.dcd")
    with mda.Writer(str(tmp), n_atoms=n_atoms, dt=10.0) as writer:
        for _ in range(n_frames):
            positions, centres = dense_phase_frame(rng, n_atoms, n_s6, centres=centres)
            centres = centres + rng.normal(0.0, 0.3, centres.shape)
            u.atoms.positions = positions
            u.dimensions = dims
            writer.write(u.atoms)
    tmp.replace(path)
    return path
