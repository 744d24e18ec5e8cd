"""NCR's wire format: the signature check, thin per-operation handlers, and the one error renderer.

Wire decisions the real API leaves open (documented here so clients know what they test against):
``page`` is 1-based, ``pagesize`` defaults to 20 and has no upper limit, both must be integers
greater than 0 (else 400 / errorCode 100); ``next`` and ``previous`` are page numbers or null; a
page past the end has empty ``results``. Registries and images are listed by name; tags newest
first (``last_updated``, then name). A tag ``reference`` is a tag name or, failing that, a digest.
Bodies are compact UTF-8 JSON with keys in the order NCR's seed example uses (alphabetical).
API v3 (paths under ``/api/v3``) has its own wire format: ``responses_v3``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from . import responses_v3, signature, urls
from .models import ApiException, AuthenticationFailed, BadRequest, MethodNotAllowed, NcrBackend

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
DEFAULT_PAGE_SIZE = 20
SIGNATURE_WINDOW_MS = signature.WINDOW_MS
REGISTRY_LIST_FIELDS = ("name", "bucket", "created", "end_point", "private_end_point", "private_id",
                        "public_reg_status", "scan_on_push_enabled", "status")
IMAGE_LIST_OMITS = frozenset({"full_description", "private_id", "tag_mutability_enabled"})
_TIMESTAMP = re.compile(r"[0-9]{1,16}")
_PAGE_NUMBER = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Response:
    """A status, a body and the headers particular to it; the server adds Date, Content-Type and Length."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def encode_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_response(exc: ApiException) -> Response:
    """The only place an NCP-shaped error body is rendered."""
    error = {"errorCode": exc.code, "message": exc.message, "details": exc.details, "requestId": str(uuid.uuid4())}
    return Response(exc.status, encode_json({"error": error}), exc.headers)


def parse_query(query: str) -> dict[str, str]:
    """Query parameters, the first value winning when a name repeats."""
    values: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(key, value)
    return values


class NcrResponses:
    """Authenticates a raw request, routes it and renders the answer."""

    def __init__(self, backend: NcrBackend, credentials: Mapping[str, str], clock: Callable[[], int]):
        self.backend = backend
        self.v3 = responses_v3.V3Responses(backend)
        self._credentials = dict(credentials)
        self._clock = clock

    def dispatch(self, method: str, target: str, headers: Mapping[str, str]) -> Response:
        """Answer one request; `target` is the request target exactly as received, `headers` lowercased."""
        path, _, query = target.partition("?")
        if urls.api_version(path) == "v3":
            return self.dispatch_v3(method, target, headers)
        try:
            self.authenticate(method, target, headers)
            if method != "GET":
                raise MethodNotAllowed(f"{method} is not supported: the emulator serves NCR's read operations (GET)")
            route = urls.resolve(path)
            body = getattr(self, route.handler)(route.region, parse_query(query), **route.params)
            return Response(200, encode_json(body))
        except ApiException as exc:
            return error_response(exc)

    def dispatch_v3(self, method: str, target: str, headers: Mapping[str, str]) -> Response:
        """Answer one API v3 request: every answer carries a request id, NCR's errors the v3 body."""
        request_id = (responses_v3.REQUEST_ID_HEADER, responses_v3.new_request_id())
        lang = "en-US"
        try:
            self.authenticate(method, target, headers)
            if method != "GET":
                raise MethodNotAllowed(f"{method} is not supported: the emulator serves NCR's read operations (GET)")
            lang = responses_v3.language(headers)
            path, _, query = target.partition("?")
            route = urls.resolve(path, headers.get("host"))
            body = self.v3.handle(route.handler, route.region, query, route.params)
            return Response(200, encode_json(body), (request_id,))
        except ApiException as exc:
            v3_body = responses_v3.error_body(exc, lang)
            if v3_body is None:
                gateway = error_response(exc)
                return Response(gateway.status, gateway.body, (*gateway.headers, request_id))
            return Response(exc.status, encode_json(v3_body), (*exc.headers, request_id))

    def authenticate(self, method: str, target: str, headers: Mapping[str, str]) -> None:
        """NCP signature v2 over the raw target, within 5 minutes of the emulator's clock."""
        missing = [h for h in signature.HEADERS if not headers.get(h)]
        if missing:
            raise AuthenticationFailed(f"Missing header(s): {', '.join(missing)}")
        timestamp, access_key = headers[signature.TIMESTAMP], headers[signature.ACCESS_KEY]
        if not _TIMESTAMP.fullmatch(timestamp):
            raise AuthenticationFailed(f"{signature.TIMESTAMP} must be milliseconds since the epoch in decimal digits")
        secret_key = self._credentials.get(access_key)
        if secret_key is None:
            raise AuthenticationFailed(f"Unknown access key {signature.shown_key(access_key)}")
        if not signature.matches(secret_key, method, target, timestamp, access_key, headers[signature.SIGNATURE]):
            raise AuthenticationFailed(
                f"Signature mismatch: sign {method} {target[:300]!r} with timestamp {timestamp}, "
                "the path and query exactly as sent")
        skew_ms = int(timestamp) - self._clock()
        if abs(skew_ms) > SIGNATURE_WINDOW_MS:
            direction = "ahead of" if skew_ms > 0 else "behind"
            raise AuthenticationFailed(
                f"Timestamp {timestamp} is {abs(skew_ms) / 1000:.1f} s {direction} the server clock "
                f"(allowed: {SIGNATURE_WINDOW_MS // 1000} s)")

    # -- one handler per operation: read parameters, ask the backend, render --

    def list_registries(self, region: str, query: Mapping[str, str]) -> dict[str, Any]:
        registries = [{k: r.get(k) for k in REGISTRY_LIST_FIELDS} for r in self.backend.list_registries(region)]
        return paginate(registries, query)

    def list_images(self, region: str, query: Mapping[str, str], registry: str) -> dict[str, Any]:
        images = self.backend.list_images(region, registry)
        return paginate([_sorted({k: v for k, v in i.items() if k not in IMAGE_LIST_OMITS}) for i in images], query)

    def get_image(self, region: str, query: Mapping[str, str], registry: str, image: str) -> dict[str, Any]:
        return _sorted(self.backend.get_image(region, registry, image))

    def list_tags(self, region: str, query: Mapping[str, str], registry: str, image: str) -> dict[str, Any]:
        return paginate([_render_tag(t) for t in self.backend.list_tags(region, registry, image)], query)

    def get_tag(self, region: str, query: Mapping[str, str], registry: str, image: str,
                reference: str) -> dict[str, Any]:
        return _render_tag(self.backend.get_tag(region, registry, image, reference))


def paginate(items: list[Any], query: Mapping[str, str]) -> dict[str, Any]:
    """`{"count", "next", "previous", "results"}` for the page the query asks for."""
    page = _positive(query, "page", 1)
    pagesize = _positive(query, "pagesize", DEFAULT_PAGE_SIZE)
    start = (page - 1) * pagesize
    return {
        "count": len(items),
        "next": page + 1 if start + pagesize < len(items) else None,
        "previous": page - 1 if page > 1 else None,
        "results": items[start:start + pagesize],
    }


def _positive(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not _PAGE_NUMBER.fullmatch(raw) or int(raw) == 0:
        raise BadRequest(f"{name} must be an integer greater than 0, not {raw[:40]!r}")
    return int(raw)


def _sorted(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in sorted(entry)}


def _render_tag(tag: Mapping[str, Any]) -> dict[str, Any]:
    rendered = _sorted(tag)
    rendered["images"] = [_sorted(p) for p in tag["images"]]
    return rendered
