"""How each NCR API version is spoken: paths, page parameters and envelopes, answers and error bodies.

NCR has two read APIs: v2 (the "Legacy API", every site) and v3 (the "Ncloud API standard",
public site only, published 2026-11-24). The client holds one `Dialect` and never asks which
version it speaks: a dialect builds the request paths and page parameters, turns answers into
the same typed models (`ImageDetails`, `TagDetails`) and v2-shaped list entries, and reads error
bodies. Sources: shared/ncr-api.md (v2) and shared/ncr-api-v3.md (v3, with its UNCONFIRMED parts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

from .errors import InvalidResponseError
from .model import ImageDetails, TagDetails, _instant, _json_kind, _number, parse_json_object
from .terminal import strip_control

REQUEST_ID_HEADER = "x-ncp-request-id"


class ErrorKind(Enum):
    """What an error answer means to us, whichever version's codes said it."""

    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_FOUND = "not found"
    THROTTLED = "throttled"
    SERVER = "server"
    OTHER = "other"


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, and whether another page should be asked for."""

    items: list[Any]
    more: bool


@dataclass(frozen=True)
class ErrorBody:
    """What an error answer's body says: code, message (with detail) and a request id if it carries one."""

    code: str | None
    message: str | None
    request_id: str | None = None


def _segment(name: str) -> str:
    """A validated name as one path segment: `/` in an image name travels as `%2F` in both versions."""
    return quote(name, safe="")


class Dialect:
    """One API version's wire conventions. Names given to the path builders are already validated."""

    version: str
    max_page_size: int
    headers: Mapping[str, str] = {}
    """Headers every request of this version sends."""

    # -- paths (after the version's prefix) --

    def registries_path(self, prefix: str) -> str:
        raise NotImplementedError

    def registry_path(self, prefix: str, registry: str) -> str | None:
        """The path of one registry's own read; None where the version has none (v2: read the list)."""
        return None

    def images_path(self, prefix: str, registry: str) -> str:
        raise NotImplementedError

    def image_path(self, prefix: str, registry: str, image_name: str) -> str:
        raise NotImplementedError

    def tags_path(self, prefix: str, registry: str, image_name: str) -> str:
        return self.image_path(prefix, registry, image_name) + "/tags"

    def tag_path(self, prefix: str, registry: str, image_name: str, tag: str) -> str:
        return f"{self.tags_path(prefix, registry, image_name)}/{_segment(tag)}"

    # -- pages --

    def page_params(self, index: int, size: int) -> dict[str, Any]:
        """Query parameters for page `index` (0 for the first, whatever the wire counts from)."""
        raise NotImplementedError

    def page(self, body: bytes, what: str, index: int, size: int, kind: str) -> Page:
        """The items of page `index` and whether more follow; `kind` names the items (`images`, `tags`, ...)."""
        raise NotImplementedError

    # -- answers --

    image_keys: tuple[str, str] = ("name", "namespace")
    """The wire keys of an image answer's own name and its registry's name."""

    def image(self, data: Any, what: str, registry: str | None = None, image_name: str | None = None) -> ImageDetails:
        """Image details; an answer naming another image or registry than `registry`/`image_name` is refused."""
        name_key, registry_key = self.image_keys
        _about(data, what, {name_key: image_name, registry_key: registry})
        return self._image(data, what)

    def tag(self, data: Any, what: str, tag: str | None = None) -> TagDetails:
        """Tag details; an answer naming another tag than `tag` is refused (a list entry passes None)."""
        _about(data, what, {"name": tag})
        return self._tag(data, what)

    def _image(self, data: Any, what: str) -> ImageDetails:
        raise NotImplementedError

    def _tag(self, data: Any, what: str) -> TagDetails:
        raise NotImplementedError

    def registry_entry(self, data: Any, what: str) -> dict[str, Any]:
        """A registry list entry with the v2 keys its callers know."""
        raise NotImplementedError

    def image_entry(self, data: Any, what: str) -> dict[str, Any]:
        """An image list entry with the v2 keys its callers know."""
        raise NotImplementedError

    # -- errors --

    def error_body(self, body: bytes, content_type: str = "") -> ErrorBody:
        """Code, message and request id from an error body; tolerant of HTML, garbage and other shapes."""
        try:
            data = parse_json_object(body, "error")
        except InvalidResponseError:
            kind = "HTML" if b"<html" in body[:512].lower() else (content_type.split(";")[0] or "non-JSON")
            return ErrorBody(None, f"a {kind} body instead of an NCP error" if body.strip() else "an empty body")
        inner = data.get("error")
        error: dict[str, Any] = inner if isinstance(inner, dict) else data
        code = error.get("errorCode", error.get("code"))
        request_id = error.get("requestId") or data.get("requestId")
        # The API's words reach terminals (CLI, the Pulumi CLI's diagnostics): no control sequences in them.
        return ErrorBody(_clean(code, 40), _clean(self.error_message(error), 300), _clean(request_id, 80))

    def error_message(self, error: Mapping[str, Any]) -> str | None:
        message = error.get("message") or error.get("details")
        return None if message is None else str(message)

    def error_kind(self, status: int, code: str | None) -> ErrorKind:
        """The API gateway's documented pairs, which front both versions."""
        if status == 401 and code == "210" or status == 403:
            return ErrorKind.PERMISSION
        if status == 401:
            return ErrorKind.AUTHENTICATION
        if status == 404:
            return ErrorKind.NOT_FOUND
        if status == 429:
            return ErrorKind.THROTTLED
        if status >= 500:
            return ErrorKind.SERVER
        return ErrorKind.OTHER


class V2(Dialect):
    """NCR API v2: `/repositories/...`, snake_case, epoch milliseconds, 1-based `page`/`pagesize`."""

    version = "v2"
    max_page_size = 1000  # v2 documents only "> 0"; the same cap as v3 keeps one client option valid for both

    def registries_path(self, prefix: str) -> str:
        return f"{prefix}/repositories"

    def images_path(self, prefix: str, registry: str) -> str:
        return f"{prefix}/repositories/{_segment(registry)}"

    def image_path(self, prefix: str, registry: str, image_name: str) -> str:
        return f"{prefix}/repositories/{_segment(registry)}/{_segment(image_name)}"

    def page_params(self, index: int, size: int) -> dict[str, Any]:
        return {"page": index + 1, "pagesize": size}

    def page(self, body: bytes, what: str, index: int, size: int, kind: str) -> Page:
        data = parse_json_object(body, what)
        results = data.get("results")
        if not isinstance(results, list):
            raise InvalidResponseError(what=what, reason="'results' is missing or not a list")
        count = data.get("count")
        complete = isinstance(count, int) and index * size + len(results) >= count
        return Page(results, bool(results) and bool(data.get("next")) and not complete)

    def _image(self, data: Any, what: str) -> ImageDetails:
        return ImageDetails.from_wire(data, what)

    def _tag(self, data: Any, what: str) -> TagDetails:
        return TagDetails.from_wire(data, what)

    def registry_entry(self, data: Any, what: str) -> dict[str, Any]:
        return _entry(data, what, "registry")

    def image_entry(self, data: Any, what: str) -> dict[str, Any]:
        return _entry(data, what, "image")


# v3's list envelope is UNCONFIRMED (ncr-api-v3.md 1.6): the listing pages are cut off before the
# response body. Accept the shapes Ncloud's other standardized APIs and common frameworks use: a bare
# list, or an object holding the list under one of these names, its page facts beside it or nested.
V3_ITEM_KEYS = ("items", "content", "contents", "data", "results", "list")
V3_PAGE_KEYS = ("pagination", "page", "pageInfo", "paginationMeta", "meta")
V3_TOTAL_KEYS = ("totalElements", "totalCount", "total", "totalRows")


class V3(Dialect):
    """NCR API v3: `/registries/{r}/images/{i}`, camelCase, RFC 3339 times, 0-based `pageNo`/`pageSize`."""

    version = "v3"
    max_page_size = 1000  # "범위: 1 ~ 1,000" (ncr-api-v3.md 1.6)
    # Only error.detail and fieldErrors[].message follow X-NCP-LANG; asking for English keeps every message one language.
    headers = {"X-NCP-LANG": "en-US"}

    def registries_path(self, prefix: str) -> str:
        return f"{prefix}/registries"

    def registry_path(self, prefix: str, registry: str) -> str | None:
        return f"{prefix}/registries/{_segment(registry)}"

    def images_path(self, prefix: str, registry: str) -> str:
        return f"{prefix}/registries/{_segment(registry)}/images"

    def image_path(self, prefix: str, registry: str, image_name: str) -> str:
        return f"{prefix}/registries/{_segment(registry)}/images/{_segment(image_name)}"

    def page_params(self, index: int, size: int) -> dict[str, Any]:
        # By name: v3's default orders by last push, which moves an image pushed while we page onto
        # page 0, so it could be missed; names do not move.
        return {"pageNo": index, "pageSize": size, "sort": "name,asc"}

    def page(self, body: bytes, what: str, index: int, size: int, kind: str) -> Page:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidResponseError(what=what, reason="the body is not JSON") from None
        if isinstance(data, list):
            return Page(data, len(data) >= size)
        if not isinstance(data, dict):
            raise InvalidResponseError(what=what, reason=f"expected a JSON object or array, got a JSON {_json_kind(data)}")
        names = (*V3_ITEM_KEYS, kind)
        key = next((k for k in names if isinstance(data.get(k), list)), None)
        if key is None:
            found = ", ".join(f"{k} ({_json_kind(v)})" for k, v in list(data.items())[:12]) or "nothing"
            raise InvalidResponseError(
                what=what, reason=f"no list of {kind} in the page: expected a list under one of "
                                  f"{', '.join(names)}; found {found}")
        items = data[key]
        meta = next((data[k] for k in V3_PAGE_KEYS if isinstance(data.get(k), dict)), data)
        page_no = _number(meta, "pageNo", what)
        if page_no is not None and page_no != index:
            # A server counting pages from 1 would answer page 0 as page 1, and we would skip or repeat one.
            raise InvalidResponseError(what=what, reason=f"asked for pageNo {index}, the answer is pageNo {page_no}")
        if not items:
            return Page(items, False)
        for flag, means_more in (("hasNext", True), ("hasMore", True), ("last", False), ("isLast", False)):
            value = meta.get(flag)
            if value is not None:
                if not isinstance(value, bool):
                    raise InvalidResponseError(what=what, reason=f"{flag} must be true or false, got {_json_kind(value)}")
                return Page(items, value is means_more)
        total_pages = _number(meta, "totalPages", what)
        if total_pages is not None:
            return Page(items, index + 1 < total_pages)
        total = _number(meta, V3_TOTAL_KEYS[0], what, *V3_TOTAL_KEYS[1:])
        if total is not None:
            return Page(items, index * size + len(items) < total)
        return Page(items, len(items) >= size)

    image_keys = ("name", "registryName")

    def _image(self, data: Any, what: str) -> ImageDetails:
        return ImageDetails.from_v3(data, what)

    def _tag(self, data: Any, what: str) -> TagDetails:
        return TagDetails.from_v3(data, what)

    def registry_entry(self, data: Any, what: str) -> dict[str, Any]:
        data = _entry(data, what, "registry")
        private_host = data.get("privateEndpointHost")
        return {
            "name": data.get("name"),
            "bucket": data.get("bucketName"),
            "created": _instant(data, "createdDateTime", what),
            "end_point": data.get("publicEndpointHost"),
            "public_endpoint_enabled": data.get("publicEndpointEnabled"),
            "private_end_point": private_host,
            # (inference, ncr-api-v3.md 3) v3 has no private_id field: the id is the private host's first label.
            "private_id": private_host.split(".", 1)[0] if isinstance(private_host, str) and private_host else None,
            "public_reg_status": data.get("publicRegistryEnabled"),
            "scan_on_push_enabled": data.get("scanOnPushEnabled"),
            "status": data.get("status"),
            "storage_type": data.get("storageTypeCode"),
        }

    def image_entry(self, data: Any, what: str) -> dict[str, Any]:
        data = _entry(data, what, "image")
        return {
            "name": data.get("name"),
            "description": data.get("description"),
            "pull_count": _number(data, "pullCount", what),
            "last_updated": _instant(data, "lastPushedDateTime", what),
            "last_pulled": _instant(data, "lastPulledDateTime", what),
        }

    def error_message(self, error: Mapping[str, Any]) -> str | None:
        """`message`, then `detail` and each `fieldErrors` entry: the detail says which field was wrong."""
        parts = [str(error[k]) for k in ("message", "detail") if error.get(k)]
        field_errors = error.get("fieldErrors")
        if isinstance(field_errors, list):
            parts += [f"{e.get('field')}: {e.get('message')}" for e in field_errors[:5] if isinstance(e, dict)]
        return " ".join(parts) or None

    def error_kind(self, status: int, code: str | None) -> ErrorKind:
        # UNCONFIRMED (ncr-api-v3.md 1.5): whether a missing item is 404 ResourceNotFound (NCR's delete
        # page) or 400 (the platform's standard page); either code means "no such thing" at any status.
        if code in ("ResourceNotFound", "NotFound"):
            return ErrorKind.NOT_FOUND
        return super().error_kind(status, code)


DIALECTS: Mapping[str, Dialect] = {"v2": V2(), "v3": V3()}


def dialect(version: str) -> Dialect:
    """The dialect of an API version (`v2` or `v3`)."""
    return DIALECTS[version]


def _entry(data: Any, what: str, kind: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidResponseError(what=what, reason=f"each {kind} must be a JSON object, got a JSON {_json_kind(data)}")
    return data


def _about(data: Any, what: str, expected: Mapping[str, str | None]) -> None:
    """Refuse an answer about something else than was asked for: a verdict on prod/team/web must not rest on
    details of team/other. Each present key must equal its expected value exactly (NCR names are lowercase, so
    a difference in case is another name); an absent or null key is left to the model's own parsing."""
    if not isinstance(data, dict):
        return  # the model says what was wrong with the shape
    for key, want in expected.items():
        got = data.get(key)
        if want is None or got is None:
            continue
        if got != want:
            raise InvalidResponseError(what=what, reason=f"the answer is about {key} {_clean(got, 80)!r}, "
                                                         f"not {want!r} as asked")


def _clean(value: object, limit: int) -> str | None:
    """API text as we may show it: control sequences stripped, cut to `limit` characters."""
    return None if value is None else strip_control(value)[:limit]
