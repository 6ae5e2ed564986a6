"""The dry-run's writing phase on several cores: one study per task, forked worker processes.

Planning stays in the parent (everything is validated and planned before the first byte is
written); the workers are forked after it, so they inherit the planned calculations and
nothing but the study index goes to them. Each worker writes whole studies exactly as the
serial path does (:func:`lisflow.workflows.dryrun.write_study`: same staging directory, same
bytes) and sends back the manifest entries; the parent puts them in study order. A study
that fails in a worker is written again by the parent, which raises the error itself (the
same message and traceback as without workers). Progress: one tick per calculation through
a queue, so the bar advances as in the serial path.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
from pathlib import Path
from typing import Any

from lisflow.errors import InputError

#: Rough seconds per calculation by engine (and task), and per study with extras: only the
#: order in which studies are handed out (longest first) depends on them, never the output.
COST_S = {"vasp": 0.005, "neb": 0.12, "lobster": 0.005, "lammps": 0.02, "electrode": 0.15}
EXTRAS_COST_S = 1.0
#: Fewer calculations than this: written in the parent (forking would not pay).
MIN_PARALLEL_CALCS = 50

#: (planned studies, output directory, progress queue) of the running parallel dry-run,
#: inherited by the forked workers.
_FORKED: tuple[list, Path, Any] | None = None


def worker_count(workers: int | None, planned: list) -> int:
    """Workers for this dry-run: ``workers`` if given, else ``$LISFLOW_DRYRUN_WORKERS``, else
    1; at most one per study; 1 (serial) without fork or
    when there are fewer than :data:`MIN_PARALLEL_CALCS` calculations.

    Serial is the default: on the 2-core machine of issue 16, with another job on the cores,
    two workers took 1.5-1.9x the serial wall time (each ran at half speed); on idle cores
    the studies split about evenly."""
    if workers is None:
        env = os.environ.get("LISFLOW_DRYRUN_WORKERS", "1")
        try:
            workers = int(env)
        except ValueError:
            raise InputError("LISFLOW_DRYRUN_WORKERS", f"{env!r} is not a number", ">= 1") from None
    if workers < 1:
        raise InputError("workers", f"{workers} workers", ">= 1")
    total = sum(len(calcs) for _, calcs in planned)
    if "fork" not in multiprocessing.get_all_start_methods() or total < MIN_PARALLEL_CALCS:
        return 1
    return max(1, min(workers, len(planned)))


def estimated_cost(spec: Any, calcs: list) -> float:
    """Seconds a study's writing is expected to take (for the order of the tasks only)."""
    from lisflow.workflows.kinds import study_kind

    cost = EXTRAS_COST_S if study_kind(spec).extras is not None else 0.0
    for calc in calcs:
        if calc.engine == "lammps" and (calc.inputs.system or {}).get("electrode"):
            cost += COST_S["electrode"]
        elif calc.task == "neb":
            cost += COST_S["neb"]
        else:
            cost += COST_S.get(calc.engine, 0.01)
    return cost


def write_parallel(planned: list, out_dir: Path, workers: int, bar, task, timings) -> list:
    """Write every study of ``planned`` with ``workers`` forked processes; the manifest
    entries in study order (as the serial path returns them)."""
    from lisflow.workflows.dryrun import write_study

    global _FORKED
    context = multiprocessing.get_context("fork")
    ticks = context.Queue() if bar is not None else None
    order = sorted(range(len(planned)), key=lambda i: -estimated_cost(*planned[i]))
    results: dict[int, list] = {}
    failed: list[int] = []
    _FORKED = (planned, out_dir, ticks)
    try:
        with context.Pool(workers) as pool:
            pending = pool.map_async(_write_one, order, chunksize=1)
            while not pending.ready():
                _advance(ticks, bar, task, timeout=0.05)
            for index, entries, phases in pending.get():
                if entries is None:
                    failed.append(index)
                    continue
                results[index] = entries
                for phase, row in phases.items() if timings is not None else ():
                    total = timings.setdefault(phase, [0.0, 0.0, 0])
                    total[:] = [a + b for a, b in zip(total, row, strict=True)]
            pool.close()
            pool.join()  # (the workers' CPU time then counts as this process's children's)
        while _advance(ticks, bar, task, timeout=0.0):
            pass
    finally:
        _FORKED = None
    for index in sorted(failed):  # again here: the same error, raised in this process
        spec, calcs = planned[index]
        results[index] = write_study(spec, calcs, out_dir, timings, None)
    return [entry for index in range(len(planned)) for entry in results[index]]


def _advance(ticks, bar, task, timeout: float) -> bool:
    """Move the bar by one finished calculation; False when none came within ``timeout``."""
    if ticks is None:
        return False
    try:
        ticks.get(timeout=timeout) if timeout else ticks.get_nowait()
    except queue_module.Empty:
        return False
    bar.advance(task)
    return True


def _write_one(index: int) -> tuple[int, list | None, dict]:
    """In a worker: write study ``index``; (index, entries or None if it failed, timings)."""
    from lisflow.structures.md_memo import cached_builds
    from lisflow.workflows.dryrun import write_study

    assert _FORKED is not None
    planned, out_dir, ticks = _FORKED
    spec, calcs = planned[index]
    timings: dict[str, list[float]] = {}
    tick = None if ticks is None else (lambda: ticks.put(1))
    try:
        with cached_builds():
            entries = write_study(spec, calcs, out_dir, timings, tick)
    except Exception:  # the parent writes this study again and raises
        return index, None, timings
    return index, entries, timings
