"""Test support: a fault-injecting proxy at the wire, in front of the real kube-apiserver.

It listens on plain HTTP on 127.0.0.1 and forwards every request to the API server over TLS
(verified against the cluster CA). A test queues `Fault`s; the first request matching a fault's
method and path gets it instead of (or before) the real answer: a canned status such as 429 with
Retry-After or 503, a delay past the client's timeout, or an action run against the real server
first (another writer's change, a deletion), so the answer that comes back is the server's own.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import urllib3

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Fault:
    """One injected fault: applies to the next `times` requests matching method and path."""

    method: str
    path_contains: str
    status: int | None = None  # answer with this status instead of forwarding
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # hold the request this long before answering
    before: Callable[[], None] | None = None  # run against the real server, then forward
    times: int = 1


@dataclass
class Proxy:
    url: str
    faults: list[Fault]
    seen: list[tuple[str, str]]  # (method, path) of every request, in order
    lock: threading.Lock

    def inject(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def kubeconfig(self, path: Path, token: str) -> Path:
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f'clusters: [{{name: proxy, cluster: {{server: "{self.url}"}}}}]\n'
            f'users: [{{name: admin, user: {{token: "{token}"}}}}]\n'
            "contexts: [{name: proxy, context: {cluster: proxy, user: admin}}]\n"
            "current-context: proxy\n"
        )
        return path


@contextlib.contextmanager
def running(api_url: str, ca_file: Path) -> Iterator[Proxy]:
    upstream = urllib3.PoolManager(ca_certs=str(ca_file), cert_reqs="CERT_REQUIRED")
    state = Proxy(url="", faults=[], seen=[], lock=threading.Lock())

    def take(method: str, path: str) -> Fault | None:
        with state.lock:
            state.seen.append((method, path))
            for fault in state.faults:
                if fault.method == method and fault.path_contains in path and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            fault = take(self.command, self.path)
            if fault is not None:
                if fault.delay_s:
                    # The fault is slowness itself: the client's timeout must fire.
                    time.sleep(fault.delay_s)
                if fault.before is not None:
                    fault.before()
                if fault.status is not None:
                    payload = b'{"kind":"Status","apiVersion":"v1","message":"injected fault"}'
                    self.send_response(fault.status)
                    for key, value in fault.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
            answer = upstream.request(
                self.command, api_url + self.path, body=body, headers=headers, retries=False
            )
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                if key.lower() not in _HOP_HEADERS:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.data)))
            self.end_headers()
            self.wfile.write(answer.data)

        do_GET = do_PATCH = do_PUT = do_POST = do_DELETE = _relay  # noqa: N815

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval: shutdown() waits up to one interval.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
