"""The dry-run's forked file writer (lisflow.workflows.dryrun_writer) writes what the parent
would have written, byte for byte and mode for mode; its failure fails the study whole, and
nothing is written into a staging directory after the study failed."""

from __future__ import annotations

import os
import signal
import warnings
from pathlib import Path

import pytest

from lisflow.errors import InputError
from lisflow.spec import load_spec, study_files
from lisflow.workflows import dryrun, dryrun_writer
from lisflow.workflows.dryrun import dry_run, write_studies
from lisflow.workflows.dryrun_writer import FileWriter, file_writer
from lisflow.workflows.plan import plan

#: MLIP; VASP (NEB images in subdirectories); VASP and the diffraction figures; VASP, LOBSTER
STUDIES = ("tiny_mechanism_mlip", "dasc_neb", "li2s2_polymorphs", "dasc_adsorption")


def _files() -> list[Path]:
    files = [f for f in study_files() if f.stem in STUDIES]
    assert len(files) == len(STUDIES)
    return files


def _file(stem: str) -> Path:
    return next(f for f in study_files() if f.stem == stem)


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode)
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(autouse=True)
def _writer_for_few_calculations(monkeypatch):
    monkeypatch.setattr(dryrun_writer, "MIN_WRITER_CALCS", 0)
    warnings.filterwarnings("ignore")


def test_the_writer_writes_the_parents_files_and_manifest(tmp_path, monkeypatch):
    timings: dict[str, list[float]] = {}
    with_writer = dry_run(_files(), tmp_path / "writer", progress=False, timings=timings)
    monkeypatch.setattr(dryrun_writer, "MIN_WRITER_CALCS", 10**9)  # the parent writes
    by_parent = dry_run(_files(), tmp_path / "parent", progress=False)
    assert with_writer == by_parent  # manifest entries: files and input hashes
    a, b = _tree(tmp_path / "writer"), _tree(tmp_path / "parent")
    n_inputs = sum(len(entry.files) for entry in by_parent)
    extras = 5 + 1  # diffraction PNGs and their spot table
    assert len(a) == n_inputs + extras + len(STUDIES) + 1 > 100  # + study markers, manifest
    assert a == b  # every file, bytes and permissions
    assert sum("/0" in name for name in a) > 0  # NEB image directories came from the writer
    assert sum(name.endswith("lobsterin") for name in a) > 0
    assert sum(name.endswith(".png") for name in a) == 5  # the extras, drawn by the writer
    # the writer's phases reach the caller: one call per calculation, one for the extras
    engines = {entry.engine for entry in by_parent}
    assert engines == {"vasp", "lobster", "mlip"}
    assert sum(timings[f"writer:{engine}"][2] for engine in engines) == len(by_parent)
    assert timings["writer:extras"][2] == 1 and timings["wait:writer"][2] == 1  # once, at the end


def test_file_writer_only_for_large_dry_runs(monkeypatch):
    monkeypatch.setattr(dryrun_writer, "MIN_WRITER_CALCS", 50)
    with file_writer(49) as writer:
        assert writer is None
    with file_writer(50) as writer:
        assert isinstance(writer, FileWriter)


def test_a_failed_write_fails_the_study_whole(tmp_path):
    spec = load_spec(_file("dasc_neb"))
    calcs = plan(spec, _file("dasc_neb"))
    out = tmp_path / "out"
    out.mkdir()
    with file_writer(len(calcs)) as writer:
        assert writer is not None
        real = writer.submit

        def blocked(root, phase, function, directory, texts):
            # the second calculation's directory is taken by a file: the writer fails on it
            if directory.endswith(calcs[1].name):
                Path(directory).parent.mkdir(parents=True, exist_ok=True)
                Path(directory).write_text("in the way")
            real(root, phase, function, directory, texts)

        writer.submit = blocked  # type: ignore[method-assign]
        with pytest.raises(NotADirectoryError):
            write_studies([(spec, calcs)], out, writer=writer)
        writer.submit = real  # type: ignore[method-assign]
        # the writer reported and reset its error: the next study is written
        assert len(write_studies([(spec, calcs)], out, writer=writer)) == len(calcs)
    assert sorted(p.name for p in out.iterdir()) == [spec.study]  # no staging directory left


def test_a_dead_writer_fails_the_study_and_leaves_nothing(tmp_path):
    spec = load_spec(_file("tiny_mechanism_mlip"))
    calcs = plan(spec, _file("tiny_mechanism_mlip"))
    out = tmp_path / "out"
    out.mkdir()
    with file_writer(len(calcs)) as writer:
        assert writer is not None
        os.kill(writer._process.pid, signal.SIGKILL)
        writer._process.join()
        with pytest.raises((RuntimeError, OSError), match="file writer|Broken pipe"):
            write_studies([(spec, calcs)], out, writer=writer)
    assert list(out.iterdir()) == []


def test_write_calculation_sends_the_texts_to_the_writer(tmp_path):
    calc = plan(load_spec(_file("tiny_mechanism_mlip")), _file("tiny_mechanism_mlip"))[0]
    sent = []

    class Recorder:
        def submit(self, root, phase, function, directory, texts):
            sent.append((root, phase, function, directory, sorted(texts)))

    entry = dryrun.write_calculation(calc, tmp_path, staged=True, writer=Recorder())  # type: ignore[arg-type]
    assert sent == [(str(tmp_path), "writer:mlip", dryrun.write_staged_texts,
                     str(tmp_path / calc.name), entry.files)]  # fmt: skip
    assert not (tmp_path / calc.name).exists()  # written by the writer, not here


@pytest.mark.parametrize("min_writer_calcs", [0, 10**9])  # with and without the writer
def test_a_failing_study_leaves_every_study_of_an_earlier_output_as_it_was(
    tmp_path, monkeypatch, min_writer_calcs
):
    out = tmp_path / "out"
    dry_run(_files(), out, progress=False)
    first, last = _files()[0].stem, _files()[-1].stem  # (in the order they are written)
    edited = next((out / first).rglob("INCAR"))
    edited.write_text("the user's edit\n")  # a fresh dry-run would write other bytes here
    before = _tree(out)
    monkeypatch.setattr(dryrun_writer, "MIN_WRITER_CALCS", min_writer_calcs)
    real = dryrun.write_calculation

    def failing(calc, root, staged=False, writer=None):
        if calc.study == last:  # the last study, after the others were staged
            raise InputError("system.scale", "broken on purpose", "> 0")
        return real(calc, root, staged, writer)

    monkeypatch.setattr(dryrun, "write_calculation", failing)
    with pytest.raises(InputError, match="broken on purpose"):
        dry_run(_files(), out, progress=False)
    assert _tree(out) == before  # no study replaced, no staging directory left
    assert edited.read_text() == "the user's edit\n"
    assert sorted(p.name for p in out.iterdir()) == sorted([*STUDIES, "manifest.json"])
