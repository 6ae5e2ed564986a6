"""The dry-run's file creation beside its computing: one forked writer process.

Creating a file costs this machine's kernel 0.1-0.9 ms (``open`` with ``O_CREAT`` on ext4), a
third of a dry-run's time, while the texts themselves come from Python. The parent computes
each calculation's texts and sends them down a pipe; the writer makes the directories and
files (:func:`lisflow.workflows.dryrun.write_staged_texts`, the same bytes and modes) on the
other core. Before a study's staging directory is listed, flushed and renamed
(:func:`lisflow.fsutil.atomic_directory`), :meth:`FileWriter.batch` waits until the writer
has made every file sent so far, and re-raises its error there: the study is then removed
whole, as when the parent fails. A thread would not do: it needs the interpreter lock back
after every system call, which a computing parent holds for up to 5 ms each time.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator
from multiprocessing.connection import Connection

#: Fewer calculations than this: the parent writes them itself (forking would not pay).
MIN_WRITER_CALCS = 50


class FileWriter:
    """A forked process that writes ``name -> text`` sets into staging directories."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(child_end, self._conn), daemon=True)
        self._process.start()
        child_end.close()

    def write(self, staging_root: str, directory: str, texts: dict[str, str]) -> None:
        """Queue the files ``texts`` below ``directory`` (inside the staging tree
        ``staging_root``, an absolute path)."""
        self._conn.send((staging_root, directory, texts))

    def wait(self) -> None:
        """Return when every file queued so far exists; raise the writer's error if one
        failed (files queued after the failure are not written)."""
        self._conn.send(None)
        try:
            error = self._conn.recv()
        except EOFError:
            raise RuntimeError(f"the dry-run's file writer (pid {self._process.pid}) died") from None
        if error is not None:
            raise error

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Wait for the writer at the end of the block, also when the block fails (so that
        nothing is written into a staging directory after it was removed)."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self.wait()
            raise
        self.wait()

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
    """The writer's loop: write each set; on ``None`` report the first error since the last
    report (or None); stop when the parent closes the pipe."""
    from lisflow import fsutil
    from lisflow.workflows.dryrun import write_staged_texts

    parent_end.close()
    error: BaseException | None = None
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            break
        if item is None:
            conn.send(error)
            error = None
            continue
        if error is not None:
            continue  # (the study fails whole: nothing more of it is written)
        staging_root, directory, texts = item
        fsutil._STAGING.add(staging_root)  # (this process's copy of the set)
        try:
            write_staged_texts(directory, texts)
        except Exception as exc:  # (reported at the next wait; OSError pickles)
            error = exc
    conn.close()
