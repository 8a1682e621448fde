"""Shell: the daemon's configuration: one YAML file, `PRESCALE_` environment variables and flags.

The model is a handful of documented groups (store, prometheus, kubernetes, schedule, retention,
http, leader election, workloads); every field says its meaning, unit, default and why, in its
`description`, which `prescale check-config` and the README's table print. Load order: the
defaults below, then the YAML file, then `PRESCALE_` environment variables (read only in
`environment_overrides`), then command-line flags. Validation collects every problem at once,
each with the field's path, the value, the rule and the fix; unknown keys are rejected with a
did-you-mean and duplicate YAML keys are refused. The result is frozen dataclasses; nothing
downstream sees pydantic.

A workload's `spec:` is the planner's workload spec and is validated by the one workload loader
(`workloads.parse_workloads`), not here; this module only adds what the daemon needs
around it: where its demand comes from (`source:`) and which object holds the floor per
capacity type (`targets:`). Pydantic's errors are worded by `actuator.schema`, as are the
workload spec's and the `source:` block's.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import sqlalchemy as sa
import yaml

from actuator import kube, schema, workloads, yamldoc
from actuator import source as source_module
from kernel import duration, errors
from planner import spec

ENV_PREFIX = "PRESCALE_"
# PRESCALE_SCHEDULE__TICK=30s sets schedule.tick: a double underscore separates the levels,
# because field names hold single underscores (pydantic-settings uses the same convention).
ENV_NESTING = "__"
# Variables with the prefix that are not settings: the config file's path (read by the CLI).
ENV_IGNORED = frozenset({"PRESCALE_CONFIG"})
# A config is a page of YAML; anything far larger is a mistake or an attack (alias bombs).
MAX_CONFIG_BYTES = 4 * 1024 * 1024


# The smallest config, shown when `workloads:` is missing or empty (tests/daemon/test_config.py
# loads it).
MINIMAL = (
    "`workloads: [{spec: {name: chat, unit: requests_per_s, gpu: L4, capacity_per_replica: 8, "
    "max_replicas: 4}, source: {trace: trace.csv}, targets: {on_demand: {kind: hpa, "
    "namespace: NS, name: NAME}}}]`"
)
# `workloads:` not in the file at all (not the same as an empty list).
MISSING = object()


class Mode(StrEnum):
    ADVISORY = "advisory"  # decide, store and export; write nothing to the cluster
    ACTUATE = "actuate"  # also write the targets (when leader)


# What a target writes: the adapter's own enum, so the config and the writer cannot disagree.
TargetKind = kube.TargetKind


def _duration_s(value: object) -> int:
    seconds = duration.whole_seconds(value)
    if seconds is None:
        raise ValueError(f"is not a duration in whole seconds; write it like {duration.EXAMPLES}")
    return seconds


# A duration as the user writes it (`90s`, `1h`, `7d`, or bare seconds), held as whole seconds.
Duration = Annotated[int, pydantic.BeforeValidator(_duration_s)]
Positive = Annotated[int, pydantic.Field(gt=0)]

MINUTE_S = 60
HOUR_S = 3600
DAY_S = 86400
YEAR_S = 365 * DAY_S


def _within(low_s: int, high_s: int) -> pydantic.AfterValidator:
    """A duration held to [low_s, high_s]: the message names the value, the range and the fix."""

    def check(seconds: int) -> int:
        if not low_s <= seconds <= high_s:
            raise ValueError(
                f"is {_shown(seconds)}, outside {_shown(low_s)} to {_shown(high_s)}; set it "
                "within that range"
            )
        return seconds

    return pydantic.AfterValidator(check)


def _shown(seconds: int) -> str:
    """Whole years as `Ny` (the grammar's year is 365 d), anything else in its shortest form."""
    if seconds >= YEAR_S and seconds % YEAR_S == 0:
        return f"{seconds // YEAR_S}y"
    return duration.text(seconds)


# Upper bounds on the daemon's durations, each where a larger value stops making sense rather
# than where it stops working. A tick is the planner's minute; past an hour the floor moves
# later than any lead time it plans for.
Tick = Annotated[Duration, _within(1, HOUR_S)]
# A refit past a week leaves the plan on a horizon the first (weekly) forecast no longer covers;
# below spec.MIN_REFIT_S (5 min) it refits the same complete buckets (the same bound as
# `prescale simulate --refit-every`).
Refit = Annotated[Duration, _within(spec.MIN_REFIT_S, 7 * DAY_S)]
# Re-selection runs the backtest, a choice the operating point's replays (seconds to tens of
# seconds a workload): more often than hourly spends that on nothing new; at least once a
# quarter, or the model and the point outlive the traffic they were chosen on.
Reselect = Annotated[Duration, _within(HOUR_S, 90 * DAY_S)]
# Jobs that read the cluster or the store: a day is the longest a missed cold start or an
# unpruned table may wait.
Housekeeping = Annotated[Duration, _within(MINUTE_S, DAY_S)]
# History read per refit: a year at one-minute steps is 525,600 points a workload, about 4 MB
# of floats; more is memory for seasonality the models do not use (weekly at most).
History = Annotated[Duration, _within(DAY_S, YEAR_S)]
# Learning windows (cold starts, the shadow score): from an hour to a quarter; older cold
# starts describe another node pool, an older shadow another traffic.
Window = Annotated[Duration, _within(HOUR_S, 90 * DAY_S)]
# Retention: from a day (the forecast error needs a day's horizon scored) to two years.
Kept = Annotated[Duration, _within(DAY_S, 2 * YEAR_S)]
# Lease timing, client-go's defaults 15s/10s/2s: past five minutes a crashed leader leaves
# the floors unattended for longer than a cold start.
LeaseTiming = Annotated[Duration, _within(1, 5 * MINUTE_S)]
# A Prometheus request past five minutes is a stuck server; the tick would wait on it.
Timeout = Annotated[Duration, _within(1, 5 * MINUTE_S)]


class StoreModel(schema.Strict):
    url: str = pydantic.Field(
        "sqlite:///prescale.db",
        description="SQLAlchemy URL of the store: sqlite:///PATH (default, a file in the "
        "working directory; mount a volume at it in a cluster) or postgresql+psycopg2://... "
        "(production, several replicas). The password, if any, is never printed.",
    )

    @pydantic.field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            url = sa.engine.make_url(value)
        except sa.exc.ArgumentError:
            raise ValueError(
                "is not a database URL; write sqlite:///PATH or postgresql+psycopg2://HOST/DB"
            ) from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError("names a database other than SQLite or PostgreSQL; use one of those")
        return value


class BasicAuthModel(schema.Strict):
    username: str = pydantic.Field(description="Basic-auth user name.")
    password_file: Path = pydantic.Field(
        description="File holding the basic-auth password (a mounted Secret); re-read on use."
    )


class PrometheusModel(schema.Strict):
    url: str | None = pydantic.Field(
        None,
        description="Base URL of Prometheus (or Thanos, Mimir, Cortex). Default none: needed "
        "only when a workload's source is a Prometheus query.",
    )
    bearer_token_file: Path | None = pydantic.Field(
        None, description="File with a bearer token (a mounted Secret), re-read when it rotates."
    )
    basic_auth: BasicAuthModel | None = pydantic.Field(None, description="Basic auth, if any.")
    ca_file: Path | None = pydantic.Field(None, description="CA bundle to verify the server.")
    cert_file: Path | None = pydantic.Field(None, description="Client certificate (mTLS).")
    key_file: Path | None = pydantic.Field(None, description="Client certificate's key (mTLS).")
    insecure_skip_verify: bool = pydantic.Field(
        False, description="Skip TLS verification (warns at start). Default false: never in prod."
    )
    headers: dict[str, str] = pydantic.Field(
        default_factory=dict,
        description="Extra HTTP headers, e.g. X-Scope-OrgID for Mimir/Cortex/Thanos tenants. "
        "Values are not printed.",
    )
    timeout: Timeout = pydantic.Field(
        30,
        description="Per-request timeout, seconds. Default 30s: a range chunk of 11,000 points "
        "answers in well under a second on a healthy server; longer means it is not healthy.",
    )


class KubernetesModel(schema.Strict):
    kubeconfig: Path | None = pydantic.Field(
        None,
        description="Kubeconfig file to use. Default none: the in-cluster ServiceAccount config.",
    )
    context: str | None = pydantic.Field(
        None, description="Kubeconfig context. Default none: the file's current context."
    )


class ScheduleModel(schema.Strict):
    tick: Tick = pydantic.Field(
        60,
        description="Seconds between ticks (read demand, step, write targets). Default 1m: the "
        "planner's grid is one minute and Prometheus scrapes every 15-60 s.",
    )
    refit: Refit = pydantic.Field(
        3600,
        description="Seconds between forecast refits (the chosen model refitted on new "
        "history). Default 1h: a refit costs about a second per workload and an hour of new "
        "data moves a diurnal forecast noticeably.",
    )
    reselect: Reselect = pydantic.Field(
        86400,
        description="Seconds between model re-selections (the backtest over every candidate, "
        "a few seconds a workload). Default 1d: the winners change with weeks of data, not "
        "hours. 1h to 90d.",
    )
    rechoose: Reselect = pydantic.Field(
        7 * DAY_S,
        description="Seconds between operating-point choices (each workload's last weeks "
        "replayed at a grid of band, level correction and hold, the cheapest meeting its SLO "
        "kept; tens of seconds a workload, off the tick). Default 7d, as the simulator chooses "
        "once a replayed week: re-chosen daily, 35 of 45 held-out corpus weeks were served at "
        "the SLO against 39 weekly (docs/architecture.md). A choice made on less than a week "
        "of validation windows (a young history) is re-made every `reselect` instead. "
        "1h to 90d.",
    )
    learn_cold_starts: Housekeeping = pydantic.Field(
        300,
        description="Seconds between reads of the targets' Pods for cold starts (creation to "
        "Ready). Default 5m: cold starts take minutes, and a list of Pods is cheap.",
    )
    prune: Housekeeping = pydantic.Field(
        3600, description="Seconds between retention passes over the store. Default 1h."
    )
    history: History = pydantic.Field(
        28 * 86400,
        description="History fetched for a refit, seconds. Default 28d: four weekly cycles, "
        "what the backtest's three one-week folds need plus a week to fit on.",
    )
    cold_start_window: Window = pydantic.Field(
        7 * 86400,
        description="Window of observed cold starts the lead time's P90 is taken over, seconds. "
        "Default 7d: a full weekly cycle of node-pool and image-cache states.",
    )
    cold_start_min_count: Positive = pydantic.Field(
        5,
        description="Cold starts needed in the window before the learned P90 replaces the "
        "spec's lead_time. Default 5: a P90 of fewer is the maximum of a handful.",
    )
    shadow_window: Window = pydantic.Field(
        7 * 86400,
        description="Window of the advisory shadow score (plan vs what ran), seconds. Default "
        "7d: one weekly cycle, the evidence before switching to actuate.",
    )


class RetentionModel(schema.Strict):
    decisions: Kept = pydantic.Field(
        30 * 86400,
        description="How long decisions are kept, seconds. Default 30d: a month of audit "
        "trail at one row per capacity type per tick.",
    )
    forecasts: Kept = pydantic.Field(
        14 * 86400,
        description="How long forecasts and plans are kept, seconds. Default 14d: two weeks of "
        "refits to score and debug; the largest rows in the store.",
    )
    cold_starts: Kept = pydantic.Field(
        90 * 86400,
        description="How long cold-start observations are kept, seconds. Default 90d: far "
        "beyond the learning window, for the report's distribution.",
    )
    forecast_errors: Kept = pydantic.Field(
        90 * 86400,
        description="How long forecast-error scores are kept, seconds. Default 90d.",
    )


class HttpModel(schema.Strict):
    listen: str = pydantic.Field(
        "0.0.0.0",
        description="Address the HTTP server binds. Default 0.0.0.0: in a pod the kubelet's "
        "probes and Prometheus' scrapes reach it on the pod IP; use 127.0.0.1 on a laptop.",
    )
    port: int = pydantic.Field(
        8080,
        ge=0,
        le=65535,
        description="HTTP port of /metrics, /healthz, /readyz, /api/v1 and /report. Default "
        "8080; 0 picks a free port (tests).",
    )
    api_token_file: Path | None = pydantic.Field(
        None,
        description="File with the bearer token /api/v1/* and /report require (a mounted "
        "Secret). Default none: those endpoints are open, like /metrics.",
    )


class LeaderElectionModel(schema.Strict):
    enabled: bool = pydantic.Field(
        True,
        description="Elect one writer on a coordination.k8s.io/v1 Lease. Default true: two "
        "replicas writing floors would fight; disable only for a single local advisory run.",
    )
    lease_name: str = pydantic.Field("prescale", description="Name of the Lease. Default prescale.")
    lease_namespace: str | None = pydantic.Field(
        None,
        description="Namespace of the Lease. Default none: the pod's own namespace (from its "
        "ServiceAccount), else `default`.",
    )
    lease_duration: LeaseTiming = pydantic.Field(
        15,
        description="Seconds a leader holds the Lease without renewing it; a standby takes "
        "over after this. Default 15s, client-go's default.",
    )
    renew_deadline: LeaseTiming = pydantic.Field(
        10,
        description="Seconds the leader keeps trying to renew before it stops writing. Default "
        "10s (client-go); must be below lease_duration.",
    )
    retry_period: LeaseTiming = pydantic.Field(
        2, description="Seconds between acquire/renew attempts. Default 2s (client-go)."
    )
    identity: str | None = pydantic.Field(
        None, description="Holder identity. Default none: the host (pod) name."
    )

    @pydantic.model_validator(mode="after")
    def _timing(self) -> LeaderElectionModel:
        if not self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError(
                f"retry_period ({self.retry_period}s) < renew_deadline ({self.renew_deadline}s) "
                f"< lease_duration ({self.lease_duration}s) does not hold; raise lease_duration "
                "or lower the others (defaults 2s, 10s, 15s)"
            )
        return self


class TraceSourceModel(schema.Strict):
    trace: Path = pydantic.Field(
        description="CSV trace (gzip or plain) read as if Prometheus served it: history up to "
        "the tick, and the last minute as the current demand; a relative path is read from "
        "the config file's folder. For what-ifs and tests."
    )
    column: str = pydantic.Field("requests", description="Column of the trace to read.")


class TargetModel(schema.Strict):
    kind: TargetKind = pydantic.Field(description="hpa | keda | scale | metric")
    namespace: str = pydantic.Field(description="Namespace of the object.")
    name: str = pydantic.Field(description="Name of the object.")
    api_version: str = pydantic.Field(
        "apps/v1",
        description="For kind scale and metric: apiVersion of the scaled object. Default apps/v1.",
    )
    resource_kind: str = pydantic.Field(
        "Deployment",
        description="For kind scale and metric: the scaled object's kind (Deployment, "
        "StatefulSet, LeaderWorkerSet, an operator's CR with /scale). Default Deployment.",
    )


def _source_kind(value: object) -> str:
    """Which source block this is: a `trace:` key makes it a trace, anything else Prometheus
    (so a typo is reported against the one block the user meant, not both)."""
    if isinstance(value, TraceSourceModel):
        return "trace"
    return "trace" if isinstance(value, Mapping) and "trace" in value else "prometheus"


# A Prometheus `source:` block is the Prometheus adapter's own (`actuator.source`): it is kept
# as given here and validated by `source.parse`, laid over the top-level `prometheus:` block.
SourceModel = Annotated[
    Annotated[TraceSourceModel, pydantic.Tag("trace")]
    | Annotated[dict[str, Any], pydantic.Tag("prometheus")],
    pydantic.Discriminator(_source_kind),
]
_SOURCE_TAGS: dict[str, type[pydantic.BaseModel] | None] = {
    "trace": TraceSourceModel,
    "prometheus": None,
}

# The workload model has a field named `spec`, which hides the module inside its class body.
_CapacityType = spec.CapacityType


class WorkloadModel(schema.Strict):
    spec: dict[str, Any] = pydantic.Field(
        description="The planner's workload spec (as in a workload file), validated by it."
    )
    source: SourceModel = pydantic.Field(
        description="Where demand comes from: a Prometheus preset or query, or a CSV trace."
    )
    targets: dict[_CapacityType, TargetModel] = pydantic.Field(
        description="The object holding the floor, per capacity type the spec uses."
    )


class ConfigModel(schema.Strict):
    store: StoreModel = pydantic.Field(default_factory=StoreModel)  # type: ignore[arg-type]
    prometheus: PrometheusModel = pydantic.Field(default_factory=PrometheusModel)  # type: ignore[arg-type]
    kubernetes: KubernetesModel = pydantic.Field(default_factory=KubernetesModel)  # type: ignore[arg-type]
    mode: Mode = pydantic.Field(
        Mode.ADVISORY,
        description="advisory (default: decide, store, export, write nothing) or actuate.",
    )
    dry_run: bool = pydantic.Field(
        False,
        description="In actuate mode, send writes as server-side dry runs (permissions and "
        "admission proven, nothing changed). Default false.",
    )
    schedule: ScheduleModel = pydantic.Field(default_factory=ScheduleModel)  # type: ignore[arg-type]
    retention: RetentionModel = pydantic.Field(default_factory=RetentionModel)  # type: ignore[arg-type]
    http: HttpModel = pydantic.Field(default_factory=HttpModel)  # type: ignore[arg-type]
    leader_election: LeaderElectionModel = pydantic.Field(
        default_factory=LeaderElectionModel  # type: ignore[arg-type]
    )
    log_format: Literal["text", "json"] = pydantic.Field(
        "text", description="text (default) or json (one object per line, for a cluster)."
    )
    pools: dict[str, Any] | None = pydantic.Field(
        None, description="GPU pools as in a workload file: {NAME: {gpus: N}}."
    )
    workloads: list[WorkloadModel] = pydantic.Field(
        default_factory=list, description="The workloads the daemon plans."
    )

    @pydantic.field_validator("store", mode="before")
    @classmethod
    def _store_shorthand(cls, value: object) -> object:
        return {"url": value} if isinstance(value, str) else value


# ----- the frozen result ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    capacity_type: spec.CapacityType
    kind: TargetKind
    namespace: str
    name: str
    api_version: str
    resource_kind: str

    @property
    def ref(self) -> str:
        return f"{self.kind.value}:{self.namespace}/{self.name}"


@dataclass(frozen=True)
class TraceSource:
    path: Path
    column: str


@dataclass(frozen=True)
class Workload:
    spec: spec.WorkloadSpec
    source: TraceSource | source_module.SourceSpec
    targets: tuple[Target, ...]  # one per capacity type of the spec, in the spec's order

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class Schedule:
    tick_s: int
    refit_s: int
    reselect_s: int
    rechoose_s: int
    learn_cold_starts_s: int
    prune_s: int
    history_s: int
    cold_start_window_s: int
    cold_start_min_count: int
    shadow_window_s: int


@dataclass(frozen=True)
class Retention:
    decisions_s: int
    forecasts_s: int
    cold_starts_s: int
    forecast_errors_s: int


@dataclass(frozen=True)
class Prometheus:
    url: str | None
    bearer_token_file: Path | None
    basic_auth_username: str | None
    basic_auth_password_file: Path | None
    ca_file: Path | None
    cert_file: Path | None
    key_file: Path | None
    insecure_skip_verify: bool
    headers: tuple[tuple[str, str], ...]
    timeout_s: int


@dataclass(frozen=True)
class Http:
    listen: str
    port: int
    api_token_file: Path | None


@dataclass(frozen=True)
class LeaderElection:
    enabled: bool
    lease_name: str
    lease_namespace: str | None
    lease_duration_s: int
    renew_deadline_s: int
    retry_period_s: int
    identity: str | None


@dataclass(frozen=True)
class Config:
    store_url: str
    prometheus: Prometheus
    kubeconfig: Path | None
    kube_context: str | None
    mode: Mode
    dry_run: bool
    schedule: Schedule
    retention: Retention
    http: Http
    leader_election: LeaderElection
    log_format: str
    workloads: tuple[Workload, ...]


# ----- loading -------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML says the later wins,
    silently; in a config that is almost always a paste mistake)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[object, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise errors.InputError(
                f"config line {key_node.start_mark.line + 1}: key {key!r} is given twice in "
                f"one mapping (first on line {seen[key] + 1}); keep one of them"
            )
        seen[key] = key_node.start_mark.line
    return dict(loader.construct_mapping(node))


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def read_yaml(path: Path) -> dict[str, Any]:
    """The config file's mapping; InputError naming the file and line for anything else."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise errors.InputError(
            f"config file {path} cannot be read ({exc.strerror}); give the path of an "
            "existing, readable YAML config"
        ) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise errors.InputError(
            f"config file {path} ({len(raw)} bytes) is over {MAX_CONFIG_BYTES} bytes; a config "
            "is a page of YAML, check the file"
        )
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError:
        raise errors.InputError(f"config file {path} is not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise errors.InputError(
            f"config file {path}{where}: invalid YAML ({problem}); fix the syntax there"
        ) from None
    # PyYAML shares an alias's object instead of copying it, so the load above is linear; the
    # blow-up of an alias bomb comes when validation walks it. The strict loader of every YAML
    # file counts the document with its aliases written out and refuses it before that.
    yamldoc.load_all(raw.decode("utf-8"), source=f"config file {path}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise errors.InputError(
            f"config file {path} holds a {type(data).__name__}, not a mapping; write "
            "`store: ...`, `workloads: [...]` at the top level"
        )
    return data


def environment_overrides(
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The `PRESCALE_` variables as a nested mapping (PRESCALE_MODE=actuate -> {mode: actuate},
    PRESCALE_HTTP__PORT=9000 -> {http: {port: "9000"}}), and a problem for each variable that
    names no setting. The only place the environment is read.

    Workloads and pools come from the file only (a list does not map onto variable names).
    """
    env = os.environ if environ is None else environ
    result: dict[str, Any] = {}
    problems: list[str] = []
    settable = _settable_paths()
    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name in ENV_IGNORED:
            continue
        path = tuple(name[len(ENV_PREFIX) :].lower().split(ENV_NESTING))
        if path not in settable:
            known = [_env_name(p) for p in sorted(settable)]
            guess = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {guess[0]}?" if guess else "see prescale check-config --help"
            problems.append(
                f"environment variable {name} names no setting; {hint} (unset it or fix it)"
            )
            continue
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return result, problems


def _settable_paths() -> set[tuple[str, ...]]:
    """Every (group, field) and top-level field a variable may set."""
    paths: set[tuple[str, ...]] = set()
    for name, field in ConfigModel.model_fields.items():
        if name in {"workloads", "pools"}:
            continue
        group = schema.model_of(field.annotation)
        if group is None:
            paths.add((name,))
            continue
        if name == "store":
            paths.add((name,))
        for sub, sub_field in group.model_fields.items():
            if schema.model_of(sub_field.annotation) is None:
                paths.add((name, sub))
    return paths


def _env_name(path: tuple[str, ...]) -> str:
    return ENV_PREFIX + ENV_NESTING.join(path).upper()


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` laid over `base`, mappings merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), str) and key == "store":
            merged[key] = merge({"url": merged[key]}, value)
        else:
            merged[key] = value
    return merged


def load(
    path: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """Defaults, then the YAML file, then `PRESCALE_` variables, then flags; validated once."""
    data = read_yaml(path) if path is not None else {}
    if path is not None:
        data = _relative_to(data, path.parent)
    overrides, problems = environment_overrides(environ)
    data = merge(data, overrides)
    data = merge(data, flags or {})
    try:
        config = validate(data)
    except errors.InputError as exc:
        raise errors.InputError([*problems, *exc.problems]) from None
    if problems:
        raise errors.InputError(problems)
    return config


def _relative_to(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Relative trace paths of the file's sources read from the file's own folder (a mounted
    ConfigMap does not know the daemon's working directory)."""
    workloads = data.get("workloads")
    if not isinstance(workloads, list):
        return data
    fixed = []
    for item in workloads:
        source = item.get("source") if isinstance(item, dict) else None
        if isinstance(source, dict) and isinstance(source.get("trace"), str):
            trace = Path(source["trace"]).expanduser()
            fixed.append({**item, "source": {**source, "trace": str(folder / trace)}})
        else:
            fixed.append(item)
    return {**data, "workloads": fixed}


def validate(data: Mapping[str, Any]) -> Config:
    """Validate merged config data; raise one InputError listing every problem."""
    problems: list[str] = []
    try:
        model = ConfigModel.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        problems.extend(_describe(error) for error in exc.errors())
        model = None
    # The specs are validated even when the rest failed, so one run lists everything.
    raw_workloads = data.get("workloads", MISSING)
    specs = _specs(raw_workloads, data.get("pools"), problems)
    sources: list[TraceSource | source_module.SourceSpec] = []
    if model is not None and specs is not None:
        problems.extend(_target_problems(model, specs))
        sources = _sources(model, problems)
    if problems or model is None or specs is None:
        raise errors.InputError(problems or ["config is invalid; run prescale check-config"])
    return _freeze(model, specs, sources)


def _sources(
    model: ConfigModel, problems: list[str]
) -> list[TraceSource | source_module.SourceSpec]:
    """Each workload's source; a Prometheus block through the Prometheus adapter's parser,
    over the connection of the top-level `prometheus:` block."""
    built: list[TraceSource | source_module.SourceSpec] = []
    defaults = _connection(model.prometheus)
    for index, workload in enumerate(model.workloads):
        given = workload.source
        if isinstance(given, TraceSourceModel):
            if not given.trace.is_file():  # the daemon reads it at start: say so here
                what = "is a directory, not a file" if given.trace.is_dir() else "no such file"
                problems.append(
                    f"workloads[{index}].source.trace ('{given.trace}'): {what} (a relative "
                    "path is read from the config file's folder); set it to an existing CSV "
                    "trace (gzip or plain)"
                )
            built.append(TraceSource(given.trace, given.column))
            continue
        merged = merge(defaults, given)
        try:
            built.append(source_module.parse(merged, where=f"workloads[{index}].source"))
        except errors.InputError as exc:
            problems.extend(exc.problems)
    return built


def _connection(p: PrometheusModel) -> dict[str, Any]:
    """The top-level connection as `source:` keys (a workload's own keys win)."""
    auth: dict[str, Any] = {
        "bearer_token_file": p.bearer_token_file,
        "ca_file": p.ca_file,
        "cert_file": p.cert_file,
        "key_file": p.key_file,
        "insecure": p.insecure_skip_verify,
    }
    if p.basic_auth is not None:
        auth["basic_auth_user"] = p.basic_auth.username
        auth["basic_auth_password_file"] = p.basic_auth.password_file
    connection: dict[str, Any] = {
        "headers": dict(p.headers),
        "timeout": p.timeout,
        "auth": {k: v for k, v in auth.items() if v is not None and v is not False},
    }
    if p.url is not None:
        connection["url"] = p.url
    return connection


def _specs(
    raw_workloads: object, pools: object, problems: list[str]
) -> tuple[spec.WorkloadSpec, ...] | None:
    if raw_workloads is MISSING:
        problems.append(f"workloads is missing; the daemon plans what it lists: add {MINIMAL}")
        return None
    if not isinstance(raw_workloads, list) or not raw_workloads:
        if raw_workloads == []:
            problems.append(f"workloads ([]) is empty; list at least one workload: {MINIMAL}")
        return None  # anything else is not a list, which pydantic named
    items = [w.get("spec") if isinstance(w, Mapping) else None for w in raw_workloads]
    if any(not isinstance(item, Mapping) for item in items):
        return None  # pydantic already named the workload without a spec mapping
    document: dict[str, object] = {"workloads": items}
    if pools is not None:
        document["pools"] = pools
    try:
        return workloads.parse_workloads(document)
    except errors.InputError as exc:
        problems.extend(f"workloads[].spec: {p}" for p in exc.problems)
        return None


def _target_problems(model: ConfigModel, specs: tuple[spec.WorkloadSpec, ...]) -> list[str]:
    problems = []
    for index, (workload, parsed) in enumerate(zip(model.workloads, specs, strict=True)):
        wanted = set(parsed.capacity_types)
        given = set(workload.targets)
        for missing in sorted(wanted - given):
            problems.append(
                f"workloads[{index}].targets.{missing.value} (missing) is required: workload "
                f"{parsed.name} uses capacity type {missing.value}; add "
                f"`{missing.value}: {{kind: hpa, namespace: NS, name: NAME}}`"
            )
        for extra in sorted(given - wanted):
            problems.append(
                f"workloads[{index}].targets.{extra.value} is set but workload {parsed.name} "
                f"does not use capacity type {extra.value} (capacity_types: "
                f"{[t.value for t in parsed.capacity_types]}); remove it or add the type"
            )
    return problems


def _describe(error: Any) -> str:
    """One pydantic error in our words (`schema.describe`), the source union's tag left out."""
    raw_loc = tuple(error["loc"])
    # the source union names its branch after `source`; drop it from the path, keep its model
    branch = None
    loc: tuple[Any, ...] = ()
    for previous, part in zip((None, *raw_loc), raw_loc, strict=False):
        if previous == "source" and part in _SOURCE_TAGS:
            branch = _SOURCE_TAGS[part]
            continue
        if previous == "source" and part == "dict[str,any]":
            continue
        loc = (*loc, part)
    owner = branch if error["type"] == "extra_forbidden" else None
    return schema.describe(error, ConfigModel, loc=loc, owner=owner)


def _freeze(
    model: ConfigModel,
    specs: tuple[spec.WorkloadSpec, ...],
    sources: list[TraceSource | source_module.SourceSpec],
) -> Config:
    s, r, p, h, le = (
        model.schedule,
        model.retention,
        model.prometheus,
        model.http,
        model.leader_election,
    )
    return Config(
        store_url=model.store.url,
        prometheus=Prometheus(
            url=p.url,
            bearer_token_file=p.bearer_token_file,
            basic_auth_username=p.basic_auth.username if p.basic_auth else None,
            basic_auth_password_file=p.basic_auth.password_file if p.basic_auth else None,
            ca_file=p.ca_file,
            cert_file=p.cert_file,
            key_file=p.key_file,
            insecure_skip_verify=p.insecure_skip_verify,
            headers=tuple(sorted(p.headers.items())),
            timeout_s=p.timeout,
        ),
        kubeconfig=None
        if model.kubernetes.kubeconfig is None
        else model.kubernetes.kubeconfig.expanduser(),
        kube_context=model.kubernetes.context,
        mode=model.mode,
        dry_run=model.dry_run,
        schedule=Schedule(
            s.tick,
            s.refit,
            s.reselect,
            s.rechoose,
            s.learn_cold_starts,
            s.prune,
            s.history,
            s.cold_start_window,
            s.cold_start_min_count,
            s.shadow_window,
        ),
        retention=Retention(r.decisions, r.forecasts, r.cold_starts, r.forecast_errors),
        http=Http(h.listen, h.port, h.api_token_file),
        leader_election=LeaderElection(
            le.enabled,
            le.lease_name,
            le.lease_namespace,
            le.lease_duration,
            le.renew_deadline,
            le.retry_period,
            le.identity,
        ),
        log_format=model.log_format,
        workloads=tuple(
            Workload(
                # a gauge history is load already: the planner must know what the source gives
                spec=parsed
                if isinstance(given, TraceSource)
                else dataclasses.replace(parsed, history_unit=given.history_unit),
                source=given,
                targets=_targets(w, parsed),
            )
            for w, parsed, given in zip(model.workloads, specs, sources, strict=True)
        ),
    )


def _targets(workload: WorkloadModel, parsed: spec.WorkloadSpec) -> tuple[Target, ...]:
    return tuple(
        Target(
            capacity_type=t,
            kind=workload.targets[t].kind,
            namespace=workload.targets[t].namespace,
            name=workload.targets[t].name,
            api_version=workload.targets[t].api_version,
            resource_kind=workload.targets[t].resource_kind,
        )
        for t in parsed.capacity_types
    )


def resolved(config: Config) -> dict[str, Any]:
    """The resolved config as plain data for printing: durations in the grammar, no secrets
    (the store's password hidden, header values masked; token and password files are paths)."""
    p = config.prometheus
    s = config.schedule
    return {
        "store": sa.engine.make_url(config.store_url).render_as_string(hide_password=True),
        "prometheus": {
            "url": p.url,
            "bearer_token_file": _text(p.bearer_token_file),
            "basic_auth": None
            if p.basic_auth_username is None
            else {
                "username": p.basic_auth_username,
                "password_file": _text(p.basic_auth_password_file),
            },
            "ca_file": _text(p.ca_file),
            "cert_file": _text(p.cert_file),
            "key_file": _text(p.key_file),
            "insecure_skip_verify": p.insecure_skip_verify,
            "headers": {name: "***" for name, _ in p.headers},
            "timeout": duration.text(p.timeout_s),
        },
        "kubernetes": {"kubeconfig": _text(config.kubeconfig), "context": config.kube_context},
        "mode": config.mode.value,
        "dry_run": config.dry_run,
        "schedule": {
            "tick": duration.text(s.tick_s),
            "refit": duration.text(s.refit_s),
            "reselect": duration.text(s.reselect_s),
            "rechoose": duration.text(s.rechoose_s),
            "learn_cold_starts": duration.text(s.learn_cold_starts_s),
            "prune": duration.text(s.prune_s),
            "history": duration.text(s.history_s),
            "cold_start_window": duration.text(s.cold_start_window_s),
            "cold_start_min_count": s.cold_start_min_count,
            "shadow_window": duration.text(s.shadow_window_s),
        },
        "retention": {
            "decisions": duration.text(config.retention.decisions_s),
            "forecasts": duration.text(config.retention.forecasts_s),
            "cold_starts": duration.text(config.retention.cold_starts_s),
            "forecast_errors": duration.text(config.retention.forecast_errors_s),
        },
        "http": {
            "listen": config.http.listen,
            "port": config.http.port,
            "api_token_file": _text(config.http.api_token_file),
        },
        "leader_election": {
            "enabled": config.leader_election.enabled,
            "lease_name": config.leader_election.lease_name,
            "lease_namespace": config.leader_election.lease_namespace,
            "lease_duration": duration.text(config.leader_election.lease_duration_s),
            "renew_deadline": duration.text(config.leader_election.renew_deadline_s),
            "retry_period": duration.text(config.leader_election.retry_period_s),
            "identity": config.leader_election.identity,
        },
        "log_format": config.log_format,
        "workloads": [
            {
                "name": w.name,
                "capacity_types": [t.value for t in w.spec.capacity_types],
                "lead_time": duration.text(w.spec.lead_time_s),
                "source": _source_text(w.source),
                "targets": {t.capacity_type.value: t.ref for t in w.targets},
            }
            for w in config.workloads
        ],
    }


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _source_text(given: TraceSource | source_module.SourceSpec) -> dict[str, Any]:
    if isinstance(given, TraceSource):
        return {"trace": str(given.path), "column": given.column}
    return {
        "prometheus": given.describe(),
        "step": duration.text(given.step_s),
        "history_unit": given.history_unit.value,
    }
