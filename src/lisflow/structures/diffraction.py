"""Simulated selected-area electron diffraction (kinematic, pymatgen ``TEMCalculator``).

Paper 000, Fig. 2d,e and ED Fig. 2d-f: tetragonal Li2S2 along [001] and [111], cubic Li2S
along [111], [011] and [100]. Spot positions are converted from TEMCalculator's film
coordinates (cm at the camera length) to reciprocal length g = 1/d in nm^-1, the unit of the
paper's SAED scale bars.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from pymatgen.analysis.diffraction.tem import TEMCalculator  # noqa: E402
from pymatgen.core import Lattice, Structure  # noqa: E402

from lisflow.fsutil import atomic_write_bytes, atomic_write_text  # noqa: E402
from lisflow.structures.polymorphs import li2s_antifluorite, tetragonal_li2s2  # noqa: E402

VOLTAGE_KV = (
    200.0  # kV, TEM accelerating voltage (pymatgen default; FEI Titan at 200 kV in paper 002)
)
G_MAX = 10.0  # nm^-1, plotted radius of the pattern
MIN_INTENSITY = 1e-4  # normalised intensity below which a spot counts as extinct


@dataclass(frozen=True)
class Spot:
    """One diffraction spot: Miller indices, position g (nm^-1), d spacing (Å), intensity."""

    hkl: tuple[int, int, int]
    gx: float
    gy: float
    d_spacing: float
    intensity: float


@dataclass(frozen=True)
class ZonePattern:
    phase: str
    zone: tuple[int, int, int]
    spots: list[Spot]


#: (file stem, builder, zone axes) of the patterns in paper 000.
PATTERNS: tuple[tuple[str, Callable[[], Structure], tuple[tuple[int, int, int], ...]], ...] = (
    ("Li2S2_tetragonal", tetragonal_li2s2, ((0, 0, 1), (1, 1, 1))),
    ("Li2S_cubic", li2s_antifluorite, ((1, 1, 1), (0, 1, 1), (1, 0, 0))),
)


class _TemLattice(Lattice):
    """A Lattice that computes its crystallographic reciprocal lattice once: TEMCalculator asks
    ``d_hkl`` of every reflection, which inverts the cell anew each time (same numbers)."""

    @functools.cached_property
    def reciprocal_lattice_crystallographic(self) -> Lattice:  # type: ignore[override]
        return super().reciprocal_lattice_crystallographic


def zone_pattern(structure: Structure, zone: tuple[int, int, int], phase: str) -> ZonePattern:
    """Kinematic spot pattern of ``structure`` along the zone axis [uvw] ``zone``."""
    calc = TEMCalculator(voltage=VOLTAGE_KV, beam_direction=zone)
    same = Structure(_TemLattice(structure.lattice.matrix, pbc=structure.lattice.pbc),
                     structure.species_and_occu, structure.frac_coords,
                     site_properties=structure.site_properties)  # fmt: skip
    table = calc.get_pattern(same)
    to_inv_nm = 10.0 / (calc.wavelength_rel() * calc.camera_length)  # cm on film -> nm^-1
    columns = ("(hkl)", "Position", "Interplanar Spacing", "Intensity (norm)")
    spots = [  # (column by column: DataFrame.iterrows builds a Series per row)
        Spot(
            hkl=cast(tuple[int, int, int], tuple(int(i) for i in hkl)),
            gx=float(position[0]) * to_inv_nm,
            gy=float(position[1]) * to_inv_nm,
            d_spacing=float(d_spacing),
            intensity=float(intensity),
        )
        for hkl, position, d_spacing, intensity in zip(
            *(table[name].tolist() for name in columns), strict=True
        )
    ]
    return ZonePattern(phase=phase, zone=zone, spots=spots)


def _miller_label(hkl: tuple[int, int, int]) -> str:
    """Miller indices in crystallographic notation (negative indices overlined)."""
    return "$" + "".join(str(i) if i >= 0 else rf"\bar{{{abs(i)}}}" for i in hkl) + "$"


class _PatternFigure:
    """One Agg figure the patterns are drawn on one after the other (no pyplot figure manager:
    same pixels). Its renderer keeps the mathtext and text-metrics caches, so the axis labels
    are laid out once; the tight margins are computed for the first pattern and kept, since
    they depend only on the ticks, labels and title height, the same for every pattern (the
    Miller labels inside the axes are left out of the layout)."""

    def __init__(self) -> None:
        self.fig = Figure(figsize=(4.5, 4.5), dpi=120)
        FigureCanvasAgg(self.fig)
        self.margins: dict[str, float] | None = None

    def png(self, pattern: ZonePattern) -> bytes:
        fig = self.fig
        fig.clear()  # (also resets the margins)
        if self.margins is not None:
            fig.subplots_adjust(**self.margins)
        ax = fig.subplots()
        ax.set_facecolor("black")
        g = np.array([[s.gx, s.gy] for s in pattern.spots])
        inten = np.array([s.intensity for s in pattern.spots])
        shown = (np.hypot(g[:, 0], g[:, 1]) <= G_MAX) & (inten > MIN_INTENSITY)
        ax.scatter(g[shown, 0], g[shown, 1], s=8 + 120 * inten[shown] / inten[shown].max(),
                   c="white")  # fmt: skip
        ax.scatter([0], [0], s=140, c="yellow", marker="o")
        strongest = sorted(
            (s for s, ok in zip(pattern.spots, shown, strict=True) if ok),
            key=lambda s: -s.intensity,
        )[:6]
        for s in strongest:
            label = ax.annotate(_miller_label(s.hkl), (s.gx, s.gy), color="cyan", fontsize=7,
                                xytext=(3, 3), textcoords="offset points")  # fmt: skip
            label.set_in_layout(False)
        ax.set_xlim(-G_MAX, G_MAX)
        ax.set_ylim(-G_MAX, G_MAX)
        ax.set_aspect("equal")
        ax.set_xlabel("g$_x$ (nm$^{-1}$)")
        ax.set_ylabel("g$_y$ (nm$^{-1}$)")
        u, v, w = pattern.zone
        ax.set_title(f"{pattern.phase} [{u}{v}{w}]")
        if self.margins is None:
            fig.tight_layout()
            pars = fig.subplotpars
            self.margins = {"left": pars.left, "right": pars.right, "bottom": pars.bottom,
                            "top": pars.top}  # fmt: skip
            fig.set_layout_engine("none")  # (else savefig lays the figure out once more)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()


def electron_diffraction_patterns(out_dir: Path) -> list[Path]:
    """Write one PNG per (phase, zone) and ``electron_diffraction_spots.csv`` into ``out_dir``.

    Returns the written paths (PNGs first, then the CSV). Files are written atomically.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(
        ["phase", "zone", "h", "k", "l", "gx_inv_nm", "gy_inv_nm", "d_angstrom", "intensity_norm"]
    )
    figure = _PatternFigure()
    for stem, build, zones in PATTERNS:
        structure = build()
        for zone in zones:
            pattern = zone_pattern(structure, zone, stem)
            zone_str = "".join(map(str, zone))
            written.append(atomic_write_bytes(out_dir / f"{stem}_{zone_str}.png", figure.png(pattern)))
            for s in pattern.spots:
                writer.writerow(
                    [
                        stem,
                        zone_str,
                        *s.hkl,
                        f"{s.gx:.5f}",
                        f"{s.gy:.5f}",
                        f"{s.d_spacing:.5f}",
                        f"{s.intensity:.6g}",
                    ]
                )
    written.append(atomic_write_text(out_dir / "electron_diffraction_spots.csv", rows.getvalue()))
    return written


#: Zone axes simulated for a relaxed polymorph: the paper's for tetragonal Li2S2, [001] else.
RELAXED_ZONES: dict[str, tuple[tuple[int, int, int], ...]] = {"tetragonal": ((0, 0, 1), (1, 1, 1))}


def relaxed_patterns(structure: Structure, name: str, out_dir: Path) -> list[ZonePattern]:
    """Patterns of a relaxed structure (``RELAXED_ZONES``), PNGs and a spot CSV in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    patterns = [zone_pattern(structure, z, name) for z in RELAXED_ZONES.get(name, ((0, 0, 1),))]
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["zone", "h", "k", "l", "gx_inv_nm", "gy_inv_nm", "d_angstrom", "intensity"])
    figure = _PatternFigure()
    for pattern in patterns:
        zone = "".join(map(str, pattern.zone))
        atomic_write_bytes(out_dir / f"{name}_{zone}.png", figure.png(pattern))
        for s in pattern.spots:
            writer.writerow([zone, *s.hkl, f"{s.gx:.5f}", f"{s.gy:.5f}", f"{s.d_spacing:.5f}",
                             f"{s.intensity:.6g}"])  # fmt: skip
    atomic_write_text(out_dir / "electron_diffraction_spots.csv", rows.getvalue())
    return patterns
