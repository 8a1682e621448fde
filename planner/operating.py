"""Pure: a workload's operating point: where on the forecast's band the floor is set, whether
the forecast's level is corrected online between refits, and how long scale-in holds.

The user states an SLO (share of minutes served, `spec.Slo`); the operating point that meets
it at the least GPU-hours is chosen per workload by replaying its own history
(simulator/operating_point.py). With no choice made, `DEFAULT` is what the planner always did:
the spec's provisioning quantile, no level correction, the hold of max(cooldown, lead time).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner import spec

HoldRule = spec.HoldRule

# band_scale of each provisioning quantile (forecaster.level.band_point: 0 P50, 1 P90, 2 P99)
BAND_SCALE_OF = {
    spec.ProvisioningQuantile.P50: 0.0,
    spec.ProvisioningQuantile.P90: 1.0,
    spec.ProvisioningQuantile.P99: 2.0,
}


@dataclass(frozen=True)
class OperatingPoint:
    band_scale: float | None  # None: the spec's provisioning quantile
    level_correction: bool
    hold: HoldRule

    def describe(self) -> str:
        band = "quantile" if self.band_scale is None else f"band {self.band_scale:g}"
        level = "level correction" if self.level_correction else "no level correction"
        return f"{band}, {level}, hold {self.hold.value}"


DEFAULT = OperatingPoint(band_scale=None, level_correction=False, hold=HoldRule.LEAD_TIME)
