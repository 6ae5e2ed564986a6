"""Pydantic model of the classical-MD studies (``kind: md``; paper 000 Methods MD).

Times in ps, lengths in Å, temperatures in K, pressure in bar. ``scale`` shrinks the boxes
(molecule counts and x–y area, see :mod:`lisflow.structures.md_boxes`), ``time_scale`` the
stage lengths, so CI can run tiny versions of the same study.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lisflow.errors import InputError

STUDY_ID = r"^[a-z][a-z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MdStage(Strict):
    """One protocol stage. ``temperature_end_k`` ramps the thermostat target linearly."""

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    ensemble: Literal["minimize", "nvt", "npt", "nve"]
    time_ps: float = Field(0.0, ge=0)
    temperature_k: float = Field(300.0, gt=0)
    temperature_end_k: float | None = Field(None, gt=0)
    pressure_bar: float | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MdStage:
        if self.ensemble != "minimize" and self.time_ps <= 0:
            raise ValueError(f"stage {self.name}: time_ps must be > 0 for {self.ensemble}")
        if self.ensemble == "npt" and self.pressure_bar is None:
            raise ValueError(f"stage {self.name}: npt needs pressure_bar")
        return self


class MdSystemSpec(Strict):
    """One box: ``kind`` picks the builder; counts are the paper's full-size numbers."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.+-]+$")
    kind: Literal["bulk", "interface", "dense_phase"]
    electrode: Literal["mo_ngraphene", "ti0001"] | None = None
    n_li2s6: int = Field(ge=0)
    n_litfsi: int = Field(255, ge=0)
    n_dol: int = Field(1020, ge=0)
    n_dme: int = Field(1020, ge=0)
    box: tuple[float, float, float] | None = None
    n_mo: int | None = Field(None, ge=4)
    # Electrode charge source (lisflow.forcefield.charges): builtin:<name> / a .json charge
    # file / an ACF.dat / a CSV site_index,charge of the DFT cell; "neutral" = 0 e. Default:
    # Mo NCs/N-G takes builtin:mo4ng_bader_cp2k (CP2K + baderkit, made here), Ti is 0 e.
    charges: str | None = None
    # dense-phase wt% reading chosen by the user (paper 000 is inconsistent, see the study file)
    wt_percent_reading: Literal["methods_counts", "caption_17.93"] | None = None

    @model_validator(mode="after")
    def _electrode(self) -> MdSystemSpec:
        if self.kind == "bulk" and self.electrode is not None:
            raise ValueError(f"system {self.name}: a bulk box has no electrode")
        if self.kind != "bulk" and self.electrode is None:
            raise ValueError(
                f"system {self.name}: {self.kind} needs electrode (mo_ngraphene, ti0001)"
            )
        return self

    def li2s6_count(self) -> int:
        """``n_li2s6``, or with ``wt_percent_reading: caption_17.93`` the count that makes
        Li2S6 17.93 wt% with the given LiTFSI/DOL/DME counts (molar masses of SCIENCE.md:
        Li2S6 206.24, LiTFSI 287.09, DOL 74.08, DME 90.12 g/mol; 1,020 for the dense phase)."""
        if self.wt_percent_reading != "caption_17.93":
            return self.n_li2s6
        rest = 287.09 * self.n_litfsi + 74.08 * self.n_dol + 90.12 * self.n_dme
        return round(0.1793 * rest / (206.24 * (1 - 0.1793)))

    def builder_args(self, scale: float) -> dict:
        """Keyword arguments of :func:`lisflow.structures.md_boxes.build_system`."""
        args = {
            "kind": self.kind,
            "n_li2s6": self.li2s6_count(),
            "n_litfsi": self.n_litfsi,
            "n_dol": self.n_dol,
            "n_dme": self.n_dme,
            "scale": scale,
            "name": self.name,
        }
        if self.electrode is not None:
            args["electrode"] = self.electrode
            if self.n_mo is not None:
                args["n_mo"] = self.n_mo
            if self.charges is not None:
                args["charges"] = self.charges
        if self.box is not None:
            args["box"] = list(self.box)
        return args


class MdAnalysis(Strict):
    """Analysis window of the stored statistics (ns; sampling ps): frames with
    ``start_ns <= t <= stop_ns`` every ``sample_every_ps``, time series also averaged per
    ``average_every_ns``. Scaled with ``time_scale`` like the protocol."""

    start_ns: float = Field(0.0, ge=0)
    stop_ns: float | None = Field(None, gt=0)
    sample_every_ps: float | None = Field(None, gt=0)
    average_every_ns: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> MdAnalysis:
        if self.stop_ns is not None and self.stop_ns <= self.start_ns:
            raise ValueError(f"stop_ns {self.stop_ns} must be > start_ns {self.start_ns}")
        return self


class MdStudy(Strict):
    """A ``kind: md`` study file (``workflows/*_md.yaml``)."""

    study: str = Field(pattern=STUDY_ID)
    kind: Literal["md"]
    engine: Literal["lammps"] = "lammps"
    description: str = ""
    source: str = ""
    systems: list[MdSystemSpec] = Field(min_length=1)
    protocol: list[MdStage] = Field(min_length=1)
    timestep_fs: float = Field(1.0, gt=0)
    dump_every_ps: float = Field(10.0, gt=0)
    thermo_every_ps: float = Field(10.0, gt=0)
    restart_every_ps: float = Field(1000.0, gt=0)
    thermostat_damp_ps: float = Field(0.1, gt=0)
    barostat_damp_ps: float = Field(1.0, gt=0)
    cutoff_a: float = Field(12.0, gt=2.0)
    pppm_accuracy: float = Field(1.0e-5, gt=0, lt=1.0)
    neighbor_skin_a: float = Field(2.0, gt=0)
    minimize_max_iter: int = Field(1000, ge=1)
    scale: float = Field(1.0, gt=0, le=1.0)
    time_scale: float = Field(1.0, gt=0, le=1.0)
    seed: int = Field(20231001, ge=1)
    analysis: MdAnalysis = MdAnalysis()

    @model_validator(mode="after")
    def _unique(self) -> MdStudy:
        names = [s.name for s in self.systems]
        if len(set(names)) != len(names):
            raise ValueError(f"system names must be unique, got {names}")
        return self

    @model_validator(mode="after")
    def _window_inside_protocol(self) -> MdStudy:
        total_ns = sum(st.time_ps for st in self.protocol if st.ensemble != "minimize") / 1000.0
        stop = self.analysis.stop_ns
        if self.analysis.start_ns >= total_ns or (stop is not None and stop > total_ns + 1e-9):
            raise ValueError(
                f"analysis window {self.analysis.start_ns}-{stop} ns is outside the "
                f"{total_ns:g} ns protocol"
            )
        if self.analysis.sample_every_ps is not None:
            ratio = self.analysis.sample_every_ps / self.dump_every_ps
            if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
                raise ValueError(
                    f"analysis.sample_every_ps {self.analysis.sample_every_ps} must be a whole "
                    f"multiple of dump_every_ps {self.dump_every_ps}"
                )
        return self

    def analysis_window(self) -> dict:
        """The window with start/stop scaled by ``time_scale`` (ns; for the run params)."""
        w = self.analysis.model_dump()
        for key in ("start_ns", "stop_ns", "average_every_ns"):
            if w[key] is not None:
                w[key] = w[key] * self.time_scale
        return w


def load_md_study(path: str | Path, **overrides) -> MdStudy:
    """Read and validate a study file; ``overrides`` replace top-level keys (e.g. scale)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("spec", f"file {path} does not exist")
    data = yaml.safe_load(path.read_text()) or {}
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return MdStudy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "spec"
        raise InputError(field, err["msg"]) from None
