"""Pure: the prescale policy under replay: forecasts refit on a schedule, the plan's floor,
and the planner's own per-tick step on top.

What it may know at minute t is only what the replay engine shows it: the warm-up history it
was built with, plus one observation per replayed minute (the previous minute's arrivals and
load). Refits use exactly that history, so a forecast made at t cannot see data after t (a
test alters the future and checks). Between refits the latest plan's `floor` column (the need
over the next lead time at the provisioning quantile) is the predictive floor, and
`step.plan_step`, the function the daemon calls every tick, adds reactive scaling above it,
the cooldown, the scale-in step and the capacity-type mix. Nothing of the step is
re-implemented here.

The model is chosen once on the warm-up (`forecast.select`, a backtest); refits reuse that
selection and its calibration (`forecast.forecast(..., selection=...)`), which is cheap. The
reserved base is decided once, because a reservation is a long commitment and not something a
replay may change every few hours: given by the caller (the simulator gives every policy the
same one), else the first plan's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecaster import forecast, level, series
from planner import operating, plan, spec, step, tick
from simulator import engine, fits, results

HOUR_S = 3600
WEEK_S = 7 * 86400
MINUTE_S = 60
# Refit every 6 h by default: four times a day follows a diurnal cycle's turns while a refit
# (about a second on four weeks of minutes) stays negligible against a week's replay.
DEFAULT_REFIT_EVERY_S = 6 * HOUR_S
# A refit forecasts past the next refit by the lead time (the floor looks that far ahead) plus
# an hour of margin, so the floor is never cut short by the end of a horizon.
HORIZON_MARGIN_S = HOUR_S
# The level correction is updated every hour between refits: often enough to follow a shift
# within a refit interval, each update a re-plan of the latest forecast (milliseconds).
LEVEL_EVERY_S = HOUR_S


@dataclass(frozen=True)
class Refit:
    """One forecast made during the replay (for the report and the no-peeking test)."""

    minute: int  # replayed minute at which it was made (0 = from the warm-up alone)
    forecast: forecast.Forecast


# (kind, minute of the forecast, band scale, level factor): what a floor depends on within
# replays sharing one warm-up (see Shared); kind "refit" is planned at a refit (the factor
# applied before the band, as `at_point`), "level" re-planned between refits (`level_floors`).
FloorKey = tuple[str, int, float | None, float]


@dataclass(frozen=True)
class Shared:
    """What replays of the same warm-up, refit schedule, workload (its scale-in hold aside),
    lead time and request shape have in common, whatever their operating point: the refits
    by replayed minute, and the floors (epoch seconds of the first minute, floor per minute)
    by FloorKey. Points differing in their hold only step on the same floors, and the level
    factors depend on observations and forecasts alone, so they share them too
    (simulator/operating_point.py replays one history at many points). The first plan, made
    before any level correction, is shared by (band scale, hold) with its floors.

    The first plan is the same object for every replay that shares it: read-only."""

    forecasts: dict[int, forecast.Forecast] = field(default_factory=dict)
    floors: dict[FloorKey, tuple[float, tuple[int, ...]]] = field(default_factory=dict)
    first_plans: dict[tuple[float | None, spec.HoldRule], tuple[plan.Plan, tick.Floors]] = field(
        default_factory=dict
    )


class Prescale:
    """The prescale policy for `engine.run` (see the module docstring)."""

    def __init__(
        self,
        workload: spec.WorkloadSpec,
        warmup: series.Trace,
        *,
        lead_time_s: int,
        mix: results.MixMode,
        refit_every_s: int = DEFAULT_REFIT_EVERY_S,
        selection: forecast.Selection | None = None,
        request: spec.RequestShape | None = None,
        reserved: int | None = None,
        operating_point: operating.OperatingPoint = operating.DEFAULT,
        shared: Shared | None = None,
    ) -> None:
        """`operating_point` places the floor (band, level correction, hold); `shared` holds
        the refits and floors computed by other replays of the same warm-up (see Shared)."""
        self._point = operating_point
        self._workload = runs_as(workload, mix, operating_point)
        self._shared = Shared() if shared is None else shared
        self._level = level.LevelCorrection() if operating_point.level_correction else None
        self._level_every = max(1, LEVEL_EVERY_S // MINUTE_S)
        self._factor = 1.0
        self._expected: list[float] = []  # the model's P50 in force per replayed minute
        self._mix = mix
        self._lead_time_s = lead_time_s
        self._request = request
        self._shape = request or workload.request  # as build_plan resolves it
        self._refit_every = max(1, math.ceil(refit_every_s / MINUTE_S))
        self._horizon_s = refit_every_s + lead_time_s + HORIZON_MARGIN_S
        history = warmup.values
        self._warmup = history
        self._start = pd.Timestamp(history.index[-1]) + pd.Timedelta(minutes=1)
        self._observed: list[float] = []
        # the warm-up's digest extended by each minute observed, the key of a refit's history
        # (`fits.refit`): each value is hashed once, not the whole history at every refit
        self._arrivals_hash: hashlib.blake2b | None = None
        self._hashed = 0
        self.selection = selection if selection is not None else fits.select(history)
        first = self._refit(0, WEEK_S)
        # the first plan whole: its reserved base, capacity and first targets are used; later
        # refits only need their floor column (`_refit_floors`)
        key = (operating_point.band_scale, operating_point.hold)
        found = self._shared.first_plans.get(key)
        if found is None:
            made = self._plan(first.forecast)
            # the minutes before the first plan's (a bucket under way) take its first floor,
            # as the daemon's first plan does
            start_s = self._start.timestamp()
            found = (made, tick.extend(tick.Floors.empty(), made, fill_from_s=start_s))
            self._shared.first_plans[key] = found
        self.first_plan, self._floors = found
        self._reserved = self.first_plan.reserved if reserved is None else reserved
        # every refit plans with the same request shape, so the first plan's capacity holds
        self._capacity_per_replica = self.first_plan.capacity_per_replica
        self.refits: list[Refit] = [first]
        self._state = step.PolicyState.initial()

    @property
    def name(self) -> results.PolicyName:
        return results.PolicyName.PRESCALE

    @property
    def mix(self) -> results.MixMode:
        return self._mix

    @property
    def reserved_commitment(self) -> int:
        return self._reserved

    @property
    def level_factor(self) -> float:
        """The level correction's factor in force (1.0 without the correction)."""
        return self._factor

    def floor_at(self, minute: int) -> int | None:
        """The forecast floor in force at replayed `minute` (None when no plan covers it)."""
        return self._floors.at((self._start + pd.Timedelta(minutes=minute)).to_pydatetime())

    @property
    def workload(self) -> spec.WorkloadSpec:
        """The workload as stepped (`runs_as`)."""
        return self._workload

    @property
    def lead_time_s(self) -> int:
        return self._lead_time_s

    @property
    def capacity_per_replica(self) -> float:
        """The first plan's capacity per replica, which every step uses."""
        return self._capacity_per_replica

    @property
    def floors(self) -> tick.Floors:
        """The floors in force after the minutes observed so far."""
        return self._floors

    def running_at_start(self) -> spec.ByType[int]:
        """The fleet at the start: the first plan's targets at minute 0."""
        first = self.first_plan.targets.iloc[0]
        return spec.ByType.build(lambda t: int(first[t.value]))

    def initial(self, observation: engine.Observation) -> spec.ByType[int]:
        """The fleet at the start: the first plan's targets at minute 0, all ready, then one
        step from there so the step's memory starts consistent with it."""
        running = self.running_at_start()
        self._state = step.PolicyState.initial(running)
        return self.decide(dataclasses.replace(observation, ready=running))

    def decide(self, observation: engine.Observation) -> spec.ByType[int]:
        """The planner's step on the floor in force (plus what was observed), every minute."""
        if observation.minute > 0:
            self.observe(observation.minute, observation.arrivals)
        # the plan's capacity (measured request shape); no pool budget in a replay
        result = tick.step_on_floors(
            self._workload,
            self._floors,
            observation.now,
            observation.demand,
            observation.ready,
            self._state,
            self._reserved,
            self._lead_time_s,
            self._capacity_per_replica,
        )
        self._state = result.state
        return result.state.targets

    def observe(self, minute: int, arrivals: float | None) -> None:
        """Take in what replayed `minute` (> 0) observes, the previous minute's arrivals, and
        refit or correct the level when it is time: the floors that minute steps on."""
        self._observed.append(math.nan if arrivals is None else arrivals)
        if minute % self._refit_every == 0:
            refit = self._refit(minute, self._horizon_s)
            self.refits.append(refit)
            self._use_floors(*self._refit_floors(refit))
        elif self._level is not None and minute % self._level_every == 0:
            self._correct_level(minute, self._level)

    def history_at(self, minute: int, within_s: int | None = None) -> pd.Series:
        """Arrivals per minute known at the start of replayed `minute` (warm-up + observed),
        the last `within_s` seconds of them when given (a refit reads no further back)."""
        observed = self._observed[:minute]
        warmup = self._warmup
        if within_s is not None:
            last = self._start + pd.Timedelta(minutes=len(observed) - 1)  # the last known
            since = last - pd.Timedelta(seconds=within_s)
            warmup = warmup.iloc[warmup.index.searchsorted(since) :]
        if minute == 0 or not observed:
            return warmup
        index = pd.date_range(self._start, periods=len(observed), freq="min", tz="UTC")
        tail = pd.Series(observed, index=index, dtype=float)
        joined = pd.concat([warmup, tail])
        return pd.Series(
            joined.to_numpy(dtype=float),
            index=pd.DatetimeIndex(joined.index, freq="min"),
            dtype=float,
        )

    def _refit(self, minute: int, horizon_s: int) -> Refit:
        forecasts = self._shared.forecasts
        made = forecasts.get(minute)
        if made is None:
            # a refit on the chosen model reads only the last FIT_HISTORY_S (forecast.py)
            made = fits.refit(
                self._arrivals_key(minute),
                lambda: self.history_at(minute, within_s=forecast.FIT_HISTORY_S),
                horizon_s=horizon_s,
                selection=self.selection,
            )
            forecasts[minute] = made
        if self._level is not None and minute > 0:
            self._factor = self._next_factor(minute, self._level)
        self._remember_expected(made)
        return Refit(minute=minute, forecast=made)

    def _arrivals_key(self, minute: int) -> bytes:
        """The content of the arrivals known at `minute`: the warm-up and the minutes observed
        before it (what `history_at` reads), as a digest."""
        if self._arrivals_hash is None:
            # taken once per replay that refits at all (a replay sharing its refits through
            # `Shared` finds them there and never gets here)
            self._arrivals_hash = hashlib.blake2b(fits.digest(self._warmup), digest_size=16)
        observed = self._observed[self._hashed : minute]
        self._arrivals_hash.update(np.asarray(observed, dtype=np.float64).tobytes())
        self._hashed = max(self._hashed, minute)
        key = self._arrivals_hash.copy()
        key.update(np.int64(minute).tobytes())
        return key.digest()

    def _refit_floors(self, refit: Refit) -> tuple[float, tuple[int, ...]]:
        """The floor column of the refit's plan at the factor in force (`plan_at`'s floor,
        computed by plan.floor_of without the rest of the plan), and its first minute."""
        key = ("refit", refit.minute, self._point.band_scale, self._factor)
        found = self._shared.floors.get(key)
        if found is None:
            made = refit.forecast
            floors = plan.floor_of(
                self._workload,
                made,
                lead_time_s=self._lead_time_s,
                request=self._request,
                arrivals=point_column(self._workload, made, self._point, self._factor),
            )
            start_s = float(pd.Timestamp(made.frame.index[0]).timestamp())
            found = (start_s, tuple(floors.tolist()))
            self._shared.floors[key] = found
        return found

    def _plan(self, made: forecast.Forecast) -> plan.Plan:
        return plan_at(
            self._workload,
            made,
            self._point,
            factor=self._factor,
            lead_time_s=self._lead_time_s,
            request=self._request,
        )

    def _remember_expected(self, made: forecast.Forecast) -> None:
        """The model's own P50 per replayed minute from its first bucket on (what the level
        correction compares observations with)."""
        frame = made.frame
        first = int((pd.Timestamp(frame.index[0]) - self._start) / pd.Timedelta(minutes=1))
        per = made.resolution_s // MINUTE_S
        values = np.repeat(frame["p50"].to_numpy(dtype=float), per).tolist()
        if first > len(self._expected):
            self._expected.extend([math.nan] * (first - len(self._expected)))
        del self._expected[first:]
        self._expected.extend(values)

    def _next_factor(self, minute: int, correction: level.LevelCorrection) -> float:
        start = max(0, minute - correction.window_s // MINUTE_S)
        observed = np.asarray(self._observed[start:minute], dtype=float)
        expected = np.asarray(self._expected[start:minute], dtype=float)
        if expected.size < observed.size:
            observed = observed[: expected.size]
        return level.factor(observed, expected, self._factor, correction)

    def _correct_level(self, minute: int, correction: level.LevelCorrection) -> None:
        """Between refits: update the factor and, when it moved, re-plan the latest forecast."""
        factor = self._next_factor(minute, correction)
        if factor == self._factor:
            return
        self._factor = factor
        latest = self.refits[-1]
        key = ("level", latest.minute, self._point.band_scale, factor)
        found = self._shared.floors.get(key)
        if found is None:
            made = latest.forecast
            floors = level_floors(
                self._workload,
                made,
                self._point,
                factor=factor,
                lead_time_s=self._lead_time_s,
                request=self._shape,
            )
            first_minute = self._minute_of(made.frame.index[0])
            start_s = (self._start + pd.Timedelta(minutes=first_minute)).timestamp()
            found = (start_s, tuple(floors.tolist()))
            self._shared.floors[key] = found
        self._use_floors(*found)

    def _minute_of(self, stamp: pd.Timestamp) -> int:
        return int((pd.Timestamp(stamp) - self._start) / pd.Timedelta(minutes=1))

    def _use_floors(self, start_s: float, floors: tuple[int, ...]) -> None:
        """Take a floor from its first minute on (an older plan covers any minutes before it,
        e.g. a bucket the forecaster skipped because it was under way)."""
        self._floors = tick.overlay(self._floors, start_s, floors)


def runs_as(
    workload: spec.WorkloadSpec, mix: results.MixMode, point: operating.OperatingPoint
) -> spec.WorkloadSpec:
    """The workload as the policy steps it at `point`: under `mix`, with the point's hold."""
    return dataclasses.replace(results.for_mix(workload, mix), scale_in_hold=point.hold)


def plan_at(
    workload: spec.WorkloadSpec,
    made: forecast.Forecast,
    point: operating.OperatingPoint,
    *,
    factor: float,
    lead_time_s: int,
    request: spec.RequestShape | None,
) -> plan.Plan:
    """The plan of a forecast at an operating point (the daemon plans the same way)."""
    return plan.build_plan(
        workload, at_point(workload, made, point, factor), lead_time_s=lead_time_s, request=request
    )


def at_point(
    workload: spec.WorkloadSpec,
    made: forecast.Forecast,
    point: operating.OperatingPoint,
    factor: float,
) -> forecast.Forecast:
    """The forecast as planned at an operating point: the band point and the level factor put
    into the column the workload provisions for."""
    frame = made.frame
    if point.band_scale is None and factor == 1.0:
        return made
    frame = level.scaled(frame, factor)
    if point.band_scale is not None:
        column = f"peak_{workload.provisioning_quantile.value}"
        frame = frame.assign(**{column: level.band_point(frame, point.band_scale)})
    return dataclasses.replace(made, frame=frame)


def point_column(
    workload: spec.WorkloadSpec,
    made: forecast.Forecast,
    point: operating.OperatingPoint,
    factor: float,
) -> npt.NDArray[np.float64] | None:
    """The provisioning column of `at_point(workload, made, point, factor)` as values, by the
    same arithmetic (the factor on each quantile, then the band point), without building the
    frame; None when `made` is planned as it is (the frame's own column)."""
    if point.band_scale is None and factor == 1.0:
        return None
    frame = made.frame
    if point.band_scale is None:
        column = f"peak_{workload.provisioning_quantile.value}"
        if column not in frame.columns:
            return None  # plan.floor_of names the missing column, as build_plan does
        return frame[column].to_numpy(dtype=float) * factor
    values = [frame[name].to_numpy(dtype=float) for name in level.FRAME_QUANTILES[1]]
    if factor != 1.0:
        values = [v * factor for v in values]
    return level.band_values(values[0], values[1], values[2], point.band_scale)


def level_floors(
    workload: spec.WorkloadSpec,
    made: forecast.Forecast,
    point: operating.OperatingPoint,
    *,
    factor: float,
    lead_time_s: int,
    request: spec.RequestShape,
) -> npt.NDArray[np.int64]:
    """The floor per minute from `made`'s first bucket on, at `point` with a new level
    `factor`: the plan's floor column computed as build_plan computes it
    (plan.floor_per_minute) without the rest of the plan, for the hourly level updates
    between refits."""
    frame = made.frame
    column = f"peak_{workload.provisioning_quantile.value}"
    if point.band_scale is None:
        arrivals = frame[column].to_numpy(dtype=float) * factor
    else:
        p50, p90, p99 = (frame[name].to_numpy(dtype=float) for name in level.FRAME_QUANTILES[1])
        arrivals = level.band_values(p50, p90, p99, point.band_scale) * factor
    needed = plan.needed_for(workload, arrivals, made.input_interval_s, request)
    return plan.floor_per_minute(needed, made.resolution_s, lead_time_s)
