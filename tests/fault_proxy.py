"""Test part: an HTTP proxy in front of a real server that injects faults at the wire.

    proxy = fault_proxy.start(upstream_url)          # http://127.0.0.1:PORT, threaded
    proxy.faults = [fault_proxy.Fault.STATUS_503]    # one fault per request, in order; then pass
    ... proxy.requests ...                           # every request seen: path, query, headers
    proxy.stop()

Faults: a 503 with Prometheus's error JSON, a 502 HTML page, a 200 HTML page, a body cut in
half (valid length, broken JSON), a body that ends before its Content-Length, a 200 with
`status: error`, an answer with `warnings`, the real answer with every value NaN, and a hang
(held until the client gives up; released at stop, never a sleep). `start(..., port=P)` binds a
given port, so a test can stop a proxy (Prometheus down: connection refused) and start it again
where the client expects it.
"""

from __future__ import annotations

import enum
import http.server
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

# A sample in a Prometheus answer: [<unix time>, "<value>"].
SAMPLE = re.compile(rb'\[(\s*[0-9.]+\s*),\s*"[^"]*"\]')

# Not forwarded: hop-by-hop headers, and Accept-Encoding so that the body the proxy cuts is
# plain JSON.
HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "host",
    "content-length",
    "accept-encoding",
}


class Fault(enum.StrEnum):
    STATUS_503 = "status_503"
    HTML_502 = "html_502"
    HTML_200 = "html_200"
    TRUNCATED_JSON = "truncated_json"
    SHORT_BODY = "short_body"
    STATUS_ERROR_200 = "status_error_200"
    HANG = "hang"
    WARNINGS = "warnings"  # the real answer with Prometheus-style `warnings` appended
    NAN_VALUES = "nan_values"  # the real answer with every sample's value "NaN" (e.g. 0/0)


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Proxy:
    url: str
    upstream: str
    server: http.server.ThreadingHTTPServer
    faults: list[Fault] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self) -> Fault | None:
        with self.lock:
            return self.faults.pop(0) if self.faults else None

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _handler(proxy_ref: list[Proxy]) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            return

        def _send(self, status: int, body: bytes, content_type: str, length: int | None = None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            proxy = proxy_ref[0]
            parts = urllib.parse.urlsplit(self.path)
            with proxy.lock:
                proxy.requests.append(
                    Seen(parts.path, urllib.parse.parse_qs(parts.query), dict(self.headers))
                )
            fault = proxy.next_fault()
            if fault is Fault.HANG:
                proxy.release.wait(30)
                self.close_connection = True
                return
            if fault is Fault.STATUS_503:
                body = b'{"status":"error","errorType":"unavailable","error":"overloaded"}'
                return self._send(503, body, "application/json")
            if fault is Fault.HTML_502:
                return self._send(502, b"<html><body>Bad Gateway</body></html>", "text/html")
            if fault is Fault.HTML_200:
                return self._send(200, b"<html><body>Sign in</body></html>", "text/html")
            if fault is Fault.STATUS_ERROR_200:
                body = b'{"status":"error","errorType":"internal","error":"boom"}'
                return self._send(200, body, "application/json")
            status, headers, body = self._forward()
            if fault is Fault.TRUNCATED_JSON:
                return self._send(status, body[: len(body) // 2], "application/json")
            if fault is Fault.WARNINGS:
                warned = body.rstrip()[:-1] + b',"warnings":["results truncated: a store is down"]}'
                return self._send(status, warned, "application/json")
            if fault is Fault.NAN_VALUES:
                return self._send(status, SAMPLE.sub(rb'[\1,"NaN"]', body), "application/json")
            if fault is Fault.SHORT_BODY:
                self.close_connection = True
                return self._send(status, body[: len(body) // 2], "application/json", len(body))
            self._send(status, body, headers.get("Content-Type", "application/json"))

        def _forward(self) -> tuple[int, dict[str, str], bytes]:
            proxy = proxy_ref[0]
            request = urllib.request.Request(
                proxy.upstream + self.path,
                headers={k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, dict(response.headers), response.read()
            except urllib.error.HTTPError as exc:
                return exc.code, dict(exc.headers), exc.read()

    return Handler


def start(upstream: str, port: int = 0) -> Proxy:
    """A proxy on 127.0.0.1 (a free port, or `port`) forwarding to `upstream` (faults empty:
    pass-through)."""
    ref: list[Proxy] = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(ref))
    server.daemon_threads = True
    proxy = Proxy(url=f"http://127.0.0.1:{server.server_port}", upstream=upstream, server=server)
    ref.append(proxy)
    # A short poll so that stop() returns promptly (the default is 0.5 s per proxy).
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    return proxy
