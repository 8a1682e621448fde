"""`prescale report` end to end on a short excerpt of the bundled trace, checked in Chromium.

The excerpt is the last 4 days of the bundled NASA trace, so the forecaster runs its daily
regime (one-day folds) and the whole module stays well under a minute.
"""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import parts
import pytest
import yaml

from actuator import cli
from actuator.commands import inputs
from report import jsondoc, units

EXCERPT_DAYS = 4
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--hide-scrollbars",
)

# A number the page shows: <td class="num" data-path=... data-format=...>text</td> (or a span).
TAGGED_NUMBER = re.compile(
    r'<(span|td)(?: class="num")? data-path="([^"]+)" data-format="([^"]+)">([^<]*)</\1>'
)

# The bundled chat workload in a 2-GPU pool (its plan peaks above 2 replicas, so the budget
# binds) and a vision workload on L4 without reserved capacity.
TWO_WORKLOADS = {
    "pools": {"a100": {"gpus": 2}},
    "workloads": [
        {
            **yaml.safe_load(inputs.example_path(inputs.EXAMPLE_WORKLOAD).read_text()),
            "pool": "a100",
        },
        {
            "name": "vision-vit",
            "kind": "vision",
            "unit": "requests_per_s",
            "gpu": "L4",
            "gpus_per_replica": 1,
            "capacity_per_replica": 0.4,
            "target_utilization": 0.8,
            "min_replicas": 1,
            "max_replicas": 30,
            "lead_time": "2m",
            "capacity_types": ["spot", "on_demand"],
        },
    ],
}


@pytest.fixture(scope="module")
def inputs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The last EXCERPT_DAYS days of the bundled trace and a two-workload spec file."""
    root = tmp_path_factory.mktemp("report-inputs")
    frame = pd.read_csv(inputs.example_path(inputs.EXAMPLE_TRACE))
    excerpt = frame.iloc[-EXCERPT_DAYS * 1440 :]
    with gzip.open(root / "excerpt.csv.gz", "wt") as handle:
        excerpt.to_csv(handle, index=False)
    (root / "workloads.yaml").write_text(yaml.safe_dump(TWO_WORKLOADS))
    return root


def _report_args(inputs_dir: Path, out: Path) -> list[str]:
    return [
        "report",
        "--trace",
        str(inputs_dir / "excerpt.csv.gz"),
        "--workload",
        str(inputs_dir / "workloads.yaml"),
        "--simulate",
        "--replay",
        "1d",
        "--seed",
        "3",
        "--out",
        str(out),
    ]


@pytest.fixture(scope="module")
def report_dir(inputs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    assert cli.main(_report_args(inputs_dir, out)) == 0
    return out


@pytest.fixture(scope="module")
def document(report_dir: Path) -> dict[str, jsondoc.JsonValue]:
    loaded: dict[str, jsondoc.JsonValue] = json.loads((report_dir / "report.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def plain_document(
    inputs_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, jsondoc.JsonValue]:
    """The same report without --simulate: every workload at its spec's quantile."""
    out = tmp_path_factory.mktemp("plain-report") / "out"
    args = [a for a in _report_args(inputs_dir, out) if a != "--simulate"]
    assert cli.main(args) == 0
    loaded: dict[str, jsondoc.JsonValue] = json.loads((out / "report.json").read_text())
    return loaded


def test_writes_three_files_covering_every_workload(
    report_dir: Path, document: dict[str, jsondoc.JsonValue]
) -> None:
    assert sorted(p.name for p in report_dir.iterdir()) == [
        "report.html",
        "report.json",
        "report.md",
    ]
    assert document["schema_version"] == "2.4"
    names = [jsondoc.resolve(document, f"workloads.{i}.name") for i in range(2)]
    assert names == ["chat-llama-8b", "vision-vit"]
    markdown = (report_dir / "report.md").read_text()
    assert "## chat-llama-8b" in markdown and "## vision-vit" in markdown
    # schema 2.2: the factor each forecast widened its band by, within [1, widening.WIDEN_MAX],
    # said in the Markdown as the JSON has it
    for i in range(2):
        widened_by = jsondoc.resolve(document, f"workloads.{i}.accuracy.band_widened_by")
        assert jsondoc.resolve(document, f"workloads.{i}.accuracy.band_widening") in {0.5, 1.0}
        assert isinstance(widened_by, float) and 1.0 <= widened_by <= 3.0
        said = f"spread above P50 x{widened_by:.2f}" if widened_by > 1 else "forecast not widened"
        assert said in markdown


def test_each_workload_says_the_source_unit_and_its_conversion(
    report_dir: Path, document: dict[str, jsondoc.JsonValue]
) -> None:
    """A CSV trace is arrivals: every page says so and how Little's law turned it into the
    workload's unit, in the words of report.json."""
    markdown = (report_dir / "report.md").read_text()
    page = (report_dir / "report.html").read_text()
    for i in range(2):
        source_unit = jsondoc.resolve(document, f"workloads.{i}.history.source_unit")
        conversion = jsondoc.resolve(document, f"workloads.{i}.history.conversion")
        assert source_unit == "arrivals"
        assert isinstance(conversion, str) and "by Little's law" in conversion
        assert f"- History: `arrivals` from the source; {conversion}" in markdown
        assert f"History: <code>arrivals</code> from the source; {html.escape(conversion)}" in page


def test_numbers_agree_with_prescale_plan(
    inputs_dir: Path,
    plain_document: dict[str, jsondoc.JsonValue],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`prescale plan --format json` on the same inputs prints the report's plan figures (a
    report without a replay: both plan at the spec's quantile)."""
    document = plain_document
    trace_args = ["--trace", str(inputs_dir / "excerpt.csv.gz")]
    workload_args = ["--workload", str(inputs_dir / "workloads.yaml")]
    capsys.readouterr()
    assert cli.main(["plan", *trace_args, *workload_args, "--format", "json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    for i, expected in enumerate(planned["workloads"]):

        def got(path: str, i: int = i) -> jsondoc.JsonValue:
            return jsondoc.resolve(document, f"workloads.{i}.{path}")

        cost = expected["cost"]
        assert got("name") == expected["name"]
        assert got("reservation.reserved_replicas") == expected["reserved_base"]
        assert got("peak_planned") == expected["replicas"]["total"]["peak"]
        assert got("lead_time.seconds") == expected["lead_time"]["seconds"]
        assert got("lead_time.source") == expected["lead_time"]["source"]
        assert got("history") == expected["history"]
        assert got("cost.total_usd_per_week") == pytest.approx(cost["dollars_per_week"])
        assert got("cost.horizon_hours") == pytest.approx(cost["hours"])
        assert got("cost.usd_per_million_requests") == pytest.approx(
            cost["dollars_per_1m_requests"]
        )
        weeks = cost["hours"] / 168
        assert got("cost.all_on_demand_usd_per_week") == pytest.approx(
            cost["all_on_demand_dollars"] / weeks
        )
        assert got("cost.static_peak_usd_per_week") == pytest.approx(
            cost["static_peak_dollars"] / weeks
        )
        for j, kind in enumerate(("reserved", "spot", "on_demand")):
            assert got(f"cost.lines.{j}.capacity_type") == kind
            assert got(f"cost.lines.{j}.cost_usd") == pytest.approx(
                cost["by_type"][kind]["dollars"]
            )
            assert got(f"cost.lines.{j}.gpu_hours") == pytest.approx(
                cost["by_type"][kind]["gpu_hours"]
            )
            assert got(f"cost.lines.{j}.peak_replicas") == expected["replicas"][kind]["peak"]
        assert (got("budget_note") is not None) == (expected["budget_shortfall"] is not None)
    fleet_usd = sum(w["cost"]["dollars_per_week"] for w in planned["workloads"])
    assert jsondoc.resolve(document, "fleet.usd_per_week") == pytest.approx(fleet_usd)
    assert jsondoc.resolve(document, "fleet.budget_bound_workloads") == ["chat-llama-8b"]


def test_next_week_is_planned_at_the_point_chosen_on_the_history(
    report_dir: Path,
    document: dict[str, jsondoc.JsonValue],
    plain_document: dict[str, jsondoc.JsonValue],
) -> None:
    """Each workload's plan sits at the operating point chosen for its SLO on the history's
    last weeks (`plan_point`), which the report names; the what-if replay chose its own on its
    warm-up. Asking for the replay changes no plan."""
    markdown = (report_dir / "report.md").read_text()
    for i in range(2):
        view = jsondoc.resolve(document, f"workloads.{i}.plan_point")
        assert isinstance(view, dict) and view["replayed_on"] == "the history"
        chosen = view["chosen"]
        assert isinstance(chosen, str) and chosen.startswith("band ")
        band = chosen.split(",")[0]
        said = jsondoc.resolve(document, f"workloads.{i}.provisioned_for")
        assert said == f"{band}, chosen for the SLO"
        assert f"provisioned for {said}," in markdown
        replay = jsondoc.resolve(document, f"workloads.{i}.simulation.operating_point")
        assert isinstance(replay, dict) and replay["replayed_on"] == "the warm-up"
        for path in ("cost.total_usd_per_week", "peak_planned", "reservation.reserved_replicas"):
            key = f"workloads.{i}.{path}"
            assert jsondoc.resolve(document, key) == jsondoc.resolve(plain_document, key), key
    assert "of the history:" in markdown and "of the warm-up:" in markdown


@pytest.fixture(scope="module")
def simulated(inputs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`prescale simulate --json` of both workloads with the report's replay and seed: one
    run for the two (tests/test_cli_simulate.py holds each workload's entry in it to the run
    of that workload alone)."""
    out = tmp_path_factory.mktemp("simulate") / "sim.json"
    argv = [
        "simulate",
        *("--trace", str(inputs_dir / "excerpt.csv.gz")),
        *("--workload", str(inputs_dir / "workloads.yaml")),
        *("--replay", "1d", "--seed", "3", "--json", str(out)),
    ]
    assert cli.main(argv) == 0
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


@pytest.mark.parametrize("index", [0, 1], ids=["chat-llama-8b", "vision-vit"])
def test_replay_agrees_with_prescale_simulate(
    index: int, document: dict[str, jsondoc.JsonValue], simulated: dict[str, Any]
) -> None:
    """`prescale simulate --json` for the same workload, replay and seed gives the report's
    policy table (the simulate JSON rounds to 6 decimals)."""
    name = jsondoc.resolve(document, f"workloads.{index}.name")
    assert isinstance(name, str)
    workload = simulated["workloads"][index]
    assert workload["name"] == name
    prefix = f"workloads.{index}.simulation"
    assert jsondoc.resolve(document, f"{prefix}.seed") == simulated["seed"] == 3
    assert jsondoc.resolve(document, f"{prefix}.forecast_refits") == workload["forecast_refits"]
    rows = jsondoc.resolve(document, f"{prefix}.policies")
    assert isinstance(rows, list)
    assert [r["policy"] for r in rows if isinstance(r, dict)] == list(workload["policies"])
    for i, policy in enumerate(workload["policies"].values()):

        def got(field: str, i: int = i) -> jsondoc.JsonValue:
            return jsondoc.resolve(document, f"{prefix}.policies.{i}.{field}")

        for field in ("served_minutes_pct", "unserved_demand_pct", "gpu_hours", "cost_usd"):
            assert got(field) == pytest.approx(policy[field], abs=1e-5), field
        assert got("scale_events") == policy["scale_events"]
        for field in ("unserved_runs", "longest_unserved_minutes"):
            assert got(field) == policy[field], field
        unserved = policy["minutes_with_data"] - policy["served_minutes"]
        assert got("unserved_minutes") == unserved
        assert (got("unserved_runs") == 0) == (unserved == 0)
        assert got("gpu_hours_vs_oracle") == pytest.approx(policy["gpu_hours_vs_oracle"])
        # unpriced overflow is null in both, not a price of zero in one
        assert got("overflow_usd") == policy["api_overflow_usd"]
        for kind in ("reserved", "spot", "on_demand"):
            assert got(f"{kind}_usd") == pytest.approx(policy["cost_by_type"][kind], abs=1e-5)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--horizon", "soon"], "--horizon ('soon')", id="bad-horizon"),
        pytest.param(["--trace", "/nonexistent/trace.csv"], "trace.csv", id="missing-trace"),
        pytest.param(["--workload", "/nonexistent/w.yaml"], "w.yaml", id="missing-workload"),
        pytest.param(["--simulate", "--replay", "90d"], "leaves no warm-up", id="replay-too-long"),
    ],
)
def test_bad_input_exits_2(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "--out", str(tmp_path / "out"), *extra]) == 2
    assert message in capsys.readouterr().err


def _chromium(url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    if not Path(CHROMIUM).exists():
        parts.missing_part("chromium", ".ci/run installs Debian's chromium package")
    profile = tempfile.mkdtemp(prefix="prescale-chromium-")
    try:
        return subprocess.run(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *flags, url],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@dataclass(frozen=True)
class Rendered:
    """One headless Chromium run of the report: its DOM after load and a screenshot."""

    dom: str
    screenshot: Path


@pytest.fixture(scope="module")
def rendered(report_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    artifacts = Path(os.environ.get("PRESCALE_TEST_ARTIFACTS", tmp_path_factory.mktemp("shot")))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "report.png"
    # The page is about 1,400 px of fleet summary plus 2,400 px per workload at this width.
    height = 1400 + 2400 * len(TWO_WORKLOADS["workloads"])
    # One browser start for both: --dump-dom prints the DOM after load, --screenshot writes
    # the page (the DOM does not depend on the window size).
    run = _chromium(
        (report_dir / "report.html").as_uri(),
        "--dump-dom",
        f"--screenshot={shot}",
        f"--window-size=1100,{height}",
    )
    return Rendered(run.stdout, shot)


@pytest.mark.browser
def test_browser_renders_plots_and_numbers_from_the_json(
    rendered: Rendered, document: dict[str, jsondoc.JsonValue]
) -> None:
    """Chromium's DOM after load has 3 SVG plots per workload, and every tagged number on the
    page reads as the JSON value at its data-path, in its data-format."""
    rendered_dom = rendered.dom
    for kind in ("forecast", "replicas", "duration"):
        assert rendered_dom.count(f"plot plot-{kind}") == 2
    assert rendered_dom.count('<table class="simulation">') == 2
    # each replay chose its operating point on the warm-up: the frontier is drawn, chosen marked
    # and next week's plan its own on the history: two frontiers a workload, chosen marked
    assert rendered_dom.count("plot plot-frontier") == 4
    assert rendered_dom.count('class="point efficient chosen"') == 4
    found = [(m[1], m[2], m[3]) for m in TAGGED_NUMBER.findall(rendered_dom)]
    assert len(found) > 100
    for path, fmt, text in found:
        value = jsondoc.resolve(document, path)
        assert value is None or isinstance(value, int | float), path
        assert text == units.render(value, units.Fmt(fmt)), path
    usd = jsondoc.resolve(document, "fleet.usd_per_week")
    assert isinstance(usd, float)
    fleet_usd = units.render(usd, units.Fmt.usd)
    assert f'data-path="fleet.usd_per_week" data-format="usd">{fleet_usd}<' in rendered_dom


@pytest.mark.browser
def test_browser_screenshot_artifact(rendered: Rendered) -> None:
    print(f"report screenshot: {rendered.screenshot}")
    assert rendered.screenshot.stat().st_size > 50_000  # a blank page is a few kB
