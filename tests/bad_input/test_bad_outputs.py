"""Outputs never destroy inputs: an output that is an input, another output of the run, or
unwritable is refused before the work (exit 2) and the inputs are left byte for byte; files are
replaced atomically, so a failed write leaves the previous file whole."""

from __future__ import annotations

import os
from pathlib import Path

import bad_input_run as r
import pytest

from actuator import outputs


def _files(tmp_path: Path) -> dict[str, Path]:
    trace = r.day_trace(tmp_path / "t.csv")
    workload = tmp_path / "w.yaml"
    workload.write_text(r.VALID_WORKLOAD)
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "adir").mkdir()
    (tmp_path / "link.yaml").symlink_to(workload)
    os.link(trace, tmp_path / "hard.csv")
    return {"trace": trace, "workload": workload}


# {tmp} is the test's folder, holding t.csv, w.yaml, afile, adir/, link.yaml -> w.yaml and
# hard.csv (a hard link to t.csv).
CASES = [
    pytest.param(
        ["forecast", "--trace", "{tmp}/t.csv", "--out", "{tmp}/t.csv"],
        [
            "--out ({tmp}/t.csv) is the same file as --trace",
            "never overwrite an input",
            "pass another path for --out",
        ],
        id="forecast-out-is-trace",
    ),
    pytest.param(
        ["forecast", "--trace", "{tmp}/t.csv", "--out", "{tmp}/./adir/../t.csv"],
        ["is the same file as --trace"],
        id="forecast-out-is-trace-dotted",
    ),
    pytest.param(
        ["forecast", "--trace", "{tmp}/t.csv", "--out", "{tmp}/hard.csv"],
        ["--out ({tmp}/hard.csv) is the same file as --trace"],
        id="forecast-out-is-hard-link",
    ),
    pytest.param(
        ["plan", "--trace", "{tmp}/t.csv", "--workload", "{tmp}/w.yaml", "--out", "{tmp}/w.yaml"],
        ["--out ({tmp}/w.yaml) is the same file as --workload"],
        id="plan-out-is-workload",
    ),
    pytest.param(
        [
            "plan",
            "--trace",
            "{tmp}/t.csv",
            "--workload",
            "{tmp}/w.yaml",
            "--out",
            "{tmp}/link.yaml",
        ],
        ["--out ({tmp}/link.yaml) is the same file as --workload ({tmp}/w.yaml)"],
        id="plan-out-is-symlink-to-workload",
    ),
    pytest.param(
        [
            "simulate",
            "--trace",
            "{tmp}/t.csv",
            "--workload",
            "{tmp}/w.yaml",
            "--json",
            "{tmp}/o.json",
            "--timeseries",
            "{tmp}/o.json",
        ],
        [
            "--timeseries ({tmp}/o.json) is the same file as --json",
            "each output needs its own file",
        ],
        id="simulate-json-is-timeseries",
    ),
    pytest.param(
        [
            "simulate",
            "--trace",
            "{tmp}/t.csv",
            "--workload",
            "{tmp}/w.yaml",
            "--json",
            "{tmp}/t.csv",
        ],
        ["--json ({tmp}/t.csv) is the same file as --trace"],
        id="simulate-json-is-trace",
    ),
    pytest.param(
        ["forecast", "--trace", "{tmp}/t.csv", "--out", "{tmp}/adir"],
        ["--out ({tmp}/adir) is a directory", "pass a file path"],
        id="out-is-directory",
    ),
    pytest.param(
        ["forecast", "--trace", "{tmp}/t.csv", "--out", "{tmp}/nofolder/f.csv"],
        ["is in a folder that does not exist", "create the folder first"],
        id="out-folder-missing",
    ),
    pytest.param(
        ["forecast", "--trace", "{tmp}/t.csv", "--out", "{tmp}/afile/f.csv"],
        ["which is not a folder"],
        id="out-under-a-file",
    ),
    pytest.param(
        ["forecast", "--trace", "{tmp}/t.csv", "--out", "/proc/prescale.csv"],
        ["--out (/proc/prescale.csv) cannot be written", "writable folder"],
        id="out-unwritable",
    ),
    pytest.param(
        ["report", "--trace", "{tmp}/t.csv", "--workload", "{tmp}/w.yaml", "--out", "{tmp}/afile"],
        ["--out ({tmp}/afile) is a file, not a directory"],
        id="report-out-is-file",
    ),
    pytest.param(
        [
            "report",
            "--trace",
            "{tmp}/adir/report.md",
            "--workload",
            "{tmp}/w.yaml",
            "--out",
            "{tmp}/adir",
        ],
        ["--out (report.md) ({tmp}/adir/report.md) is the same file as --trace"],
        id="report-out-holds-the-trace",
    ),
    pytest.param(
        [
            "report",
            "--trace",
            "{tmp}/t.csv",
            "--workload",
            "{tmp}/w.yaml",
            "--out",
            "/proc/prescale-report",
        ],
        ["--out (/proc/prescale-report) cannot be created in /proc"],
        id="report-out-unwritable",
    ),
    pytest.param(
        ["forecast", "--trace", "{tmp}/missing.csv", "--out", "{tmp}/nofolder/f.csv"],
        ["--out", "folder that does not exist"],
        id="out-checked-before-the-trace-is-read",
    ),
]


@pytest.mark.parametrize(("argv", "expect"), CASES)
def test_bad_output(
    argv: list[str], expect: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = _files(tmp_path)
    (tmp_path / "adir" / "report.md").write_text("timestamp,requests\n")
    before = {path: path.read_bytes() for path in inputs.values()}
    filled = [arg.format(tmp=tmp_path) for arg in argv]
    outcome = r.run(filled, capsys)
    r.refused(outcome, [e.format(tmp=tmp_path) for e in expect])
    assert "file not found" not in outcome.err  # refused before any input was read
    assert {path: path.read_bytes() for path in inputs.values()} == before


def test_a_good_out_replaces_the_file_keeping_its_mode_and_no_temporary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The positive control: a writable --out over an existing file is replaced whole, keeps
    its permissions, and leaves no temporary file beside it."""
    inputs = _files(tmp_path)
    out = tmp_path / "f.csv"
    out.write_text("old")
    out.chmod(0o640)
    outcome = r.run(["forecast", "--trace", str(inputs["trace"]), "--out", str(out)], capsys)
    assert outcome.code == 0, outcome.err
    assert out.read_text().startswith("timestamp,p50,p90,p99")
    assert out.stat().st_mode & 0o777 == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".f.csv.")]


def _failing_replace(src: object, dst: object) -> None:
    raise OSError(28, "No space left on device")


def test_a_failed_write_leaves_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file system refuses the rename (a full disk, injected at os.replace, the system
    call): the error names the flag and the path, the old file is intact, no temporary stays."""
    target = tmp_path / "plan.csv"
    target.write_text("previous plan")
    monkeypatch.setattr(os, "replace", _failing_replace)
    with pytest.raises(Exception, match=r"--out \(.*plan.csv\) cannot be written \(No space"):
        outputs.write_text(outputs.Output("--out", target), "new " * 1000)
    assert target.read_text() == "previous plan"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]


def test_an_interrupted_write_leaves_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the fsync: KeyboardInterrupt passes through, the old file is whole."""
    target = tmp_path / "sim.json"
    target.write_text("{}")

    def interrupted(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        outputs.write_text(outputs.Output("--json", target), '{"new": true}')
    assert target.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["sim.json"]
