"""Bench: reading history from a real Prometheus. 100 workloads x 4 weeks at 1 minute.

Backfills 100 counter series (one per workload, 40,321 samples each) into Debian's prometheus
on a free loopback port (tests/prometheus_server.py), then reads every workload's history with
`prometheus.fetch_range` (5 chunks each, 4 in flight) and prints, next to it, the baseline
measured in the same run: plain `requests.get` of exactly the same chunk URLs with the same
concurrency, reading the bodies without parsing them (the HTTP and server cost our adapter
cannot avoid). Each side runs in its own fresh process (spawned, not forked, so the backfill's
memory is not counted), which reports its time and peak RSS.

    python bench/prometheus.py [--series 100] [--days 28] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import requests

# The server helper lives with the tests, which start the same server.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import prometheus_server

from actuator import prometheus

START = pd.Timestamp("2026-01-05T00:00:00Z")
STEP_S = 60


def _query(number: int) -> str:
    return f'sum(rate(bench_requests_total{{workload="w{number:03d}"}}[{STEP_S}s]))'


def _history(series: int, days: int) -> list[prometheus_server.Series]:
    minutes = days * 1440
    rng = np.random.default_rng(7)
    out = []
    for number in range(series):
        per_minute = rng.poisson(50 + number, minutes).astype(float)
        totals = np.concatenate([[0.0], np.cumsum(per_minute)])
        out.append(
            prometheus_server.Series(
                "bench_requests_total",
                {"workload": f"w{number:03d}", "namespace": "bench"},
                int(START.timestamp()),
                STEP_S,
                totals,
                kind="counter",
            )
        )
    return out


def _peak_rss_mib() -> float:
    """This address space's peak RSS: VmHWM, which exec resets (ru_maxrss survives fork and
    exec on Linux, so a spawned child would report its parent's backfill)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _ours(url: str, series: int, end: pd.Timestamp, concurrency: int) -> tuple[float, int]:
    conn = prometheus.Connection(url=url, max_concurrency=concurrency, timeout_s=120.0)
    begin = time.perf_counter()
    points = 0
    for number in range(series):
        result = prometheus.fetch_range(conn, _query(number), START, end, STEP_S)
        points += int(result.values.notna().sum())
    return time.perf_counter() - begin, points


def _raw(url: str, series: int, end: pd.Timestamp, concurrency: int) -> tuple[float, int]:
    plan = prometheus.chunks(int(START.timestamp()), int(end.timestamp()), STEP_S)
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=concurrency)
    session.mount(url, adapter)

    def get(query: str, chunk: prometheus.Chunk) -> int:
        params: dict[str, str | int] = {
            "query": query,
            "start": chunk.start_s,
            "end": chunk.end_s,
            "step": STEP_S,
        }
        response = session.get(f"{url}/api/v1/query_range", params=params, timeout=120)
        response.raise_for_status()
        return len(response.content)

    begin = time.perf_counter()
    total = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        for number in range(series):
            # One workload at a time, its chunks in flight together: what fetch_range does.
            query = _query(number)
            total += sum(pool.map(get, [query] * len(plan), plan))
    return time.perf_counter() - begin, total


def _measure(
    side: str, url: str, series: int, end: pd.Timestamp, concurrency: int
) -> tuple[float, int, float]:
    """One side's seconds, its count (points or bytes) and this process's peak RSS."""
    run = _ours if side == "ours" else _raw
    seconds, count = run(url, series, end, concurrency)
    return seconds, count, _peak_rss_mib()


def _idle_rss() -> float:
    return _peak_rss_mib()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if not prometheus_server.available():
        raise SystemExit("prometheus and promtool are not installed (apt install prometheus)")
    end = START + pd.Timedelta(days=args.days)
    with tempfile.TemporaryDirectory(prefix="prescale-bench-prom-") as work:
        began = time.perf_counter()
        blocks = prometheus_server.backfill(Path(work), _history(args.series, args.days))
        backfill_s = time.perf_counter() - began
        server = prometheus_server.start(Path(work), blocks=blocks)
        try:
            context = multiprocessing.get_context("spawn")
            job = (server.url, args.series, end, args.concurrency)
            with context.Pool(1) as pool:
                # Warm the server's page cache once so neither side pays the first disk read.
                pool.apply(_measure, ("raw", *job))
            with context.Pool(1) as pool:
                raw_s, raw_bytes, raw_rss = pool.apply(_measure, ("raw", *job))
            with context.Pool(1) as pool:
                ours_s, points, ours_rss = pool.apply(_measure, ("ours", *job))
            with context.Pool(1) as pool:
                idle_rss = pool.apply(_idle_rss)
        finally:
            server.stop()
    per_series = (args.days * 1440) + 1
    print(
        f"history     {args.series} series x {args.days} d at {STEP_S} s "
        f"({per_series:,} evaluations each), backfill {backfill_s:.1f} s"
    )
    print(
        f"baseline    raw HTTP of the same chunks: {raw_s:.2f} s, {raw_bytes / 2**20:.1f} MiB "
        f"of JSON"
    )
    print(
        f"prescale    fetch_range: {ours_s:.2f} s ({ours_s / raw_s:.2f} x raw), {points:,} points"
    )
    print(
        f"peak RSS    prescale {ours_rss:.0f} MiB, raw {raw_rss:.0f} MiB, a process that only "
        f"imports them {idle_rss:.0f} MiB"
    )


if __name__ == "__main__":
    main()
