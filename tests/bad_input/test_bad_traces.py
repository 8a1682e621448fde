"""Bad traces through `prescale forecast --trace` (and `plan` where a plan is needed): each is
exit 2 naming the file, the line or value, the rule and the fix, never a traceback."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from pathlib import Path

import bad_input_run as r
import pytest

from actuator import trace

HEADER = "timestamp,requests\n"


def _rows(*rows: str) -> str:
    return HEADER + "".join(f"{row}\n" for row in rows)


OK_ROWS = [f"2024-01-01T00:{m:02d}:00Z,{10 + m}" for m in range(10)]


def _with(line: str) -> str:
    """The ten good rows with `line` as the fourth data line (line 5 of the file)."""
    return _rows(*OK_ROWS[:3], line, *OK_ROWS[4:])


def _text(content: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "trace.csv"
        path.write_text(content, encoding="utf-8")
        return path

    return make


def _bytes(content: bytes, name: str = "trace.csv") -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return make


def _missing(folder: Path) -> Path:
    return folder / "nope.csv"


def _directory(folder: Path) -> Path:
    (folder / "adir").mkdir()
    return folder / "adir"


def _sparse_huge(folder: Path) -> Path:
    path = folder / "huge.csv"
    with path.open("wb") as stream:
        stream.truncate(trace.MAX_TRACE_BYTES + 1)  # sparse: no disk, no time
    return path


def _gzip_bomb(folder: Path) -> Path:
    """A few hundred KB of gzip that inflate past the limit (zeros, compressed in chunks)."""
    path = folder / "bomb.csv.gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    chunk = b"0" * (8 * 1024 * 1024)
    with path.open("wb") as stream:
        stream.write(compressor.compress(HEADER.encode()))
        for _ in range(trace.MAX_TRACE_BYTES // len(chunk) + 1):
            stream.write(compressor.compress(chunk))
        stream.write(compressor.flush())
    return path


def _century_apart(folder: Path) -> Path:
    path = folder / "century.csv"
    path.write_text(
        _rows("1990-01-01T00:00:00Z,1", "1990-01-01T00:00:01Z,1", "2089-01-01T00:00:00Z,1")
    )
    return path


CASES = [
    pytest.param(_missing, ["nope.csv", "file not found", "--trace"], id="missing-file"),
    pytest.param(_directory, ["adir", "is a directory", "pass a CSV file"], id="directory"),
    pytest.param(_text(""), ["not a CSV with a header row", "timestamp,requests"], id="empty"),
    pytest.param(_text(HEADER), ["no data rows", "add at least one row"], id="header-only"),
    pytest.param(
        _text("time,requests\n2024-01-01T00:00:00Z,1\n"),
        ["no 'timestamp' column", "the first line must be"],
        id="no-timestamp-column",
    ),
    pytest.param(
        _bytes(b"timestamp,requests\n\xff\xfe\x00\x81,1\n"),
        ["not UTF-8", "save the CSV as UTF-8"],
        id="not-utf8",
    ),
    pytest.param(
        _bytes(b"\x1f\x8b" + b"not really gzip" * 10, "t.csv.gz"),
        ["gzip-compressed but cannot be decompressed", "re-compress it"],
        id="corrupt-gzip",
    ),
    pytest.param(
        _bytes(gzip.compress(_with("2024-01-01T00:03:00Z,x").encode())[:-12], "cut.csv.gz"),
        ["cannot be decompressed", "re-compress"],
        id="truncated-gzip",
    ),
    pytest.param(
        _gzip_bomb,
        ["decompressed", f"{trace.MAX_TRACE_BYTES:,} bytes", "resample"],
        id="gzip-bomb",
    ),
    pytest.param(
        _sparse_huge, ["the file", f"{trace.MAX_TRACE_BYTES:,} bytes", "shorter range"], id="huge"
    ),
    pytest.param(
        _text(_with("yesterday,5")),
        ["unparsable timestamp", "line 5 ('yesterday')", "ISO 8601"],
        id="bad-timestamp",
    ),
    pytest.param(
        _text(_with("3000-01-01T00:00:00Z,5")),
        ["line 5 ('3000-01-01T00:00:00Z')", "between 1677-09-22 and 2262-04-10"],
        id="year-3000",
    ),
    pytest.param(
        _text(_with("1500-01-01T00:00:00Z,5")),
        ["line 5 ('1500-01-01T00:00:00Z')", "between 1677"],
        id="year-1500",
    ),
    pytest.param(
        _text(_with("2024-01-01T00:03:00Z,lots")),
        ["column 'requests' is not a number", "line 5 ('lots')", "plain number"],
        id="not-a-number",
    ),
    pytest.param(
        _text(_with("2024-01-01T00:03:00Z,nan")),
        ["is not a number", "line 5 ('nan')", "leave the field empty"],
        id="nan-text",
    ),
    pytest.param(
        _text(_with("2024-01-01T00:03:00Z,-4")),
        ["is negative", "line 5 ('-4')", ">= 0"],
        id="negative",
    ),
    pytest.param(
        _text(_with("2024-01-01T00:03:00Z,inf")),
        ["infinite or above 1e+12", "line 5 ('inf')", "must be finite"],
        id="inf",
    ),
    pytest.param(
        _text(_with("2024-01-01T00:03:00Z,Infinity")),
        ["infinite", "line 5 ('Infinity')"],
        id="infinity-word",
    ),
    pytest.param(
        _text(_with("2024-01-01T00:03:00Z,1e300")),
        ["above 1e+12", "line 5 ('1e300')"],
        id="absurdly-large",
    ),
    pytest.param(
        _text(
            _rows("2024-01-01T00:00:00.5Z,1", "2024-01-01T00:00:01Z,1", "2024-01-01T00:00:01.5Z,1")
        ),
        ["0.5 s apart", "whole number of seconds", "resample"],
        id="sub-second",
    ),
    pytest.param(
        _text(_rows(*OK_ROWS, "2024-01-01T00:10:30Z,1")),
        ["mixed resolutions", "off that grid", "one interval per file"],
        id="off-grid",
    ),
    pytest.param(
        _text(
            _rows(
                *OK_ROWS,
                "2024-01-01T01:00:00Z,1",
                "2024-01-01T02:00:00Z,1",
                "2024-01-01T03:00:00Z,1",
                "2024-01-01T04:00:00Z,1",
            )
        ),
        ["mixed resolutions", "3600 s apart", "keep one interval"],
        id="mixed-resolution",
    ),
    pytest.param(
        _century_apart,
        ["spans", "more than 10,000,000", "stray year"],
        id="century-apart-per-second",
    ),
    pytest.param(
        _text("timestamp,a,b\n2024-01-01T00:00:00Z,1,2\n"),
        ["no 'requests' or 'value' column", "--column"],
        id="no-default-column",
    ),
    pytest.param(
        _text('timestamp,requests\n"2024-01-01T00:00:00Z,1\n'),
        ["trace", "CSV"],
        id="unclosed-quote",
    ),
    pytest.param(
        _text(
            "timestamp,requests,prompt_tokens\n"
            + "".join(f"2024-01-01T00:{m:02d}:00Z,1,{-1 if m == 2 else 5}\n" for m in range(5))
        ),
        ["column 'prompt_tokens' is negative", "line 4"],
        id="negative-token-column",
    ),
    pytest.param(
        _bytes(b"timestamp,requests\n2024-01-01T00:00:00Z,1\x00\x00\n"),
        ["is not a number"],
        id="nul-bytes",
    ),
    pytest.param(
        _text(r.VALID_WORKLOAD),
        [
            "not a CSV with a header row (Error tokenizing data. C error: Expected 1 fields "
            "in line 8, saw 4)"
        ],
        id="yaml-passed-as-trace",
    ),
]


@pytest.mark.parametrize(("make", "expect"), CASES)
def test_bad_trace(
    make: Callable[[Path], Path],
    expect: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make(tmp_path)
    r.refused(r.run(["forecast", "--trace", str(path)], capsys), expect)


def test_column_not_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = r.day_trace(tmp_path / "t.csv")
    outcome = r.run(["forecast", "--trace", str(path), "--column", "nope"], capsys)
    r.refused(outcome, ["column 'nope' not found", "the file has requests", "--column"])


def test_century_apart_does_not_hang(tmp_path: Path) -> None:
    """Two rows a century apart at one second once built a 3-billion-point grid (minutes, then
    out of memory): now refused in a fresh process well inside the timeout. The one case run
    as its own process: a fresh interpreter costs seconds, and a hang here must not stall the
    suite."""
    path = _century_apart(tmp_path)
    outcome = r.run_subprocess(["forecast", "--trace", str(path)], tmp_path)
    r.refused(outcome, ["more than 10,000,000"])
