"""Pure (process setting): the BLAS thread pool held at one thread around the models' products.

The models' matrices are small (a Fourier design is a few thousand rows by at most 37 columns):
one core does a product in about a millisecond, and OpenBLAS's own threads only wait for each
other. On a busy machine they wait a lot: with two cores shared by other processes, one Fourier
fit took 0.13-0.19 s with OpenBLAS's default two threads against 0.01 s on one thread
(cProfile of bench/forecast.py's series, measured back to back), which made the backtest five
times slower. Several workloads replay in parallel processes instead (actuator/pool.py).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import threadpoolctl


@functools.cache
def _controller() -> threadpoolctl.ThreadpoolController:
    # Built once, on the first fit: it lists the BLAS libraries loaded by then (numpy's and
    # scipy's are, since the models import statsmodels); building one costs milliseconds,
    # entering its limit microseconds.
    return threadpoolctl.ThreadpoolController()


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with every loaded BLAS library on a single thread."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
