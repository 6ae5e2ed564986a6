"""The dry-run's file creation beside its computing: one forked writer process.

Creating a file costs this machine's kernel 0.02-1 ms (``open`` with ``O_CREAT`` on ext4; the
same 1280 files in 320 directories took 0.03 s and, minutes later, 0.3-1.3 s), up to a third of
a dry-run's time, while the texts themselves come from Python. The parent computes
each calculation's texts and sends them down a pipe; the writer makes the directories and
files (:func:`lisflow.workflows.dryrun.write_staged_texts`, the same bytes and modes) on the
other core, and draws the study extras (e.g. diffraction figures) there too. Before a
study's staging directory is listed, flushed and renamed (:func:`lisflow.fsutil.atomic_directory`),
:meth:`FileWriter.wait` returns once the writer has done everything sent so far, and
re-raises its error there: the study is then removed whole, as when the parent fails. A
thread would not do: it needs the interpreter lock back after every system call, which a
computing parent holds for up to 5 ms each time.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

#: Fewer calculations than this: the parent writes them itself (forking would not pay).
MIN_WRITER_CALCS = 50


class FileWriter:
    """A forked process that runs writing calls in order inside staging directories."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(child_end, self._conn), daemon=True)
        self._process.start()
        child_end.close()

    def submit(self, staging_root: str, phase: str, function: Callable[..., Any], *args) -> None:
        """Run ``function(*args)`` in the writer, after everything sent before; it writes
        inside the staging tree ``staging_root`` (absolute path). ``function`` and ``args``
        must pickle (module-level functions, specs, texts); its time counts to ``phase``."""
        self._conn.send((staging_root, phase, function, args))

    def wait(self, timings: dict[str, list[float]] | None = None) -> None:
        """Return when everything submitted so far is done; raise the writer's error if a
        call failed (calls submitted after the failure are skipped). ``timings``: add the
        writer's ``phase -> [wall s, CPU s, count]`` since the last wait."""
        self._conn.send(None)
        try:
            error, phases = self._conn.recv()
        except EOFError:
            raise RuntimeError(f"the dry-run's file writer (pid {self._process.pid}) died") from None
        if timings is not None:
            for phase, row in phases.items():
                total = timings.setdefault(phase, [0.0, 0.0, 0])
                total[:] = [a + b for a, b in zip(total, row, strict=True)]
        if error is not None:
            raise error

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """On a failure inside the block, wait for the writer before it propagates (nothing
        is then written into a staging directory after it was removed)."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self.wait()
            raise

    def close(self) -> None:
        """Stop the writer and reap it (its CPU time then counts as this process's children's)."""
        with contextlib.suppress(OSError):
            self._conn.close()
        self._process.join()


@contextlib.contextmanager
def file_writer(n_calcs: int) -> Iterator[FileWriter | None]:
    """A :class:`FileWriter` for a dry-run of ``n_calcs`` calculations; None (write in this
    process) for small ones or where ``fork`` is not available."""
    if n_calcs < MIN_WRITER_CALCS or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    writer = FileWriter()
    try:
        yield writer
    finally:
        writer.close()


def _serve(conn: Connection, parent_end: Connection) -> None:
    """The writer's loop: run each call; on ``None`` report the first error since the last
    report (or None) and the phase times; stop when the parent closes the pipe. A reader
    thread empties the pipe into a queue, so the parent never waits for room in the pipe
    while the writer draws a figure."""
    from lisflow import fsutil

    parent_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # (Ctrl-C is the parent's to handle)
    items: queue.SimpleQueue = queue.SimpleQueue()

    def read() -> None:
        while True:
            try:
                items.put(conn.recv())
            except (EOFError, OSError):
                items.put(_STOP)
                return

    threading.Thread(target=read, daemon=True).start()
    error: BaseException | None = None
    phases: dict[str, list[float]] = {}
    while (item := items.get()) is not _STOP:
        if item is None:
            conn.send((error, phases))
            error, phases = None, {}
            continue
        if error is not None:
            continue  # (the study fails whole: nothing more of it is written)
        staging_root, phase, function, args = item
        fsutil._STAGING.add(staging_root)  # (this process's copy of the set)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            function(*args)
        except Exception as exc:  # (reported at the next wait; OSError and InputError pickle)
            error = exc
        row = phases.setdefault(phase, [0.0, 0.0, 0])
        row[0] += time.perf_counter() - wall
        row[1] += time.process_time() - cpu
        row[2] += 1


#: The reader's mark for "the parent closed the pipe".
_STOP = object()
