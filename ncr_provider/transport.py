"""One host's connection pool and one GET on it: urllib3 directly, set up as requests would set it up.

`requests.Session.send` costs about as much CPU per GET as the whole exchange with urllib3 (preparing
and re-quoting the URL, cookies, hooks, environment and adapter lookups, building a `Response`); an
API client making thousands of small GETs pays it every time. So the client keeps requests for what
it decides once per client (the proxy the environment names for the host, the CA bundle, the pool
and TLS settings of its `HTTPAdapter`) and sends each GET on that adapter's urllib3 pool, as the
adapter itself does. A failure is raised as the requests exception the adapter (or `iter_content`)
would raise for it, so what an error says does not depend on this shortcut.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from typing import cast

import requests
import urllib3
from requests.utils import get_environ_proxies
from urllib3 import exceptions as u3

from .deadline import WatchedHTTPAdapter
from .errors import ConfigurationError


def environment_proxies(host: str) -> dict[str, str]:
    """The proxies the environment sets for this host (HTTPS_PROXY, NO_PROXY, ...), as requests would use them."""
    return dict(get_environ_proxies(host))


def ca_bundle() -> str | bool:
    """The CA bundle requests would take from the environment, or True for the default store."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def default_headers(extra: Mapping[str, str]) -> dict[str, str]:
    """requests' default headers (User-Agent, Accept-Encoding, Accept, Connection) updated with `extra`."""
    headers = requests.structures.CaseInsensitiveDict(requests.utils.default_headers())
    headers.update(extra)
    return dict(headers.items())


class Transport:
    """GETs to one host (`scheme://host[:port]`) through one urllib3 pool of at most `max_connections`.

    The proxy and the CA bundle are read from the environment once, when the transport is made (as
    the client did with its `requests.Session` before); the pool is made on the first GET, so that a
    bad proxy setting fails that GET as it would fail `Session.send`.
    """

    def __init__(self, host: str, max_connections: int):
        self.host = host
        self.proxies = environment_proxies(host)
        self.verify = ca_bundle()
        self._adapter = WatchedHTTPAdapter(pool_connections=1, pool_maxsize=max_connections, max_retries=0)
        self._pool: urllib3.HTTPConnectionPool | None = None
        self._absolute = False
        self._lock = threading.Lock()

    def close(self) -> None:
        self._adapter.close()

    def _connection_pool(self) -> urllib3.HTTPConnectionPool:
        """The pool for the host, made once, exactly as `HTTPAdapter.send` finds it (proxy, TLS verification)."""
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = self._make_pool()
                pool = self._pool
        return pool

    def _make_pool(self) -> urllib3.HTTPConnectionPool:
        adapter, url = self._adapter, self.host + "/"
        prepared = requests.PreparedRequest()
        prepared.prepare(method="GET", url=url)
        try:
            if hasattr(adapter, "get_connection_with_tls_context"):  # requests 2.32.2 and later
                pool = adapter.get_connection_with_tls_context(prepared, self.verify, proxies=self.proxies)
            else:
                pool = adapter.get_connection(url, self.proxies)
        except u3.LocationValueError as error:
            raise requests.exceptions.InvalidURL(error) from None
        try:
            adapter.cert_verify(pool, url, self.verify, None)
        except OSError as error:  # requests names the bad path; it would otherwise escape as a traceback
            source = "REQUESTS_CA_BUNDLE" if os.environ.get("REQUESTS_CA_BUNDLE") else "CURL_CA_BUNDLE"
            raise ConfigurationError(reason=f"The CA bundle {source} names cannot be used: {error}. Point {source} "
                                            "at a PEM file or a folder of certificates, or unset it.") from None
        # requests sends the absolute URL to an HTTP proxy for a plain-HTTP host, else the path.
        self._absolute = not adapter.request_url(prepared, self.proxies).startswith("/")
        return cast(urllib3.HTTPConnectionPool, pool)

    def get(self, path: str, headers: Mapping[str, str], timeout: tuple[float, float]) -> urllib3.BaseHTTPResponse:
        """Send one GET of `path` (path and query, already quoted) and return its response, the body unread.

        Raises requests' exceptions, as `HTTPAdapter.send` would for the same failure.
        """
        pool = self._connection_pool()
        try:
            return pool.urlopen(
                "GET", self.host + path if self._absolute else path, headers=headers, redirect=False,
                assert_same_host=False, preload_content=False, decode_content=False, retries=self._adapter.max_retries,
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]), chunked=False)
        except (u3.ProtocolError, OSError) as error:
            raise requests.ConnectionError(error) from error
        except u3.MaxRetryError as error:
            raise _max_retry_error(error) from error
        except u3.ClosedPoolError as error:
            raise requests.ConnectionError(error) from error
        except u3.ProxyError as error:
            raise requests.exceptions.ProxyError(error) from error
        except u3.SSLError as error:
            raise requests.exceptions.SSLError(error) from error
        except u3.ReadTimeoutError as error:
            raise requests.exceptions.ReadTimeout(error) from error
        except u3.InvalidHeader as error:
            raise requests.exceptions.InvalidHeader(error) from error


def body_chunks(response: urllib3.BaseHTTPResponse, size: int) -> Iterator[bytes]:
    """The decoded body in chunks of up to `size` bytes; failures as `Response.iter_content` raises them."""
    try:
        yield from response.stream(size, decode_content=True)
    except u3.ProtocolError as error:
        raise requests.exceptions.ChunkedEncodingError(error) from error
    except u3.DecodeError as error:
        raise requests.exceptions.ContentDecodingError(error) from error
    except u3.ReadTimeoutError as error:
        raise requests.ConnectionError(error) from error
    except u3.SSLError as error:
        raise requests.exceptions.SSLError(error) from error


def _max_retry_error(error: u3.MaxRetryError) -> requests.RequestException:
    """The requests exception `HTTPAdapter.send` raises for a urllib3 MaxRetryError, by its reason."""
    reason = error.reason
    if isinstance(reason, u3.ConnectTimeoutError) and not isinstance(reason, u3.NewConnectionError):
        return requests.exceptions.ConnectTimeout(error)
    if isinstance(reason, u3.ResponseError):
        return requests.exceptions.RetryError(error)
    if isinstance(reason, u3.ProxyError):
        return requests.exceptions.ProxyError(error)
    if isinstance(reason, u3.SSLError):
        return requests.exceptions.SSLError(error)
    return requests.ConnectionError(error)
