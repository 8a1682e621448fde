"""Test part: a TCP proxy in front of a real server (PostgreSQL) that can cut the line.

    proxy = tcp_proxy.start(("127.0.0.1", upstream_port))   # listens on a free 127.0.0.1 port
    proxy.cut()        # every open connection is reset, new ones are refused: the server is gone
    proxy.restore()    # new connections reach the server again
    proxy.stop()

Bytes pass through unchanged; a cut closes both sides of every pair at once, so the client sees
what a stopped server or a broken network gives it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

CHUNK_BYTES = 65_536


@dataclass
class Proxy:
    port: int
    upstream: tuple[str, int]
    listener: socket.socket
    open: list[socket.socket] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cutting: threading.Event = field(default_factory=threading.Event)
    stopped: threading.Event = field(default_factory=threading.Event)

    def cut(self) -> None:
        self.cutting.set()
        with self.lock:
            for sock in self.open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.open.clear()

    def restore(self) -> None:
        self.cutting.clear()

    def stop(self) -> None:
        self.stopped.set()
        self.cut()
        self.listener.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(CHUNK_BYTES):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _serve(proxy: Proxy) -> None:
    while not proxy.stopped.is_set():
        try:
            client, _ = proxy.listener.accept()
        except OSError:
            return
        if proxy.cutting.is_set():
            client.close()  # the server is "down": the connection ends at once
            continue
        try:
            upstream = socket.create_connection(proxy.upstream, timeout=5)
        except OSError:
            client.close()
            continue
        upstream.settimeout(None)
        with proxy.lock:
            proxy.open.extend((client, upstream))
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def start(upstream: tuple[str, int]) -> Proxy:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    proxy = Proxy(port=listener.getsockname()[1], upstream=upstream, listener=listener)
    threading.Thread(target=_serve, args=(proxy,), daemon=True).start()
    return proxy
