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
import math
from dataclasses import dataclass

import pandas as pd

from forecaster import forecast, series
from planner import plan, spec, step, tick
from simulator import engine, results

HOUR_S = 3600
WEEK_S = 7 * 86400
MINUTE_S = 60
# Refit every 6 h by default: four times a day follows a diurnal cycle's turns while a refit
# (about a second on four weeks of minutes) stays negligible against a week's replay.
DEFAULT_REFIT_EVERY_S = 6 * HOUR_S
# A refit forecasts past the next refit by the lead time (the floor looks that far ahead) plus
# an hour of margin, so the floor is never cut short by the end of a horizon.
HORIZON_MARGIN_S = HOUR_S


@dataclass(frozen=True)
class Refit:
    """One forecast made during the replay (for the report and the no-peeking test)."""

    minute: int  # replayed minute at which it was made (0 = from the warm-up alone)
    forecast: forecast.Forecast
    plan: plan.Plan


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
    ) -> None:
        self._workload = _for_mix(workload, mix)
        self._mix = mix
        self._lead_time_s = lead_time_s
        self._request = request
        self._refit_every = max(1, math.ceil(refit_every_s / MINUTE_S))
        self._horizon_s = refit_every_s + lead_time_s + HORIZON_MARGIN_S
        history = warmup.values
        self._warmup = history
        self._start = pd.Timestamp(history.index[-1]) + pd.Timedelta(minutes=1)
        self._observed: list[float] = []
        self.selection = selection if selection is not None else forecast.select(history)
        first = self._refit(0, WEEK_S)
        self._reserved = first.plan.reserved if reserved is None else reserved
        # every refit plans with the same request shape, so the first plan's capacity holds
        self._capacity_per_replica = first.plan.capacity_per_replica
        self.refits: list[Refit] = [first]
        self._floors = tick.Floors.empty()
        self._use(first)
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

    def floor_at(self, minute: int) -> int | None:
        """The forecast floor in force at replayed `minute` (None when no plan covers it)."""
        return self._floors.at((self._start + pd.Timedelta(minutes=minute)).to_pydatetime())

    def initial(self, observation: engine.Observation) -> step.ReplicaCounts:
        """The fleet at the start: the first plan's targets at minute 0, all ready, then one
        step from there so the step's memory starts consistent with it."""
        first = self.refits[0].plan.targets.iloc[0]
        running = step.ReplicaCounts(
            int(first["reserved"]), int(first["spot"]), int(first["on_demand"])
        )
        self._state = step.PolicyState.initial(running)
        return self.decide(dataclasses.replace(observation, ready=running))

    def decide(self, observation: engine.Observation) -> step.ReplicaCounts:
        """The planner's step on the floor in force (plus what was observed), every minute."""
        minute = observation.minute
        if minute > 0:
            self._observed.append(
                math.nan if observation.arrivals is None else observation.arrivals
            )
            if minute % self._refit_every == 0:
                refit = self._refit(minute, self._horizon_s)
                self.refits.append(refit)
                self._use(refit)
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

    def history_at(self, minute: int) -> pd.Series:
        """Arrivals per minute known at the start of replayed `minute` (warm-up + observed)."""
        observed = self._observed[:minute]
        if minute == 0 or not observed:
            return self._warmup
        index = pd.date_range(self._start, periods=len(observed), freq="min", tz="UTC")
        tail = pd.Series(observed, index=index, dtype=float)
        joined = pd.concat([self._warmup, tail])
        return pd.Series(
            joined.to_numpy(dtype=float),
            index=pd.DatetimeIndex(joined.index, freq="min"),
            dtype=float,
        )

    def _refit(self, minute: int, horizon_s: int) -> Refit:
        history = self.history_at(minute)
        made = forecast.forecast(history, horizon_s=horizon_s, selection=self.selection)
        planned = plan.build_plan(
            self._workload, made, lead_time_s=self._lead_time_s, request=self._request
        )
        return Refit(minute=minute, forecast=made, plan=planned)

    def _use(self, refit: Refit) -> None:
        """Take the refit's floor from its first minute on (an older plan covers any minutes
        before it, e.g. a bucket the forecaster skipped because it was under way)."""
        self._floors = tick.extend(self._floors, refit.plan)


def _for_mix(workload: spec.WorkloadSpec, mix: results.MixMode) -> spec.WorkloadSpec:
    """The workload as the policy runs it: unchanged under the planner's mix, on-demand only
    otherwise (no reserved base, no spot share)."""
    if mix is results.MixMode.PLANNER:
        return workload
    return dataclasses.replace(
        workload, capacity_types=(spec.CapacityType.ON_DEMAND,), spot_share=0.0
    )
