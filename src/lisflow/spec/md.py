"""Pydantic model of the classical-MD studies (``kind: md``; paper 000 Methods MD).

Times in ps, lengths in Å, temperatures in K, pressure in bar. ``scale`` shrinks the boxes
(molecule counts and x–y area, see :mod:`lisflow.structures.md_boxes`), ``time_scale`` the
stage lengths, so CI can run tiny versions of the same study.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

STUDY_ID = r"^[a-z][a-z0-9_]{0,99}$"
#: A system name becomes a directory: no leading dot (never . or ..), no separator, <= 100.
SAFE_NAME = r"^[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,99}$"
ONE_LINE = r"^[^\x00-\x1f\x7f]{0,1000}$"
#: Longest stage (ps): 1 µs; paper 000 samples 90 ns.
MAX_TIME_PS = 1.0e6


SolventName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$")]
SolventCount = Annotated[int, Field(ge=0, le=100_000)]


class Strict(BaseModel):
    """Unknown keys refused; every float finite (no NaN, no ±inf)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class MdStage(Strict):
    """One protocol stage. ``temperature_end_k`` ramps the thermostat target linearly."""

    name: str = Field(pattern=r"^[A-Za-z0-9_]{1,100}$")
    ensemble: Literal["minimize", "nvt", "npt", "nve"]
    time_ps: float = Field(0.0, ge=0, le=MAX_TIME_PS)
    temperature_k: float = Field(300.0, gt=0, le=5000.0)
    temperature_end_k: float | None = Field(None, gt=0, le=5000.0)
    pressure_bar: float | None = Field(None, ge=-1.0e5, le=1.0e5)  # ±10 GPa

    @model_validator(mode="after")
    def _consistent(self) -> MdStage:
        if self.ensemble != "minimize" and self.time_ps <= 0:
            raise ValueError(f"stage {self.name}: time_ps must be > 0 for {self.ensemble}")
        if self.ensemble == "npt" and self.pressure_bar is None:
            raise ValueError(f"stage {self.name}: npt needs pressure_bar")
        return self


#: Atoms per molecule: Li2S6 8, LiTFSI (Li + C2F6NO4S2) 16, DOL (C3H6O2) 11, DME (C4H10O2) 16.
ATOMS_PER = {"li2s6": 8, "litfsi": 16, "dol": 11, "dme": 16}
#: Most electrolyte atoms in one box (the paper's largest box has ~151k).
MAX_ATOMS = 2_000_000
#: One box edge (Å): paper 000 uses 98.4 × 76.695 × 200.
BoxLength = Annotated[float, Field(gt=5.0, le=1000.0)]


class MdSystemSpec(Strict):
    """One box: ``kind`` picks the builder; counts are the paper's full-size numbers."""

    name: str = Field(pattern=SAFE_NAME)
    kind: Literal["bulk", "interface", "dense_phase"]
    electrode: Literal["mo_ngraphene", "ti0001"] | None = None
    # counts: the dense phase of paper 000 has 3060 Li2S6, 1020 LiTFSI, 4080 DOL, 4080 DME
    # (~151k atoms); the bounds (and MAX_ATOMS) allow ~10x that and keep inputs buildable
    n_li2s6: int = Field(ge=0, le=30_000)
    n_litfsi: int = Field(255, ge=0, le=30_000)
    n_dol: int = Field(1020, ge=0, le=100_000)
    n_dme: int = Field(1020, ge=0, le=100_000)
    box: tuple[BoxLength, BoxLength, BoxLength] | None = None
    n_mo: int | None = Field(None, ge=4, le=1000)
    # Electrode charge source (lisflow.forcefield.charges): builtin:<name> / a .json charge
    # file / an ACF.dat / a CSV site_index,charge of the DFT cell; "neutral" = 0 e. Default:
    # Mo NCs/N-G takes builtin:mo4ng_bader_cp2k (CP2K + baderkit, made here), Ti is 0 e.
    charges: str | None = Field(None, max_length=4096, pattern=ONE_LINE)
    # with charges: db:<calc_id>[#method] the database to read (default the profile's DB)
    charges_db: str | None = Field(None, max_length=4096, pattern=ONE_LINE)
    # dense-phase wt% reading chosen by the user (paper 000 is inconsistent, see the study file)
    wt_percent_reading: Literal["methods_counts", "caption_17.93"] | None = None
    # user solvents not shipped with lisflow: name -> count; <name>.yaml (force field, format
    # of inputs/forcefields/*.yaml) + <name>.xyz are found next to the study file, then on the
    # study search path (current directory, $LISFLOW_PATH); see lisflow.forcefield.custom
    solvents: dict[SolventName, SolventCount] = Field(
        default_factory=dict,
        max_length=10,
        description="user solvents: name -> count; <name>.yaml + <name>.xyz next to the study",
    )

    @model_validator(mode="after")
    def _electrode(self) -> MdSystemSpec:
        if self.kind == "bulk" and self.electrode is not None:
            raise ValueError(f"system {self.name}: a bulk box has no electrode")
        atoms = sum(n * ATOMS_PER[k] for k, n in self.counts().items())
        if atoms > MAX_ATOMS:
            raise ValueError(f"system {self.name}: {atoms} atoms (at most {MAX_ATOMS})")
        if self.kind == "bulk" and self.box is not None:
            raise ValueError(f"system {self.name}: a bulk box is sized by its density; no box")
        if self.kind != "bulk" and self.electrode is None:
            raise ValueError(
                f"system {self.name}: {self.kind} needs electrode (mo_ngraphene, ti0001)"
            )
        return self

    def counts(self) -> dict[str, int]:
        return {"li2s6": self.li2s6_count(), "litfsi": self.n_litfsi, "dol": self.n_dol, "dme": self.n_dme}

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
        args: dict[str, Any] = {
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
        if self.solvents:
            args["solvents"] = dict(self.solvents)
        return args


class MdAnalysis(Strict):
    """Analysis window of the stored statistics (ns; sampling ps): frames with
    ``start_ns <= t <= stop_ns`` every ``sample_every_ps``, time series also averaged per
    ``average_every_ns``. Scaled with ``time_scale`` like the protocol."""

    start_ns: float = Field(0.0, ge=0, le=MAX_TIME_PS / 1000)
    stop_ns: float | None = Field(None, gt=0, le=MAX_TIME_PS / 1000)
    sample_every_ps: float | None = Field(None, gt=0, le=MAX_TIME_PS)
    average_every_ns: float | None = Field(None, gt=0, le=MAX_TIME_PS / 1000)

    @model_validator(mode="after")
    def _ordered(self) -> MdAnalysis:
        if self.stop_ns is not None and self.stop_ns <= self.start_ns:
            raise ValueError(f"stop_ns: {self.stop_ns} must be > start_ns {self.start_ns}")
        return self


class MdStudy(Strict):
    """A ``kind: md`` study file (``workflows/*_md.yaml``)."""

    study: str = Field(pattern=STUDY_ID)
    kind: Literal["md"]
    engine: Literal["lammps"] = "lammps"
    description: str = Field("", pattern=ONE_LINE)
    source: str = Field("", pattern=ONE_LINE)
    systems: list[MdSystemSpec] = Field(min_length=1, max_length=100)
    protocol: list[MdStage] = Field(min_length=1, max_length=50)
    timestep_fs: float = Field(1.0, ge=0.01, le=10.0)
    dump_every_ps: float = Field(10.0, gt=0, le=MAX_TIME_PS)
    thermo_every_ps: float = Field(10.0, gt=0, le=MAX_TIME_PS)
    restart_every_ps: float = Field(1000.0, gt=0, le=MAX_TIME_PS)
    thermostat_damp_ps: float = Field(0.1, gt=0, le=1000.0)
    barostat_damp_ps: float = Field(1.0, gt=0, le=1000.0)
    cutoff_a: float = Field(12.0, gt=2.0, le=50.0)
    pppm_accuracy: float = Field(1.0e-5, ge=1e-12, lt=1.0)
    neighbor_skin_a: float = Field(0.5, gt=0, le=10.0)  # see lisflow.io.lammps.DEFAULTS
    minimize_max_iter: int = Field(1000, ge=1, le=10_000_000)
    scale: float = Field(1.0, ge=1e-4, le=1.0)
    time_scale: float = Field(1.0, ge=1e-9, le=1.0)
    seed: int = Field(20231001, ge=1, le=2**31 - 1)  # LAMMPS random seeds are 32-bit ints
    analysis: MdAnalysis = MdAnalysis()  # type: ignore[call-arg]  # (fields have defaults)
    _study_dir: Path | None = PrivateAttr(None)

    def custom_species(self, name: str) -> dict:
        """Validated contents of the user solvent ``name`` (force field + xyz), found in the
        study file's directory, then on the study search path."""
        from lisflow.forcefield.custom import load_custom_species
        from lisflow.spec import study_search_path

        dirs = ([self._study_dir] if self._study_dir is not None else []) + study_search_path()[:-1]
        return load_custom_species(name, dirs).to_dict()

    @model_validator(mode="after")
    def _unique(self) -> MdStudy:
        names = [s.name for s in self.systems]
        if len(set(names)) != len(names):
            raise ValueError("systems: names must be unique (each names one calculation)")
        stages = [s.name for s in self.protocol]
        if len(set(stages)) != len(stages):
            raise ValueError("protocol: stage names must be unique")
        return self

    @model_validator(mode="after")
    def _window_inside_protocol(self) -> MdStudy:
        total_ns = sum(st.time_ps for st in self.protocol if st.ensemble != "minimize") / 1000.0
        stop = self.analysis.stop_ns
        if self.analysis.start_ns >= total_ns or (stop is not None and stop > total_ns + 1e-9):
            raise ValueError(
                f"analysis: window {self.analysis.start_ns}-{stop} ns is outside the "
                f"{total_ns:g} ns protocol"
            )
        if self.analysis.sample_every_ps is not None:
            ratio = self.analysis.sample_every_ps / self.dump_every_ps
            if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
                raise ValueError(
                    f"analysis.sample_every_ps: {self.analysis.sample_every_ps} must be a whole "
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
    from lisflow.spec import _one_line, one_line
    from lisflow.spec.yamlsafe import read_yaml

    path = Path(path)
    if not path.is_file():
        raise one_line("spec", f"file {str(path)[:100]} does not exist")
    data = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise one_line("spec", f"{path.name}: a study definition must be a YAML mapping")
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        study = MdStudy.model_validate(data)
    except ValidationError as exc:
        raise _one_line(dict(exc.errors()[0])) from None
    study._study_dir = path.resolve().parent
    for system in study.systems:
        atoms = sum(n * ATOMS_PER[k] for k, n in system.counts().items())
        for name, count in system.solvents.items():
            # refuse missing/invalid files when the study is read
            atoms += count * len(study.custom_species(name)["forcefield"]["atoms"])
        if atoms > MAX_ATOMS:
            raise one_line("systems", f"system {system.name}: {atoms} atoms (at most {MAX_ATOMS})")
    return study
