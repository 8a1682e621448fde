"""Bench: P90 coverage on holiday weeks, with and without the band widening
(forecaster/widening.py), on the corpus traces that span public holidays.

For each (trace, week) below: the model is selected on the history before the week (at most
--history-weeks weeks, at max(5 min, the trace's interval) as in bench/corpus.py), then the
week is forecast every 6 hours from the history up to that origin, as the daemon refits, and
each forecast is judged over the 6 hours it serves: the share of buckets whose mean is at or
below its P90. The same forecasts without the widening (strength 0) are the baseline,
computed in the same run. The weeks are the weeks (Monday to Sunday, UTC) holding a public
holiday of the trace's country; none of them was used to choose anything in the forecaster.

    python bench/holidays.py [--traces-dir ../shared/traces] [--history-weeks 8]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from actuator import trace as trace_io
from forecaster import forecast, outliers, series, widening

REPO = Path(__file__).resolve().parent.parent
REFIT_S = 6 * 3600
WEEK_S = 7 * 86400
# (trace in corpus/, Monday of a week holding a public holiday, the holiday)
WEEKS = (
    ("nab_nyc_taxi_30min", "2014-09-01", "Labor Day"),
    ("nab_nyc_taxi_30min", "2014-11-24", "Thanksgiving"),
    ("nab_nyc_taxi_30min", "2014-12-22", "Christmas"),
    ("nab_nyc_taxi_30min", "2014-12-29", "New Year"),
    ("uci_bikeshare_dc_casual_hourly", "2011-07-04", "Independence Day"),
    ("uci_bikeshare_dc_casual_hourly", "2011-11-21", "Thanksgiving"),
    ("uci_bikeshare_dc_casual_hourly", "2012-11-19", "Thanksgiving"),
    ("uci_bikeshare_dc_casual_hourly", "2012-12-24", "Christmas"),
    ("uci_bikeshare_dc_registered_hourly", "2011-07-04", "Independence Day"),
    ("uci_bikeshare_dc_registered_hourly", "2011-11-21", "Thanksgiving"),
    ("uci_bikeshare_dc_registered_hourly", "2012-11-19", "Thanksgiving"),
    ("uci_bikeshare_dc_registered_hourly", "2012-12-24", "Christmas"),
    ("seattle_fremont_bridge_bikes_hourly", "2013-11-25", "Thanksgiving"),
    ("seattle_fremont_bridge_bikes_hourly", "2013-12-23", "Christmas"),
    ("seattle_fremont_bridge_bikes_hourly", "2015-11-23", "Thanksgiving"),
    ("seattle_fremont_bridge_bikes_hourly", "2016-12-26", "Christmas (observed)"),
    ("web_bu_cs_1994_hourly", "1994-12-19", "Christmas"),
    ("web_calgary_1994_hourly", "1994-12-26", "Christmas"),
)


@dataclass(frozen=True)
class Week:
    trace: str
    start: str
    holiday: str
    model: str
    strength: float  # the widening the backtest chose (0: off)
    coverage_widened: float  # P90 coverage over each refit's 6 h, widening as chosen
    coverage_off: float  # the same forecasts with the widening off
    width_ratio: float  # mean P90 - P50, widened / off


def run_week(traces_dir: Path, name: str, start: str, holiday: str, history_weeks: float) -> Week:
    loaded = trace_io.load(traces_dir / "corpus" / f"{name}.csv.gz")
    values = loaded.values
    first = pd.Timestamp(start, tz="UTC")
    end = first + pd.Timedelta(seconds=WEEK_S)
    history = values[
        (values.index >= first - pd.Timedelta(weeks=history_weeks)) & (values.index < first)
    ]
    resolution_s = max(forecast.DEFAULT_RESOLUTION_S, loaded.interval_s)
    selection = forecast.select(history, resolution_s=resolution_s)
    off = dataclasses.replace(
        selection,
        calibration_mean=widening.chosen(selection.calibration_mean, 0.0),
        calibration_peak=widening.chosen(selection.calibration_peak, 0.0),
    )
    truth = series.bucket_mean(
        outliers.clean(
            values[(values.index >= first) & (values.index < end)], loaded.interval_s
        ).values,
        loaded.interval_s,
        selection.resolution_s,
    )
    hits = {True: 0, False: 0}
    widths = {True: 0.0, False: 0.0}
    total = 0
    for origin in pd.date_range(first, end, freq=f"{REFIT_S}s", inclusive="left"):
        seen = values[
            (values.index >= origin - pd.Timedelta(weeks=history_weeks)) & (values.index < origin)
        ]
        served = truth[
            (truth.index >= origin) & (truth.index < origin + pd.Timedelta(seconds=REFIT_S))
        ]
        actual = served.to_numpy()
        ok = np.isfinite(actual)
        for widened, chosen in ((True, selection), (False, off)):
            frame = forecast.forecast(seen, horizon_s=REFIT_S, selection=chosen).frame
            frame = frame.reindex(served.index)
            p90 = frame["p90"].to_numpy()
            hits[widened] += int(np.sum(actual[ok] <= p90[ok]))
            widths[widened] += float(np.nansum((frame["p90"] - frame["p50"]).to_numpy()[ok]))
        total += int(ok.sum())
    return Week(
        trace=name,
        start=start,
        holiday=holiday,
        model=str(selection.model),
        strength=selection.calibration_mean.widening,
        coverage_widened=hits[True] / total if total else math.nan,
        coverage_off=hits[False] / total if total else math.nan,
        width_ratio=widths[True] / widths[False] if widths[False] > 0 else math.nan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--traces-dir", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--history-weeks", type=float, default=8.0)
    args = parser.parse_args()
    print(
        f"{'trace':<36}{'week':>11}  {'holiday':<20}{'model':>15}{'widen':>6}"
        f"{'P90 cov':>9}{'off':>9}{'width':>7}"
    )
    weeks = []
    for name, start, holiday in WEEKS:
        week = run_week(args.traces_dir, name, start, holiday, args.history_weeks)
        weeks.append(week)
        print(
            f"{name[:35]:<36}{start:>11}  {holiday[:19]:<20}{week.model[:14]:>15}"
            f"{week.strength:>6.1f}{week.coverage_widened:>9.3f}{week.coverage_off:>9.3f}"
            f"{week.width_ratio:>6.2f}x",
            flush=True,
        )
    widened = [w.coverage_widened for w in weeks]
    off = [w.coverage_off for w in weeks]
    strong = sum(w.strength >= 1.0 for w in weeks)
    print(
        f"\n{len(weeks)} holiday weeks, widening strength 1 on {strong}, 0.5 on the others; "
        f"P90 coverage over each 6 h "
        f"refit: widened median {statistics.median(widened):.3f}, worst {min(widened):.3f}; "
        f"off median {statistics.median(off):.3f}, worst {min(off):.3f}"
    )


if __name__ == "__main__":
    main()
