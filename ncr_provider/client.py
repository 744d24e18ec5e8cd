"""NcrClient: signed GETs to the NCR API with pooling, retries, a deadline and clock-skew correction.

Which API version it speaks (v2 or v3, `Settings.api_version`) is its `dialect`'s business
(api_versions.py): paths, pages, answers and error bodies; everything else here is the same for both.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlencode

import requests
import urllib3
from urllib3.util.retry import Retry

from . import __version__
from .api_versions import REQUEST_ID_HEADER, ErrorKind, dialect
from .config import Settings, resolve_settings, validate_api_version
from .deadline import REAPER, Watch
from .errors import (
    AuthenticationError,
    ClockSkewError,
    CredentialsRejectedError,
    ImageNotFoundError,
    InvalidResponseError,
    NcrApiError,
    NcrError,
    NotFoundError,
    PermissionDeniedError,
    RegistryNotFoundError,
    ServerError,
    TagNotFoundError,
    ThrottledError,
    TransportError,
)
from .model import ImageDetails, RegistryDetails, TagDetails, newest_first, parse_json_object
from .names import validate_image_name, validate_registry, validate_tag
from .signing import NcpSignatureAuth, mask, now_ms
from .terminal import strip_control
from .transport import Transport, body_chunks, default_headers

log = logging.getLogger("ncr_provider.client")

MAX_BODY_BYTES = 1024 * 1024
SKEW_LIMIT_MS = 5 * 60 * 1000
MAX_SKEW_CORRECTION_MS = 24 * 60 * 60 * 1000
"""A Date header further off than a day is not believed: the clock is left alone and the error says so."""


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a GET again.

    Our own loop rather than urllib3's Retry on the adapter, because urllib3 re-sends the
    first attempt's headers and NCP needs every attempt signed afresh with a new timestamp.
    """

    attempts: int = 4
    """Total attempts, the first included."""
    statuses: frozenset[int] = field(default=frozenset({429, 500, 502, 503, 504}))
    backoff_base: float = 0.25
    """Seconds before the second attempt; doubles each attempt."""
    backoff_max: float = 8.0
    """Cap of one computed backoff."""
    jitter: float = 0.5
    """Fraction of each backoff drawn at random (0: none, 1: full jitter)."""
    retry_after_max: float = 30.0
    """Cap of a server's Retry-After."""

    def delay(self, attempt: int, retry_after: float | None, rand: float) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_max))
        backoff = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return backoff * (1 - self.jitter) + backoff * self.jitter * rand


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, Retry().parse_retry_after(value))
    except Exception:  # urllib3 raises InvalidHeader; any unreadable value means "no advice"
        return None


@dataclass(frozen=True)
class ClientOptions:
    """How an NcrClient talks to NCR: retries, timeouts, limits and the injectable clock, sleep and randomness.

    One immutable value (as botocore's `Config`); where and as whom it talks is the separate `Settings`.
    Change one field with `dataclasses.replace(options, deadline=10.0)`.
    """

    retry: RetryPolicy = RetryPolicy()
    connect_timeout: float = 5.0
    """Seconds to open a connection (never past the deadline)."""
    read_timeout: float = 15.0
    """Seconds to wait for each part of an answer (never past the deadline)."""
    deadline: float = 60.0
    """Seconds one call may take, every attempt, wait for a free connection and backoff included."""
    max_connections: int = 10
    """Connections open at once, however many threads share the client."""
    max_body_bytes: int = MAX_BODY_BYTES
    max_pages: int = 1000
    """Pages one listing may read before it is an error (a server that always says "next")."""
    sleep: Callable[[float], None] | None = None
    """How to wait between attempts; None (the default) waits in a way `NcrClient.close()` ends at once."""
    rand: Callable[[], float] = random.random
    clock: Callable[[], int] = now_ms
    """Milliseconds since the epoch, the signing clock before skew correction."""


@dataclass
class _Call:
    """The state of one get_raw call across its attempts."""

    path: str
    what: str
    not_found: Callable[..., NcrError] | None
    stop_at: float
    attempt: int = 0
    skew_corrected: bool = False
    watch: Watch | None = None


@dataclass(frozen=True)
class _Reply:
    """One attempt's HTTP answer, its body read."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class _Next:
    """What the request loop does after an attempt: return `body`, or raise `error`, or try again after
    sleeping `delay` seconds (at once, without sleeping, where it is None)."""

    body: bytes | None = None
    error: NcrError | None = None
    delay: float | None = None


class _TransportFailure(Exception):
    """An attempt that got no HTTP answer: the error to raise, and whether another attempt may help."""

    def __init__(self, error: NcrError, retryable: bool):
        super().__init__(error)
        self.error = error
        self.retryable = retryable


class NcrClient:
    """A thread-safe client for the NCR API's read operations."""

    def __init__(self, settings: Settings | None = None, options: ClientOptions | None = None):
        """`settings`: where and as whom (default: resolved from the environment and profile file)."""
        self.settings = settings if settings is not None else resolve_settings()
        self.options = options if options is not None else ClientOptions()
        # Settings derived with dataclasses.replace (another site, say) skip resolve_settings' check.
        validate_api_version(self.settings.api_version, self.settings.site)
        self.dialect = dialect(self.settings.api_version)
        self._offset_ms = 0
        self._offset_lock = threading.Lock()
        # close() ends every wait and cuts every call in flight (Ctrl-C must not wait out a Retry-After).
        self._closed = threading.Event()
        self._watches: set[Watch] = set()
        self._watches_lock = threading.Lock()
        # The deadline bounds the wait for a free connection too: urllib3's blocking pool waits without limit.
        self._connections = threading.BoundedSemaphore(self.options.max_connections)
        access, secret = self.settings.credentials()
        self._auth = NcpSignatureAuth(access, secret, clock=self._now_ms)
        # Proxy and CA bundle read from the environment once, here; each GET goes straight to the urllib3 pool.
        self._transport = Transport(self.settings.host, self.options.max_connections)
        self._headers = default_headers({
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"ncr-provider/{__version__} {requests.utils.default_user_agent()}",
            **self.dialect.headers,
        })

    def __repr__(self) -> str:
        return f"NcrClient({self.settings!r})"

    def __enter__(self) -> NcrClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pool; a call still waiting or in flight in another thread ends at once with a TransportError."""
        self._closed.set()
        with self._watches_lock:
            watches = list(self._watches)
        for watch in watches:
            REAPER.expire(watch)
        self._transport.close()

    def __getstate__(self) -> NoReturn:
        raise TypeError("NcrClient holds credentials and a connection pool and cannot be pickled")

    @property
    def clock_offset_ms(self) -> int:
        """How far the local clock is corrected, learned from the API's Date header."""
        return self._offset_ms

    def _now_ms(self) -> int:
        return self.options.clock() + self._offset_ms

    # -- operations ---------------------------------------------------------------------------

    def image_path(self, registry: str, image_name: str) -> str:
        """The request path of an image, validated; the image name is one encoded segment."""
        registry = validate_registry(registry)
        image_name = validate_image_name(image_name)
        return self.dialect.image_path(self.settings.prefix, registry, image_name)

    def get_image(self, registry: str, image_name: str) -> ImageDetails:
        """Details of one image; raises ImageNotFoundError if the registry or image does not exist."""
        path = self.image_path(registry, image_name)
        what = f"image {registry}/{image_name}"
        body = self.get_raw(path, what=what, not_found=self._image_not_found(registry, image_name))
        return self.dialect.image(parse_json_object(body, what), what, registry, image_name)

    def list_tags(self, registry: str, image_name: str, pagesize: int = 100) -> list[TagDetails]:
        """Every tag of an image, all pages read, newest first; ImageNotFoundError if the image does not exist."""
        self.image_path(registry, image_name)  # validates both names before anything is sent
        path = self.dialect.tags_path(self.settings.prefix, registry, image_name)
        what = f"tags of image {registry}/{image_name}"
        pages = self._paginate(path, what, pagesize, "tags", not_found=self._image_not_found(registry, image_name))
        return newest_first(self.dialect.tag(item, what) for item in pages)

    def get_tag(self, registry: str, image_name: str, reference: str) -> TagDetails:
        """One tag's details; raises TagNotFoundError if the tag (or its image) does not exist."""
        self.image_path(registry, image_name)
        path = self.dialect.tag_path(self.settings.prefix, registry, image_name, validate_tag(reference))
        what = f"tag {registry}/{image_name}:{reference}"

        def not_found(**kw: Any) -> NcrApiError:
            return TagNotFoundError(registry=registry, image=image_name, tag=reference, region=self.settings.region,
                                    site=self.settings.site, **kw)

        body = self.get_raw(path, what=what, not_found=not_found)
        return self.dialect.tag(parse_json_object(body, what), what, reference)

    def _image_not_found(self, registry: str, image_name: str) -> Callable[..., NcrApiError]:
        def not_found(**kw: Any) -> NcrApiError:
            return ImageNotFoundError(registry=registry, image=image_name, region=self.settings.region,
                                      site=self.settings.site, **kw)

        return not_found

    def list_registries(self, pagesize: int = 100) -> Iterator[dict[str, Any]]:
        """Every registry of the region, following pagination, as dicts with the v2 keys (`name`, `private_id`, ...)."""
        what = "the registry list"
        pages = self._paginate(self.dialect.registries_path(self.settings.prefix), what, pagesize, "registries")
        return (self.dialect.registry_entry(item, what) for item in pages)

    def list_registry_details(self, pagesize: int = 100) -> list[RegistryDetails]:
        """Every registry of the region, typed, all pages read (also the private id -> registry map's source)."""
        return [RegistryDetails.from_wire(item, "the registry list") for item in self.list_registries(pagesize)]

    def get_registry(self, registry: str) -> RegistryDetails:
        """One registry's details: v3's getRegistry, or found in the registry list (API v2 has no single-registry
        read); RegistryNotFoundError if the region has no registry of that name."""
        registry = validate_registry(registry)
        path = self.dialect.registry_path(self.settings.prefix, registry)
        if path is not None:
            what = f"registry {registry}"

            def not_found(**kw: Any) -> NcrError:
                return RegistryNotFoundError(registry=registry, region=self.settings.region, site=self.settings.site, **kw)

            body = self.get_raw(path, what=what, not_found=not_found)
            return RegistryDetails.from_wire(self.dialect.registry_entry(parse_json_object(body, what), what), what)
        for details in self.list_registry_details():
            if details.name == registry:
                return details
        raise RegistryNotFoundError(registry=registry, region=self.settings.region, site=self.settings.site)

    def list_images(self, registry: str, pagesize: int = 100) -> Iterator[dict[str, Any]]:
        """Every image of a registry, following pagination, as dicts with the v2 keys (`name`, `pull_count`, ...)."""
        registry = validate_registry(registry)
        what = f"images of registry {registry}"
        pages = self._paginate(self.dialect.images_path(self.settings.prefix, registry), what, pagesize, "images")
        return (self.dialect.image_entry(item, what) for item in pages)

    def _paginate(self, path: str, what: str, pagesize: int, kind: str,
                  not_found: Callable[..., NcrError] | None = None) -> Iterator[Any]:
        if not 1 <= pagesize <= self.dialect.max_page_size:
            raise ValueError(f"pagesize must be from 1 to {self.dialect.max_page_size}, not {pagesize}")
        index = 0
        while True:
            body = self.get_raw(path, self.dialect.page_params(index, pagesize), what=what, not_found=not_found)
            page = self.dialect.page(body, what, index, pagesize, kind)
            yield from page.items
            if not page.more:
                return
            if index + 1 >= self.options.max_pages:
                # A server that always says "more" must not keep us listing forever.
                raise InvalidResponseError(what=what, reason=f"it still had more after {index + 1} pages of {pagesize}")
            index += 1

    # -- the signed GET -----------------------------------------------------------------------

    def get_raw(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        what: str,
        not_found: Callable[..., NcrError] | None = None,
    ) -> bytes:
        """Signed GET of an already validated path; returns the body of a 2xx answer.

        Retries the policy's statuses and connection failures with backoff, every attempt
        signed afresh, never past the deadline; corrects the clock once on a 401 whose Date
        header shows the local clock is more than 5 minutes off.
        """
        target = path + (f"?{urlencode(params)}" if params else "")  # what is sent and signed: path and query
        call = _Call(path, what, not_found, stop_at=time.monotonic() + self.options.deadline)
        with REAPER.watch(call.stop_at) as call.watch:
            with self._watches_lock:
                self._watches.add(call.watch)
            try:
                return self._attempts(target, call)
            finally:
                with self._watches_lock:
                    self._watches.discard(call.watch)

    def _attempts(self, path_and_query: str, call: _Call) -> bytes:
        while True:
            if self._closed.is_set():
                raise self._transport_error(call, "the client was closed (interrupted)")
            call.attempt += 1
            try:
                step = self._after_reply(self._attempt(path_and_query, call), call)
            except _TransportFailure as failure:
                step = self._after_failure(failure, call)
            if step.error is not None:
                raise step.error from None
            if step.body is not None:
                return step.body
            if step.delay is not None:
                self._wait(step.delay)

    def _wait(self, seconds: float) -> None:
        if self.options.sleep is not None:
            self.options.sleep(seconds)
        else:
            self._closed.wait(seconds)

    # -- one attempt ----------------------------------------------------------------------------

    def _attempt(self, path_and_query: str, call: _Call) -> _Reply:
        """Send one signed GET and read its whole body, within what is left of the deadline."""
        options = self.options
        self._acquire_connection(call)
        try:
            remaining = call.stop_at - time.monotonic()
            timeout = (max(0.001, min(options.connect_timeout, remaining)), max(0.001, min(options.read_timeout, remaining)))
            try:
                response = self._transport.get(path_and_query, self._signed_headers(path_and_query), timeout)
                try:
                    body = self._read_body(response, call.what)
                except BaseException:
                    response.close()  # an answer not read to its end: its connection is not reused
                    raise
                finally:
                    response.release_conn()
            except requests.RequestException as exc:
                reason, retryable = self._transport_reason(exc)
                if self._closed.is_set():
                    reason, retryable = "the client was closed (interrupted)", False
                elif call.watch is not None and call.watch.expired or time.monotonic() >= call.stop_at:
                    # Cut by the deadline (a trickling answer), whatever the socket error says.
                    reason, retryable = f"no complete answer within the {options.deadline:g}s deadline", False
                raise _TransportFailure(self._transport_error(call, reason), retryable) from None
        finally:
            self._connections.release()
        request_id = response.headers.get(REQUEST_ID_HEADER)
        log.debug("GET %s -> %d (attempt %d, access key %s%s)", call.path, response.status, call.attempt,
                  mask(self._auth.access_key), f", request id {strip_control(request_id)[:80]}" if request_id else "")
        return _Reply(response.status, response.headers, body)

    def _acquire_connection(self, call: _Call) -> None:
        """Wait for a free connection until the deadline, in short slices so that close() ends the wait too."""
        while not self._connections.acquire(timeout=min(0.05, max(0.0, call.stop_at - time.monotonic()))):
            if self._closed.is_set():
                raise _TransportFailure(self._transport_error(call, "the client was closed (interrupted)"), False)
            if time.monotonic() >= call.stop_at:
                raise _TransportFailure(self._transport_error(call, "no free connection before the deadline"), False)

    def _signed_headers(self, path_and_query: str) -> dict[str, str]:
        """The client's headers and this attempt's signature (signed afresh on every attempt)."""
        headers = self._headers.copy()
        headers.update(self._auth.headers_for("GET", path_and_query))
        return headers

    def _read_body(self, response: urllib3.BaseHTTPResponse, what: str) -> bytes:
        limit = self.options.max_body_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise InvalidResponseError(what=what, reason=f"the body is {int(declared)} bytes, over the {limit}-byte cap")
        chunks, size = [], 0
        for chunk in body_chunks(response, 64 * 1024):
            size += len(chunk)
            if size > limit:
                raise InvalidResponseError(what=what, reason=f"the body is over the {limit}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)

    # -- what next ------------------------------------------------------------------------------

    def _after_reply(self, reply: _Reply, call: _Call) -> _Next:
        """Return a 2xx body; correct the clock once on a skewed 401; retry what the policy retries; else raise."""
        if 200 <= reply.status < 300:
            return _Next(body=reply.body)
        skew = self._skew_ms(reply.headers) if reply.status == 401 else None
        if skew is not None and not call.skew_corrected and SKEW_LIMIT_MS < abs(skew) <= MAX_SKEW_CORRECTION_MS:
            with self._offset_lock:
                self._offset_ms += skew
            log.warning("local clock is off by %s; correcting and retrying", describe_skew(skew))
            call.skew_corrected = True
            call.attempt -= 1  # the correction is not a retry of the budget
            return _Next()
        error = self._api_error(reply, call)
        if isinstance(error, AuthenticationError):
            if call.skew_corrected:
                # The clock was corrected and NCR still said no: the keys are the cause, not the clock.
                error = CredentialsRejectedError(**error.api_fields(), access_key=error.access_key,
                                                 skew=describe_skew(self._offset_ms))
            elif skew is not None and abs(skew) > MAX_SKEW_CORRECTION_MS:
                error = ClockSkewError(**error.api_fields(), access_key=error.access_key, skew=describe_skew(skew))
        if reply.status not in self.options.retry.statuses:
            return _Next(error=error)
        return self._backoff(call, error, parse_retry_after(reply.headers.get("Retry-After")))

    def _after_failure(self, failure: _TransportFailure, call: _Call) -> _Next:
        """Retry a connection failure or timeout while the budget and the deadline allow."""
        log.debug("GET %s failed: %s (attempt %d)", call.path, failure.error, call.attempt)
        if not failure.retryable:
            return _Next(error=failure.error)
        return self._backoff(call, failure.error, None)

    def _backoff(self, call: _Call, error: NcrError, retry_after: float | None) -> _Next:
        """Wait and try again, or raise `error` when the budget or the deadline says stop."""
        retry = self.options.retry
        if call.attempt >= retry.attempts:
            return _Next(error=error)
        delay = retry.delay(call.attempt, retry_after, self.options.rand())
        if time.monotonic() + delay >= call.stop_at:
            return _Next(error=error)
        return _Next(delay=delay)

    def _skew_ms(self, headers: Mapping[str, str]) -> int | None:
        """Server clock minus our signing clock, from the Date header (None if absent)."""
        date = headers.get("Date")
        if not date:
            return None
        try:
            server = email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return None
        if server.tzinfo is None:
            return None
        return int(server.timestamp() * 1000) - self._now_ms()

    def _transport_error(self, call: _Call, reason: str) -> TransportError:
        return TransportError(endpoint=self.settings.host, what=call.what, attempts=call.attempt, reason=reason)

    def _transport_reason(self, exc: requests.RequestException) -> tuple[str, bool]:
        """What went wrong, by the exception's type and the types it wraps, and whether a retry may help."""
        options = self.options
        if isinstance(exc, requests.exceptions.SSLError):
            return "TLS verification failed (for a private CA, set REQUESTS_CA_BUNDLE)", False
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return f"connecting timed out after {options.connect_timeout:g}s", True
        if isinstance(exc, requests.exceptions.ReadTimeout) or _wraps(exc, urllib3.exceptions.ReadTimeoutError):
            # requests raises a reading timeout of a streamed body as a ConnectionError wrapping urllib3's
            return f"no answer within the {options.read_timeout:g}s read timeout", True
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return "the response was cut off before its end", True
        if isinstance(exc, requests.ConnectionError):
            return _connection_reason(exc), True
        return type(exc).__name__, False

    def _api_error(self, reply: _Reply, call: _Call) -> NcrError:
        status, not_found = reply.status, call.not_found
        parsed = self.dialect.error_body(reply.body, reply.headers.get("Content-Type", ""))
        # NCP support asks for the request id: the header (v3 on every answer), else the gateway body's.
        request_id = strip_control(reply.headers.get(REQUEST_ID_HEADER) or "")[:80] or parsed.request_id
        fields: dict[str, Any] = dict(what=call.what, status=status, error_code=parsed.code, api_message=parsed.message,
                      request_id=request_id, attempts=call.attempt)
        kind = self.dialect.error_kind(status, parsed.code)
        if kind is ErrorKind.PERMISSION:
            return PermissionDeniedError(**fields, access_key=mask(self._auth.access_key))
        if kind is ErrorKind.AUTHENTICATION:
            return AuthenticationError(**fields, access_key=mask(self._auth.access_key))
        if kind is ErrorKind.NOT_FOUND:
            if not_found is not None:
                return not_found(**fields)
            return NotFoundError(**fields, region=self.settings.region, site=self.settings.site)
        if kind is ErrorKind.THROTTLED:
            return ThrottledError(**fields)
        if kind is ErrorKind.SERVER:
            return ServerError(**fields)
        return NcrApiError(**fields)


def describe_skew(skew_ms: int) -> str:
    seconds = abs(skew_ms) / 1000
    direction = "behind" if skew_ms > 0 else "ahead of"
    return f"{seconds:.0f} s ({direction} NCR's clock)"


def _wrapped(exc: BaseException) -> Iterator[BaseException]:
    """The exception and every exception it wraps: urllib3's `reason`, exceptions in `args`, causes and contexts."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        inner = [getattr(item, "reason", None), item.__cause__, item.__context__, *item.args]
        stack.extend(x for x in inner if isinstance(x, BaseException))


def _wraps(exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    return any(isinstance(item, kind) for item in _wrapped(exc))


def _connection_reason(exc: BaseException) -> str:
    """A connection failure in a few words, from the OS error or the protocol error it wraps."""
    if _wraps(exc, (http.client.RemoteDisconnected, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "the server closed the connection without answering"
    for item in _wrapped(exc):
        if isinstance(item, OSError) and item.strerror:
            return item.strerror.strip().lower()
    return "the connection failed"
