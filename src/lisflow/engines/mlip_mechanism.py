"""Mechanism runs on the MLIP calculator: adsorbate vibrations (ZPE, TS) and CI-NEB.

``vib``: finite-difference harmonic frequencies of the free atoms (``fixed_indices`` stay
fixed: the slab), ``ase.vibrations.Vibrations`` (displacement ``delta`` Å, ``nfree`` 2 =
central differences, as VASP IBRION = 5, NFREE = 2, POTIM = 0.015). ZPE = Σ hν/2 over the real
modes; the vibrational entropy term TS at ``temperature_k`` from
``ase.thermochemistry.HarmonicThermo`` with modes below ``low_mode_floor_cm1`` (and imaginary
ones) raised to it (Ribeiro, Marenich, Cramer & Truhlar, J. Phys. Chem. B 115, 14556 (2011)).
An isolated molecule (``free_molecule``) drops its 6 lowest modes (3 translations +
3 rotations; 5 for a linear one).

``neb``: both endpoints relaxed (FIRE to ``fmax``), ``images`` intermediate images
interpolated with IDPP (Smidstrup et al., J. Chem. Phys. 140, 214106 (2014)), ASE ``NEB``
with ``climb=True`` (Henkelman, Uberuaga & Jónsson, J. Chem. Phys. 113, 9901 (2000)),
optimised with FIRE to ``neb_fmax``. An unconverged band raises ``EngineError`` upstream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from lisflow.errors import EngineError
from lisflow.io.mlip import MlipSettings

#: cm⁻¹ per eV (CODATA 2018: 1 eV = 8065.543937 cm⁻¹).
CM1_PER_EV = 8065.543937


def _atoms(structure: Structure, settings, fixed: tuple[int, ...]):
    from ase.constraints import FixAtoms
    from pymatgen.io.ase import AseAtomsAdaptor

    from lisflow.engines.mlip import calculator

    atoms = AseAtomsAdaptor.get_atoms(
        Structure(structure.lattice, structure.species, structure.frac_coords)
    )
    atoms.set_constraint()
    if fixed:
        atoms.set_constraint(FixAtoms(indices=list(fixed)))
    atoms.calc = calculator(settings)
    return atoms


def thermo_terms(
    energies_ev: np.ndarray, temperature_k: float, floor_cm1: float, free_molecule: bool,
    linear: bool = False,
) -> dict[str, Any]:
    """ZPE (eV), TS (eV) and the kept mode wavenumbers (cm⁻¹, imaginary as negative) from
    the complex mode energies of ``Vibrations.get_energies``."""
    from ase.thermochemistry import HarmonicThermo

    energies = np.asarray(energies_ev, dtype=complex)
    signed = np.where(np.abs(energies.imag) > np.abs(energies.real), -np.abs(energies.imag),
                      energies.real)  # fmt: skip
    order = np.argsort(np.abs(signed))
    if free_molecule:  # translations and rotations of the isolated molecule
        order = order[5 if linear else 6 :]
    kept = np.sort(signed[order])
    real = kept[kept > 0]
    floor = floor_cm1 / CM1_PER_EV
    floored = np.maximum(np.where(kept > 0, kept, floor), floor)
    zpe = float(HarmonicThermo(list(real)).get_ZPE_correction()) if len(real) else 0.0
    entropy = HarmonicThermo(list(floored)).get_entropy(temperature_k, verbose=False)
    return {
        "zpe_ev": zpe,
        "ts_ev": float(temperature_k * entropy),
        "wavenumbers_cm1": [float(e * CM1_PER_EV) for e in kept],
        "n_imaginary": int((kept < 0).sum()),
    }


def run_vibrations(settings: MlipSettings, structure: Structure, directory: Path) -> dict:
    """Harmonic modes of the free atoms; returns the record fields (energy, zpe, ts, modes)."""
    from ase.vibrations import Vibrations

    options = settings.vibrations
    if options is None:
        raise EngineError("task vib needs MlipSettings.vibrations")

    atoms = _atoms(structure, settings, settings.fixed_indices)
    free = [i for i in range(len(atoms)) if i not in set(settings.fixed_indices)]
    vib = Vibrations(atoms, indices=free, delta=options.delta, nfree=options.nfree,
                     name=str(directory / "vib"))  # fmt: skip
    vib.clean()  # never reuse displacements of another run
    vib.run()
    energies = vib.get_energies()
    vib.clean()
    terms = thermo_terms(energies, settings.temperature_k, options.low_mode_floor_cm1,
                         options.free_molecule, linear=len(free) == 2)  # fmt: skip
    energy = float(atoms.get_potential_energy())
    wn = terms["wavenumbers_cm1"]
    return {
        "energy_ev": energy,
        "converged": True,
        "steps": len(free) * 3 * options.nfree,
        "fmax_ev_per_a": 0.0,
        "extra_scalars": {
            "zpe": (terms["zpe_ev"], "eV"),
            "ts_vib": (terms["ts_ev"], "eV"),
            "vib_temperature": (float(settings.temperature_k), "K"),
            "vib_modes": (float(len(wn)), "modes"),
            "vib_imaginary": (float(terms["n_imaginary"]), "modes"),
        },
        "extra_series": {
            "vibrations|wavenumber": [list(range(len(wn))), wn, "mode", "cm-1"],
        },
        "final_structure": Structure(structure.lattice, structure.species,
                                     structure.frac_coords).as_dict(),  # no numpy site flags
    }


def run_neb(settings: MlipSettings, structure: Structure, directory: Path) -> dict:
    """Relax both endpoints, IDPP images, CI-NEB; image energies and the barrier (eV)."""
    from ase.io import write
    from ase.mep import NEB
    from ase.optimize import FIRE
    from pymatgen.io.ase import AseAtomsAdaptor

    options = settings.neb
    if options is None:
        raise EngineError("task neb needs MlipSettings.neb")
    final = options.final()
    ends = []
    for name, start in (("initial", structure), ("final", final)):
        atoms = _atoms(start, settings, settings.fixed_indices)
        opt = FIRE(atoms, logfile=str(directory / f"{name}.log"))
        opt.run(fmax=settings.fmax, steps=settings.steps)
        fmax = float(np.linalg.norm(atoms.get_forces(), axis=1).max())
        if fmax >= settings.fmax:
            return {"converged": False, "fmax_ev_per_a": fmax, "steps": opt.nsteps,
                    "energy_ev": float(atoms.get_potential_energy()), "stage": name}  # fmt: skip
        ends.append(atoms)
    relaxed = [float(a.get_potential_energy()) for a in ends]
    images = [ends[0]] + [ends[0].copy() for _ in range(options.images)] + [ends[1]]
    for image in images[1:-1]:
        image.calc = ends[0].calc
    band = NEB(images, climb=True, k=options.spring, method="improvedtangent",
               allow_shared_calculator=True)
    band.interpolate(method="idpp", mic=True)
    opt = FIRE(band, logfile=str(directory / "neb.log"))
    converged = bool(opt.run(fmax=options.neb_fmax, steps=options.neb_steps))
    energies = [relaxed[0]] + [float(a.get_potential_energy()) for a in images[1:-1]] + [relaxed[1]]
    write(str(directory / "neb_images.extxyz"), images)
    top = int(np.argmax(energies))
    forces = band.get_forces()
    return {
        "energy_ev": energies[top],
        "converged": converged,
        "steps": int(opt.nsteps),
        "fmax_ev_per_a": float(np.linalg.norm(forces, axis=1).max()),
        "extra_scalars": {
            "neb_barrier": (energies[top] - energies[0], "eV"),
            "neb_reverse_barrier": (energies[top] - energies[-1], "eV"),
            "neb_reaction_energy": (energies[-1] - energies[0], "eV"),
            "neb_climbing_image": (float(top), "image"),
            "neb_initial_energy": (energies[0], "eV"),
            "neb_final_energy": (energies[-1], "eV"),
            "neb_images": (float(options.images), "images"),
        },
        "extra_series": {
            "neb|energy": [list(range(len(energies))),
                           [e - energies[0] for e in energies], "image", "eV"],  # fmt: skip
            "neb|path": [_path_length(images), [e - energies[0] for e in energies], "A", "eV"],
        },
        "final_structure": AseAtomsAdaptor.get_structure(images[top]).as_dict(),
    }


def _path_length(images) -> list[float]:
    """Cumulative distance (Å) along the band, minimum image."""
    from ase.geometry import find_mic

    total, out = 0.0, [0.0]
    for a, b in zip(images[:-1], images[1:], strict=True):
        step, _ = find_mic(b.positions - a.positions, a.cell, a.pbc)
        total += float(np.sqrt((step**2).sum()))
        out.append(total)
    return out


def vasp_vibration_scalars(calc, directory: Path) -> dict[str, tuple[float, str]]:
    """zpe / ts_vib / vib_modes of a VASP IBRION = 5 run (OUTCAR modes, same terms as the
    MLIP; T = 298.15 K unless the calculation's labels give ``temperature_k``)."""
    from lisflow.parsers.vasp_freq import vasp_mode_energies

    outcar = directory / "OUTCAR"
    energies = np.asarray(vasp_mode_energies(outcar))
    temperature = float(calc.labels.get("temperature_k", 298.15))
    free_molecule = calc.role == "molecule"
    terms = thermo_terms(energies, temperature, float(calc.labels.get("low_mode_floor_cm1", 100.0)),
                         free_molecule)  # fmt: skip
    return {
        "zpe": (terms["zpe_ev"], "eV"),
        "ts_vib": (terms["ts_ev"], "eV"),
        "vib_temperature": (temperature, "K"),
        "vib_modes": (float(len(terms["wavenumbers_cm1"])), "modes"),
        "vib_imaginary": (float(terms["n_imaginary"]), "modes"),
    }
