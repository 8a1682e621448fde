"""The prescale replay with its steps computed at once (simulator/schedule.py) against the
policy stepped minute by minute: the same result, minute by minute, at every grid point."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import simulator_builders as b

from forecaster import forecast
from planner import operating, spec
from simulator import (
    cold_start,
    engine,
    lineup,
    operating_point,
    predictive,
    replay,
    results,
    schedule,
    spot,
)
from simulator import scenario as scenario_

MINUTES_PER_DAY = 1440


def bursty_arrivals(days: int, seed: int) -> np.ndarray:
    """A daily cycle with Poisson noise, short bursts every few hours (so reactive scale-outs,
    holds and scale-in steps all happen) and a two-hour gap on the last day."""
    minutes = np.arange(days * MINUTES_PER_DAY)
    hour = (minutes % MINUTES_PER_DAY) / 60.0
    rate = 240.0 - 180.0 * np.cos(2 * np.pi * (hour - 2.0) / 24.0)
    rate[(minutes % 237) < 7] *= 3.0
    arrivals = np.random.default_rng(seed).poisson(rate).astype(float)
    arrivals[-600:-480] = np.nan
    return arrivals


CASES = {
    # spot with interruptions, a lognormal cold start, lead time and cooldown not whole minutes
    "spot-lognormal": (
        {
            "capacity_types": ["reserved", "spot", "on_demand"],
            "spot_interruption_rate_per_hour": 2.0,
            "target_utilization": 0.8,
            "cooldown": "150s",
            "scale_in_step": 2,
            "warm_standby": 1,
            "min_replicas": 2,
        },
        cold_start.ColdStartDistribution.lognormal(200, 400),
        330,
        results.MixMode.PLANNER,
    ),
    # on demand only, a cap that binds at the bursts, one replica released per minute
    "on-demand-capped": (
        {"max_replicas": 9, "scale_in_step": 1, "cooldown": "5m"},
        cold_start.ColdStartDistribution.fixed(240),
        240,
        results.MixMode.ON_DEMAND,
    ),
}


@dataclass(frozen=True)
class Window:
    """One replayed day set up as the chooser sets up a window."""

    workload: spec.WorkloadSpec
    split: replay.Replay
    world: scenario_.Scenario
    draws: spot.InterruptionDraws
    lead_time_s: int
    mix: results.MixMode
    selection: forecast.Selection
    shared: predictive.Shared

    def policy(self, point: operating.OperatingPoint) -> predictive.Prescale:
        return predictive.Prescale(
            self.workload,
            self.split.warmup,
            lead_time_s=self.lead_time_s,
            mix=self.mix,
            refit_every_s=3 * 3600,
            selection=self.selection,
            operating_point=point,
            shared=self.shared,
        )


@pytest.fixture(scope="module", params=sorted(CASES))
def window(request: pytest.FixtureRequest) -> Window:
    overrides, cold, lead_time_s, mix = CASES[request.param]
    workload = b.workload(**overrides)
    split = replay.split(b.minute_trace(bursty_arrivals(4, seed=3).tolist()), MINUTES_PER_DAY * 60)
    world = lineup.scenario(workload, split, cold, 7, workload.request)
    draws = spot.InterruptionDraws.draw(7, world.minutes)
    selection = forecast.select(split.warmup.values)
    return Window(workload, split, world, draws, lead_time_s, mix, selection, predictive.Shared())


@pytest.mark.parametrize("point", operating_point.GRID, ids=lambda p: p.describe())
def test_the_steps_computed_at_once_replay_exactly_as_the_policy_stepped_each_minute(
    window: Window, point: operating.OperatingPoint
) -> None:
    stepped = engine.run(window.policy(point), window.world, window.draws)
    ahead = schedule.ahead(window.policy(point), window.world)
    assert ahead is not None
    at_once = engine.run(ahead, window.world, window.draws)
    pd.testing.assert_frame_equal(at_once.timeseries, stepped.timeseries)
    for name in (
        "served_minutes_pct",
        "gpu_hours",
        "cost_usd",
        "scale_events",
        "spot_interruptions",
    ):
        assert getattr(at_once, name) == getattr(stepped, name), name
    targets = stepped.timeseries.filter(like="target_").sum(axis=1).to_numpy()
    if point.band_scale is not None and point.band_scale <= 1.0:
        # the case moves: the targets change often and not only upwards (above P90 the
        # capped case sits at its cap all day)
        assert (np.diff(targets) < 0).sum() > 5 and (np.diff(targets) > 0).sum() > 5
    assert targets.max() <= window.workload.max_replicas
