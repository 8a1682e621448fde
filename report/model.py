"""Shell: the capacity report's data model, a frozen and versioned value the renderers share.

The content module assembles a `Report` from the forecaster's, the planner's and the
simulator's results; `html`, `markdown` and `jsondoc` only format it. Every number the HTML
page shows lives in this model, so `report.json` carries all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from forecaster import forecast
from planner import lead_time, spec

# Bump the major part when a field is renamed or removed, the minor part when one is added.
SCHEMA_VERSION = "2.4"


class CaveatKind(StrEnum):
    short_history = "short_history"
    low_accuracy = "low_accuracy"
    coverage_off = "coverage_off"
    spec_range = "spec_range"
    budget_binding = "budget_binding"
    lead_time_fallback = "lead_time_fallback"
    no_backtest = "no_backtest"


@dataclass(frozen=True)
class Caveat:
    """One warning shown in the fleet summary (workload None: fleet-wide)."""

    kind: CaveatKind
    workload: str | None
    message: str


@dataclass(frozen=True)
class Series:
    """A regular series for a plot: value i is at start + i * step_s (NaN = no data)."""

    start: datetime  # tz-aware UTC
    step_s: int
    values: tuple[float, ...]

    def time_at(self, index: int) -> datetime:
        return self.start + timedelta(seconds=self.step_s * index)

    @property
    def end(self) -> datetime:
        return self.time_at(len(self.values))

    def finite_max(self) -> float:
        finite = [v for v in self.values if not math.isnan(v)]
        return max(finite) if finite else math.nan


@dataclass(frozen=True)
class ForecastView:
    """History and forecast in the input unit (e.g. requests per minute), bucket means."""

    unit_label: str  # "requests per minute"
    history: Series
    p50: Series
    p90: Series
    p99: Series
    history_points: int  # non-NaN input intervals used for the fit
    history_days: float
    resolution_s: int


@dataclass(frozen=True)
class Candidate:
    model: str
    mae: float  # input unit per input interval, mean over backtest folds
    ratio_to_naive: float  # mae / weekly seasonal-naive mae (NaN when naive is unavailable)
    chosen: bool
    status: forecast.CandidateStatus = forecast.CandidateStatus.ELIGIBLE

    @property
    def not_eligible(self) -> str | None:
        """Why the backtest did not score this candidate ("not eligible: short history"), or
        None when it did: shown in place of its MAE, which is then NaN."""
        if self.status in _SCORED:
            return None
        return "not eligible: " + self.status.value.replace("_", " ")

    @property
    def scored_on_fewer_folds(self) -> str | None:
        """Why this candidate's MAE is not on the same folds as the others', or None when it
        is: weekly seasonal-naive with 8-13 days of history runs only on the latest folds."""
        if self.status is forecast.CandidateStatus.LATEST_FOLDS:
            return "scored on fewer folds: the latest, with a week of history before them"
        return None


_SCORED = (forecast.CandidateStatus.ELIGIBLE, forecast.CandidateStatus.LATEST_FOLDS)


@dataclass(frozen=True)
class Accuracy:
    model: str
    reason: str
    candidates: tuple[Candidate, ...]
    chosen_ratio_to_naive: float  # NaN when there was no naive baseline
    coverage_p90: float | None  # fraction 0..1 of held-out points under P90; None = no backtest
    coverage_p99: float | None
    # forecaster/widening.py: how far the band follows the last day's residuals out of the
    # calibrated range, chosen on the backtest folds by P90 pinball loss (0: refused)
    band_widening: float
    # what this forecast's spread above P50 was multiplied by at that strength (1: the last
    # day was within the calibrated range; schema 2.2)
    band_widened_by: float = 1.0


@dataclass(frozen=True)
class ReplicaView:
    """Needed vs planned replicas for the plot, downsampled to step_s (row of max total)."""

    needed: Series
    reserved: Series
    spot: Series
    on_demand: Series


@dataclass(frozen=True)
class DurationPoint:
    """k-th replica: the share of planned minutes with at least k replicas (the planner's base)."""

    replicas: int
    share_of_time: float
    reserve: bool  # fraction > break-even, so the k-th replica is cheaper reserved


@dataclass(frozen=True)
class Reservation:
    allowed: bool  # the workload's capacity_types include reserved
    reserved_replicas: int
    reserved_gpus: int
    price_reserved_per_gpu_hour: float
    price_on_demand_per_gpu_hour: float
    price_spot_per_gpu_hour: float
    break_even_fraction: float  # price_reserved / price_on_demand
    duration_curve: tuple[DurationPoint, ...]


@dataclass(frozen=True)
class CostLine:
    """One capacity type's share of the planned week."""

    capacity_type: spec.CapacityType
    peak_replicas: int
    mean_replicas: float
    gpu_hours: float  # over the plan horizon
    cost_usd: float  # over the plan horizon
    gpu_hours_per_week: float
    cost_usd_per_week: float
    usd_per_million_requests: float | None  # this type's share of the unit cost
    usd_per_million_tokens: float | None


@dataclass(frozen=True)
class Cost:
    """Cost over the plan horizon, scaled to a week where the horizon is shorter or longer."""

    horizon_hours: float
    lines: tuple[CostLine, ...]
    total_gpu_hours_per_week: float
    total_usd_per_week: float
    all_on_demand_usd_per_week: float
    static_peak_usd_per_week: float
    savings_vs_on_demand_pct: float
    savings_vs_static_pct: float
    usd_per_million_requests: float | None
    usd_per_million_tokens: float | None  # LLM workloads only


@dataclass(frozen=True)
class LeadTimeView:
    seconds: float
    source: lead_time.LeadTimeSource
    note: str


# What a run of unserved minutes says, against the cold start every policy paid: the replay's
# table (`prescale simulate`) and the report's renderers say it in these words.
MISS_RUNS_MEANING = (
    "a run about as long as the cold start is a rise the floor did not cover, a shorter one "
    "a burst over before a replica ordered for it could be ready"
)


@dataclass(frozen=True)
class PolicyRow:
    """One policy of the what-if replay."""

    policy: str
    served_minutes_pct: float
    unserved_demand_pct: float
    gpu_hours: float
    cost_usd: float
    reserved_usd: float
    spot_usd: float
    on_demand_usd: float
    # unserved demand priced at the API fallback rate; None when the spec does not price it
    # (2.4; 0 before)
    overflow_usd: float | None
    scale_events: int
    gpu_hours_vs_oracle: float | None  # None when the oracle was not run
    cost_vs_oracle: float | None
    unserved_minutes: int  # minutes with data whose demand the ready replicas did not cover
    unserved_runs: int  # those minutes as runs of consecutive minutes (simulator.accounting)
    longest_unserved_minutes: int  # the longest run


@dataclass(frozen=True)
class FrontierPoint:
    """One operating point prescale replayed on its warm-up's validation windows."""

    point: str  # planner.operating.OperatingPoint.describe(), e.g. "band 0.50 (P50..P90), ..."
    pooled_served_pct: float  # minutes served over the windows together
    gpu_hours: float  # over all the windows
    efficient: bool  # no cheaper point served as much (the frontier line)
    chosen: bool


@dataclass(frozen=True)
class OperatingPointView:
    """How prescale's operating point was chosen for the SLO, and the frontier it saw."""

    slo_served_minutes_pct: float
    chosen: str
    met: bool  # the chosen point met the SLO over its windows
    reason: str
    windows: int  # validation windows replayed
    frontier: tuple[FrontierPoint, ...]  # every point replayed, cheapest first
    # whose last weeks the windows are: "the warm-up" (the what-if replay's choice) or "the
    # history" (the choice next week is planned at; 2.4)
    replayed_on: str


@dataclass(frozen=True)
class Simulation:
    replay_start: datetime
    replay_days: float
    seed: int
    planning_lead_time_s: int | None  # the lead time the policies planned with
    forecast_model: str | None  # prescale's forecast model in the replay
    forecast_refits: int  # forecasts prescale made during the replay, the first from the warm-up
    cold_start: str  # the cold starts every policy paid, e.g. "fixed 600 s"
    policies: tuple[PolicyRow, ...]
    operating_point: OperatingPointView | None = None  # None: the spec's quantile as it stands


@dataclass(frozen=True)
class ShadowScore:
    """The daemon's advisory shadow score over its rolling window: what the plan would have
    served and cost against what actually ran (the ready replicas), minute by minute."""

    window_s: int
    minutes: int  # minutes with an observed demand and every type's ready replicas known
    plan_served_pct: float | None  # None before the first such minute
    actual_served_pct: float | None
    plan_usd: float
    actual_usd: float


@dataclass(frozen=True)
class HistorySource:
    """What the history measured, and how it became the workload's unit (as `prescale plan`
    says it)."""

    source_unit: str  # planner.spec.HistoryUnit: arrivals, concurrency, kv_tokens, ...
    conversion: str  # in words, e.g. "arrivals per 60 s -> concurrency by Little's law (...)"


@dataclass(frozen=True)
class WorkloadReport:
    name: str
    kind: str
    unit: str  # the planner's demand unit
    gpu: str
    gpus_per_replica: int
    capacity_per_replica: float
    target_utilization: float
    provisioning_quantile: str  # the spec's
    # where the plan sits on the forecast: the spec's quantile ("p90"), or the band point of
    # the operating point a replay chose for the SLO ("band 0.5, chosen for the SLO")
    provisioned_for: str
    min_replicas: int
    max_replicas: int
    column: str
    history: HistorySource
    forecast: ForecastView
    accuracy: Accuracy
    replicas: ReplicaView
    peak_needed: int
    peak_planned: int
    peak_gpus: int
    reservation: Reservation
    cost: Cost
    lead_time: LeadTimeView
    budget_note: str | None  # set when the pool's GPU budget cut this workload's plan
    simulation: Simulation | None
    shadow: ShadowScore | None = None  # the live daemon's shadow score; None elsewhere
    # the operating point next week is planned at, chosen for the SLO on the history; None:
    # the spec's quantile (stated as an expert override, or no choice made; 2.4)
    plan_point: OperatingPointView | None = None


@dataclass(frozen=True)
class GpuTypeTotal:
    """Fleet totals per GPU type over the planned week."""

    gpu: str
    gpus_at_peak: int  # max over minutes of the sum of planned GPUs
    reserved_gpus: int
    gpu_hours_per_week: float
    usd_per_week: float
    all_on_demand_usd_per_week: float
    static_peak_usd_per_week: float


@dataclass(frozen=True)
class Fleet:
    gpu_types: tuple[GpuTypeTotal, ...]
    gpu_hours_per_week: float
    usd_per_week: float
    all_on_demand_usd_per_week: float
    static_peak_usd_per_week: float
    savings_vs_on_demand_usd_per_week: float
    savings_vs_on_demand_pct: float
    savings_vs_static_usd_per_week: float
    savings_vs_static_pct: float
    budget_bound_workloads: tuple[str, ...]
    caveats: tuple[Caveat, ...]


@dataclass(frozen=True)
class Report:
    schema_version: str
    generated_at: datetime
    trace: str  # file name of the trace
    workload_file: str
    horizon_start: datetime
    horizon_hours: float
    fleet: Fleet
    workloads: tuple[WorkloadReport, ...]
