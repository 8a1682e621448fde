"""Shell: read a CSV demand trace (gzip or plain) into a `forecaster.series.Trace`.

Two layouts are accepted: the shared trace format `timestamp,requests[,prompt_tokens,
completion_tokens]` and a generic `timestamp,value`. Timestamps are ISO 8601 interval starts in
UTC (a trailing `Z` or an offset; naive times are taken as UTC). An empty field means no data
(NaN), never zero. Rows may come out of order; for a repeated timestamp the later row wins.

Every problem found in a file is collected and raised once as an InputError naming the line.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from forecaster import series
from kernel import errors

log = logging.getLogger(__name__)

DEFAULT_COLUMNS = ("requests", "value")
# pandas keeps nanoseconds in 64 bits: a timestamp outside this range does not parse.
TIME_RANGE = "1677-09-22 and 2262-04-10"
NS_MIN = pd.Timestamp("1677-09-22", tz="UTC")
NS_MAX = pd.Timestamp("2262-04-10", tz="UTC")
TOKEN_COLUMNS = ("prompt_tokens", "completion_tokens")
# Report at most this many bad lines per kind of problem; the rest are counted.
MAX_EXAMPLES = 5
# Rows this many times in a row at one coarser step mean the file changes resolution (a gap is
# a single longer step).
MIXED_RUN = 3
# Interval hints in file names (the shared traces name their resolution), used when a file
# has a single row and the interval cannot be measured.
NAME_HINTS = (
    (re.compile(r"per_second|_1s\b"), 1),
    (re.compile(r"per_minute|_1min\b"), 60),
    (re.compile(r"_5min\b"), 300),
    (re.compile(r"_10min\b"), 600),
    (re.compile(r"_15min\b"), 900),
    (re.compile(r"per_hour|hourly|_1h\b"), 3600),
)
FALLBACK_INTERVAL_S = 60
FIRST_DATA_LINE = 2  # line 1 is the header
# The largest trace read, as CSV text (after gzip): 8 weeks at one second with token columns
# is about 4.8M rows of ~50 bytes = 240 MB. A larger file is not a trace this tool can plan
# from in memory, and a gzip bomb (a few KB that inflate to gigabytes) stops here.
MAX_TRACE_BYTES = 256 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
READ_CHUNK_BYTES = 1024 * 1024
# A trace value per interval beyond this is no count of requests or tokens (a million
# requests a second for a day is 8.6e10): an export bug or a unit mix-up.
MAX_VALUE = 1e12


def _too_large(path: Path, size: str) -> errors.InputError:
    return errors.InputError(
        f"trace {path}: {size} is larger than {MAX_TRACE_BYTES:,} bytes, the limit for a "
        "trace; pass a shorter range or a coarser interval (resample per-second data to 1 min)"
    )


def _read_bytes(path: Path, given_as: str | None) -> bytes:
    where = f" as {given_as}" if given_as else ""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise errors.InputError(f"trace {path}: is a directory; pass a CSV file{where}")
        if size > MAX_TRACE_BYTES:
            raise _too_large(path, f"the file ({size:,} bytes)")
        with path.open("rb") as stream:
            head = stream.read(2)
            stream.seek(0)
            if head != GZIP_MAGIC:
                raw = stream.read(MAX_TRACE_BYTES + 1)
                if len(raw) > MAX_TRACE_BYTES:  # a device or pipe whose size stat cannot tell
                    raise _too_large(path, "the file")
                return raw
            return _inflate(path, stream)
    except FileNotFoundError as exc:
        raise errors.InputError(
            f"trace {path}: file not found; pass an existing CSV file{where}"
        ) from exc
    except OSError as exc:
        raise errors.InputError(f"trace {path}: cannot be read ({exc}); check the path") from exc


def _inflate(path: Path, stream: io.BufferedReader) -> bytes:
    """The decompressed bytes, read in chunks and stopped at the limit (never inflated whole)."""
    parts: list[bytes] = []
    total = 0
    try:
        with gzip.GzipFile(fileobj=stream) as unzipped:
            while chunk := unzipped.read(READ_CHUNK_BYTES):
                total += len(chunk)
                if total > MAX_TRACE_BYTES:
                    raise _too_large(path, "decompressed, the trace")
                parts.append(chunk)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise errors.InputError(
            f"trace {path}: looks gzip-compressed but cannot be decompressed ({exc}); "
            "re-compress it or pass the plain CSV"
        ) from exc
    return b"".join(parts)


def _read_text(path: Path, given_as: str | None) -> str:
    raw = _read_bytes(path, given_as)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.InputError(
            f"trace {path}: not UTF-8 text ({exc}); save the CSV as UTF-8"
        ) from exc


def _frame(path: Path, text: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise errors.InputError(
            f"trace {path}: not a CSV with a header row ({' '.join(str(exc).split())}); the "
            "first line must be "
            "timestamp,requests or timestamp,value"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if "timestamp" not in frame.columns:
        raise errors.InputError(
            f"trace {path}: header {','.join(frame.columns)!r} has no 'timestamp' column; the "
            "first line must be timestamp,requests or timestamp,value"
        )
    return frame


def _pick_column(path: Path, frame: pd.DataFrame, column: str | None) -> str:
    available = [c for c in frame.columns if c != "timestamp"]
    if column is not None:
        if column not in available:
            raise errors.InputError(
                f"trace {path}: column {column!r} not found; the file has "
                f"{', '.join(available) or 'no value columns'}; pass one of them with --column"
            )
        return column
    for name in DEFAULT_COLUMNS:
        if name in available:
            return name
    if len(available) == 1:
        return available[0]
    raise errors.InputError(
        f"trace {path}: no 'requests' or 'value' column among {', '.join(available) or 'none'};"
        " pass the column to forecast with --column"
    )


def _lines(mask: np.ndarray) -> list[int]:
    return [int(i) + FIRST_DATA_LINE for i in np.flatnonzero(mask)]


def _describe(lines: list[int], texts: list[str]) -> str:
    shown = ", ".join(f"line {n} ({t!r})" for n, t in zip(lines, texts, strict=False))
    more = f" and {len(lines) - MAX_EXAMPLES} more" if len(lines) > MAX_EXAMPLES else ""
    return shown + more


def _timestamps(path: Path, raw: pd.Series, problems: list[str]) -> pd.DatetimeIndex:
    text = raw.astype(str).str.strip()
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    # pandas 3 parses to microseconds, so a year-3000 stamp parses; the nanosecond grid below
    # cannot hold it (1677-09-21 to 2262-04-11): such a stamp is out of range, not a time.
    outside = (parsed < NS_MIN) | (parsed > NS_MAX)
    parsed = parsed.where(~outside)
    bad = np.asarray(parsed.isna())
    if bad.any():
        lines = _lines(bad)
        texts = list(text[bad].iloc[:MAX_EXAMPLES])
        problems.append(
            f"trace {path}: unparsable timestamp at {_describe(lines[:MAX_EXAMPLES], texts)}"
            f"{'' if len(lines) <= MAX_EXAMPLES else f' ({len(lines)} in all)'}; "
            f"write ISO 8601 UTC like 2024-01-01T00:00:00Z, between {TIME_RANGE}"
        )
    # pandas 3 may parse to microseconds; the interval arithmetic below counts nanoseconds.
    return pd.DatetimeIndex(parsed).as_unit("ns")


def _numbers(path: Path, raw: pd.Series, name: str, problems: list[str]) -> np.ndarray:
    text = raw.astype(str).str.strip()
    values = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & (text != "").to_numpy()
    if bad.any():
        lines = _lines(bad)
        texts = list(text[bad].iloc[:MAX_EXAMPLES])
        problems.append(
            f"trace {path}: column {name!r} is not a number at "
            f"{_describe(lines[:MAX_EXAMPLES], texts)}; write a plain number, or leave the "
            "field empty for no data"
        )
    infinite = np.isinf(values) | (values > MAX_VALUE)
    if infinite.any():
        lines = _lines(infinite)
        texts = list(text[infinite].iloc[:MAX_EXAMPLES])
        problems.append(
            f"trace {path}: column {name!r} is infinite or above {MAX_VALUE:g} at "
            f"{_describe(lines[:MAX_EXAMPLES], texts)}; counts per interval must be finite "
            "(leave the field empty for no data)"
        )
    negative = values < 0
    if negative.any():
        lines = _lines(negative)
        texts = list(text[negative].iloc[:MAX_EXAMPLES])
        problems.append(
            f"trace {path}: column {name!r} is negative at "
            f"{_describe(lines[:MAX_EXAMPLES], texts)}; counts per interval must be >= 0 "
            "(leave the field empty for no data)"
        )
    return values


def _interval(path: Path, stamps: pd.DatetimeIndex, problems: list[str]) -> int:
    """The most common step between distinct sorted timestamps; mixed resolutions are errors."""
    order = np.argsort(stamps.asi8, kind="stable")
    sorted_ns = stamps.asi8[order]
    distinct = np.r_[True, np.diff(sorted_ns) != 0]
    unique_ns = sorted_ns[distinct]
    lines = order[distinct] + FIRST_DATA_LINE
    if unique_ns.size < 2:
        for pattern, seconds in NAME_HINTS:
            if pattern.search(path.name):
                return seconds
        log.warning(
            "trace %s has one timestamp: assuming a %d s interval", path, FALLBACK_INTERVAL_S
        )
        return FALLBACK_INTERVAL_S
    steps_ns = np.diff(unique_ns)
    values, counts = np.unique(steps_ns, return_counts=True)
    step_ns = int(values[np.argmax(counts)])
    interval_s = step_ns // 1_000_000_000
    if step_ns % 1_000_000_000 != 0 or interval_s == 0:
        problems.append(
            f"trace {path}: rows are {step_ns / 1e9:g} s apart; the interval must be a whole "
            "number of seconds; resample the source to 1 s or coarser"
        )
        return max(1, interval_s)
    off = np.flatnonzero(steps_ns % step_ns != 0)
    if off.size:
        at = off[:MAX_EXAMPLES]
        where = ", ".join(f"line {int(lines[i + 1])}" for i in at)
        problems.append(
            f"trace {path}: mixed resolutions: most rows are {interval_s} s apart but {where} "
            f"{'is' if at.size == 1 else 'are'} off that grid; keep one interval per file"
        )
        return interval_s
    coarser = steps_ns > step_ns
    for i in np.flatnonzero(coarser):
        run = steps_ns[i : i + MIXED_RUN]
        if run.size == MIXED_RUN and np.all(run == steps_ns[i]):
            problems.append(
                f"trace {path}: mixed resolutions: rows are {interval_s} s apart but from line "
                f"{int(lines[i + 1])} they are {int(steps_ns[i]) // 1_000_000_000} s apart; "
                "keep one interval per file (resample the finer part)"
            )
            break
    return interval_s


def load(path: Path, column: str | None = None, *, given_as: str | None = None) -> series.Trace:
    """Read a trace file; raise InputError listing every problem found. `given_as` names where
    the path came from (`--trace`, a config key) for the fix of a path that is no file."""
    frame = _frame(path, _read_text(path, given_as))
    name = _pick_column(path, frame, column)
    if frame.empty:
        raise errors.InputError(
            f"trace {path}: has a header but no data rows; add at least one row"
        )
    problems: list[str] = []
    stamps = _timestamps(path, frame["timestamp"], problems)
    values = _numbers(path, frame[name], name, problems)
    tokens = {
        token: _numbers(path, frame[token], token, problems)
        for token in TOKEN_COLUMNS
        if token in frame.columns and token != name
    }
    if problems:
        raise errors.InputError(problems)
    interval_s = _interval(path, stamps, problems)
    if problems:
        raise errors.InputError(problems)
    regular = series.regularise(pd.Series(values, index=stamps), interval_s)
    if regular.duplicates_dropped or regular.reordered:
        log.warning(
            "trace %s: %d duplicate timestamps (the later row kept), rows %s",
            path,
            regular.duplicates_dropped,
            "sorted into time order" if regular.reordered else "in order",
        )
    token_series = {
        token: series.regularise(pd.Series(vals, index=stamps), interval_s).values
        for token, vals in tokens.items()
    }
    return series.Trace(
        values=regular.values,
        interval_s=interval_s,
        column=name,
        prompt_tokens=token_series.get("prompt_tokens"),
        completion_tokens=token_series.get("completion_tokens"),
    )
