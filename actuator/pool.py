"""Shell: a local process pool for the core's pure workers (one workload's replay per task).

A replay is CPU-bound pure Python and numpy, so workloads replay in parallel processes, not
threads. The worker is a plain function of frozen inputs (`simulator.lineup.run_task`) whose
result depends on its inputs alone, so the pool returns exactly the serial results, in the
tasks' order; a distributed engine could run the same function.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")


def default_jobs(tasks: int) -> int:
    """One process per core (this process's CPU affinity), never more than the tasks."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, tasks))


def jobs_problem(jobs: int | None, flag: str = "--jobs") -> str | None:
    """What is wrong with a --jobs value (None: nothing)."""
    if jobs is not None and jobs < 1:
        return (
            f"{flag} ({jobs}) must be at least 1 (1 = serial); leave it out for one process "
            "per core"
        )
    return None


def run_all(
    worker: Callable[[Task], Result],
    tasks: Sequence[Task],
    jobs: int,
    *,
    on_done: Callable[[int], None] | None = None,
) -> list[Result]:
    """`worker` on every task, in `jobs` processes (serially for 1 job or 1 task); results in
    the tasks' order. `on_done(count)` after each task finishes, in this process."""
    if jobs <= 1 or len(tasks) <= 1:
        out = []
        for task in tasks:
            out.append(worker(task))
            if on_done is not None:
                on_done(len(out))
        return out
    # fork: the workers start with this process's imports (spawn would import pandas and
    # statsmodels again in each, about a second); the shell holds no threads at this point.
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(worker, task) for task in tasks]
        for done, _ in enumerate(concurrent.futures.as_completed(futures), start=1):
            if on_done is not None:
                on_done(done)
        return [future.result() for future in futures]
