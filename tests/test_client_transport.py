"""How the client reaches NCR: the proxy the environment names (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), the CA bundle,
the headers on the wire, and one connection reused across GETs; all over real sockets on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator

import pytest
import requests
from helpers import make_client

from ncr_provider import __version__, errors
from ncr_provider.client import RetryPolicy
from ncr_provider.emulator import NcrEmulator

IMAGE = ("ncpdocker", "ncpdocker")
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
              "no_proxy")


class _ProxyHandler(socketserver.StreamRequestHandler):
    """A forward proxy: `GET http://host/path` is forwarded, `CONNECT host:port` is tunnelled byte for byte."""

    server: _ProxyServer

    def handle(self) -> None:
        line = self.rfile.readline().decode("latin-1").rstrip("\r\n")
        headers = {}
        while (header := self.rfile.readline().decode("latin-1").rstrip("\r\n")):
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.server.seen.append((line, headers))
        method, target, _ = line.split(" ", 2)
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host, int(port)))
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            self._pipe(self.connection, upstream)
            return
        # an absolute-form request: forward it on a fresh connection, then answer and close
        parts = requests.utils.urlparse(target)
        upstream_conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        forwarded = {k: v for k, v in headers.items() if not k.startswith("proxy-") and k != "connection"}
        upstream_conn.request(method, path, headers=forwarded)
        answer = upstream_conn.getresponse()
        body = answer.read()
        self.wfile.write(f"HTTP/1.1 {answer.status} {answer.reason}\r\n".encode("latin-1"))
        for name, value in answer.getheaders():
            if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.wfile.write(f"{name}: {value}\r\n".encode("latin-1"))
        self.wfile.write(f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1") + body)
        upstream_conn.close()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        def pump(src: socket.socket, dst: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := src.recv(65536):
                    dst.sendall(data)
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

        other = threading.Thread(target=pump, args=(b, a), daemon=True)
        other.start()
        pump(a, b)
        other.join(10)
        b.close()


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.seen: list[tuple[str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def proxy() -> Iterator[_ProxyServer]:
    server = _ProxyServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_http_proxy_from_the_environment_carries_every_get_in_absolute_form(emulator, proxy, no_proxy_env):
    no_proxy_env.setenv("HTTP_PROXY", proxy.url)
    with make_client(emulator) as client:
        assert client.get_image(*IMAGE).name == "ncpdocker"
        assert [t.name for t in client.list_tags(*IMAGE)]
    lines = [line for line, _ in proxy.seen]
    assert [line.split(" ")[1] for line in lines] == [
        f"{emulator.url}{r.raw_path}" for r in emulator.requests]
    assert all(line.startswith("GET http://127.0.0.1:") for line in lines)
    assert [r.status for r in emulator.requests] == [200, 200]  # signed over the path and query, as sent on


def test_no_proxy_sends_directly(emulator, proxy, no_proxy_env):
    no_proxy_env.setenv("HTTP_PROXY", proxy.url)
    no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    with make_client(emulator) as client:
        assert client.get_image(*IMAGE).name == "ncpdocker"
    assert proxy.seen == []
    assert [r.status for r in emulator.requests] == [200]


def test_a_proxy_set_after_the_client_was_made_is_not_used(emulator, proxy, no_proxy_env):
    # the environment is read once per client, as documented
    with make_client(emulator) as client:
        no_proxy_env.setenv("HTTP_PROXY", proxy.url)
        assert client.get_image(*IMAGE).name == "ncpdocker"
    assert proxy.seen == []


def test_a_proxy_that_refuses_connections_is_a_transport_error_naming_the_endpoint(emulator, no_proxy_env):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    with make_client(emulator, retry=RetryPolicy(attempts=2, backoff_base=0.0)) as client:
        with pytest.raises(errors.TransportError) as caught:
            client.get_image(*IMAGE)
    assert caught.value.attempts == 2
    assert emulator.url in str(caught.value)
    assert emulator.requests == []


def test_https_proxy_tunnels_and_the_ca_bundle_still_verifies_the_endpoint(certificate, proxy, no_proxy_env):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    no_proxy_env.setenv("HTTPS_PROXY", proxy.url)
    no_proxy_env.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    with NcrEmulator(tls=context) as emu, make_client(emu) as client:
        assert client.get_image(*IMAGE).name == "ncpdocker"
        assert client.get_image(*IMAGE).name == "ncpdocker"
        assert [r.status for r in emu.requests] == [200, 200]
        assert emu.connections == 1  # one tunnel, kept alive
        port = emu.url.rsplit(":", 1)[1]
    assert [line.rsplit(" ", 1)[0] for line, _ in proxy.seen] == [f"CONNECT 127.0.0.1:{port}"]


def test_through_an_https_proxy_an_unknown_ca_is_still_refused(certificate, proxy, no_proxy_env):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    no_proxy_env.setenv("HTTPS_PROXY", proxy.url)
    no_proxy_env.delenv("REQUESTS_CA_BUNDLE", raising=False)
    no_proxy_env.delenv("CURL_CA_BUNDLE", raising=False)
    with NcrEmulator(tls=context) as emu, make_client(emu) as client, pytest.raises(errors.TransportError) as caught:
        client.get_image(*IMAGE)
    assert "TLS verification failed (for a private CA, set REQUESTS_CA_BUNDLE)" in str(caught.value)
    assert proxy.seen and proxy.seen[0][0].startswith("CONNECT ")


def test_a_ca_bundle_path_that_does_not_exist_is_a_configuration_error_naming_it(certificate, no_proxy_env, tmp_path):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    missing = tmp_path / "no-such-bundle.pem"
    no_proxy_env.setenv("REQUESTS_CA_BUNDLE", str(missing))
    with NcrEmulator(tls=context) as emu, make_client(emu) as client, pytest.raises(errors.ConfigurationError) as caught:
        client.get_image(*IMAGE)
    # one sentence naming the variable and the path, instead of an OSError escaping as a traceback; nothing sent
    assert str(caught.value).startswith("The CA bundle REQUESTS_CA_BUNDLE names cannot be used: ")
    assert str(missing) in str(caught.value)
    assert emu.requests == [] and emu.connections == 0


def test_the_headers_on_the_wire(emulator, no_proxy_env):
    with make_client(emulator) as client:
        client.get_image(*IMAGE)
    headers = {k.lower(): v for k, v in emulator.requests[0].headers.items()}
    assert headers["user-agent"] == f"ncr-provider/{__version__} {requests.utils.default_user_agent()}"
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"
    assert headers["accept-encoding"] == requests.utils.default_headers()["Accept-Encoding"]
    assert headers["connection"] == "keep-alive"
    assert {"x-ncp-apigw-timestamp", "x-ncp-iam-access-key", "x-ncp-apigw-signature-v2"} <= set(headers)
    assert "cookie" not in headers and "content-length" not in headers


def test_one_connection_serves_sequential_gets(emulator, no_proxy_env):
    with make_client(emulator) as client:
        for _ in range(5):
            client.get_image(*IMAGE)
    assert emulator.connections == 1
