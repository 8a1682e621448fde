"""Shell: `prescale forecast`: load a trace, pick a model by backtest, print and save quantiles."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from actuator import outputs, plausibility
from actuator.commands import inputs
from forecaster import backtest, candidates
from forecaster import forecast as forecasting
from kernel import errors

EPILOG = """examples:
  prescale forecast                                   (bundled NASA trace, 7 days ahead)
  prescale forecast --trace traffic.csv.gz --column requests --horizon 3d --out forecast.csv
  prescale forecast --trace metrics.csv --column value --format json > forecast.json
  prescale forecast --prometheus http://prometheus:9090 --preset vllm \\
      --selector '{model_name="llama-3-8b",namespace="chat"}' --since 28d --step 1m

Every eligible candidate is scored on the same backtest folds (the latest folds all of them
have the history for, at least 3 when the history allows); a candidate with too little history
for that is listed as not eligible, not scored on fewer folds. The chosen model has the lowest
backtest MAE, unless none beats seasonal-naive, which is then kept. The ensemble averages up
to 3 models that each beat seasonal-naive on the folds that pick them, and is scored with
members picked on the other folds, never on the fold being scored. P90/P99 come from the
backtest misses on the square-root scale of the counts, pooled over the horizon.

The CSV written by --out has columns timestamp,p50,p90,p99,peak_p50,peak_p90,peak_p99 at the
model resolution (5 min, or the input's own interval when coarser), starting right after the
last input timestamp. p* forecast the bucket mean and peak_* the largest input interval in the
bucket, both in the input's unit per input interval (e.g. requests per minute).
"""


def parse_horizon(text: str) -> int:
    """'7d' -> 604800 seconds, in the kernel's duration grammar (plain numbers are seconds)."""
    problems: list[str] = []
    seconds = inputs.duration_s("--horizon", text, problems)
    if problems:
        raise errors.InputError(problems)
    return seconds


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "forecast",
        help="forecast demand quantiles from a trace, with the model chosen by backtest",
        description="Backtest the candidate models on a trace, pick the lowest MAE on the folds\n"
        "common to all eligible models (never worse than seasonal-naive) and forecast\n"
        "P50/P90/P99 of the bucket mean and the within-bucket peak.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inputs.add_trace_arguments(parser)
    inputs.add_prometheus_arguments(parser)
    parser.add_argument(
        "--horizon", default="7d", help="how far ahead: 7d (default), 36h, 90m, 3600 (seconds)"
    )
    parser.add_argument(
        "--resolution",
        default=None,
        help="model resolution, e.g. 5m, 15m or 300 (default 5m; never finer than the input)",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the forecast CSV here")
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="stdout format"
    )
    parser.set_defaults(run=run)


def _number(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def to_json(result: forecasting.Forecast, source: str, column: str) -> dict[str, Any]:
    frame = result.frame
    selection = result.selection
    return {
        "trace": source,
        "column": column,
        "model": str(result.model),
        "reason": str(result.reason),
        "choice": str(selection.choice),
        "members": [str(m) for m in selection.members],
        "folds": selection.folds,
        "planned_folds": selection.planned_folds,
        "clip_spikes": selection.clip_spikes,
        "clipped_mae": _number(selection.clipped_mae),
        "resolution_s": result.resolution_s,
        "input_interval_s": result.input_interval_s,
        "coverage_p90": _number(result.coverage_p90),
        "coverage_p99": _number(result.coverage_p99),
        "band_widening": selection.calibration_mean.widening,
        "band_widened_by": result.band_widened_by,
        "candidates": [
            {
                "model": str(c.model),
                "status": str(c.status),
                "mae": _number(c.mae),
                "ratio_to_naive": _number(c.ratio_to_naive),
                "folds": c.folds,
                "runnable_folds": c.runnable_folds,
            }
            for c in _ordered(result.candidates)
        ],
        "forecast": [
            {"timestamp": stamp}
            | {col: _number(float(row[col])) for col in forecasting.FRAME_COLUMNS}
            for stamp, (_, row) in zip(_stamps(frame), frame.iterrows(), strict=True)
        ],
    }


def _stamps(frame: pd.DataFrame) -> list[str]:
    return list(pd.DatetimeIndex(frame.index).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _ordered(scores: tuple[forecasting.CandidateScore, ...]) -> list[forecasting.CandidateScore]:
    """Eligible candidates by MAE (the choice's order), then the ones not eligible."""
    return sorted(scores, key=lambda c: (c.folds == 0 or math.isnan(c.mae), c.mae))


def _status(c: forecasting.CandidateScore, selection: forecasting.Selection) -> str:
    if c.status is forecasting.CandidateStatus.SHORT_HISTORY:
        required = min(backtest.MIN_FOLDS, selection.planned_folds)
        return (
            f"not eligible: history for {c.runnable_folds} of {selection.planned_folds} "
            f"planned folds, needs {required}"
        )
    if c.status is forecasting.CandidateStatus.NO_ENSEMBLE:
        return "not eligible: needs 2 folds and 2 eligible members"
    if c.status is forecasting.CandidateStatus.LATEST_FOLDS:
        return (
            f"scored on fewer folds: the latest {c.folds} of {selection.folds}, with a week "
            "of history before them"
        )
    return ""


def _widening_lines(strength: float, widened_by: float) -> list[str]:
    if strength <= 0:
        return ["widening    none: no backtest calibration (forecaster/widening.py)"]
    return [
        f"widening    {strength:g}: the P90/P99 spread follows the last day's residuals"
        " (chosen on the folds by P90 pinball loss);",
        f"            this forecast's spread above P50 x {widened_by:.2f}",
    ]


def _choice_lines(selection: forecasting.Selection) -> list[str]:
    eligible = sum(1 for c in selection.candidates if c.folds > 0)
    same = f"on the same {selection.folds} folds ({selection.planned_folds} planned)"
    baseline = candidates.BASELINE[selection.regime]
    if selection.choice is forecasting.Choice.NO_BACKTEST:
        return ["choice      recent level: too little history for a backtest fold"]
    if selection.choice is forecasting.Choice.WEEKLY_ON_LATEST_FOLDS:
        weekly = next(c for c in selection.candidates if c.model is selection.model)
        return [
            f"choice      {selection.model}: below the daily choice's backtest MAE on the "
            f"latest {weekly.folds} folds",
            f"            (of {selection.folds}), the ones with a week of history before them",
        ]
    if selection.choice is forecasting.Choice.BASELINE_NOT_BEATEN:
        lines = [
            f"choice      {baseline} kept: no eligible candidate had a lower backtest MAE",
            f"            {same}; ties go to the baseline",
        ]
    else:
        lines = [
            f"choice      lowest backtest MAE of the {eligible} eligible candidates, all scored",
            f"            {same}; never worse than {baseline}",
        ]
    if selection.members:
        lines += [
            f"members     {' + '.join(selection.members)} (best on all folds, each below the "
            "baseline); the ensemble's",
            "            MAE is nested: on each fold, members picked on the other folds only",
        ]
    if selection.clip_spikes and selection.clipped_mae is not None:
        lines.append(
            f"clipping    fitted on spike-clipped input: backtest MAE {selection.clipped_mae:.3f} "
            "on the same folds (the table shows the unclipped fit)"
        )
    return lines


def to_table(result: forecasting.Forecast, source: str, column: str) -> str:
    selection = result.selection
    lines = [
        f"trace       {source} (column {column}, {result.input_interval_s} s intervals)",
        f"model       {result.model} ({result.reason}), resolution {result.resolution_s} s",
        *_choice_lines(selection),
        f"coverage    P90 {_percent(result.coverage_p90)}, P99 {_percent(result.coverage_p99)}"
        " (backtest, leave one fold out)",
        *_widening_lines(selection.calibration_mean.widening, result.band_widened_by),
        "",
        f"{'candidate':<24}{'backtest MAE':>14}{'vs weekly naive':>17}{'folds':>7}  status",
    ]
    for c in _ordered(result.candidates):
        mark = "*" if c.model == result.model else " "
        ratio = "n/a" if math.isnan(c.ratio_to_naive) else f"{c.ratio_to_naive:.3f}"
        mae = "n/a" if math.isnan(c.mae) else f"{c.mae:.3f}"
        text = f"{mark}{c.model!s:<23}{mae:>14}{ratio:>17}{c.folds:>7}  {_status(c, selection)}"
        lines.append(text.rstrip())
    frame = result.frame
    daily = frame.groupby(pd.DatetimeIndex(frame.index).floor("D")).agg(
        p50=("p50", "mean"), peak_p90=("peak_p90", "max"), peak_p99=("peak_p99", "max")
    )
    lines += [
        "",
        f"{'day (UTC)':<12}{'mean p50':>12}{'max peak_p90':>15}{'max peak_p99':>15}",
    ]
    for day, row in daily.iterrows():
        lines.append(
            f"{pd.Timestamp(str(day)).strftime('%Y-%m-%d'):<12}{row.p50:>12.1f}"
            f"{row.peak_p90:>15.1f}{row.peak_p99:>15.1f}"
        )
    return "\n".join(lines)


def write_csv(result: forecasting.Forecast, path: Path) -> None:
    out = result.frame.copy()
    out.index = pd.Index(_stamps(out))
    out.index.name = "timestamp"
    outputs.write_text(outputs.Output("--out", path), out.to_csv(float_format="%.4f"))


# Model resolutions: a minute to a day (the planner plans at 1-minute ticks; a coarser bucket
# than a day cannot show the daily cycle the models fit).
MIN_RESOLUTION_S = 60
MAX_RESOLUTION_S = 86400


def check_resolution(text: str, resolution_s: int) -> None:
    if not MIN_RESOLUTION_S <= resolution_s <= MAX_RESOLUTION_S or resolution_s % 60:
        raise errors.InputError(
            f"--resolution ({text!r}) must be whole minutes from 1m to 1d; pass e.g. 5m or 15m"
        )


def run(args: argparse.Namespace) -> int:
    horizon_s = parse_horizon(args.horizon)
    resolution_s = None
    if args.resolution is not None:
        problems: list[str] = []
        resolution_s = inputs.duration_s("--resolution", args.resolution, problems)
        if problems:
            raise errors.InputError(problems)
        check_resolution(args.resolution, resolution_s)
    if args.out is not None:
        outputs.check([outputs.Output("--out", args.out)], inputs.files_read(args))
    history = inputs.load_history(args)
    loaded = history.trace
    plausibility.warn_long_horizon("--horizon", horizon_s, loaded)
    result = forecasting.forecast(loaded.values, horizon_s=horizon_s, resolution_s=resolution_s)
    if args.out is not None:
        write_csv(result, args.out)
    if args.format == "json":
        json.dump(to_json(result, history.label, loaded.column), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(to_table(result, history.label, loaded.column))
        if args.out is not None:
            print(f"\nwrote {len(result.frame)} rows to {args.out}")
    return 0
