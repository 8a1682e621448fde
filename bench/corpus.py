"""Bench: forecast accuracy and replayed decisions on every shared trace, per trace and in summary.

For each trace of `../shared/traces/corpus/` plus NASA and ServeGen m-mid and m-small:

- forecast: the model is selected by backtest on the history before the last week and
  forecasts that held-out week; MAE / the MAE of weekly seasonal-naive refit on the same
  history, and the share of held-out buckets at or below the forecast P90 (bucket means, the
  scoring of bench/forecast.py);
- replay: the last week replayed (simulator/lineup.py) at a fixed 10-min cold start on a
  generic on-demand spec sized so that the replayed week's peak minute needs 15 replicas
  (capacity_per_replica = peak req/s / (15 x target utilisation 0.8), one GPU per replica,
  min 1, max 1000 replicas; the sizing reads the replayed week, the policies never do): served
  % of minutes with data and GPU-hours / the oracle's for prescale, reactive, static and the
  last-week floor (rivals.last_week); prescale's GPU-hours against the oracle's split minute by
  minute into what its forecast's floor asked for, what the step added over it, and what fell
  below the oracle (`Excess`).

Resolution: a trace is modelled at max(5 min, its own interval) in both parts (an hourly trace
stays hourly: held per minute on the replay grid, a finer model only fits the same hour 12
times). History: at most the last --history-weeks weeks before the held-out week (default 8),
the retention a Prometheus user typically has. Traces run in parallel processes (--jobs).

--weeks N holds out each of a trace's last N weeks in turn (the trace cut N - 1, ..., 0 weeks
before its end, each week forecast and chosen from only the history before it), so the summary
is over more weeks than traces; --refit-every sets the replay's refit interval (6 h; the
daemon's default is 1 h); --peak-replicas sizes the spec for a larger peak than 15 (the
same traces on a bigger fleet: how much of the excess over the oracle is whole replicas).

    python bench/corpus.py [--traces-dir ../shared/traces] [--jobs 2] [--json out.json]
                           [--compare baseline.json] [--only NAME ...] [--hindsight]
                           [--weeks N] [--refit-every S] [--peak-replicas N]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from actuator import outputs, workloads
from actuator import trace as trace_io
from forecaster import candidates, forecast, outliers, series
from planner import demand, operating, spec
from simulator import (
    accounting,
    cold_start,
    engine,
    lineup,
    operating_point,
    predictive,
    replay,
    results,
    rivals,
    schedule,
    spot,
)
from simulator import scenario as scenario_

REPO = Path(__file__).resolve().parent.parent
WEEK_S = 7 * 86400
PEAK_REPLICAS = 15
TARGET_UTILIZATION = 0.8
# issue targets the summary is read against
SERVED_TARGET_PCT = 99.5
RATIO_TARGET = 1.15
COLD_START_S = 600
REPLAYED = (
    results.PolicyName.PRESCALE,
    results.PolicyName.REACTIVE,
    results.PolicyName.STATIC,
    results.PolicyName.LAST_WEEK,
    results.PolicyName.ORACLE,
)
SHOWN = REPLAYED[:-1]
SHARED = (
    "nasa_ksc_http_1995_per_minute.csv.gz",
    "servegen_m_mid_10min.csv.gz",
    "servegen_m_small_10min.csv.gz",
)


@dataclass(frozen=True)
class PolicyFigures:
    served_pct: float
    gpu_hours: float
    ratio_to_oracle: float


@dataclass(frozen=True)
class Excess:
    """Where prescale's GPU-hours differ from the oracle's, minute by minute, each summed and
    divided by the oracle's GPU-hours (so 1 + level + band + step - below is the ratio):

    - level: billed above the oracle as far as the floor at the forecast's P50 (the same
      refits and level correction, band 0) asked for it: the forecast's level was above what
      the minute needed one cold start ahead;
    - band: billed above that, as far as the floor in force (at the chosen band) asked for it;
    - step: the rest above the oracle, what the step added over the floor (reactive scale-out
      on observed load, the scale-in hold, the scale-in step);
    - below: billed below the oracle (where minutes may go unserved)."""

    level: float
    band: float
    step: float
    below: float

    @property
    def floor(self) -> float:
        """What the floor in force asked for above the oracle: level and band together."""
        return self.level + self.band


@dataclass(frozen=True)
class Misses:
    """prescale's unserved minutes on the replayed week, as runs of consecutive minutes (a gap
    in the data ends a run): how many runs, their median and longest length in minutes. A run
    of about one cold start is a rise the floor did not cover and the step caught only when its
    replicas were ready."""

    runs: int
    median_minutes: float
    longest_minutes: int


def misses(served: np.ndarray) -> Misses:
    """`Misses` from the served column of a replay (1.0 served, 0.0 not, NaN in a gap)."""
    lengths = accounting.unserved_runs(served)
    if lengths.size == 0:
        return Misses(0, 0.0, 0)
    return Misses(int(lengths.size), float(np.median(lengths)), int(lengths.max()))


def excess(
    billed: np.ndarray, oracle: np.ndarray, floors: np.ndarray, median_floors: np.ndarray
) -> Excess:
    """`Excess` from replicas billed per minute by prescale and by the oracle, prescale's floor
    in force per minute, and the floor the same replay would have had at band 0 (P50)."""
    above = np.maximum(billed - oracle, 0)
    by_floor = np.minimum(above, np.maximum(floors - oracle, 0))
    by_level = np.minimum(by_floor, np.maximum(median_floors - oracle, 0))
    total = float(oracle.sum())
    return Excess(
        level=float(by_level.sum()) / total,
        band=float((by_floor - by_level).sum()) / total,
        step=float((above - by_floor).sum()) / total,
        below=float(np.maximum(oracle - billed, 0).sum()) / total,
    )


def _floors(
    workload: spec.WorkloadSpec,
    split: replay.Replay,
    world: scenario_.Scenario,
    *,
    options: lineup.Options,
    selection: forecast.Selection,
    point: operating.OperatingPoint,
) -> np.ndarray | None:
    """The floor in force each replayed minute for prescale at `point`, replayed as the bench
    replays it (the same refits and level correction); None when a minute has no floor."""
    (at_point,) = lineup.policies(
        workload,
        split,
        world,
        dataclasses.replace(options, policies=(results.PolicyName.PRESCALE,)),
        request=workload.request,
        selection=selection,
        point=point,
    )
    assert isinstance(at_point, predictive.Prescale)
    return schedule.floors_in_force(at_point, world)


def _billed(row: results.PolicyResult) -> np.ndarray:
    columns = [c for c in row.timeseries.columns if c.startswith("billed_")]
    billed: np.ndarray = row.timeseries[columns].to_numpy(dtype=np.int64).sum(axis=1)
    return billed


@dataclass(frozen=True)
class TraceFigures:
    name: str
    interval_s: int
    resolution_s: int
    history_days: float
    model: str
    forecast_ratio: float  # held-out MAE / weekly seasonal-naive MAE
    coverage_p90: float  # held-out week, bucket means
    band: float  # mean P90 / mean P50 over the held-out week
    replay_coverage_p90: float  # refit forecasts over the refit interval they served
    capacity_per_replica: float
    policies: dict[str, PolicyFigures]
    seconds: float
    point: str = ""
    # --hindsight: the cheapest point of the chooser's grid that served the SLO on the replayed
    # week itself (a bound no causal choice of this family beats), or the one serving most
    hindsight: PolicyFigures | None = None
    hindsight_point: str = ""
    # --hindsight: the efficient points of the grid on the replayed week (no cheaper point
    # serves as much), cheapest first: (point, served %, GPU-hours / oracle)
    hindsight_frontier: tuple[tuple[str, float, float], ...] = ()
    # the replayed week against what came before it (`week_measures`): its mean demand / the
    # week before's, and the share of its minutes needing more replicas than both the hour
    # before the decision (one cold start earlier) and the same time a week before (+- one
    # cold start) needed, in %
    level_vs_week_before: float = math.nan
    unannounced_pct: float = math.nan
    # the chooser's own figure for its point: served % over its validation windows together
    windows_served_pct: float | None = None
    # --hindsight: a bound outside the family, reactive HPA with standing headroom: the
    # cheapest of HEADROOM_UTILIZATIONS serving the SLO on the replayed week (target
    # utilisation, served %, GPU-hours / oracle), else the one serving most
    headroom_best: tuple[float, float, float] | None = None
    # --weeks: the replayed week is this many weeks before the trace's last (0: the last)
    weeks_back: int = 0
    # prescale's GPU-hours above and below the oracle's, as shares of the oracle's (`excess`)
    excess: Excess | None = None
    # --hindsight: the single candidate model closest to the held-out week (its name, and its
    # MAE / weekly seasonal-naive's): the forecast ratio no choice among the candidates beats
    forecast_best: tuple[str, float] | None = None
    # prescale's unserved minutes on the replayed week as runs (`misses`)
    misses: Misses | None = None

    @property
    def label(self) -> str:
        """The trace's name, and which week when it is not the last, in 34 characters."""
        suffix = f" -{self.weeks_back}w" if self.weeks_back else ""
        return f"{self.name[: 34 - len(suffix)]}{suffix}"


# Target utilisations of the reactive HPA tried with hindsight: the headroom an operator without
# a forecast keeps standing (0.8 is the spec's, 0.1 a tenfold fleet).
HEADROOM_UTILIZATIONS = (0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1)


# A replayed week needs at least a week of warm-up before it (the week measures compare it with
# the week before; the chooser's windows need two days).
MIN_WEEKS = 2


def resolution_of(interval_s: int) -> int:
    return max(forecast.DEFAULT_RESOLUTION_S, interval_s)


def _cap_history(
    loaded: series.Trace, history_weeks: float, weeks_back: int = 0
) -> series.Trace | None:
    """The trace cut `weeks_back` weeks before its end, from `history_weeks` weeks before its
    (new) last week on; None when the cut leaves less than MIN_WEEKS weeks."""
    values = loaded.values
    end = values.index[-1] + pd.Timedelta(seconds=loaded.interval_s)
    end -= pd.Timedelta(weeks=weeks_back)
    start = end - pd.Timedelta(weeks=history_weeks + 1)
    index = pd.DatetimeIndex(values.index)
    if end - index[0] < pd.Timedelta(weeks=MIN_WEEKS):
        return None
    kept = values[(index >= start) & (index < end)]
    return dataclasses.replace(
        loaded,
        values=pd.Series(
            kept.to_numpy(dtype=float),
            index=pd.DatetimeIndex(kept.index, freq=f"{loaded.interval_s}s"),
            dtype=float,
        ),
        prompt_tokens=None,
        completion_tokens=None,
    )


def _forecast_part(
    loaded: series.Trace, resolution_s: int, *, hindsight: bool = False
) -> tuple[forecast.Selection, float, float, float, float, tuple[str, float] | None]:
    values = loaded.values
    end = values.index[-1] + pd.Timedelta(seconds=loaded.interval_s)
    cut = end - pd.Timedelta(seconds=WEEK_S)
    history = values[values.index < cut]
    held = values[values.index >= cut]
    selection = forecast.select(history, resolution_s=resolution_s)
    made = forecast.forecast(history, horizon_s=WEEK_S, selection=selection)
    cleaned = outliers.clean(held, loaded.interval_s).values
    truth = series.bucket_mean(cleaned, loaded.interval_s, selection.resolution_s)
    naive = dataclasses.replace(
        selection,
        model=forecast.ModelName.SEASONAL_NAIVE_WEEKLY,
        regime=candidates.Regime.WEEKLY,
        members=(),
        clip_spikes=False,
    )
    naive_frame = forecast.forecast(history, horizon_s=WEEK_S, selection=naive).frame
    actual = truth.to_numpy()
    frame = made.frame.reindex(truth.index)
    naive_p50 = naive_frame["p50"].reindex(truth.index).to_numpy()
    ok = np.isfinite(actual) & np.isfinite(frame["p50"].to_numpy()) & np.isfinite(naive_p50)
    p50 = frame["p50"].to_numpy()[ok]
    p90 = frame["p90"].to_numpy()[ok]
    mae = float(np.mean(np.abs(p50 - actual[ok])))
    naive_mae = float(np.mean(np.abs(naive_p50[ok] - actual[ok])))
    coverage = float(np.mean(actual[ok] <= p90))
    band = float(np.mean(p90) / np.mean(p50)) if np.mean(p50) > 0 else math.nan
    best = None
    if hindsight and naive_mae > 0:
        held = {
            str(model): _held_out_mae(
                history, selection, model, index=pd.DatetimeIndex(truth.index), actual=actual, ok=ok
            )
            for model in _choosable(selection.regime)
        }
        known = {m: v for m, v in held.items() if math.isfinite(v)}
        if known:
            model = min(known, key=lambda m: known[m])
            best = (model, known[model] / naive_mae)
    return selection, mae / naive_mae if naive_mae > 0 else math.nan, coverage, band, mae, best


def _choosable(regime: candidates.Regime) -> tuple[forecast.ModelName, ...]:
    """The single models a selection in `regime` may choose: the regime's candidates, and in
    the daily regime weekly seasonal-naive too (backtest rule 6)."""
    singles = candidates.CANDIDATES[regime]
    if regime is candidates.Regime.DAILY:
        return (*singles, forecast.ModelName.SEASONAL_NAIVE_WEEKLY)
    return singles


def _held_out_mae(
    history: pd.Series,
    selection: forecast.Selection,
    model: forecast.ModelName,
    *,
    index: pd.DatetimeIndex,
    actual: np.ndarray,
    ok: np.ndarray,
) -> float:
    """The held-out MAE of one candidate refitted on the history as the selection prepares it
    (on the buckets where the chosen forecast and the baseline are both known)."""
    single = dataclasses.replace(selection, model=model, members=())
    p50 = forecast.forecast(history, horizon_s=WEEK_S, selection=single).frame["p50"]
    errors = np.abs(p50.reindex(index).to_numpy()[ok] - actual[ok])
    return float(np.mean(errors)) if np.isfinite(errors).all() else math.nan


def generic_workload(
    name: str, peak_per_minute: float, peak_replicas: int = PEAK_REPLICAS
) -> spec.WorkloadSpec:
    """The generic on-demand spec whose peak minute needs `peak_replicas` (module docstring)."""
    per_replica = peak_per_minute / 60.0 / (peak_replicas * TARGET_UTILIZATION) * (1 - 1e-9)
    (workload,) = workloads.parse_workloads(
        {
            # Workload names are Kubernetes names (RFC 1123); the trace names hold underscores.
            "name": name.lower().replace("_", "-").replace(".", "-")[: spec.DNS_LABEL_MAX],
            "kind": "generic",
            "unit": "requests_per_s",
            "gpu": "L4",
            "capacity_per_replica": per_replica,
            "target_utilization": TARGET_UTILIZATION,
            "min_replicas": 1,
            "max_replicas": 1000,
            "lead_time": f"{COLD_START_S}s",
            "capacity_types": ["on_demand"],
        }
    )
    return workload


WEEK_MINUTES = WEEK_S // 60
HOUR_MINUTES = 60


def week_measures(
    need_before: np.ndarray, need_week: np.ndarray, lead_minutes: int
) -> tuple[float, float]:
    """(unannounced %, the week's mean need / the week before's) for replicas needed per
    minute (NaN in gaps) over the week before and the replayed week (see TraceFigures).

    A minute is unannounced when it needs more than anything in the hour that ended when a
    replica for it had to be ordered, and more than the same minute a week before (+- one cold
    start) needed: neither the recent past nor last week showed it. A policy reading only
    those serves it from headroom it keeps standing; a forecast must get it from elsewhere (a
    trend, the days before). Where such minutes exceed the SLO's allowance (0.5 % at 99.5 %),
    the SLO is served only by predicting them or by standing headroom."""
    before = need_before[-WEEK_MINUTES:]
    before = np.concatenate([np.full(WEEK_MINUTES - before.size, np.nan), before])
    joined = np.concatenate([before, need_week])
    minutes = np.arange(WEEK_MINUTES, joined.size)
    recent = _trailing_max(joined, HOUR_MINUTES + 1)[minutes - lead_minutes]
    # the window [t - 1 week - L, t - 1 week + L] ends at t - 1 week + L, always in the past
    weekly = _trailing_max(joined, 2 * lead_minutes + 1)[minutes - WEEK_MINUTES + lead_minutes]
    known = np.isfinite(need_week) & (np.isfinite(recent) | np.isfinite(weekly))
    announced = np.fmax(recent, weekly)
    unannounced = known & (need_week > announced)
    share = 100.0 * unannounced.sum() / known.sum() if known.any() else math.nan
    level = (
        float(np.nanmean(need_week) / np.nanmean(before)) if np.isfinite(before).any() else math.nan
    )
    return share, level


def _trailing_max(values: np.ndarray, width: int) -> np.ndarray:
    """max(values[i - width + 1 : i + 1]) ignoring NaN (NaN when all are)."""
    padded = np.concatenate([np.full(width - 1, np.nan), values])
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    known = np.isfinite(windows).any(axis=1)
    result = np.full(values.size, np.nan)
    result[known] = np.nanmax(windows[known], axis=1)
    return result


def _needs(sizing: rivals.Sizing, load: np.ndarray) -> np.ndarray:
    need = sizing.needed(np.nan_to_num(load, nan=0.0)).astype(float)
    need[~np.isfinite(load)] = np.nan
    return need


def _replay_coverage(prescale: predictive.Prescale, arrivals: pd.Series, refit_s: int) -> float:
    """Share of buckets at or below P90 in each refit's first refit interval (what it served)."""
    hits = total = 0
    for refit in prescale.refits:
        frame = refit.forecast.frame
        start = frame.index[0]
        stop = start + pd.Timedelta(seconds=refit_s)
        window = frame[(frame.index >= start) & (frame.index < stop)]
        truth = series.bucket_mean(
            arrivals[(arrivals.index >= start) & (arrivals.index < stop)],
            replay.MINUTE_S,
            refit.forecast.resolution_s,
        ).reindex(window.index)
        actual = truth.to_numpy()
        ok = np.isfinite(actual)
        hits += int(np.sum(actual[ok] <= window["p90"].to_numpy()[ok]))
        total += int(ok.sum())
    return hits / total if total else math.nan


def hindsight_best(
    workload: spec.WorkloadSpec,
    split: replay.Replay,
    world: scenario_.Scenario,
    options: lineup.Options,
    *,
    selection: forecast.Selection,
    oracle_gpu_hours: float,
) -> tuple[operating.OperatingPoint, PolicyFigures, tuple[tuple[str, float, float], ...]]:
    """Every point of operating_point.GRID replayed on the replayed week (the refits shared):
    the cheapest that served the workload's SLO, else the one serving most, and the efficient
    frontier. The chooser cannot know this week; the figure separates what the choice cost
    from what the family can do."""
    inputs = operating_point.Inputs(
        workload,
        split.warmup,
        COLD_START_S,
        options.mix,
        options.refit_every_s,
        selection.resolution_s,
        workload.request,
        reserved=0,
    )
    week = operating_point.Window(
        before=split.warmup,
        selection=selection,
        world=world,
        draws=spot.InterruptionDraws.draw(options.seed, world.minutes),
        shared=predictive.Shared(),
    )
    rows = []
    for point in operating_point.GRID:
        served_pct, gpu_hours = operating_point.replay_point(inputs, week, point)
        rows.append((point, PolicyFigures(served_pct, gpu_hours, gpu_hours / oracle_gpu_hours)))
    frontier = efficient(rows)
    meeting = [r for r in rows if r[1].served_pct >= workload.slo.served_minutes_pct]
    if meeting:
        return (*min(meeting, key=lambda r: r[1].gpu_hours), frontier)
    return (*max(rows, key=lambda r: (round(r[1].served_pct, 6), -r[1].gpu_hours)), frontier)


def headroom_best(
    sizing: rivals.Sizing, world: scenario_.Scenario, draws: spot.InterruptionDraws, oracle: float
) -> tuple[float, float, float]:
    """Reactive HPA at every HEADROOM_UTILIZATIONS target on the replayed week: the cheapest
    serving the SLO, else the one serving most (utilisation, served %, GPU-hours / oracle)."""
    rows = []
    for utilization in HEADROOM_UTILIZATIONS:
        workload = dataclasses.replace(sizing.workload, target_utilization=utilization)
        row = engine.run(
            rivals.reactive(dataclasses.replace(sizing, workload=workload)), world, draws
        )
        rows.append((utilization, row.served_minutes_pct, row.gpu_hours / oracle))
    meeting = [r for r in rows if r[1] >= sizing.workload.slo.served_minutes_pct]
    if meeting:
        return min(meeting, key=lambda r: r[2])
    return max(rows, key=lambda r: (round(r[1], 6), -r[2]))


def efficient(
    rows: Sequence[tuple[operating.OperatingPoint, PolicyFigures]],
) -> tuple[tuple[str, float, float], ...]:
    """The points no cheaper point serves as much as, cheapest first."""
    kept: list[tuple[str, float, float]] = []
    for point, f in sorted(rows, key=lambda r: (r[1].gpu_hours, -r[1].served_pct)):
        if not kept or f.served_pct > kept[-1][1]:
            kept.append((point.describe(), f.served_pct, f.ratio_to_oracle))
    return tuple(kept)


def run_trace(
    path: str,
    history_weeks: float,
    choose: bool,
    *,
    hindsight: bool = False,
    weeks_back: int = 0,
    refit_every_s: int = predictive.DEFAULT_REFIT_EVERY_S,
    peak_replicas: int = PEAK_REPLICAS,
) -> TraceFigures | None:
    """Both parts for one trace whose last `weeks_back` weeks are cut off (a worker function:
    plain arguments in, a dataclass out); None when too little of the trace is left."""
    started = time.perf_counter()
    loaded = _cap_history(trace_io.load(Path(path)), history_weeks, weeks_back)
    if loaded is None:
        return None
    resolution_s = resolution_of(loaded.interval_s)
    selection, ratio, coverage, band, _, forecast_best = _forecast_part(
        loaded, resolution_s, hindsight=hindsight
    )

    options = lineup.Options(
        replay_s=WEEK_S,
        cold_start=cold_start.ColdStartDistribution.fixed(COLD_START_S),
        policies=REPLAYED,
        mix=results.MixMode.ON_DEMAND,
        refit_every_s=refit_every_s,
    )
    split = lineup.warmup_and_replay(loaded, options)
    peak = float(np.nanmax(split.replayed.values.to_numpy(dtype=float)))
    workload = generic_workload(Path(path).name.split(".")[0], peak, peak_replicas)
    replay_selection = forecast.select(split.warmup.values, resolution_s=resolution_s)
    request = workload.request
    cold = cold_start.ColdStartDistribution.fixed(COLD_START_S)
    world = lineup.scenario(workload, split, cold, options.seed, request)
    sizing = lineup.sizing(workload, split, world, options.mix, request)
    warmup_load = demand.history_load(
        split.warmup.values.to_numpy(dtype=np.float64)[-WEEK_MINUTES:],
        interval_s=replay.MINUTE_S,
        workload=workload,
        request=request,
    )
    unannounced, level = week_measures(
        _needs(sizing, warmup_load), _needs(sizing, world.demand), COLD_START_S // 60
    )
    point = operating.DEFAULT
    windows_served: float | None = None
    if choose:
        choice = operating_point.choose(
            operating_point.Inputs(
                workload,
                split.warmup,
                COLD_START_S,
                options.mix,
                options.refit_every_s,
                resolution_s,
                request,
                reserved=0,
            )
        )
        point = choice.point
        windows_served = next(
            (f.pooled_served_pct for f in choice.frontier if f.point == point), None
        )
    contenders = lineup.policies(
        workload, split, world, options, request=request, selection=replay_selection, point=point
    )
    prescale = next(p for p in contenders if isinstance(p, predictive.Prescale))
    result = engine.simulate(world, contenders, workload=workload.name)
    oracle = result.result(results.PolicyName.ORACLE)
    ours = result.result(results.PolicyName.PRESCALE)
    assert oracle is not None and ours is not None
    figures = {
        str(row.policy): PolicyFigures(
            row.served_minutes_pct, row.gpu_hours, row.gpu_hours / oracle.gpu_hours
        )
        for row in result.policies
    }
    best_point, best, frontier = (
        hindsight_best(
            workload,
            split,
            world,
            options,
            selection=replay_selection,
            oracle_gpu_hours=oracle.gpu_hours,
        )
        if hindsight
        else (None, None, ())
    )
    headroom = (
        headroom_best(
            sizing,
            world,
            spot.InterruptionDraws.draw(options.seed, world.minutes),
            oracle.gpu_hours,
        )
        if hindsight
        else None
    )
    # the chosen floor, and the floor at P50 (band 0): the same refits and level correction,
    # so the two differ by the band only
    floors, median_floors = (
        _floors(workload, split, world, options=options, selection=replay_selection, point=at)
        for at in (point, dataclasses.replace(point, band_scale=0.0))
    )
    history_s = (split.warmup.values.index[-1] - split.warmup.values.index[0]).total_seconds()
    return TraceFigures(
        name=Path(path).name.removesuffix(".csv.gz"),
        interval_s=loaded.interval_s,
        resolution_s=resolution_s,
        history_days=history_s / 86400,
        model=str(selection.model),
        forecast_ratio=ratio,
        coverage_p90=coverage,
        band=band,
        replay_coverage_p90=_replay_coverage(
            prescale, split.replayed.values, options.refit_every_s
        ),
        capacity_per_replica=workload.capacity_per_replica or math.nan,
        policies=figures,
        seconds=time.perf_counter() - started,
        point=point.describe(),
        hindsight=best,
        hindsight_point="" if best_point is None else best_point.describe(),
        hindsight_frontier=frontier,
        level_vs_week_before=level,
        unannounced_pct=unannounced,
        windows_served_pct=windows_served,
        headroom_best=headroom,
        weeks_back=weeks_back,
        excess=None
        if floors is None or median_floors is None
        else excess(_billed(ours), _billed(oracle), floors, median_floors),
        forecast_best=forecast_best,
        misses=misses(ours.timeseries["served"].to_numpy(dtype=float)),
    )


def trace_paths(traces_dir: Path, only: Sequence[str]) -> list[Path]:
    paths = [traces_dir / name for name in SHARED] + sorted((traces_dir / "corpus").glob("*.gz"))
    if only:
        paths = [p for p in paths if any(o in p.name for o in only)]
    return paths


def _row(f: TraceFigures) -> str:
    cells = "".join(
        f"{f.policies[str(p)].served_pct:>8.2f}{f.policies[str(p)].ratio_to_oracle:>6.2f}"
        for p in SHOWN
    )
    return (
        f"{f.label:<34}{f.history_days:>5.0f}{f.model[:14]:>15}{f.forecast_ratio:>7.3f}"
        f"{f.coverage_p90:>6.2f}{f.replay_coverage_p90:>6.2f}{cells}{f.seconds:>6.0f}"
    )


def _header() -> str:
    policies = "".join(f"{str(p)[:13]:>14}" for p in SHOWN)
    sub = "".join(f"{'served%':>8}{'xorc':>6}" for _ in SHOWN)
    return (
        f"{'':<34}{'':>5}{'':>15}{'forecast':>13}{'rp':>6}{policies}\n"
        f"{'trace':<34}{'hist':>5}{'model':>15}{'ratio':>7}{'P90':>6}{'P90':>6}{sub}{'s':>6}"
    )


def summary(figures: Sequence[TraceFigures]) -> list[str]:
    lines = []
    ratios = [f.forecast_ratio for f in figures]
    cov = [f.coverage_p90 for f in figures]
    rcov = [f.replay_coverage_p90 for f in figures]
    lines.append(
        f"forecast ratio: median {statistics.median(ratios):.3f}, worst {max(ratios):.3f}, "
        f"< 1.0 on {sum(r < 1.0 for r in ratios)}/{len(ratios)}  (targets <= 0.75, >= 90 %)"
    )
    known = [f.forecast_best[1] for f in figures if f.forecast_best is not None]
    if known:
        lines.append(
            f"  the best single candidate on each held-out week, in hindsight: median "
            f"{statistics.median(known):.3f}, < 1.0 on {sum(r < 1.0 for r in known)}/{len(known)}"
        )
    lines.append(
        f"held-out P90 coverage: median {statistics.median(cov):.3f}, worst {min(cov):.3f}, "
        f"in 0.85-0.95 on {sum(0.85 <= c <= 0.95 for c in cov)}/{len(cov)}  "
        "(targets median 0.85-0.95, none < 0.6)"
    )
    lines.append(
        f"replay P90 coverage (refit interval): median {statistics.median(rcov):.3f}, "
        f"min {min(rcov):.3f}, max {max(rcov):.3f}"
    )
    for policy in SHOWN:
        served = [f.policies[str(policy)].served_pct for f in figures]
        ratio = [f.policies[str(policy)].ratio_to_oracle for f in figures]
        lines.append(
            f"{policy!s:<10} served%: median {statistics.median(served):.2f}, worst "
            f"{min(served):.2f}, >= 99.5 on {sum(s >= 99.5 for s in served)}/{len(served)}; "
            f"GPU-h / oracle: median {statistics.median(ratio):.3f}, worst {max(ratio):.3f}"
        )
    best = [f for f in figures if f.hindsight is not None]
    if best:
        served = [f.hindsight.served_pct for f in best if f.hindsight is not None]
        ratio = [f.hindsight.ratio_to_oracle for f in best if f.hindsight is not None]
        over = [
            f.policies["prescale"].ratio_to_oracle - f.hindsight.ratio_to_oracle
            for f in best
            if f.hindsight is not None
        ]
        lines.append(
            f"hindsight-best point (the grid on the replayed week itself) served%: median "
            f"{statistics.median(served):.2f}, worst {min(served):.2f}, >= 99.5 on "
            f"{sum(s >= 99.5 for s in served)}/{len(served)}; GPU-h / oracle: median "
            f"{statistics.median(ratio):.3f}, worst {max(ratio):.3f}; the choice's GPU-h / "
            f"oracle above it: median {statistics.median(over):+.3f}, worst {max(over):+.3f}"
        )
    headroom = [f.headroom_best for f in figures if f.headroom_best is not None]
    if headroom:
        meeting = [h for h in headroom if h[1] >= SERVED_TARGET_PCT]
        lines.append(
            f"HPA with standing headroom, best target utilisation on the replayed week: >= "
            f"{SERVED_TARGET_PCT:g} on {len(meeting)}/{len(headroom)}; GPU-h / oracle where it "
            "meets it: "
            + (
                f"median {statistics.median(h[2] for h in meeting):.3f}, worst "
                f"{max(h[2] for h in meeting):.3f}"
                if meeting
                else "none"
            )
        )
    split = [f.excess for f in figures if f.excess is not None]
    if split:
        parts = (
            ("where the floor at P50 asked for more", [e.level for e in split]),
            ("where the band above P50 did", [e.band for e in split]),
            ("by the step over the floor", [e.step for e in split]),
        )
        lines.append(
            "prescale's GPU-hours against the oracle's, as shares of the oracle's: above it "
            + "; ".join(
                f"{what}, median {statistics.median(v):+.3f} (worst {max(v):+.3f})"
                for what, v in parts
            )
            + f"; below it, median {-statistics.median(e.below for e in split):+.3f}"
        )
    above = [
        f.label
        for f in figures
        if f.policies["prescale"].gpu_hours > f.policies["static"].gpu_hours
    ]
    missed = [f.misses for f in figures if f.misses is not None and f.misses.runs]
    if missed:
        lengths = [m.median_minutes for m in missed]
        lines.append(
            f"prescale's unserved minutes, as runs: per week a median of "
            f"{statistics.median(m.runs for m in missed):g} runs, of a median length "
            f"{statistics.median(lengths):g} minutes (weeks' medians {min(lengths):g}-"
            f"{max(lengths):g}; a cold start is {COLD_START_S // 60})"
        )
    lines.append(f"prescale above static on: {', '.join(above) or 'none'}")
    fleets = [mean_replicas(f.policies["oracle"]) for f in figures]
    extra = [
        mean_replicas(f.policies["prescale"]) - mean_replicas(f.policies["oracle"]) for f in figures
    ]
    median_fleet = statistics.median(fleets)
    lines.append(
        f"the oracle's mean fleet (replicas, one GPU each): median {median_fleet:.2f}, "
        f"{min(fleets):.2f}-{max(fleets):.2f}, so one replica of standing headroom alone costs "
        f"a median {1 + 1 / median_fleet:.2f}x; prescale's mean fleet above the oracle's: "
        f"median {statistics.median(extra):+.2f} replicas, worst {max(extra):+.2f}; weeks where "
        f"the {RATIO_TARGET:g}x target leaves less than one replica of headroom: "
        f"{sum((RATIO_TARGET - 1) * m < 1 for m in fleets)}/{len(fleets)}"
    )
    lines.extend(short_of_target(figures))
    return lines


def mean_replicas(policy: PolicyFigures) -> float:
    """The policy's mean fleet over the replayed week: its GPU-hours over the week's hours (the
    generic spec's replica holds one GPU)."""
    return policy.gpu_hours / (WEEK_S / 3600)


def short_of_target(figures: Sequence[TraceFigures]) -> list[str]:
    """--hindsight: for each trace where prescale misses a target (served < 99.5 %, GPU-h /
    oracle > 1.15, above static), the replayed week's frontier: what any point could do."""
    lines = []
    for f in figures:
        p, static = f.policies["prescale"], f.policies["static"]
        misses = [
            what
            for what, missed in (
                (f"served {p.served_pct:.2f} %", p.served_pct < SERVED_TARGET_PCT),
                (f"{p.ratio_to_oracle:.2f}x oracle", p.ratio_to_oracle > RATIO_TARGET),
                ("above static", p.gpu_hours > static.gpu_hours),
            )
            if missed
        ]
        if not misses or not f.hindsight_frontier:
            continue
        points = "; ".join(
            f"{point} {served:.2f} % {ratio:.2f}x" for point, served, ratio in f.hindsight_frontier
        )
        lines.append(f"{f.label} ({', '.join(misses)}; chose {f.point}): {points}")
        lines.append(f"  why: {why(f)}")
    if lines:
        lines.insert(
            0,
            "\nshort of a target, the replayed week's efficient frontier (cheapest first: "
            "point, served %, GPU-h / oracle), and why:",
        )
    return lines


def why(f: TraceFigures) -> str:
    """Whose the shortfall is, from the figures: the choice's (some grid point met every
    target on the replayed week itself, the validation windows pointed elsewhere) or the
    family's (no point did), with what set the week apart from the history before it."""
    static = f.policies["static"].ratio_to_oracle
    meeting = [
        (point, served, ratio)
        for point, served, ratio in f.hindsight_frontier
        if served >= SERVED_TARGET_PCT
    ]
    windows = (
        "" if f.windows_served_pct is None else f" ({f.windows_served_pct:.2f} % on its windows)"
    )
    week = (
        f"the week's mean need was {f.level_vs_week_before:.2f}x the week before's, "
        f"{f.unannounced_pct:.2f} % of its minutes needed more than the hour before the order "
        f"and the same time a week before showed (the SLO allows {100 - SERVED_TARGET_PCT:.1f} "
        f"%), and {100 * f.replay_coverage_p90:.0f} % of its buckets fell at or below the "
        "refits' P90"
    )
    if f.misses is not None and f.misses.runs:
        week += (
            f"; prescale missed its minutes in {f.misses.runs} runs, of a median "
            f"{f.misses.median_minutes:g} minutes (the longest {f.misses.longest_minutes}; a "
            f"cold start is {COLD_START_S // 60})"
        )
    if f.excess is not None:
        week += (
            f"; its GPU-hours were {f.excess.level:+.2f} of the oracle's by the floor at P50, "
            f"{f.excess.band:+.2f} by the band above it, {f.excess.step:+.2f} by the step over "
            f"the floor, {-f.excess.below:+.2f} below the oracle"
        )
    fleet = mean_replicas(f.policies["oracle"])
    week += (
        f"; the oracle's mean fleet was {fleet:.2f} replicas (one replica of headroom is "
        f"+{1 / fleet:.2f}x), prescale's {mean_replicas(f.policies['prescale']) - fleet:+.2f} "
        "above it"
    )
    if f.headroom_best is not None:
        utilization, served, ratio = f.headroom_best
        week += f"; without a forecast, HPA at target utilisation {utilization:g} " + (
            f"served it at {ratio:.2f}x"
            if served >= SERVED_TARGET_PCT
            else f"served at most {served:.2f} % ({ratio:.2f}x)"
        )
    if meeting and meeting[0][2] <= RATIO_TARGET and meeting[0][2] <= static:
        point, served, ratio = meeting[0]
        return (
            f"the choice: {point} met every target on this week ({served:.2f} %, {ratio:.2f}x); "
            f"the validation windows pointed to {f.point}{windows}; {week}"
        )
    if meeting:
        point, served, ratio = meeting[0]
        return (
            f"the family: the cheapest point serving >= {SERVED_TARGET_PCT:g} % on this very "
            f"week, {point}, costs {ratio:.2f}x the oracle; {week}"
        )
    best = max(f.hindsight_frontier, key=lambda r: r[1])
    return (
        f"the family: no point serves {SERVED_TARGET_PCT:g} % of this week's minutes (at most "
        f"{best[1]:.2f} %, {best[0]}); {week}"
    )


def _compare(figures: Sequence[TraceFigures], baseline_path: Path) -> list[str]:
    before = {
        (t["name"], t.get("weeks_back", 0)): t
        for t in json.loads(baseline_path.read_text())["traces"]
    }
    lines = [f"\n== against {baseline_path} (before -> now)"]
    for f in figures:
        b = before.get((f.name, f.weeks_back))
        if b is None:
            continue
        p, bp = f.policies["prescale"], b["policies"]["prescale"]
        lines.append(
            f"{f.label:<34} ratio {b['forecast_ratio']:.3f}->{f.forecast_ratio:.3f}  "
            f"P90 {b['coverage_p90']:.2f}->{f.coverage_p90:.2f}  prescale served "
            f"{bp['served_pct']:.2f}->{p.served_pct:.2f}  x oracle "
            f"{bp['ratio_to_oracle']:.3f}->{p.ratio_to_oracle:.3f}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--traces-dir", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--history-weeks", type=float, default=8.0)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--compare", type=Path, help="a --json file of an earlier run")
    parser.add_argument("--only", nargs="*", default=(), help="traces whose name contains any")
    parser.add_argument(
        "--spec-quantile",
        action="store_true",
        help="replay prescale at the spec's P90, without choosing the operating point",
    )
    parser.add_argument(
        "--hindsight",
        action="store_true",
        help="also replay every grid point on the replayed week: the cheapest that met the SLO "
        "in hindsight (the family's bound; 32 more replays per trace)",
    )
    parser.add_argument(
        "--refit-every",
        type=int,
        default=predictive.DEFAULT_REFIT_EVERY_S,
        help="seconds between the replay's refits, in the chooser's windows too (default 6 h; "
        "the daemon's default is 1 h)",
    )
    parser.add_argument(
        "--weeks",
        type=int,
        default=1,
        help="replay each trace's last N weeks, each as its own held-out week with only the "
        "history before it (a trace too short for one is left out, and said so)",
    )
    parser.add_argument(
        "--peak-replicas",
        type=int,
        default=PEAK_REPLICAS,
        help=f"replicas the replayed week's peak minute needs (default {PEAK_REPLICAS}, the "
        "issue's sizing); a larger fleet shows how much of the excess over the oracle is whole "
        "replicas of headroom on a small fleet",
    )
    args = parser.parse_args()
    if args.peak_replicas < 1:
        parser.error(f"--peak-replicas {args.peak_replicas}: must be at least 1")
    if args.weeks < 1:
        parser.error(f"--weeks {args.weeks}: must be at least 1 (the last week)")
    if args.refit_every < replay.MINUTE_S:
        parser.error(f"--refit-every {args.refit_every}: must be at least 60 s (the replay's step)")
    paths = trace_paths(args.traces_dir, args.only)
    print(
        f"{len(paths)} traces; last week held out and replayed"
        + (f" (and each of the {args.weeks - 1} before it)" if args.weeks > 1 else "")
        + "; history <= "
        f"{args.history_weeks:g} weeks before it; cold start fixed {COLD_START_S} s; generic "
        f"on-demand spec sized so the replayed week's peak minute needs {args.peak_replicas} "
        f"replicas (capacity = peak req/s / ({args.peak_replicas} x {TARGET_UTILIZATION})); "
        "model resolution "
        "max(5 min, trace interval); xorc = GPU-hours / oracle's; rp P90 = coverage of the "
        f"replay's refit forecasts over the {args.refit_every / 3600:g} h each served"
    )
    started = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        tasks = [(p, back) for p in paths for back in range(args.weeks)]
        futures = [
            pool.submit(
                run_trace,
                str(p),
                args.history_weeks,
                not args.spec_quantile,
                hindsight=args.hindsight,
                weeks_back=back,
                refit_every_s=args.refit_every,
                peak_replicas=args.peak_replicas,
            )
            for p, back in tasks
        ]
        done = [f.result() for f in futures]
    figures = [f for f in done if f is not None]
    for (p, back), f in zip(tasks, done, strict=True):
        if f is None:
            print(
                f"left out: {p.name}, {back} week(s) before its end: less than {MIN_WEEKS} "
                "weeks of it are left"
            )
    print(_header())
    for f in figures:
        print(_row(f))
    print("\nprescale operating points: " + "; ".join(f"{f.label} {f.point}" for f in figures))
    for f in figures:
        if f.hindsight is not None:
            print(
                f"  hindsight {f.label:<34} {f.hindsight_point:<45} served "
                f"{f.hindsight.served_pct:6.2f} x oracle {f.hindsight.ratio_to_oracle:.2f} "
                f"(chosen {f.policies['prescale'].served_pct:6.2f} "
                f"x {f.policies['prescale'].ratio_to_oracle:.2f})"
            )
    print()
    for line in summary(figures):
        print(line)
    print(f"\nwall {time.perf_counter() - started:.0f} s with {args.jobs} processes")
    if args.compare:
        for line in _compare(figures, args.compare):
            print(line)
    if args.json:
        outputs.write_text(  # atomically: the stored figures stay whole if the run fails
            outputs.Output("--json", args.json),
            json.dumps({"traces": [dataclasses.asdict(f) for f in figures]}, indent=1),
        )


if __name__ == "__main__":
    main()
