"""``lisflow dry-run``: write every calculation's inputs and a manifest, run nothing.

Everything is validated and planned before the first byte is written; every study's
directory is staged (temporary sibling) and all are renamed into place once all are written,
so a failure leaves nothing behind and an earlier output as it was.
Same spec, same bytes: re-running gives identical files and manifest.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lisflow.calculation import Calculation
from lisflow.engines.registry import get_engine
from lisflow.errors import InputError
from lisflow.fsutil import (
    atomic_directory,
    atomic_write_text,
    check_replaceable,
    hash_directory,
    staged_mkdir,
)
from lisflow.spec import load_spec
from lisflow.structures.md_memo import cached_builds
from lisflow.workflows.dryrun_writer import FileWriter, file_writer
from lisflow.workflows.kinds import study_kind
from lisflow.workflows.plan import plan

MANIFEST = "manifest.json"


@dataclass
class ManifestEntry:
    calc_id: str
    study: str
    engine: str
    task: str
    role: str
    formula: str
    n_atoms: int
    directory: str
    files: list[str]
    input_hash: str
    parents: list[str]
    labels: dict[str, Any]
    parameters: dict[str, Any]


def key_parameters(calc: Calculation) -> dict[str, Any]:
    """The parameters a reader checks first (INCAR tags and k-mesh; CP2K run settings; the
    scalar settings of the other engines): ``calc.inputs.key_parameters``."""
    return {} if calc.inputs is None else calc.inputs.key_parameters(calc)


#: Engines whose ``write_inputs`` is ``write_files(directory, input_files(calc))``: inside a
#: staging tree the dry-run writes their ``input_files`` itself and hashes the texts in memory.
IN_MEMORY_ENGINES = ("vasp", "cp2k", "mlip", "lobster")


def write_calculation(
    calc: Calculation, root: Path, staged: bool = False, writer: FileWriter | None = None
) -> ManifestEntry:
    """Write one calculation's inputs under ``root/<calc name>``; return its manifest entry.

    ``staged``: ``root`` is the staging tree of an :func:`lisflow.fsutil.atomic_directory`
    (nobody sees it before it is flushed and renamed), so files are written plainly, one
    ``mkdir`` per directory, and hashed from memory; same bytes, same hash. ``writer``: the
    staged files of the in-memory engines go to that process (written by the end of its
    :meth:`~lisflow.workflows.dryrun_writer.FileWriter.batch`)."""
    directory = root / calc.name
    engine = get_engine(calc.engine)
    if staged and calc.engine in IN_MEMORY_ENGINES:
        texts = engine.input_files(calc)  # type: ignore[attr-defined]
        if writer is not None:
            writer.submit(os.path.abspath(root), f"writer:{calc.engine}", write_staged_texts,
                          os.path.abspath(directory), texts)  # fmt: skip
            files = sorted(texts)
        else:
            files = write_staged_texts(directory, texts)
        input_hash = hash_texts(texts)
    else:
        files = engine.write_inputs(calc, directory)
        input_hash = hash_directory(directory, files)
    return ManifestEntry(
        calc_id=calc.calc_id,
        study=calc.study,
        engine=calc.engine,
        task=calc.task,
        role=calc.role,
        formula=calc.formula,
        n_atoms=calc.n_atoms,
        directory=f"{calc.study}/{calc.name}",
        files=files,
        input_hash=input_hash,
        parents=list(calc.parents),
        labels=calc.labels,
        parameters=key_parameters(calc),
    )


_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def write_staged_texts(directory: Path, texts: dict[str, str]) -> list[str]:
    """Write ``name -> text`` below ``directory`` (inside a staging tree: plain writes, mode
    0666 minus umask as :func:`lisflow.fsutil.atomic_write_text` gives); sorted names.

    Three system calls per file (open, write, close: ``open()`` adds fstat, ioctl, lseek)
    and one mkdir per new directory."""
    root = os.path.abspath(directory)
    for name, text in texts.items():
        path = os.path.join(root, name)
        staged_mkdir(os.path.dirname(path))
        fd = os.open(path, _WRITE_FLAGS, 0o666)
        try:
            view = memoryview(text.encode())
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    return sorted(texts)


def hash_texts(texts: dict[str, str]) -> str:
    """:func:`lisflow.fsutil.hash_directory` of these files, from their texts."""
    digest = hashlib.sha256()
    for name in sorted(texts):
        digest.update(name.encode() + b"\0")
        digest.update(texts[name].encode())
        digest.update(b"\0")
    return digest.hexdigest()


def dry_run(
    spec_files: list[Path],
    out_dir: Path,
    progress: bool = True,
    override: Any = None,
    timings: dict[str, list[float]] | None = None,
    workers: int | None = None,
) -> list[ManifestEntry]:
    """Validate and plan every spec (run by ``override``'s engine when given, see
    lisflow.spec.engine_override), then write each study directory and ``manifest.json``.

    ``timings``, when given, collects ``phase -> [wall s, CPU s, count]`` for ``plan``,
    ``write:<engine>`` and ``extras`` (benchmarks/bench_dryrun.py; with workers the sums over
    them). ``workers``: processes writing studies side by side (default
    ``$LISFLOW_DRYRUN_WORKERS``, else 1: all in this process; see
    :mod:`lisflow.workflows.dryrun_parallel`). The files are the same either way."""
    from lisflow.spec.engine_override import apply_engine_override

    with collector_paused(), one_blas_thread(), cached_builds():  # (DASC sites built once)
        specs = [(path, apply_engine_override(load_spec(path), override)) for path in spec_files]
        planned: list[tuple[Any, list]] = []  # (study spec, its calculations)
        for path, spec in specs:
            with _timed(timings, "plan"):
                planned.append((spec, plan(spec, path)))
        read_manifest(out_dir / MANIFEST)  # a foreign manifest.json: refuse before writing
        for spec, _ in planned:  # a user's files in any study directory: refuse before writing
            check_replaceable(out_dir / spec.study, "--out")
        created = not out_dir.exists()
        try:
            entries = _write_all(planned, out_dir, progress, timings, workers)
        except BaseException:
            if created:
                shutil.rmtree(out_dir, ignore_errors=True)
            raise
        update_manifest(out_dir / MANIFEST, entries)
    return entries


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off inside the block (back on after, if it was).

    A dry-run allocates millions of short-lived, acyclic objects (pymatgen sites, numpy
    arrays) next to large live ones (10^4-site electrodes); each full collection walks them
    all, about a quarter of the dry-run's CPU time here. Reference counting still frees
    everything acyclic at once; the few cycles wait for the next collection after the block."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS (OpenBLAS of numpy and scipy) on one thread inside the block.

    The dry-run's linear algebra is on 3 x 3 cells and a few hundred atoms; a second BLAS
    thread only spins: measured here, planning took 1.24 s of CPU for 0.71 s of wall time
    with two threads and 0.56 s with one, for the same bytes (``diff -r`` of the output)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@contextlib.contextmanager
def _timed(timings: dict[str, list[float]] | None, phase: str) -> Iterator[None]:
    if timings is None:
        yield
        return
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        row = timings.setdefault(phase, [0.0, 0.0, 0])
        row[0] += time.perf_counter() - wall
        row[1] += time.process_time() - cpu
        row[2] += 1


def _write_all(
    planned, out_dir: Path, progress: bool, timings=None, workers: int | None = None
) -> list[ManifestEntry]:
    from lisflow.workflows.dryrun_parallel import worker_count, write_parallel

    total = sum(len(calcs) for _, calcs in planned)
    shown = progress and total >= 10
    n_workers = worker_count(workers, planned)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, disable=not shown, transient=True) as bar, cached_builds():
        task = bar.add_task("writing inputs", total=total)
        if n_workers > 1:
            return write_parallel(planned, out_dir, n_workers, bar if shown else None, task,
                                  timings)  # fmt: skip
        with file_writer(total) as writer:
            return write_studies(planned, out_dir, timings, lambda: bar.advance(task), writer)


def write_study(spec, calcs, out_dir: Path, timings=None, tick=None) -> list[ManifestEntry]:
    """Write one study's directory whole (staging directory, then rename); its entries."""
    return write_studies([(spec, calcs)], out_dir, timings, tick)


def write_studies(
    planned, out_dir: Path, timings=None, tick=None, writer: FileWriter | None = None
) -> list[ManifestEntry]:
    """Write every study's directory: each is staged, and all are renamed into place once
    all are complete (a failure anywhere leaves every study directory as it was); the
    manifest entries in study order. ``tick()`` is called after each calculation (the
    progress bar). ``writer``: the process that creates the in-memory engines' files and
    draws the study extras (:mod:`lisflow.workflows.dryrun_writer`); it gets the extras
    first, so the figures are drawn while this process computes the calculations."""
    entries: list[ManifestEntry] = []
    with contextlib.ExitStack() as stack:
        trees = [stack.enter_context(atomic_directory(out_dir / spec.study)) for spec, _ in planned]
        if writer is not None:
            stack.enter_context(writer.batch())  # (on failure: the writer stops before removal)
            for (spec, _), tree in zip(planned, trees, strict=True):
                extras = study_kind(spec).extras
                if extras is not None:
                    writer.submit(os.path.abspath(tree), "writer:extras", extras, spec, tree)
        for (spec, calcs), tree in zip(planned, trees, strict=True):
            for calc in calcs:
                with _timed(timings, f"write:{calc.engine}"):
                    entries.append(write_calculation(calc, tree, staged=True, writer=writer))
                if tick is not None:
                    tick()
            if writer is None:
                with _timed(timings, "extras"):
                    study_kind(spec).write_extras(spec, tree)
        if writer is not None:
            with _timed(timings, "wait:writer"):  # (every file made before the trees are listed)
                writer.wait(timings)
    return entries


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """The calculations of an existing lisflow manifest ([] if none); ``InputError`` if the
    file is not one (lisflow never overwrites a file it did not write)."""
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text())["calculations"]
        if not isinstance(rows, list) or not all("study" in row for row in rows):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(
            "--out", f"{path} exists and is not a lisflow manifest; choose another directory"
        ) from None
    return rows


def update_manifest(path: Path, entries: list[ManifestEntry]) -> None:
    """Merge ``entries`` into the manifest (replacing those studies), sorted by calc id."""
    studies = {entry.study for entry in entries}
    existing = read_manifest(path)
    rows = [row for row in existing if row["study"] not in studies] + [asdict(e) for e in entries]
    rows.sort(key=lambda row: row["calc_id"])
    atomic_write_text(path, json.dumps({"calculations": rows}, indent=1, sort_keys=True) + "\n")
