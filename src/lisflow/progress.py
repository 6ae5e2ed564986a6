"""Progress bars of long commands (``submit``, ``ml fit``, ``ml screen``).

Shown on stderr, so ``stdout`` stays the result; by default only when stdout is a terminal
(tests and CI logs stay clean), or always with ``--progress``, never with ``--no-progress``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: ``step(description=None)``: one unit done; the bar's text becomes ``description`` if given.
Step = Callable[..., None]


def want_progress(flag: bool | None) -> bool:
    """``flag`` if given (``--progress/--no-progress``), else whether stdout is a terminal."""
    if flag is not None:
        return flag
    return sys.stdout.isatty()


@contextmanager
def progress_bar(description: str, total: int, enabled: bool) -> Iterator[Step]:
    """A rich bar of ``total`` steps on stderr, shown from the first ``step`` on; yields
    ``step``. Disabled: ``step`` does nothing."""
    if not enabled:
        yield lambda description=None: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    bar = Progress(*columns, console=Console(stderr=True), transient=False)
    task = bar.add_task(description, total=total)
    started = False

    def step(text: str | None = None) -> None:
        nonlocal started
        if not started:  # no bar at all for a command that fails before its first step
            bar.start()
            started = True
        bar.update(task, advance=1, description=text or description)

    try:
        yield step
    finally:
        if started:
            bar.stop()
