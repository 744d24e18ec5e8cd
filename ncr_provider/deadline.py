"""A call's deadline that holds while a socket is blocked.

Socket timeouts bound each `recv`, not a whole answer: a server that sends one byte of its
headers or body just inside every read timeout keeps a call waiting forever. So each call
is watched: the one `SocketReaper` thread shuts down the socket of a call still running at
its deadline (or of a client being closed, as on Ctrl-C), and the blocked read returns at once.

The socket is found through the connection pool: `WatchedHTTPAdapter`'s pools and connections
note, for the calling thread's watch, the socket of the connection the attempt took or opened.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Watch:
    """One call being watched: its deadline, the connection its current attempt uses, and whether it was cut."""

    __slots__ = ("stop_at", "sock", "expired", "active")

    def __init__(self, stop_at: float):
        self.stop_at = stop_at
        self.sock: socket.socket | None = None
        """The socket the current attempt uses; kept here because http.client drops the connection's
        reference to it once the headers say `Connection: close`, while the body is still being read."""
        self.expired = False
        self.active = True


class SocketReaper:
    """One daemon thread for the whole process: it cuts the sockets of watched calls at their deadlines."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def watch(self, stop_at: float) -> Iterator[Watch]:
        """Watch the calling thread's requests until `stop_at` (time.monotonic())."""
        watch = Watch(stop_at)
        with self._cond:
            heapq.heappush(self._heap, (stop_at, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ncr-deadline", daemon=True)
                self._thread.start()
            if self._heap[0][2] is watch:  # only an earlier deadline changes how long the thread sleeps
                self._cond.notify()
        previous = getattr(_current, "watch", None)
        _current.watch = watch
        try:
            yield watch
        finally:
            _current.watch = previous
            with self._cond:
                watch.active = False
                watch.sock = None

    def expire(self, watch: Watch) -> None:
        """Cut the watched call now (a client being closed)."""
        with self._cond:
            self._expire(watch)

    def _expire(self, watch: Watch) -> None:
        if not watch.active or watch.expired:
            return
        watch.expired = True
        _cut(watch.sock)

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and not self._heap[0][2].active:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                self._expire(heapq.heappop(self._heap)[2])


REAPER = SocketReaper()


def _cut(sock: socket.socket | None) -> None:
    if sock is not None:
        try:
            # The plain socket's shutdown, also under TLS: SSLSocket.shutdown would drop the SSL object
            # that the blocked reader is using. The reader sees end-of-file and returns.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


def _note_socket(sock: socket.socket | None) -> None:
    """Tell the calling thread's watch which socket its attempt uses (a kept-alive one, or one just opened)."""
    watch = getattr(_current, "watch", None)
    if watch is None or sock is None:
        return
    with REAPER._cond:
        watch.sock = sock
        if watch.expired:  # cut before this socket was known: do not let the attempt start on it
            _cut(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _note_socket(self.sock)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _note_socket(self.sock)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _note_socket(getattr(conn, "sock", None))  # a kept-alive connection; a new one reports on connect
        return conn


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _note_socket(getattr(conn, "sock", None))
        return conn


WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedHTTPAdapter(HTTPAdapter):
    """requests' adapter whose pools tell the calling thread's watch which connection an attempt uses."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = WATCHED_POOLS
        return manager
