"""Pure: what a replay yields: per policy, served minutes, GPU-hours, cost and churn.

The result types of the what-if simulator (engine.py produces them, accounting.py assembles
them, the report and `prescale simulate` read them).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from planner import operating, spec
from simulator import cold_start

TYPES = (spec.CapacityType.RESERVED, spec.CapacityType.SPOT, spec.CapacityType.ON_DEMAND)


class PolicyName(StrEnum):
    PRESCALE = "prescale"
    REACTIVE = "reactive"
    STATIC = "static"
    CRON = "cron"
    LAST_WEEK = "last_week"
    ORACLE = "oracle"


class MixMode(StrEnum):
    """Which capacity types a policy runs on."""

    PLANNER = "planner"  # the planner's reserved / spot / on-demand mix for the spec's types
    ON_DEMAND = "on_demand"  # everything on demand


def for_mix(workload: spec.WorkloadSpec, mix: MixMode) -> spec.WorkloadSpec:
    """The workload as a policy runs it: unchanged under the planner's mix, on-demand only
    otherwise (no reserved base, no spot share)."""
    if mix is MixMode.PLANNER:
        return workload
    return dataclasses.replace(
        workload, capacity_types=(spec.CapacityType.ON_DEMAND,), spot_share=0.0
    )


@dataclass(frozen=True)
class PolicyResult:
    """One policy's replay: SLO, GPU use, cost, churn, and the per-minute series for plots.

    `timeseries` has one row per replayed minute (UTC index) and the columns: `arrivals`,
    `demand` (spec unit), `capacity` (ready x capacity per replica), `served` (1.0, 0.0, or NaN
    in a gap), `unserved_demand` (spec unit), and per capacity type `target_<type>`,
    `ready_<type>`, `billed_<type>` (replicas ordered, i.e. paid; reserved shows the commitment).
    """

    policy: PolicyName
    mix: MixMode
    minutes: int  # replayed minutes
    minutes_with_data: int  # minutes that count for served / unserved
    served_minutes: int
    served_minutes_pct: float  # of minutes_with_data
    unserved_runs: int  # runs of consecutive unserved minutes (a gap in the data ends one)
    longest_unserved_minutes: int  # the longest such run
    unserved_demand_pct: float  # of the demand summed over minutes_with_data
    unserved_demand: float  # spec unit x minutes
    gpu_hours: float
    gpu_hours_by_type: spec.ByType[float]
    cost_usd: float  # GPU cost: what the replicas were billed
    cost_by_type: spec.ByType[float]
    api_overflow_usd: float | None  # unserved tokens at the spec's price; None when unpriced
    scale_events: int  # target changes, counted per capacity type and minute
    scale_out_events: int  # minutes in which the total target rose
    scale_in_events: int  # minutes in which the total target fell
    replicas_ordered: int  # cold starts paid, including spot replacements
    spot_interruptions: int
    reserved_commitment: int
    peak_replicas: int  # most replicas billed in one minute
    mean_replicas: float
    timeseries: pd.DataFrame


@dataclass(frozen=True)
class Frontier:
    """One point of prescale's operating-point grid as replayed (simulator/operating_point.py):
    the served share per window and the total cost."""

    point: operating.OperatingPoint
    served_pct: tuple[float, ...]  # per window, of minutes with data
    gpu_hours: float  # summed over the windows

    @property
    def pooled_served_pct(self) -> float:
        """The share of minutes served over all the windows together (they are the same
        length, so the mean of their shares, up to minutes without data)."""
        return sum(self.served_pct) / len(self.served_pct) if self.served_pct else math.nan


@dataclass(frozen=True)
class Choice:
    point: operating.OperatingPoint
    met: bool  # the point meets the SLO over the windows together
    slo: spec.Slo
    windows: tuple[tuple[pd.Timestamp, pd.Timestamp], ...]  # replayed [start, end) of each
    frontier: tuple[Frontier, ...]  # every grid point, in grid order
    reason: str


def provisioned_for(workload: spec.WorkloadSpec, choice: Choice | None) -> str:
    """Where a plan at `choice`'s point sits on the forecast, in words ("band 0.5, chosen for
    the SLO"); the spec's quantile with no choice, or a choice that keeps it."""
    if choice is None or choice.point.band_scale is None:
        return workload.provisioning_quantile.value
    return f"band {choice.point.band_scale:g}, chosen for the SLO"


def frontier_rows(choice: Choice) -> list[tuple[Frontier, bool]]:
    """(point, chosen) per efficient grid point, cheapest first: a point is left out when a
    cheaper one serves as much over the windows (the chosen one always stays)."""
    ordered = sorted(choice.frontier, key=lambda f: (f.gpu_hours, -f.pooled_served_pct))
    rows = []
    best = -math.inf
    for f in ordered:
        chosen = f.point == choice.point
        if f.pooled_served_pct > best or chosen:
            rows.append((f, chosen))
        best = max(best, f.pooled_served_pct)
    return rows


@dataclass(frozen=True)
class SimulationResult:
    """Every policy's replay of one workload over one replayed period."""

    workload: str
    start: pd.Timestamp  # first replayed minute
    minutes: int
    capacity_per_replica: float
    cold_start: cold_start.ColdStartDistribution
    seed: int
    policies: tuple[PolicyResult, ...]
    planning_lead_time_s: int | None = None  # the lead time policies planned with
    forecast_model: str | None = None  # prescale's forecast model; None when it did not run
    forecast_refits: int = 0  # forecasts prescale made, the first one from the warm-up
    dropout_minutes: int = 0  # replayed minutes that were collection dropouts, made gaps
    # prescale's operating point as chosen on the warm-up (simulator/operating_point.Choice);
    # None when not chosen (the spec's quantile)
    operating_point: Choice | None = None

    def result(self, name: PolicyName) -> PolicyResult | None:
        for result in self.policies:
            if result.policy is name:
                return result
        return None


def percent(part: float, whole: float) -> float:
    """`part` as a percentage of `whole`; 100 when `whole` is 0 (served minutes: with no
    minute of data, none went unserved)."""
    return 100.0 * part / whole if whole > 0 else 100.0
