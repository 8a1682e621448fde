"""Shell: the warnings a capacity planner should read before trusting a workload's numbers.

Each rule looks only at the report's own model, so it is checked on small hand-built values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from forecaster import candidates
from planner import lead_time
from report import model, units

# The weekly cycle needs at least two weeks of history to be learned and backtested (one to
# fit, one to hold out); the forecaster falls back to a daily profile below that.
WEEKLY_HISTORY_DAYS = 14.0
# A model less than 10 % better than repeating last week adds little over the naive baseline.
LOW_ACCURACY_RATIO = 0.9
# A calibrated P90 should cover about 90 % of held-out points; outside 85-95 % it is off.
P90_COVERAGE_RANGE = (0.85, 0.95)
P99_COVERAGE_MIN = 0.97
# Above 95 % utilisation a replica has no headroom for bursts within a minute; below 50 %
# half of every GPU is paid for nothing.
TARGET_UTILIZATION_RANGE = (0.5, 0.95)
# DESIGN.md: LLM cold starts run 5-15 min end to end, ViT under 10 s; outside 5 s - 30 min a
# lead time is more likely a unit mistake than a measurement.
LEAD_TIME_RANGE_S = (5.0, 1800.0)

_Add = Callable[[model.CaveatKind, str], None]


def for_workload(w: model.WorkloadReport) -> tuple[model.Caveat, ...]:
    """Every caveat for one workload, forecast ones first."""
    return forecast_caveats(w.name, [w]) + workload_caveats(w)


def for_fleet(sections: Sequence[model.WorkloadReport]) -> tuple[model.Caveat, ...]:
    """The fleet's caveats, each said once: workloads forecast from the same column share one
    forecast (and its caveats), and configured lead times are listed together."""
    out: list[model.Caveat] = []
    by_column: dict[str, list[model.WorkloadReport]] = {}
    for w in sections:
        by_column.setdefault(w.column, []).append(w)
    for group in by_column.values():
        names = ", ".join(w.name for w in group)
        out.extend(forecast_caveats(f"{names} ({group[0].column})", group))
    for w in sections:
        out.extend(
            c for c in workload_caveats(w) if c.kind is not model.CaveatKind.lead_time_fallback
        )
    configured = [w for w in sections if _configured(w)]
    if configured:
        listed = ", ".join(
            f"{w.name} {units.duration_text(w.lead_time.seconds)}" for w in configured
        )
        out.append(
            model.Caveat(
                kind=model.CaveatKind.lead_time_fallback,
                workload=configured[0].name if len(configured) == 1 else None,
                message=f"lead times are the configured values, not measured cold starts "
                f"({listed}); check them against real pod start-up times.",
            )
        )
    return tuple(out)


def forecast_caveats(who: str, group: Sequence[model.WorkloadReport]) -> tuple[model.Caveat, ...]:
    """Caveats about the forecast the workloads in `group` share (history, accuracy, coverage)."""
    out: list[model.Caveat] = []
    w = group[0]
    workload = w.name if len(group) == 1 else None

    def add(kind: model.CaveatKind, message: str) -> None:
        out.append(model.Caveat(kind=kind, workload=workload, message=message))

    days = w.forecast.history_days
    if days < WEEKLY_HISTORY_DAYS:
        # With 8-13 days weekly seasonal-naive may win on the latest folds: the week is then
        # copied, but one week of it was all there was to check the copy against.
        weekly = w.accuracy.model == candidates.ModelName.SEASONAL_NAIVE_WEEKLY
        cycle = (
            "the weekly cycle is copied from the one week before, checked on the latest "
            "backtest folds only"
            if weekly
            else "the weekly cycle cannot be learned"
        )
        add(
            model.CaveatKind.short_history,
            f"{who}: only {_span(days)} of history (< {WEEKLY_HISTORY_DAYS:.0f} days); "
            f"{cycle}, the forecast uses {w.accuracy.model} ({w.accuracy.reason}). Reservations "
            "are a year-long commitment: supply at least two weeks of history before buying "
            "them.",
        )
    ratio = w.accuracy.chosen_ratio_to_naive
    if math.isfinite(ratio) and ratio > LOW_ACCURACY_RATIO:
        add(
            model.CaveatKind.low_accuracy,
            f"{who}: forecast MAE is {ratio:.2f}x the weekly seasonal-naive MAE (> "
            f"{LOW_ACCURACY_RATIO}); the model barely beats repeating last week, so keep "
            "reactive headroom.",
        )
    _coverage(who, w.accuracy, add)
    return tuple(out)


def _span(days: float) -> str:
    return f"{days:.1f} days" if days >= 2 else units.duration_text(days * 86400)


def workload_caveats(w: model.WorkloadReport) -> tuple[model.Caveat, ...]:
    """Caveats about one workload's spec, budget and lead time."""
    out: list[model.Caveat] = []

    def add(kind: model.CaveatKind, message: str) -> None:
        out.append(model.Caveat(kind=kind, workload=w.name, message=message))

    _spec_ranges(w, add)
    if w.budget_note:
        add(model.CaveatKind.budget_binding, f"{w.name}: {w.budget_note}")
    if _configured(w):
        add(
            model.CaveatKind.lead_time_fallback,
            f"{w.name}: lead time {units.duration_text(w.lead_time.seconds)} is the configured "
            "value, not measured cold starts; check it against real pod start-up times.",
        )
    return tuple(out)


def _configured(w: model.WorkloadReport) -> bool:
    """The lead time is the spec's value: too few cold starts were observed to learn it."""
    return w.lead_time.source is lead_time.LeadTimeSource.SPEC_FALLBACK


def _coverage(who: str, a: model.Accuracy, add: _Add) -> None:
    p90, p99 = a.coverage_p90, a.coverage_p99
    if p90 is None:
        add(
            model.CaveatKind.no_backtest,
            f"{who}: no backtest could run on this history, so forecast accuracy and "
            "quantile coverage are unmeasured.",
        )
        return
    low, high = P90_COVERAGE_RANGE
    if not low <= p90 <= high:
        direction = "too narrow: more peaks than planned" if p90 < low else "too wide: paying"
        add(
            model.CaveatKind.coverage_off,
            f"{who}: P90 covered {p90 * 100:.1f} % of held-out points (expected "
            f"{low * 100:.0f}-{high * 100:.0f} %); the band is {direction}"
            + (" for headroom that is rarely used." if p90 > high else "."),
        )
    if p99 is not None and p99 < P99_COVERAGE_MIN:
        add(
            model.CaveatKind.coverage_off,
            f"{who}: P99 covered only {p99 * 100:.1f} % of held-out points (expected >= "
            f"{P99_COVERAGE_MIN * 100:.0f} %).",
        )


def _spec_ranges(w: model.WorkloadReport, add: _Add) -> None:
    low, high = TARGET_UTILIZATION_RANGE
    if not low <= w.target_utilization <= high:
        add(
            model.CaveatKind.spec_range,
            f"{w.name}: target_utilization {w.target_utilization} is outside {low}-{high}.",
        )
    low_s, high_s = LEAD_TIME_RANGE_S
    if not low_s <= w.lead_time.seconds <= high_s:
        add(
            model.CaveatKind.spec_range,
            f"{w.name}: lead time {units.duration_text(w.lead_time.seconds)} is outside "
            f"{units.duration_text(low_s)}-{units.duration_text(high_s)}; check its unit.",
        )
    r = w.reservation
    if r.price_reserved_per_gpu_hour >= r.price_on_demand_per_gpu_hour:
        reserved = units.render(r.price_reserved_per_gpu_hour, units.Fmt.usd_rate)
        on_demand = units.render(r.price_on_demand_per_gpu_hour, units.Fmt.usd_rate)
        add(
            model.CaveatKind.spec_range,
            f"{w.name}: reserved price {reserved}/GPU-h is not below on-demand {on_demand}/GPU-h; "
            "no reservation can pay off.",
        )
    if w.peak_needed > w.max_replicas:
        add(
            model.CaveatKind.spec_range,
            f"{w.name}: the forecast peak needs {w.peak_needed} replicas but max_replicas is "
            f"{w.max_replicas}; the plan is capped and will miss the peak.",
        )
