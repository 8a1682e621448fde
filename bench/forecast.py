"""Bench: forecast accuracy on held-out weeks of the shared traces, and fitting speed.

Prints, per trace and model: held-out MAE, its ratio to weekly seasonal-naive, P90/P99
coverage, the band's width (mean P90 / mean P50 over the held-out week), backtest
(leave-one-fold-out) P90 coverage and refit seconds per series. Then the timing of one
refit of a 4-week series and of the backtest-driven selection for many series, each against
a baseline measured in the same run.

`--fleet N` times what `prescale plan` and the daemon's refits do for N workloads of their own
(4 weeks of 1-min points modelled at 5 min, each series its own: the bundled trace times seeded
noise and scale): select by backtest, forecast a week, plan (fleet.plan_all). Each run is a
fresh process; with `--baseline-ref REF` the same timing also runs on the library code of git
ref REF (extracted to a temporary directory, this bench script driving it), alternately with
this checkout's, and the ratio is printed.

    python bench/forecast.py [--traces-dir ../shared/traces] [--series 100] [--measure-mstl]
                             [--fleet 100 [--baseline-ref main] [--rounds 1]]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import baseline
import numpy as np
import pandas as pd

from actuator import trace, workloads
from actuator.commands import inputs
from forecaster import candidates, forecast, models, outliers, series
from planner import fleet

WEEK = pd.Timedelta(days=7)
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class HeldOut:
    name: str
    file: str
    start: pd.Timestamp | None  # None = the final 7 days of the file


CASES = (
    HeldOut("NASA final 7 days", "nasa_ksc_http_1995_per_minute.csv.gz", None),
    HeldOut(
        "NASA last full Mon-Sun week",
        "nasa_ksc_http_1995_per_minute.csv.gz",
        pd.Timestamp("1995-08-21T00:00Z"),
    ),
    HeldOut("ServeGen m-mid final week", "servegen_m_mid_10min.csv.gz", None),
    HeldOut("ServeGen m-small final week", "servegen_m_small_10min.csv.gz", None),
)


def _split(
    values: pd.Series, interval_s: int, start: pd.Timestamp | None
) -> tuple[pd.Series, pd.Series]:
    end = values.index[-1] + pd.Timedelta(seconds=interval_s)
    cut = end - WEEK if start is None else start
    history = values[values.index < cut]
    held = values[(values.index >= cut) & (values.index < cut + WEEK)]
    return history, held


def _truth(held: pd.Series, interval_s: int, resolution_s: int) -> tuple[pd.Series, pd.Series]:
    # Collection gaps in the held-out week are not demand: they are masked by the same rule
    # as in fitting and left out of the scores.
    cleaned = outliers.clean(held, interval_s).values
    return (
        series.bucket_mean(cleaned, interval_s, resolution_s),
        series.bucket_peak(cleaned, interval_s, resolution_s),
    )


def _naive_mae(history: pd.Series, selection: forecast.Selection, truth: pd.Series) -> float:
    """Held-out MAE of weekly seasonal-naive, refit through `forecast` as any selection is."""
    naive = dataclasses.replace(
        selection,
        model=forecast.ModelName.SEASONAL_NAIVE_WEEKLY,
        regime=candidates.Regime.WEEKLY,
        members=(),
        clip_spikes=False,
    )
    point = forecast.forecast(
        history, horizon_s=len(truth) * selection.resolution_s, selection=naive
    )
    aligned = point.frame["p50"].reindex(truth.index).to_numpy()
    actual = truth.to_numpy()
    ok = np.isfinite(actual) & np.isfinite(aligned)
    return float(np.mean(np.abs(aligned[ok] - actual[ok])))


def _score(
    frame: pd.DataFrame, truth_mean: pd.Series, truth_peak: pd.Series
) -> tuple[float, float, float, float, float]:
    aligned = frame.reindex(truth_mean.index)
    actual = truth_mean.to_numpy()
    ok = np.isfinite(actual)
    mae = float(np.mean(np.abs(aligned["p50"].to_numpy()[ok] - actual[ok])))
    cov90 = float(np.mean(actual[ok] <= aligned["p90"].to_numpy()[ok]))
    cov99 = float(np.mean(actual[ok] <= aligned["p99"].to_numpy()[ok]))
    peak = truth_peak.to_numpy()
    okp = np.isfinite(peak)
    peak90 = float(np.mean(peak[okp] <= aligned["peak_p90"].to_numpy()[okp]))
    width = float(np.mean(aligned["p90"].to_numpy()[ok]) / np.mean(aligned["p50"].to_numpy()[ok]))
    return mae, cov90, cov99, peak90, width


def accuracy(traces_dir: Path) -> None:
    print("== held-out accuracy (model fitted on everything before the held-out week)")
    for case in CASES:
        loaded = trace.load(traces_dir / case.file)
        history, held = _split(loaded.values, loaded.interval_s, case.start)
        started = time.perf_counter()
        selections = forecast.select_each(history)
        select_s = time.perf_counter() - started
        chosen = selections[0]
        truth_mean, truth_peak = _truth(held, loaded.interval_s, chosen.resolution_s)
        naive = _naive_mae(history, chosen, truth_mean)
        print(
            f"\n{case.name}: {case.file}, held out {held.index[0]} .. {held.index[-1]}, "
            f"regime {chosen.regime}, chosen {chosen.model}, resolution {chosen.resolution_s} s, "
            f"select_each {select_s:.2f} s"
        )
        print(f"  weekly seasonal-naive held-out MAE {naive:.2f} (input unit per interval)")
        print(f"  backtest: {_backtest_summary(chosen)}")
        print(
            f"  {'model':<23}{'MAE':>12}{'ratio':>8}{'P90 cov':>9}{'P99 cov':>9}"
            f"{'peak P90':>9}{'P90/P50':>8}{'bt P90':>8}{'refit s':>9}"
        )
        for selection in selections:
            started = time.perf_counter()
            result = forecast.forecast(history, selection=selection)
            refit_s = time.perf_counter() - started
            mae, cov90, cov99, peak90, width = _score(result.frame, truth_mean, truth_peak)
            bt = "n/a" if selection.coverage_p90 is None else f"{selection.coverage_p90:.3f}"
            mark = "*" if selection is chosen else " "
            print(
                f"  {mark}{selection.model!s:<22}{mae:>12.2f}{mae / naive:>8.3f}{cov90:>9.3f}"
                f"{cov99:>9.3f}{peak90:>9.3f}{width:>8.2f}{bt:>8}{refit_s:>9.3f}"
            )


def _backtest_summary(selection: forecast.Selection) -> str:
    """The choice as `prescale forecast` states it: common folds, who was not eligible."""
    left_out = [
        f"{c.model} ({c.status}, history for {c.runnable_folds} folds)"
        for c in selection.candidates
        if c.folds == 0
    ]
    members = f" = {'+'.join(selection.members)}" if selection.members else ""
    return (
        f"{selection.model}{members} by {selection.choice} on {selection.folds} common folds "
        f"({selection.planned_folds} planned); not eligible: {', '.join(left_out) or 'none'}"
    )


def _four_weeks() -> pd.Series:
    loaded = trace.load(inputs.example_path(inputs.EXAMPLE_TRACE))
    values = loaded.values
    window: pd.Series = values[
        values.index >= values.index[-1] - pd.Timedelta(days=28) + pd.Timedelta(minutes=1)
    ]
    return window


def _median_time(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def speed(count: int) -> None:
    history = _four_weeks()
    print(
        f"\n== speed: {len(history)} 1-min points (4 weeks, bundled NASA trace) modelled at 5 min"
    )
    selection = forecast.select(history)
    naive_selection = dataclasses.replace(
        selection, model=forecast.ModelName.SEASONAL_NAIVE_WEEKLY, members=()
    )
    # The heaviest refit a selection can ask for: an ensemble with MSTL in it (MSTL is the
    # slowest single model), whatever this series' backtest chose.
    heavy_selection = dataclasses.replace(
        selection,
        model=forecast.ModelName.ENSEMBLE,
        members=(
            forecast.ModelName.FOURIER,
            forecast.ModelName.WEEKLY_PROFILE,
            forecast.ModelName.MSTL,
        ),
    )
    refit = _median_time(lambda: forecast.forecast(history, selection=selection), 5)
    heavy = _median_time(lambda: forecast.forecast(history, selection=heavy_selection), 5)
    baseline = _median_time(lambda: forecast.forecast(history, selection=naive_selection), 5)
    print(f"  backtest: {_backtest_summary(selection)}")
    print(
        f"  refit+forecast with the chosen model ({selection.model}"
        f"{'=' + '+'.join(selection.members) if selection.members else ''}): {refit:.3f} s "
        f"(median of 5; target < 1 s); weekly seasonal-naive refit {baseline:.3f} s; "
        f"ratio {refit / baseline:.1f}x"
    )
    print(
        f"  refit+forecast with ensemble=fourier+weekly_profile+mstl (heaviest case): "
        f"{heavy:.3f} s (median of 5); ratio to naive {heavy / baseline:.1f}x"
    )
    if count <= 0:
        return
    rng = np.random.default_rng(0)
    collection = [
        history * rng.lognormal(0.0, 0.2, size=len(history)) * rng.uniform(0.5, 2.0)
        for _ in range(count)
    ]
    started = time.perf_counter()
    chosen = [forecast.select(s).model for s in collection]
    total = time.perf_counter() - started
    one_naive = _median_time(lambda: forecast.forecast(history, selection=naive_selection), 3)
    print(
        f"  backtest-driven select() for {count} series (bundled trace x seeded lognormal noise "
        f"sd 0.2 x scale 0.5-2): {total:.1f} s measured, {total / count:.2f} s per series "
        f"(target < 300 s for 100); naive refit per series {one_naive:.3f} s, ratio "
        f"{total / count / one_naive:.0f}x"
    )
    counts: dict[str, int] = {}
    for model in chosen:
        counts[str(model)] = counts.get(str(model), 0) + 1
    print(f"  models chosen: {counts}")


def mstl_cost() -> None:
    """Why MSTL is fitted on hourly means: one fit at 5 min against one at 1 hour."""
    from statsmodels.tsa.seasonal import MSTL  # noqa: PLC0415 - only this optional part needs it

    history = _four_weeks()
    cleaned = outliers.clean(history, 60).values
    mean, _, _ = series.complete_buckets(cleaned, 60, 300)
    five = models.fill_gaps(mean.to_numpy(), 2016)
    hourly = five[: five.size - five.size % 12].reshape(-1, 12).mean(axis=1)
    print("\n== MSTL cost, one fit on the 4-week series (daily + weekly seasons)")
    for label, y, periods in (("5-min", five, (288, 2016)), ("hourly", hourly, (24, 168))):
        for inner, kwargs in (("statsmodels default", {}), ("inner_iter=1", {"inner_iter": 1})):
            started = time.perf_counter()
            MSTL(y, periods=periods, stl_kwargs=dict(kwargs)).fit()
            print(
                f"  {label:<7}{len(y):>6} points, {inner:<20}{time.perf_counter() - started:8.2f} s"
            )


def _fleet_series(count: int) -> list[pd.Series]:
    history = _four_weeks()
    rng = np.random.default_rng(0)
    return [
        history * rng.lognormal(0.0, 0.2, size=len(history)) * rng.uniform(0.5, 2.0)
        for _ in range(count)
    ]


def fleet_seconds(count: int) -> dict[str, float]:
    """Seconds for select + forecast (a week) + plan of `count` workloads, one series each."""
    collection = _fleet_series(count)
    (workload,) = workloads.load(inputs.example_path(inputs.EXAMPLE_WORKLOAD))
    started = time.perf_counter()
    cpu = time.process_time()
    for values in collection:
        loaded = series.Trace(values, 60, "requests", None, None)
        predicted = forecast.forecast(values, horizon_s=7 * 86400)
        fleet.plan_all([workload], loaded, predicted)
    return {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}


def fleet_speed(count: int, baseline_ref: str | None, rounds: int) -> None:
    print(
        f"\n== fleet: select + forecast (7 d) + plan for {count} workloads of 4 weeks of 1-min "
        "points modelled at 5 min (bundled trace x seeded lognormal noise sd 0.2 x scale "
        "0.5-2), serial, fresh process each"
    )
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"this checkout": REPO}
        if baseline_ref is not None:
            base = baseline.tree(baseline_ref, Path(scratch))
            trees = {f"baseline {baseline_ref}": base, **trees}
        seen: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
        # Alternate baseline and this checkout so that load from other processes on this
        # shared machine falls on both.
        for _ in range(rounds):
            for label, tree in trees.items():
                seen[label].append(
                    baseline.run(Path(__file__), ["--fleet-worker", str(count)], tree)
                )
    best = {label: min(r["wall_s"] for r in runs) for label, runs in seen.items()}
    cpu = {label: min(r["cpu_s"] for r in runs) for label, runs in seen.items()}
    for label in trees:
        print(
            f"  {label:<24} wall {best[label]:7.1f} s (best of {rounds}), cpu {cpu[label]:7.1f} s, "
            f"{best[label] / count:.3f} s per workload; target < 30 s for 100: "
            f"{'yes' if best[label] * 100 / count < 30 else 'NO'}"
        )
    if baseline_ref is not None:
        base_label, this = f"baseline {baseline_ref}", "this checkout"
        print(
            f"  speed-up against {baseline_ref}: wall {best[base_label] / best[this]:.1f}x, "
            f"cpu {cpu[base_label] / cpu[this]:.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--traces-dir", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--series", type=int, default=100, help="series for the selection timing")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument(
        "--measure-mstl", action="store_true", help="also time MSTL at 5 min (about a minute)"
    )
    parser.add_argument("--fleet", type=int, default=0, help="workloads for the fleet timing")
    parser.add_argument("--baseline-ref", help="git ref whose library code is the baseline")
    parser.add_argument("--rounds", type=int, default=1, help="fleet timing rounds")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--fleet-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fleet_worker is not None:
        print(json.dumps(fleet_seconds(args.fleet_worker)))
        return
    if args.fleet:
        fleet_speed(args.fleet, args.baseline_ref, args.rounds)
    if not args.skip_accuracy:
        accuracy(args.traces_dir)
    if not args.skip_speed:
        speed(args.series)
    if args.measure_mstl:
        mstl_cost()


if __name__ == "__main__":
    main()
