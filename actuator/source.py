"""Shell: a workload's history source (Prometheus), from a YAML `source:` block or CLI flags.

The YAML edge is a pydantic v2 model (unknown keys refused with a did-you-mean); it converts to a
frozen `SourceSpec` that the loaders and the daemon use. Every problem is collected and raised
once as an InputError naming the field path, the value, the rule and the fix:

    source:
      url: http://prometheus.monitoring:9090
      preset: vllm                       # or query: 'sum(rate(my_requests_total[1m]))'
      selector: '{model_name="llama-3-8b",namespace="chat"}'
      step: 1m
      since: 28d
      headers: {X-Scope-OrgID: team-a}
      auth: {bearer_token_file: /var/run/secrets/prometheus/token}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pydantic

from actuator import presets, prometheus, schema
from kernel import duration, errors, units
from planner import spec

DEFAULT_STEP_S = units.MINUTE_S
DEFAULT_SINCE_S = 28 * units.DAY_S  # 4 weeks: the backtest's three weekly folds plus a week


class AuthModel(schema.Strict):
    """Credentials and TLS: secrets as file paths (mounted Secrets), never inline."""

    bearer_token_file: Path | None = None
    basic_auth_user: str | None = None
    basic_auth_password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False


class SourceModel(schema.Strict):
    """The `source:` block of a workload (and of the daemon's config)."""

    url: str = pydantic.Field(
        json_schema_extra={"fix": "set it (e.g. url: http://prometheus.monitoring:9090)"}
    )
    query: str | None = None
    preset: str | None = None
    selector: str = ""
    unit: presets.SourceUnit | None = None  # what `query` yields; presets know their own
    step: str | int = "1m"
    since: str | int = "28d"
    headers: dict[str, str] = pydantic.Field(default_factory=dict)
    timeout: str | int = "30s"
    max_concurrency: int = 4
    retries: int = 3
    auth: AuthModel = pydantic.Field(default_factory=AuthModel)


@dataclass(frozen=True)
class SourceSpec:
    """Where one workload's history comes from and what its values are."""

    connection: prometheus.Connection
    queries: presets.Queries
    step_s: int
    since_s: int  # default history length when no --since is given
    preset: str | None  # None for a hand-written query

    @property
    def history_unit(self) -> spec.HistoryUnit:
        return presets.history_unit(self.queries.unit)

    def describe(self) -> str:
        """What outputs print as the history's source (no credentials: only the URL and query)."""
        what = f"preset {self.preset}" if self.preset else "query"
        return f"prometheus {prometheus.safe_url(self.connection.url)} {what}: {self.queries.main}"


def parse(data: object, *, where: str = "source") -> SourceSpec:
    """Validate a `source:` mapping into a SourceSpec; one InputError listing every problem."""
    if not isinstance(data, Mapping):
        raise errors.InputError(
            f"{where} ({data!r}) is not a mapping; write url:, preset: or query:, selector:"
        )
    try:
        model = SourceModel.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        raise errors.InputError(
            [schema.describe(e, SourceModel, prefix=where) for e in exc.errors()]
        ) from None
    return build(model, where=where)


def _seconds(value: str | int, path: str, problems: list[str], default_s: int) -> int:
    seconds = duration.whole_seconds(value)
    if seconds is None or seconds <= 0:
        problems.append(
            f"{path} ({value!r}) is not a positive duration in whole seconds; "
            f"write it like {duration.EXAMPLES}"
        )
        return default_s
    return seconds


def build(model: SourceModel, *, where: str = "source") -> SourceSpec:
    """The SourceSpec of a validated model (durations, preset and connection checked here)."""
    problems: list[str] = []
    step_s = _seconds(model.step, f"{where}.step", problems, DEFAULT_STEP_S)
    since_s = _seconds(model.since, f"{where}.since", problems, DEFAULT_SINCE_S)
    timeout_s = _seconds(model.timeout, f"{where}.timeout", problems, 30)
    if (model.query is None) == (model.preset is None):
        problems.append(
            f"{where}: give exactly one of query (your PromQL) and preset (one of "
            f"{', '.join(presets.PRESETS)}); got {'both' if model.query else 'neither'}"
        )
    if model.query is not None and model.selector:
        problems.append(
            f"{where}.selector ({model.selector!r}) only applies to a preset; put the label "
            "matchers in the query itself"
        )
    if model.preset is not None and model.unit is not None:
        problems.append(
            f"{where}.unit ({model.unit.value!r}) only applies to a query; preset "
            f"{model.preset} yields its own unit"
        )
    queries: presets.Queries | None = None
    try:
        if model.preset is not None:
            queries = presets.render(presets.find(model.preset), model.selector, step_s)
        elif model.query is not None:
            queries = presets.custom(model.query, model.unit or presets.SourceUnit.REQUESTS_PER_S)
    except errors.InputError as exc:
        problems.extend(
            f"{where}.{'preset' if model.preset else 'query'}: {p}" for p in exc.problems
        )
    connection: prometheus.Connection | None = None
    try:
        connection = prometheus.Connection(
            url=model.url,
            bearer_token_file=model.auth.bearer_token_file,
            basic_auth_user=model.auth.basic_auth_user,
            basic_auth_password_file=model.auth.basic_auth_password_file,
            ca_file=model.auth.ca_file,
            cert_file=model.auth.cert_file,
            key_file=model.auth.key_file,
            insecure=model.auth.insecure,
            headers=tuple(sorted(model.headers.items())),
            timeout_s=float(timeout_s),
            max_concurrency=model.max_concurrency,
            retries=model.retries,
        )
    except errors.InputError as exc:
        problems.extend(f"{where}: {p}" for p in exc.problems)
    if problems or queries is None or connection is None:
        raise errors.InputError(problems)
    return SourceSpec(
        connection=connection,
        queries=queries,
        step_s=step_s,
        since_s=since_s,
        preset=model.preset,
    )
