"""NcrEmulator: a threaded local NCR API server, strict about NCP's signature, with scripted faults."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from typing import Any
from urllib.parse import unquote

from ..terminal import strip_control
from .arguments import add_arguments
from .models import ApiException, NcrBackend, epoch_ms
from .responses import JSON_CONTENT_TYPE, NcrResponses, Response, encode_json, error_response, parse_query
from .signature import ACCESS_KEY, SIGNATURE, TIMESTAMP, shown_key

DEFAULT_DATA = Path(__file__).with_name("data") / "default.json"
FAULT_KINDS = ("drop", "delay", "truncate", "trickle", "trickle-body")
_MAX_REQUEST_BODY = 1 << 20
_STOP_TIMEOUT = 1.0
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator received it, and the status it answered (None: dropped)."""

    method: str
    raw_path: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    timestamp: str | None
    signature: str | None
    access_key: str | None
    status: int | None
    connection_id: int


@dataclass(frozen=True)
class _Canned:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Fault:
    kind: str
    seconds: float = 0.0
    then: _Canned | _Fault | None = None
    response: _Canned | None = None


class NcrEmulator:
    """A local NAVER Cloud Container Registry API for development and tests (see the package docstring)."""

    def __init__(self, access_key: str | None = None, secret_key: str | None = None,
                 data: str | os.PathLike[str] | Mapping[str, Any] | None = None,
                 host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None):
        # NCP access keys are 20 upper-case alphanumerics and secret keys 40: generated ones look alike.
        self._access_key = _check_key("access key", access_key) or "EMU" + secrets.token_hex(9).upper()[:17]
        self._secret_key = _check_key("secret key", secret_key) or secrets.token_hex(20)
        self.host = host
        self.port = port
        self.tls = tls  # a server-side SSLContext serves https://, for testing TLS verification
        self.latency = 0.0
        self.log_requests = False  # `-v`: each request's method, path and status to stderr; never headers (keys)
        self.clock_offset_ms = 0
        self._backend = NcrBackend()
        self._backend.load(_read_data(data))
        self._responses = NcrResponses(self._backend, {self._access_key: self._secret_key}, self.now_ms)
        self._lock = threading.Lock()
        self._queue: deque[_Canned | _Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._connections = 0
        self._trickled = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **options: Any) -> NcrEmulator:
        """An emulator seeded from a JSON data file (format: see `models`)."""
        return cls(data=path, **options)

    # -- identity and clock --

    @property
    def access_key(self) -> str:
        return self._access_key

    @property
    def secret_key(self) -> str:
        return self._secret_key

    def stack_config(self, **extra: str) -> dict[str, str]:
        """The Pulumi stack config that points ncr_provider at this emulator with its keys (plus `extra` keys),
        as `pulumi config set` leaves it and the engine hands the provider's Configure."""
        return {"ncloud:accessKey": self.access_key, "ncloud:secretKey": self.secret_key, "ncr:endpoint": self.url,
                **extra}

    @property
    def url(self) -> str:
        """`http://host:port`, without a path; the site prefixes go after it."""
        if self._server is None:
            raise RuntimeError("The NCR emulator is not running: call start() or use it in a with block")
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host  # typeshed allows bytes; an INET server has text
        scheme = "https" if self.tls else "http"
        return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"

    def now_ms(self) -> int:
        """The emulator's clock: the real clock plus `clock_offset_ms`."""
        return epoch_ms() + int(self.clock_offset_ms)

    def __repr__(self) -> str:
        where = self.url if self._server else "stopped"
        return f"NcrEmulator({where}, access_key={shown_key(self._access_key)!r})"

    # -- data --

    def add_registry(self, name: str, region: str | None = None, **fields: Any) -> None:
        """Create a registry (region None: visible under every prefix), or update an existing one."""
        self._backend.add_registry(name, region, **fields)

    def add_image(self, registry: str, name: str, **fields: Any) -> None:
        """Create or update an image with any image detail fields; creates the registry if absent."""
        self._backend.add_image(registry, name, **fields)

    def add_tag(self, registry: str, image: str, name: str, *, digest: str | None = None,
                platforms: list[str | Mapping[str, Any]] | None = None, **fields: Any) -> None:
        """Create or move a tag; platforms like `["linux/amd64", "linux/arm64"]` (default: linux/amd64)."""
        self._backend.add_tag(registry, image, name, digest=digest, platforms=platforms, **fields)

    # -- what happened --

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        with self._lock:
            return self._connections

    @property
    def trickled_bytes(self) -> int:
        """Bytes written by "trickle" faults so far (a client that hangs up early stops the count)."""
        with self._lock:
            return self._trickled

    def _count_trickled(self) -> None:
        with self._lock:
            self._trickled += 1

    @property
    def pending(self) -> int:
        """Canned responses and faults still queued."""
        with self._lock:
            return len(self._queue)

    # -- scripted answers: one FIFO queue, served before the signature check --

    def enqueue(self, status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None) -> None:
        """Answer the next request with this response; body dict/list (JSON), str, bytes, or None (NCP error)."""
        self._push(_canned(status, body, headers))

    def enqueue_fault(self, kind: str, *, seconds: float = 1.0, then: Mapping[str, Any] | str | None = None,
                      status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None) -> None:
        """Queue a fault: "drop" (close, no answer), "delay" (wait `seconds`, then answer normally or
        as `then`: enqueue() arguments or a fault name), "truncate" (Content-Length beyond the body, then close),
        "trickle" (the normal answer, status line and headers included, one byte every `seconds`) or
        "trickle-body" (headers at once, then the body one byte every `seconds`)."""
        self._push(_fault(kind, seconds, then, status, body, headers))

    def _push(self, item: _Canned | _Fault) -> None:
        with self._lock:
            self._queue.append(item)

    def _next_action(self) -> _Canned | _Fault | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    # -- lifecycle --

    def start(self) -> NcrEmulator:
        """Bind and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("The NCR emulator is already running")
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="ncr-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every connection, and join the threads (within about a second)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections(_STOP_TIMEOUT)
        if thread is not None:
            thread.join(_STOP_TIMEOUT)
        self._server = self._thread = None

    def __enter__(self) -> NcrEmulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- one request (called on the connection's thread) --

    def _connection_opened(self) -> int:
        with self._lock:
            self._connections += 1
            return self._connections

    def _serve(self, handler: _Handler) -> None:
        method, target = handler.command, handler.path
        headers = {k.lower(): v for k, v in handler.headers.items()}
        action = self._next_action()
        latency = float(self.latency or 0)
        if latency > 0 and self._stopping.wait(latency):
            handler.close_connection = True
            return
        while isinstance(action, _Fault) and action.kind == "delay":
            if self._stopping.wait(action.seconds):
                handler.close_connection = True
                return
            action = action.then
        declared_length = None
        if action is None:
            response: Response | None = self._responses.dispatch(method, target, headers)
        elif isinstance(action, _Canned):
            response = Response(action.status, action.body, action.headers)
        elif action.kind == "truncate" and action.response is not None:
            response = Response(action.response.status, action.response.body, action.response.headers)
            declared_length = len(response.body) + 1024
        elif action.kind.startswith("trickle"):
            response = self._responses.dispatch(method, target, headers)
        else:
            response = None
        self._record(handler, method, target, headers, response.status if response else None)
        if response is None:
            handler.close_connection = True
            return
        if declared_length is not None:
            handler.close_connection = True
        if isinstance(action, _Fault) and action.kind.startswith("trickle"):
            handler.close_connection = True
            handler.send_trickled(response, action.seconds, headers_at_once=action.kind == "trickle-body")
            return
        handler.send_whole(response, declared_length)

    def _record(self, handler: _Handler, method: str, target: str, headers: dict[str, str],
                status: int | None) -> None:
        path, _, query = target.partition("?")
        record = RecordedRequest(
            method=method, raw_path=target, path=unquote(path, errors="replace"), query=parse_query(query),
            headers=headers, timestamp=headers.get(TIMESTAMP), signature=headers.get(SIGNATURE),
            access_key=headers.get(ACCESS_KEY), status=status, connection_id=handler.connection_id)
        # Recorded before the answer is written, so a test reading `requests` after its response sees it.
        with self._lock:
            self._requests.append(record)
        if self.log_requests:
            print(f"ncr emulator: {strip_control(method)} {strip_control(target)} -> {status or 'fault'}",
                  file=sys.stderr, flush=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() joins with a deadline instead of waiting forever
    request_queue_size = 128  # a burst of 32+ concurrent connects must not overflow the backlog

    def __init__(self, address: tuple[str, int], emulator: NcrEmulator):
        self.emulator = emulator
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._open: dict[socket.socket, int] = {}
        self._handler_threads: set[threading.Thread] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on machines without DNS.
        TCPServer.server_bind(self)
        if self.emulator.tls is not None:
            # The handshake runs in accept(); a client that rejects the certificate only fails its own accept.
            self.socket = self.emulator.tls.wrap_socket(self.socket, server_side=True)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        connection_id = self.emulator._connection_opened()
        thread = threading.Thread(target=self._run, args=(request, client_address), daemon=True,
                                  name=f"ncr-emulator-{connection_id}")
        with self._open_lock:
            self._open[request] = connection_id
            self._handler_threads.add(thread)
        thread.start()

    def _run(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.pop(request, None)
                self._handler_threads.discard(threading.current_thread())

    def connection_id(self, request: Any) -> int:
        with self._open_lock:
            return self._open.get(request, 0)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Silent: clients hanging up mid-answer are routine in fault tests."""

    def close_connections(self, timeout: float) -> None:
        with self._open_lock:
            sockets, threads = list(self._open), list(self._handler_threads)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection_id = self.server.connection_id(self.request)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: per-request logging would dominate a benchmark's cost."""

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline, self.request_version, self.command = "", "", ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._discard_body()
            self.server.emulator._serve(self)
        except OSError:
            self.close_connection = True
        except Exception as exc:  # an emulator bug: answer 500 so the test sees it, not a vague ConnectionError
            traceback.print_exc()
            self.send_error(500, f"NCR emulator error: {type(exc).__name__}: {exc}")

    def _discard_body(self) -> None:
        """Read a (non-GET) request's body so the connection can be reused; give up on the odd ones."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return
        length = self.headers.get("Content-Length")
        if length is None:
            return
        if not length.isdigit() or int(length) > _MAX_REQUEST_BODY:
            self.close_connection = True
            return
        self.rfile.read(int(length))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests get an NCP-shaped error too, and the connection closes."""
        self.close_connection = True
        try:
            self.send_whole(error_response(ApiException.for_status(int(code), message or "")))
        except OSError:
            pass

    def send_trickled(self, response: Response, seconds: float, headers_at_once: bool) -> None:
        """The answer one byte at a time, `seconds` apart, until it is all sent or the client hangs up."""
        emulator = self.server.emulator
        payload = self._payload(response)
        start = payload.index(b"\r\n\r\n") + 4 if headers_at_once else 0
        try:
            if start:
                self.wfile.write(payload[:start])
                self.wfile.flush()
            for offset in range(start, len(payload)):
                if emulator._stopping.wait(seconds):
                    return
                self.wfile.write(payload[offset:offset + 1])
                self.wfile.flush()
                emulator._count_trickled()
        except OSError:
            pass  # the client hung up: what a deadline is for

    def send_whole(self, response: Response, declared_length: int | None = None) -> None:
        """Status line, headers and body in one write, so no Nagle or delayed-ACK stall can split them."""
        self.wfile.write(self._payload(response, declared_length))

    def _payload(self, response: Response, declared_length: int | None = None) -> bytes:
        emulator = self.server.emulator
        fields = {
            "date": ("Date", formatdate(emulator.now_ms() / 1000, usegmt=True)),
            "content-type": ("Content-Type", JSON_CONTENT_TYPE),
        }
        for name, value in response.headers:
            fields[name.lower()] = (name, value)
        body = response.body
        fields["content-length"] = ("Content-Length", str(len(body) if declared_length is None else declared_length))
        if fields.get("connection", ("", ""))[1].lower() == "close":
            self.close_connection = True
        if self.close_connection:
            fields["connection"] = ("Connection", "close")
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        head = f"HTTP/1.1 {response.status} {reason}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields.values())
        payload = (head + "\r\n").encode("latin-1")
        return payload if self.command == "HEAD" else payload + body


# --- scripted answers ---

def _canned(status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None) -> _Canned:
    if type(status) is not int or not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code (100-599), not {status!r}")
    extra: tuple[tuple[str, str], ...] = ()
    if body is None and status >= 400:
        error = error_response(ApiException.for_status(status, "Canned response"))
        payload, extra = error.body, error.headers
    elif body is None:
        payload = b"{}"
    elif isinstance(body, (dict, list)):
        payload = encode_json(body)
    elif isinstance(body, str):
        payload = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray, memoryview)):
        payload = bytes(body)
    else:
        raise TypeError(f"body must be a dict, list, str, bytes or None, not {type(body).__name__}")
    pairs = list(extra)
    for name, value in (headers or {}).items():
        value = str(value)
        if not name or not set(name) <= _TOKEN or any(c in value for c in "\r\n\0"):
            raise ValueError(f"Invalid header {name!r}: names are HTTP tokens, values carry no CR, LF or NUL")
        pairs.append((name, value))
    return _Canned(status, payload, tuple(pairs))


def _fault(kind: str, seconds: float, then: Mapping[str, Any] | str | None, status: int, body: Any,
           headers: Mapping[str, str] | None) -> _Fault:
    if kind not in FAULT_KINDS:
        raise ValueError(f"Unknown fault {kind!r}: use one of {', '.join(FAULT_KINDS)}")
    if kind == "drop":
        return _Fault("drop")
    if kind in ("trickle", "trickle-body"):
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"seconds must be a number >= 0, not {seconds!r}")
        return _Fault(kind, float(seconds))
    if kind == "truncate":
        # A body that starts like a real answer, so a client parsing early would be fooled.
        partial = body if body is not None else b'{"can_edit":true,"description":"ncp do'
        return _Fault("truncate", response=_canned(status, partial, headers))
    if not isinstance(seconds, (int, float)) or seconds < 0:
        raise ValueError(f"seconds must be a number >= 0, not {seconds!r}")
    if then is None:
        follow: _Canned | _Fault | None = None
    elif isinstance(then, str):
        if then == "delay":
            raise ValueError("then='delay' needs its own seconds: pass a fault name other than delay")
        follow = _fault(then, 0.0, None, 200, None, None)
    elif isinstance(then, Mapping):
        follow = _canned(**then)
    else:
        raise TypeError("then must be None, enqueue() arguments as a dict, or a fault name")
    return _Fault("delay", float(seconds), follow)


def _check_key(what: str, value: str | None) -> str | None:
    if value is not None and (not isinstance(value, str) or not value
                              or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value)):
        raise ValueError(f"The {what} must be non-empty text without whitespace or control characters")
    return value


def _read_data(data: str | os.PathLike[str] | Mapping[str, Any] | None) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    path = Path(DEFAULT_DATA if data is None else data)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Seed data file {path} is not valid JSON: {exc}") from None


# --- command line ---

def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ncr_provider.emulator`: parse the options, then serve until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="ncr-emulator",
                                     description="Serve a local NAVER Cloud Container Registry API for tests.")
    add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log each request (method, path, status) to stderr")
    return serve(parser.parse_args(argv))


def serve(args: argparse.Namespace) -> int:
    """Run the emulator the options describe until Ctrl-C or SIGTERM; print its URL and keys first."""
    try:
        emulator = NcrEmulator(access_key=args.access_key, secret_key=args.secret_key, data=args.data,
                               host=args.host, port=args.port)
        emulator.latency = args.latency
        emulator.log_requests = bool(getattr(args, "verbose", False))  # `ncr-image -v emulator` or `emulator -v`
    except (OSError, ValueError, TypeError) as exc:
        print(f"ncr emulator: {exc}", file=sys.stderr)
        return 2
    try:
        emulator.start()
    except OSError as exc:
        print(f"ncr emulator: {_bind_failure(args.host, args.port, exc)}", file=sys.stderr)
        return 2
    stop = threading.Event()
    restore = _on_sigterm(stop.set)
    try:
        # The secret is a throwaway local test key; printing it is how a user signs requests.
        print(f"NCR emulator listening on {emulator.url}")
        print(f"access key: {emulator.access_key}")
        print(f"secret key: {emulator.secret_key}", flush=True)
        while not stop.wait(0.2):  # a timed wait keeps Ctrl-C responsive
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        restore()
    return 0


def _bind_failure(host: str, port: int, exc: OSError) -> str:
    """Why the emulator could not listen, naming the option at fault, not a bare errno text."""
    from ..errors import shorten

    reason = exc.strerror or str(exc)
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve --host {shorten(host)}: {reason}"
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"cannot listen on {address} (--host, --port): {reason}"


def _on_sigterm(callback: Callable[[], None]) -> Callable[[], None]:
    """Run `callback` on SIGTERM; return how to undo it (a no-op off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: callback())

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore
