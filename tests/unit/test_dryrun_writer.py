"""The dry-run's forked file writer (lisflow.workflows.dryrun_writer) writes what the parent
would have written, byte for byte and mode for mode; its failure fails the study whole, and
nothing is written into a staging directory after the study failed."""

from __future__ import annotations

import os
import signal
import warnings
from pathlib import Path

import pytest

from lisflow.spec import load_spec, study_files
from lisflow.workflows import dryrun, dryrun_writer
from lisflow.workflows.dryrun import dry_run, write_study
from lisflow.workflows.dryrun_writer import FileWriter, file_writer
from lisflow.workflows.plan import plan

STUDIES = ("tiny_mechanism_mlip", "dasc_neb")  # MLIP and VASP (NEB images in subdirectories)


def _files() -> list[Path]:
    files = [f for f in study_files() if f.stem in STUDIES]
    assert len(files) == len(STUDIES)
    return files


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode)
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(autouse=True)
def _writer_for_few_calculations(monkeypatch):
    monkeypatch.setattr(dryrun_writer, "MIN_WRITER_CALCS", 0)
    warnings.filterwarnings("ignore")


def test_the_writer_writes_the_parents_files_and_manifest(tmp_path, monkeypatch):
    with_writer = dry_run(_files(), tmp_path / "writer", progress=False)
    monkeypatch.setattr(dryrun_writer, "MIN_WRITER_CALCS", 10**9)  # the parent writes
    by_parent = dry_run(_files(), tmp_path / "parent", progress=False)
    assert with_writer == by_parent  # manifest entries: files and input hashes
    a, b = _tree(tmp_path / "writer"), _tree(tmp_path / "parent")
    n_inputs = sum(len(entry.files) for entry in by_parent)
    assert len(a) == n_inputs + len(STUDIES) + 1 > 100  # inputs, study markers, manifest
    assert a == b  # every file, bytes and permissions
    assert sum("/0" in name for name in a) > 0  # NEB image directories came from the writer


def test_file_writer_only_for_large_dry_runs(monkeypatch):
    monkeypatch.setattr(dryrun_writer, "MIN_WRITER_CALCS", 50)
    with file_writer(49) as writer:
        assert writer is None
    with file_writer(50) as writer:
        assert isinstance(writer, FileWriter)


def test_a_failed_write_fails_the_study_whole(tmp_path):
    spec = load_spec(_files()[1])
    calcs = plan(spec, _files()[1])
    out = tmp_path / "out"
    out.mkdir()
    with file_writer(len(calcs)) as writer:
        assert writer is not None
        real = writer.write
        # the second calculation's directory is taken by a file: the writer's mkdir fails
        writer.write = lambda root, directory, texts: (  # type: ignore[method-assign]
            Path(directory).parent.mkdir(parents=True, exist_ok=True),
            Path(directory).write_text("in the way") if directory.endswith(calcs[1].name) else None,
            real(root, directory, texts),
        )
        with pytest.raises(OSError):
            write_study(spec, calcs, out, writer=writer)
        writer.write = real  # type: ignore[method-assign]
        # the writer reported and reset its error: the next study is written
        assert len(write_study(spec, calcs, out, writer=writer)) == len(calcs)
    assert sorted(p.name for p in out.iterdir()) == [spec.study]  # no staging directory left


def test_a_dead_writer_fails_the_study_and_leaves_nothing(tmp_path):
    spec = load_spec(_files()[0])
    calcs = plan(spec, _files()[0])
    out = tmp_path / "out"
    out.mkdir()
    with file_writer(len(calcs)) as writer:
        assert writer is not None
        os.kill(writer._process.pid, signal.SIGKILL)
        writer._process.join()
        with pytest.raises((RuntimeError, OSError), match="file writer|Broken pipe"):
            write_study(spec, calcs, out, writer=writer)
    assert list(out.iterdir()) == []


def test_write_calculation_sends_the_texts_to_the_writer(tmp_path):
    calc = plan(load_spec(_files()[0]), _files()[0])[0]
    sent = []

    class Recorder:
        def write(self, root, directory, texts):
            sent.append((root, directory, sorted(texts)))

    entry = dryrun.write_calculation(calc, tmp_path, staged=True, writer=Recorder())  # type: ignore[arg-type]
    assert sent == [(str(tmp_path), str(tmp_path / calc.name), entry.files)]
    assert not (tmp_path / calc.name).exists()  # written by the writer, not here
