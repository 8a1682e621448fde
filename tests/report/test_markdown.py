"""report.md: the same headline numbers and tables as the HTML page, in Markdown."""

from __future__ import annotations

import report_builders as build

from report import markdown


def test_headline_and_tables() -> None:
    text = markdown.render(build.report(build.workload(simulation=build.simulation())))
    assert "- Planned cost: **$1,886 per week** (806 GPU-h)" in text
    assert "- Saved vs all-on-demand: $1,074 (36.3 % of $2,959)" in text
    assert "| A100-80GB | 9 | 3 | 806 GPU-h | $1,886 | $2,959 | $4,932 |" in text
    assert "| holt_winters (chosen) | 14.00 | 0.70x |" in text
    assert "| reserved | 3 | 3.0 | 504 GPU-h | $1,109 | $1.10 | $0.001 |" in text
    assert "| 4 | 55.0 % | no |" in text  # 0.55 < break-even 2.20 / 3.67 = 0.599
    assert "| prescale | 99.80 % |" in text
    assert (
        "prescale's 20 unserved minutes came in 4 run(s), the longest 10 minutes "
        "(cold start fixed 600 s): a run about as long as the cold start" in text
    )


def test_tables_are_well_formed() -> None:
    text = markdown.render(build.report(build.workload(simulation=build.simulation())))
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("|"):
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    tables = [b for b in blocks if b]
    assert len(tables) == 5  # fleet, accuracy, cost, duration curve, replay
    for table in tables:
        widths = {line.count("|") for line in table}
        assert len(widths) == 1, table[0]


def test_user_text_is_escaped() -> None:
    """A GPU named like markup and a budget note with a table pipe stay literal text: the
    heading, the table and the page structure are not changed by what the user typed."""
    text = markdown.render(
        build.report(
            build.workload(
                name="a*b_c", gpu="<img src=x>|L4", budget_note="pool `gpu-a` | [link](x)"
            )
        )
    )
    assert "## a\\*b\\_c" in text
    assert "1 x \\<img src=x\\>\\|L4 per replica" in text
    assert "- GPU budget: pool \\`gpu-a\\` \\| \\[link\\](x)" in text
    assert "<img" not in text.replace("\\<img", "")


def test_file_names_are_code_spans_that_hold_backticks() -> None:
    assert markdown.code("nasa.csv.gz") == "`nasa.csv.gz`"
    assert markdown.code("we`ird.csv") == "`` we`ird.csv ``"
    assert markdown.text("line\nbreak # not a heading") == "line break \\# not a heading"


def test_the_frontier_is_a_table_of_the_efficient_points() -> None:
    simulated = build.workload(simulation=build.simulation(build.chosen_point()))
    text = markdown.render(build.report(simulated))
    assert "Operating point for the SLO of 99.50 % of minutes served: band 0.50" in text
    assert "| Operating point | Minutes served (over the windows) | GPU-hours | Chosen |" in text
    assert "| band 0.50 | 99.82 % | 1,302 GPU-h | yes |" in text
    assert "| band 0.00 | 99.10 % |" in text and "| band 1.00 | 99.97 % |" in text
    assert "hold cooldown" not in text  # dominated: cheaper points serve more


def test_the_band_widening_is_said_with_its_strength_or_none() -> None:
    calm = markdown.render(build.report(build.workload()))
    assert "band widening after an unusual day 0.50 (chosen on the folds by P90 pinball" in calm
    assert "pinball loss), this forecast not widened" in calm
    widened = markdown.render(
        build.report(build.workload(accuracy=build.accuracy(band_widened_by=2.23)))
    )
    assert "pinball loss), this forecast's spread above P50 x2.23" in widened
    refused = markdown.render(
        build.report(build.workload(accuracy=build.accuracy(band_widening=0.0)))
    )
    assert "band widening after an unusual day none (no backtest calibration)" in refused
