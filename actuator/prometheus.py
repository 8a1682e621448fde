"""Shell: adapter for Prometheus's HTTP API (range and instant queries), via prometheus-api-client.

`fetch_range` reads one series over a long span: the span is cut into step-aligned chunks under
Prometheus's 11,000-points-per-series limit, each chunk starting one step after the previous one
ends (both ends of a range query are inclusive), fetched concurrently within
`Connection.max_concurrency`, each retried with backoff on 5xx and timeouts and never on 4xx.
`instant` reads the current value. Library and HTTP errors become `kernel.errors` here:
`SourceUnavailableError` when the server cannot answer (down, 5xx, timeouts, an answer that is
not Prometheus JSON), `InputError` when it refuses the request (4xx: a bad query, bad
credentials) or the answer cannot be one workload's demand (no series, several series, +Inf).
No message, log line or repr carries a credential: secrets live in files, re-read on every
request (so a rotated Kubernetes Secret is picked up), and URLs with user:password are refused.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import logging
import math
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import requests
import requests.adapters
import requests.auth
import urllib3.util.retry
from prometheus_api_client import exceptions as api_exceptions
from prometheus_api_client import prometheus_connect

from actuator import presets
from forecaster import series
from kernel import errors

if TYPE_CHECKING:
    from actuator import source as source_module

log = logging.getLogger(__name__)

# Prometheus refuses a range query whose (end - start) / step exceeds 11,000 ("exceeded maximum
# resolution of 11,000 points per timeseries", web/api/v1/api.go). 10,000 leaves a margin.
CHUNK_POINTS = 10_000
# A request larger than this is refused before any HTTP: 2 years at 1 min is 1.05 M points.
# One series of 1 M points is ~30 MB of JSON over 100 chunks; more is a typo in --step or --since.
MAX_POINTS = 1_100_000
# Retried statuses: the server or a proxy in front of it failed. 4xx means the request is wrong
# and would fail again.
RETRY_STATUSES = (500, 502, 503, 504)
# Prometheus ends its JSON with `"warnings":[...]` when it has any (it encodes the status, data,
# then the warnings): look for the key in the tail before parsing a large body a second time.
WARNINGS_TAIL_BYTES = 65_536
# Label sets listed in a "several series" error; the rest are counted.
MAX_LABEL_SETS_SHOWN = 5


@dataclass(frozen=True)
class Connection:
    """How to reach one Prometheus (or Thanos, Mimir, Cortex) query API.

    Secrets are paths, never values: `bearer_token_file` and `basic_auth_password_file` are read
    on every request. `headers` are sent as given (e.g. `X-Scope-OrgID` for a tenant); only
    their names appear in repr, since a user may put a secret in one.
    """

    url: str  # base URL, e.g. http://prometheus.monitoring:9090 (no /api/v1)
    bearer_token_file: Path | None = None
    basic_auth_user: str | None = None
    basic_auth_password_file: Path | None = None
    ca_file: Path | None = None  # PEM bundle verifying the server; None = system CAs
    cert_file: Path | None = None  # client certificate (PEM) for mutual TLS
    key_file: Path | None = None  # its key; None when cert_file holds both
    insecure: bool = False  # skip TLS verification (logged as a warning on every fetch)
    headers: tuple[tuple[str, str], ...] = ()
    timeout_s: float = 30.0  # per HTTP request (one chunk)
    max_concurrency: int = 4  # chunks in flight at once
    retries: int = 3  # per chunk, on 5xx, connection errors and timeouts
    backoff_s: float = 0.5  # urllib3 backoff factor: waits 0.5, 1, 2 ... s between retries

    def __post_init__(self) -> None:
        problems = check(self)
        if problems:
            raise errors.InputError(problems)

    def __repr__(self) -> str:
        files = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name.endswith("_file") and getattr(self, f.name) is not None
        }
        shown = ", ".join(f"{k}={str(v)!r}" for k, v in files.items())
        names = ",".join(name for name, _ in self.headers)
        return (
            f"Connection(url={self.url!r}{', ' if shown else ''}{shown}, "
            f"basic_auth_user={'set' if self.basic_auth_user else None}, "
            f"insecure={self.insecure}, headers=[{names}], timeout_s={self.timeout_s}, "
            f"max_concurrency={self.max_concurrency}, retries={self.retries})"
        )


def check(conn: Connection) -> list[str]:
    """Every problem with a connection's settings (empty when it is usable)."""
    problems: list[str] = []
    parts = urllib.parse.urlsplit(conn.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(
            f"prometheus url ({safe_url(conn.url)!r}) is not an http(s) URL with a host; "
            "write it like http://prometheus.monitoring:9090"
        )
    if parts.username is not None or parts.password is not None:
        problems.append(
            "prometheus url carries a user or password; put the user in basic_auth_user "
            "(--basic-auth-user) and the password in a file (--basic-auth-password-file)"
        )
    if conn.bearer_token_file is not None and conn.basic_auth_user is not None:
        problems.append(
            "prometheus auth: both a bearer token file and basic auth are set; keep one"
        )
    if (conn.basic_auth_user is None) != (conn.basic_auth_password_file is None):
        problems.append(
            "prometheus basic auth needs both basic_auth_user and basic_auth_password_file; "
            "set both or neither"
        )
    if conn.key_file is not None and conn.cert_file is None:
        problems.append("prometheus key_file is set without cert_file; pass the client cert too")
    if conn.insecure and conn.ca_file is not None:
        problems.append("prometheus insecure is set with a ca_file; drop one (insecure ignores it)")
    if not conn.timeout_s > 0 or not math.isfinite(conn.timeout_s):
        problems.append(f"prometheus timeout_s ({conn.timeout_s}) must be positive, e.g. 30")
    if conn.max_concurrency < 1:
        problems.append(f"prometheus max_concurrency ({conn.max_concurrency}) must be >= 1")
    if conn.retries < 0:
        problems.append(f"prometheus retries ({conn.retries}) must be >= 0")
    if conn.backoff_s < 0:
        problems.append(f"prometheus backoff_s ({conn.backoff_s}) must be >= 0")
    for name, _ in conn.headers:
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
            problems.append(f"prometheus header name {name!r} is not a valid HTTP header name")
    return problems


def safe_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class RangeResult:
    """One series over a range: NaN where Prometheus had no value (a gap, a stale series)."""

    values: pd.Series  # float, UTC DatetimeIndex with freq = step, start..end inclusive
    labels: Mapping[str, str]  # the series' label set ({} for a plain sum)
    warnings: tuple[str, ...]  # Prometheus warnings and failed chunks, for the caller to report
    partial: bool  # a chunk failed after its retries, or Prometheus warned: not the whole truth


@dataclass(frozen=True)
class Chunk:
    """One range request: evaluation times start_s, start_s + step_s, ..., end_s."""

    start_s: int
    end_s: int


def chunks(start_s: int, end_s: int, step_s: int, points: int = CHUNK_POINTS) -> tuple[Chunk, ...]:
    """Step-aligned chunks of at most `points` evaluations covering [start_s, end_s].

    Ends are aligned to multiples of the step (start rounded up, end down), so every chunk
    evaluates at the same wall-clock times whatever the request's bounds. 4 weeks at 60 s is
    40,321 points: chunks of 10,000, 10,000, 10,000, 10,000 and 321.
    """
    first = -(-start_s // step_s) * step_s
    last = end_s // step_s * step_s
    out: list[Chunk] = []
    at = first
    while at <= last:
        stop = min(at + (points - 1) * step_s, last)
        out.append(Chunk(at, stop))
        at = stop + step_s
    return tuple(out)


def _check_range(query: str, start: pd.Timestamp, end: pd.Timestamp, step_s: int) -> None:
    if step_s <= 0:
        raise errors.InputError(f"step ({step_s} s) must be a positive duration, e.g. 1m")
    if end < start:
        raise errors.InputError(
            f"range of query {query!r} ends ({end.isoformat()}) before it starts "
            f"({start.isoformat()}); pass --since before --until"
        )
    points = int((end - start).total_seconds()) // step_s + 1
    if points > MAX_POINTS:
        raise errors.InputError(
            f"query {query!r} over {start.isoformat()} .. {end.isoformat()} at a {step_s} s step "
            f"asks for {points:,} points per series; the limit is {MAX_POINTS:,}; raise --step "
            "or shorten --since"
        )


class _FileBearer(requests.auth.AuthBase):
    """Bearer token read from a file on every request (a mounted Secret may rotate)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {_read_secret(self.path, 'bearer token')}"
        return request


class _FileBasic(requests.auth.AuthBase):
    """Basic auth whose password is read from a file on every request."""

    def __init__(self, user: str, path: Path) -> None:
        self.user = user
        self.path = path

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        password = _read_secret(self.path, "basic auth password")
        result: requests.PreparedRequest = requests.auth.HTTPBasicAuth(self.user, password)(request)
        return result


def _read_secret(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InputError(
            f"prometheus {what} file {path} cannot be read ({type(exc).__name__}); "
            "mount the Secret there or fix the path"
        ) from None
    if not text:
        raise errors.InputError(f"prometheus {what} file {path} is empty; write the secret in it")
    return text


# The response each thread saw last: the library returns only `data.result` and raises on a
# bad status without the body, so the body's `error` and `warnings` are read from here.
_last = threading.local()


def _remember(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    _last.response = response
    return response


def client(conn: Connection) -> prometheus_connect.PrometheusConnect:
    """A prometheus-api-client connection configured from `conn` (one per fetch)."""
    if conn.insecure:
        log.warning("prometheus %s: TLS verification is off (insecure)", safe_url(conn.url))
    session = requests.Session()
    session.verify = False if conn.insecure else (str(conn.ca_file) if conn.ca_file else True)
    if conn.cert_file is not None:
        session.cert = (
            (str(conn.cert_file), str(conn.key_file)) if conn.key_file else str(conn.cert_file)
        )
    session.hooks["response"].append(_remember)
    retry = urllib3.util.retry.Retry(
        total=conn.retries,
        backoff_factor=conn.backoff_s,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
    )
    auth: requests.auth.AuthBase | None = None
    if conn.bearer_token_file is not None:
        auth = _FileBearer(conn.bearer_token_file)
    elif conn.basic_auth_user is not None and conn.basic_auth_password_file is not None:
        auth = _FileBasic(conn.basic_auth_user, conn.basic_auth_password_file)
    connected = prometheus_connect.PrometheusConnect(
        url=conn.url.rstrip("/"),
        headers=dict(conn.headers) or None,  # type: ignore[arg-type]  # hinted dict; None is its default
        retry=retry,
        auth=auth,  # type: ignore[arg-type]  # the library's hint says tuple; requests takes AuthBase
        session=session,
        timeout=conn.timeout_s,  # type: ignore[arg-type]  # hinted int; requests takes a float
    )
    # The library mounts an adapter with a pool of 10 connections; size it to the concurrency.
    session.mount(
        conn.url.rstrip("/"),
        requests.adapters.HTTPAdapter(max_retries=retry, pool_maxsize=conn.max_concurrency),
    )
    return connected


def _body_error(response: requests.Response | None) -> str:
    """Prometheus's `error` text from a JSON error body, or a short note on what came back."""
    if response is None:
        return "no response body"
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "unknown type")
        return f"a {len(response.content)}-byte {kind} body, not Prometheus JSON"
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        kind = body.get("errorType", "error")
        return f"{kind}: {body['error'][:500]}"
    return "a JSON body without an error field"


def _translate(exc: Exception, conn: Connection, query: str) -> errors.PrescaleError:
    """A library, HTTP or JSON failure as ours, with no credential and no URL userinfo."""
    where = f"prometheus {safe_url(conn.url)}"
    response: requests.Response | None = getattr(_last, "response", None)
    if isinstance(exc, api_exceptions.PrometheusApiClientException):
        match = re.search(r"HTTP Status Code (\d+)", str(exc))
        status = int(match.group(1)) if match else 0
        detail = _body_error(response)
        if status in (401, 403):
            return errors.InputError(
                f"{where} refused the credentials (HTTP {status}: {detail}); check the bearer "
                "token file or basic auth user and password file"
            )
        if 400 <= status < 500:
            return errors.InputError(
                f"{where} refused query {query!r} (HTTP {status}: {detail}); fix the query or "
                "the selector"
            )
        return errors.SourceUnavailableError(
            f"{where} answered HTTP {status} ({detail}); check the server, or try again later"
        )
    if isinstance(exc, requests.exceptions.RetryError):
        return errors.SourceUnavailableError(
            f"{where} kept failing (HTTP 5xx) after {conn.retries} retries; try again later"
        )
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc).lower():
        return errors.SourceUnavailableError(
            f"{where} did not answer within {conn.timeout_s} s after {conn.retries} retries; "
            "raise timeout_s or narrow the query"
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return errors.SourceUnavailableError(
            f"{where}: TLS handshake failed ({type(exc).__name__}); check ca_file and the "
            "client certificate"
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return errors.SourceUnavailableError(
            f"{where} cannot be reached after {conn.retries} retries (connection failed); "
            "check the URL and that the server is up"
        )
    if isinstance(exc, ValueError):  # JSONDecodeError: an HTML page, a truncated body
        return errors.SourceUnavailableError(
            f"{where} answered {_body_error(response)}; check that the URL is Prometheus's own "
            "(not a login page or a proxy's error page), or try again"
        )
    if isinstance(exc, requests.exceptions.RequestException):
        return errors.SourceUnavailableError(
            f"{where}: the answer broke off ({type(exc).__name__}); try again"
        )
    if isinstance(exc, KeyError | TypeError | IndexError):
        return errors.SourceUnavailableError(
            f"{where} answered JSON that is not a query result ({_body_error(response)}); "
            "check that the URL is a Prometheus API, or try again"
        )
    raise exc


def _response_warnings() -> tuple[str, ...]:
    response: requests.Response | None = getattr(_last, "response", None)
    if response is None or b'"warnings"' not in response.content[-WARNINGS_TAIL_BYTES:]:
        return ()
    try:
        found = json.loads(response.content).get("warnings") or []
    except ValueError:
        return ()
    return tuple(str(w) for w in found)


@dataclass(frozen=True)
class _ChunkAnswer:
    series: tuple[tuple[Mapping[str, str], np.ndarray, np.ndarray], ...]  # labels, times, values
    warnings: tuple[str, ...]


def _fetch_chunk(
    connected: prometheus_connect.PrometheusConnect,
    conn: Connection,
    query: str,
    chunk: Chunk,
    step_s: int,
) -> _ChunkAnswer:
    for attempt in range(conn.retries + 1):
        _last.response = None
        try:
            result = connected.custom_query_range(
                query,
                start_time=pd.Timestamp(chunk.start_s, unit="s", tz="UTC").to_pydatetime(),
                end_time=pd.Timestamp(chunk.end_s, unit="s", tz="UTC").to_pydatetime(),
                step=str(step_s),
            )
            parsed = tuple(_parse_matrix(result))
        except errors.PrescaleError:
            raise
        except requests.exceptions.ChunkedEncodingError as exc:
            # urllib3 retries statuses and connects, not a body that breaks off mid-read.
            if attempt == conn.retries:
                raise _translate(exc, conn, query) from None
            time.sleep(conn.backoff_s * 2**attempt)
        except Exception as exc:
            raise _translate(exc, conn, query) from None
        else:
            return _ChunkAnswer(parsed, _response_warnings())
    raise errors.SourceUnavailableError(f"prometheus {safe_url(conn.url)}: no attempt made")


def _parse_matrix(result: Any) -> Iterator[tuple[Mapping[str, str], np.ndarray, np.ndarray]]:
    for item in result:
        pairs = item["values"]
        times = np.fromiter((p[0] for p in pairs), dtype=float, count=len(pairs))
        values = np.array([p[1] for p in pairs], dtype=str).astype(float)
        yield dict(item["metric"]), times, values


def _label_text(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _one_series(query: str, label_sets: Sequence[Mapping[str, str]]) -> Mapping[str, str]:
    distinct = {tuple(sorted(s.items())): s for s in label_sets}
    if not distinct:
        raise errors.InputError(
            f"query {query!r} returned no series over the requested range; check the metric "
            "name and the selector (labels and values) against the server"
        )
    if len(distinct) > 1:
        shown = ", ".join(_label_text(s) for s in list(distinct.values())[:MAX_LABEL_SETS_SHOWN])
        more = len(distinct) - MAX_LABEL_SETS_SHOWN
        raise errors.InputError(
            f"query {query!r} returned {len(distinct)} series ({shown}"
            f"{f' and {more} more' if more > 0 else ''}); one workload needs one series: "
            "narrow the selector or aggregate with sum by (...)"
        )
    return next(iter(distinct.values()))


def _refuse_infinite(query: str, values: pd.Series) -> None:
    # +Inf usually comes from a division by a zero rate; planning for infinite demand means
    # max_replicas forever, and dropping it would hide a broken query. Refuse it, loudly.
    infinite = values.index[np.isinf(values.to_numpy())]
    if len(infinite):
        raise errors.InputError(
            f"query {query!r} returned {len(infinite)} infinite value(s), first at "
            f"{infinite[0].isoformat()}; demand must be finite: guard a division with "
            "`> 0` on its denominator or clamp_max(...)"
        )


def fetch_range(
    conn: Connection, query: str, start: pd.Timestamp, end: pd.Timestamp, step_s: int
) -> RangeResult:
    """The query's one series at every step in [start, end] (aligned to the step), NaN where absent.

    NaN values from Prometheus (e.g. 0/0) stay NaN. +Inf is an InputError (see
    `_refuse_infinite`). When some chunks fail after their retries the rest is returned with
    `partial=True` and a warning per failed chunk; when all fail, SourceUnavailableError.
    """
    start, end = _utc(start), _utc(end)
    _check_range(query, start, end, step_s)
    plan = chunks(int(start.timestamp()), int(end.timestamp()), step_s)
    if not plan:
        raise errors.InputError(
            f"range {start.isoformat()} .. {end.isoformat()} holds no {step_s} s step boundary; "
            "widen it"
        )
    index = pd.date_range(
        pd.Timestamp(plan[0].start_s, unit="s", tz="UTC"),
        pd.Timestamp(plan[-1].end_s, unit="s", tz="UTC"),
        freq=f"{step_s}s",
    )
    connected = client(conn)
    answers: dict[Chunk, _ChunkAnswer] = {}
    failures: dict[Chunk, errors.SourceUnavailableError] = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=min(conn.max_concurrency, len(plan)), thread_name_prefix="prometheus"
        ) as pool:
            futures = {
                pool.submit(_fetch_chunk, connected, conn, query, c, step_s): c for c in plan
            }
            for future in concurrent.futures.as_completed(futures):
                chunk = futures[future]
                try:
                    answers[chunk] = future.result()
                except errors.SourceUnavailableError as exc:
                    failures[chunk] = exc
                except errors.InputError:
                    for other in futures:
                        other.cancel()
                    raise
    finally:
        connected.close()
    if not answers:
        first = failures[plan[0]] if plan[0] in failures else next(iter(failures.values()))
        raise errors.SourceUnavailableError(f"{first} (all {len(plan)} chunks failed)")
    labels = _one_series(query, [s[0] for a in answers.values() for s in a.series])
    values = np.full(len(index), np.nan)
    origin = plan[0].start_s
    for answer in answers.values():
        for _, times, chunk_values in answer.series:
            positions = np.rint((times - origin) / step_s).astype(np.int64)
            keep = (positions >= 0) & (positions < len(values))
            values[positions[keep]] = chunk_values[keep]
    series = pd.Series(values, index=index, dtype=float)
    _refuse_infinite(query, series)
    warnings = [w for c in plan if c in answers for w in answers[c].warnings]
    for chunk in plan:
        if chunk in failures:
            warnings.append(
                f"chunk {_stamp(chunk.start_s)} .. {_stamp(chunk.end_s)} missing: {failures[chunk]}"
            )
    result = RangeResult(series, labels, tuple(warnings), partial=bool(warnings))
    if result.partial:
        log.warning(
            "prometheus %s: partial result for %r: %s",
            safe_url(conn.url),
            query,
            "; ".join(warnings),
        )
    return result


def instant(conn: Connection, query: str, at: pd.Timestamp) -> float | None:
    """The query's value at `at` (the daemon's current demand); None when there is none (no series,
    or NaN). Several series is an InputError, +Inf too; an outage is SourceUnavailableError."""
    connected = client(conn)
    _last.response = None
    try:
        result = connected.custom_query(query, params={"time": f"{_utc(at).timestamp():.3f}"})
        items = [(dict(item["metric"]), float(item["value"][1])) for item in result]
    except errors.PrescaleError:
        raise
    except Exception as exc:
        raise _translate(exc, conn, query) from None
    finally:
        connected.close()
    if not items:
        return None
    _one_series(query, [labels for labels, _ in items])
    value = items[0][1]
    if math.isinf(value):
        raise errors.InputError(
            f"query {query!r} is infinite at {_utc(at).isoformat()}; demand must be finite: "
            "guard a division with `> 0` on its denominator or clamp_max(...)"
        )
    return None if math.isnan(value) else value


def _utc(at: pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(at)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def _stamp(seconds: int) -> str:
    return pd.Timestamp(seconds, unit="s", tz="UTC").isoformat()


def load_trace(
    source: source_module.SourceSpec,
    since: pd.Timestamp,
    until: pd.Timestamp,
    *,
    strict: bool = False,
) -> series.Trace:
    """The history of intervals starting in [since, until) as the Trace a CSV gives.

    A partial range (Prometheus warnings, a failed chunk) is logged and used, as a one-off
    command may; with `strict` (the daemon) it is a SourceUnavailableError instead, so the plan
    in force stays rather than one planned on a hole.

    A counter rate is evaluated at each interval's end and labelled with its start (the CSV
    convention: a row holds the requests of [t, t + step)); requests per second times the step
    are arrivals per interval. A gauge is labelled with its own evaluation time. Companion
    token counters (prompt, completion), where the preset has them, become the per-interval
    token sums a CSV's token columns hold; a server without them leaves them out.
    """
    step_s = source.step_s
    since, until = _utc(since), _utc(until)
    queries = source.queries
    counter = queries.kind is presets.Kind.COUNTER
    shift = pd.Timedelta(seconds=step_s if counter else 0)
    first, last = since + shift, until + shift - pd.Timedelta(seconds=step_s)
    main = fetch_range(source.connection, queries.main, first, last, step_s)
    if main.partial and strict:
        raise errors.PartialHistoryError(
            f"history from {source.describe()} is partial ({'; '.join(main.warnings)}); "
            "the plan in force stays until a complete range can be read"
        )
    if main.partial:
        log.warning("history from %s is partial: %s", source.describe(), "; ".join(main.warnings))
    scale = float(step_s) if queries.unit is presets.SourceUnit.REQUESTS_PER_S else 1.0
    values = _relabel(main.values * scale, shift, step_s)
    tokens = {
        name: _companion(source, query, first, last, shift) if query else None
        for name, query in (
            ("prompt_tokens", queries.prompt_tokens),
            ("completion_tokens", queries.completion_tokens),
        )
    }
    column = "requests" if queries.unit is presets.SourceUnit.REQUESTS_PER_S else queries.unit.value
    return series.Trace(
        values=values,
        interval_s=step_s,
        column=column,
        prompt_tokens=tokens["prompt_tokens"],
        completion_tokens=tokens["completion_tokens"],
    )


def _relabel(values: pd.Series, shift: pd.Timedelta, step_s: int) -> pd.Series:
    index = pd.date_range(values.index[0] - shift, periods=len(values), freq=f"{step_s}s")
    return pd.Series(values.to_numpy(dtype=float), index=index, dtype=float)


def _companion(
    source: source_module.SourceSpec,
    query: str,
    first: pd.Timestamp,
    last: pd.Timestamp,
    shift: pd.Timedelta,
) -> pd.Series | None:
    try:
        found = fetch_range(source.connection, query, first, last, source.step_s)
    except errors.InputError as exc:
        log.info("token counter %r not used: %s", query, exc)
        return None
    return _relabel(found.values * float(source.step_s), shift, source.step_s)
