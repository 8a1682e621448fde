"""Every preset on 4 weeks of its engine's metrics in a real Prometheus: two pods summed into one
series in the preset's unit, the scrape gap NaN, a pod's restart neither negative nor a spike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import preset_history
import pytest
from prometheus_history import History

from actuator import presets, prometheus, source


def _expected(history: History, preset: presets.Preset) -> np.ndarray:
    """The preset's series as the backfilled values say it must read back."""
    names = preset_history.metrics_of(preset.template)
    assert names, f"{preset.name}: none of its metrics is in the backfill"
    written = history.presets
    if preset.kind is presets.Kind.COUNTER:
        counts = np.sum([written.counts[n] for n in names], axis=0)
        # Requests become arrivals per 60-s interval (the CSV unit); tokens stay per second.
        return counts if preset.unit is presets.SourceUnit.REQUESTS_PER_S else counts / 60
    total = pd.Series(np.sum([written.gauges[n] for n in names], axis=0))
    # A gauge's first minutes of a gap repeat the last sample: Prometheus's lookback.
    return total.ffill(limit=preset_history.LOOKBACK_MINUTES).to_numpy()


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_preset_reads_four_weeks_of_two_pods(prometheus_history: History, name: str) -> None:
    preset = presets.PRESETS[name]
    spec = source.parse(
        {"url": prometheus_history.url, "preset": name, "selector": preset_history.SELECTOR}
    )
    loaded = prometheus.load_trace(spec, prometheus_history.start, prometheus_history.end)
    got = loaded.values.to_numpy()
    expected = _expected(prometheus_history, preset)

    assert loaded.values.index.equals(prometheus_history.requests.index)
    assert loaded.column == (
        "requests" if preset.unit is presets.SourceUnit.REQUESTS_PER_S else preset.unit.value
    )
    # The two pods summed, not either one: every value equals the sum written.
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=name)
    np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=name)

    gap = slice(preset_history.GAP_START, preset_history.GAP_START + preset_history.GAP_MINUTES)
    missing = int(np.isnan(got[gap]).sum())
    if preset.kind is presets.Kind.COUNTER:
        assert np.isnan(got[preset_history.GAP_START - 1]) and missing == preset_history.GAP_MINUTES
    else:
        assert missing == preset_history.GAP_MINUTES - preset_history.LOOKBACK_MINUTES
    assert np.count_nonzero(np.isnan(got)) == np.count_nonzero(np.isnan(expected))
    assert not (got[~np.isnan(got)] < 0).any()

    # Pod p-1's restart: the rate there is that minute's count, within the usual range.
    at = preset_history.RESET_MINUTE
    assert got[at] == pytest.approx(expected[at], rel=1e-12)
    assert 0 < got[at] <= np.nanmax(expected[at - 60 : at + 60])


@pytest.mark.parametrize("name", [n for n, p in presets.PRESETS.items() if p.prompt_tokens])
def test_companion_token_counters_become_token_sums(prometheus_history: History, name: str) -> None:
    preset = presets.PRESETS[name]
    spec = source.parse(
        {"url": prometheus_history.url, "preset": name, "selector": preset_history.SELECTOR}
    )
    loaded = prometheus.load_trace(spec, prometheus_history.start, prometheus_history.end)
    for series, template in (
        (loaded.prompt_tokens, preset.prompt_tokens),
        (loaded.completion_tokens, preset.completion_tokens),
    ):
        assert series is not None and template is not None
        (metric,) = preset_history.metrics_of(template)
        np.testing.assert_allclose(
            series.to_numpy(), prometheus_history.presets.counts[metric], rtol=1e-12
        )
