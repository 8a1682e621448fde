"""The CSV trace loader: both layouts, gzip, gaps, duplicates, order, and every error path."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actuator import trace
from kernel import errors


def _write(tmp_path: Path, text: str, name: str = "t.csv", compress: bool = False) -> Path:
    path = tmp_path / name
    data = text.encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


TRACE = """timestamp,requests,prompt_tokens,completion_tokens
2024-01-01T00:00:00Z,10,1000,100
2024-01-01T00:01:00Z,,,
2024-01-01T00:02:00Z,30,3000,300
"""


def test_trace_format_with_tokens_and_an_empty_field(tmp_path: Path) -> None:
    loaded = trace.load(_write(tmp_path, TRACE))
    assert loaded.interval_s == 60
    assert loaded.column == "requests"
    assert loaded.values.index.tz is not None
    assert loaded.values.index.freq == pd.Timedelta(minutes=1)
    assert loaded.values.iloc[0] == 10.0 and np.isnan(loaded.values.iloc[1])
    assert loaded.prompt_tokens is not None and loaded.prompt_tokens.iloc[2] == 3000.0
    assert loaded.completion_tokens is not None


def test_gzip_and_plain_give_the_same_series(tmp_path: Path) -> None:
    plain = trace.load(_write(tmp_path, TRACE))
    packed = trace.load(_write(tmp_path, TRACE, "t.csv.gz", compress=True))
    pd.testing.assert_series_equal(plain.values, packed.values)


def test_generic_timestamp_value_layout(tmp_path: Path) -> None:
    text = "timestamp,value\n2024-01-01T00:00:00Z,1.5\n2024-01-01T01:00:00Z,2.5\n"
    loaded = trace.load(_write(tmp_path, text))
    assert loaded.column == "value"
    assert loaded.interval_s == 3600
    assert loaded.prompt_tokens is None


def test_column_picks_another_column(tmp_path: Path) -> None:
    loaded = trace.load(_write(tmp_path, TRACE), "prompt_tokens")
    assert loaded.column == "prompt_tokens"
    assert loaded.values.iloc[0] == 1000.0


def test_out_of_order_and_duplicate_rows(tmp_path: Path) -> None:
    """Rows 00:02, 00:00, 00:01, 00:01 again: sorted, and the later 00:01 row (7) wins."""
    text = (
        "timestamp,requests\n2024-01-01T00:02:00Z,3\n2024-01-01T00:00:00Z,1\n"
        "2024-01-01T00:01:00Z,2\n2024-01-01T00:01:00Z,7\n"
    )
    loaded = trace.load(_write(tmp_path, text))
    assert loaded.values.tolist() == [1.0, 7.0, 3.0]


def test_missing_rows_become_nan(tmp_path: Path) -> None:
    text = "timestamp,requests\n" + "".join(f"2024-01-01T00:0{m}:00Z,5\n" for m in (0, 1, 2, 5, 6))
    loaded = trace.load(_write(tmp_path, text))
    assert len(loaded.values) == 7
    assert loaded.values.isna().sum() == 2


def test_naive_timestamps_are_utc(tmp_path: Path) -> None:
    text = "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:10:00,2\n"
    loaded = trace.load(_write(tmp_path, text))
    assert loaded.values.index[0] == pd.Timestamp("2024-01-01T00:00:00Z")
    assert loaded.interval_s == 600


def test_single_row_takes_the_interval_from_the_file_name(tmp_path: Path) -> None:
    text = "timestamp,requests\n2024-01-01T00:00:00Z,5\n"
    assert trace.load(_write(tmp_path, text, "x_10min.csv")).interval_s == 600


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        (TRACE, "latency", r"column 'latency' not found; the file has requests, prompt_tokens"),
        (
            "timestamp,requests\n2024-01-01T00:00:00Z,1\nyesterday,2\n",
            None,
            r"unparsable timestamp at line 3 \('yesterday'\)",
        ),
        (
            "timestamp,requests\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,-4\n",
            None,
            r"'requests' is negative at line 3 \('-4'\)",
        ),
        (
            "timestamp,requests\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,lots\n",
            None,
            r"'requests' is not a number at line 3 \('lots'\)",
        ),
        (
            "timestamp,requests\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n"
            "2024-01-01T00:02:00Z,3\n2024-01-01T00:02:30Z,4\n",
            None,
            r"mixed resolutions: most rows are 60 s apart but line 5 is off that grid",
        ),
        (
            "timestamp,requests\n"
            + "".join(f"2024-01-01T00:0{m}:00Z,1\n" for m in range(5))
            + "".join(f"2024-01-01T0{h}:00:00Z,1\n" for h in range(1, 5)),
            None,
            r"mixed resolutions: rows are 60 s apart but from line 8 they are 3600 s apart",
        ),
        ("time,requests\n2024-01-01T00:00:00Z,1\n", None, r"has no 'timestamp' column"),
        ("timestamp,requests\n", None, r"no data rows"),
        ("", None, r"not a CSV with a header row"),
        ("timestamp,a,b\n2024-01-01T00:00:00Z,1,2\n", None, r"no 'requests' or 'value' column"),
    ],
    ids=[
        "unknown column",
        "unparsable timestamp",
        "negative value",
        "not a number",
        "off-grid row",
        "coarser run",
        "no timestamp header",
        "header only",
        "empty file",
        "ambiguous columns",
    ],
)
def test_bad_files_raise_input_error_naming_the_problem(
    tmp_path: Path, text: str, column: str | None, message: str
) -> None:
    with pytest.raises(errors.InputError, match=message):
        trace.load(_write(tmp_path, text), column)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = "timestamp,requests\nnope,1\n2024-01-01T00:01:00Z,-1\n"
    with pytest.raises(errors.InputError) as caught:
        trace.load(_write(tmp_path, text))
    assert len(caught.value.problems) == 2


def test_hourly_rows_after_minute_rows_are_mixed_resolutions(tmp_path: Path) -> None:
    """Five 1-min rows, then rows every 10 min from line 7: three equal coarser steps in a row
    is a second resolution, not a gap."""
    minutes = [0, 1, 2, 3, 4, 5, 15, 25, 35, 45]
    text = "timestamp,requests\n" + "".join(f"2024-01-01T00:{m:02d}:00Z,1\n" for m in minutes)
    with pytest.raises(errors.InputError, match="from line 8 they are 600 s apart"):
        trace.load(_write(tmp_path, text))


def test_a_single_long_gap_is_not_mixed_resolution(tmp_path: Path) -> None:
    minutes = [0, 1, 2, 30, 31, 32]
    text = "timestamp,requests\n" + "".join(f"2024-01-01T00:{m:02d}:00Z,1\n" for m in minutes)
    loaded = trace.load(_write(tmp_path, text))
    assert len(loaded.values) == 33


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="file not found") as raised:
        trace.load(tmp_path / "absent.csv")
    assert "--trace" not in str(raised.value)  # the daemon reads a config's trace: no flag there


def test_missing_file_names_how_it_was_given(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match=r"pass an existing CSV file as --trace$"):
        trace.load(tmp_path / "absent.csv", given_as="--trace")
