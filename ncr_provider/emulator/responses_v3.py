"""NCR API v3's wire format ("Ncloud API standard"), served from the same state as v2.

What ncr-api-v3.md documents is followed as written: camelCase fields, RFC 3339 times,
`pageNo` 0..1,000,000,000 (default 0) and `pageSize` 1..1,000 (default 20), `sort` as
`property[,asc|desc]` repeated, path names held to v3's patterns (else 400 InvalidParameter with
`fieldErrors`), 404 ResourceNotFound for a missing registry, image or tag, `x-ncp-request-id` on
every answer, `X-NCP-LANG` (ko-KR, ja-JP, en-US; default en-US) choosing the language of
`error.detail` while `error.message` stays English.

What it leaves UNCONFIRMED, the emulator decides here (clients parse it defensively):
- the list envelope: `{"items": [...], "pagination": {"pageNo", "pageSize", "totalElements",
  "totalPages"}}`, the pagination object other Ncloud standardized APIs use;
- a missing item is 404 ResourceNotFound (NCR's delete page), not the platform page's 400;
- errors the API gateway raises before NCR (401 signature, 403, 429) keep the gateway's body,
  which fronts both versions; they carry the request id header too;
- an `X-NCP-LANG` outside the three languages is 400 InvalidParameter;
- v3 names the region in the host, and the emulator has one address: a Host naming a regional host
  (`sg-ncr.apigw.ntruss.com`) picks that region; any other host (a client with an endpoint override)
  reads registries, images and tags of every public region by name (registry names are unique across
  NCR) and lists the KR registries;
- an image's `lastPulledDateTime` is the latest pull of any of its tags' platform images; a
  platform's `mediaType` is its config's media type (v2 stores the manifest's).
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from .models import ANY_PUBLIC_REGION, ApiException, BadRequest, NcrBackend, NotFound

REQUEST_ID_HEADER = "x-ncp-request-id"
LIST_REGION = "KR"  # the registry list served at a host that names no region
LANGUAGES = ("en-US", "ko-KR", "ja-JP")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000
MAX_PAGE_NO = 1_000_000_000

# Path parameter patterns as v3 documents them (ncr-api-v3.md 2).
REGISTRY_NAME = re.compile(r"[a-z][a-z0-9-]{1,28}[a-z0-9]")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_NAME = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
TAG_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_INTEGER = re.compile(r"-?[0-9]{1,12}")

# Sortable properties per list and each list's default order.
SORTS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "list_registries": (("name", "createdDateTime"), "createdDateTime,desc"),
    "list_images": (("name", "lastPushedDateTime"), "lastPushedDateTime,desc"),
    "list_tags": (("name", "updatedDateTime"), "updatedDateTime,desc"),
}

# error.detail in the requested language; the emulator's own English explanation stays in en-US.
DETAILS: Mapping[str, Mapping[str, str]] = {
    "ResourceNotFound": {"ko-KR": "요청한 리소스를 찾을 수 없습니다.", "ja-JP": "指定されたリソースが見つかりません。"},
    "InvalidParameter": {"ko-KR": "요청 파라미터가 올바르지 않습니다.", "ja-JP": "リクエストパラメータが正しくありません。"},
}

# v2 keeps the manifest's media type; v3 reports the config's (ncr-api-v3.md 2.15).
CONFIG_MEDIA_TYPES = {
    "application/vnd.docker.distribution.manifest.v2+json": "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.image.manifest.v1+json": "application/vnd.oci.image.config.v1+json",
}


def rfc3339(ms: Any) -> str | None:
    """Epoch milliseconds as RFC 3339 UTC text, milliseconds kept when there are any; None for no time."""
    if type(ms) is not int:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds" if ms % 1000 else "seconds").replace("+00:00", "Z")


def language(headers: Mapping[str, str]) -> str:
    """The X-NCP-LANG asked for (default en-US); another value is a 400 InvalidParameter."""
    value = headers.get("x-ncp-lang")
    if value is None:
        return "en-US"
    match = next((lang for lang in LANGUAGES if lang.lower() == value.strip().lower()), None)
    if match is None:
        raise BadRequest(f"X-NCP-LANG must be one of {', '.join(LANGUAGES)}, not {value[:40]!r}", field="X-NCP-LANG")
    return match


def error_body(exc: ApiException, lang: str) -> dict[str, Any] | None:
    """The v3 standard error body for an NCR error, or None for a gateway error (rendered the v2 way)."""
    if exc.v3_code is None:
        return None
    detail = DETAILS.get(exc.v3_code, {}).get(lang) or exc.details or None
    error: dict[str, Any] = {"errorCode": exc.v3_code, "message": exc.v3_message}
    if detail:
        error["detail"] = detail
    if exc.field:
        error["fieldErrors"] = [{"field": exc.field, "message": exc.details or exc.v3_message}]
    return {"error": error}


def new_request_id() -> str:
    return str(uuid.uuid4())


class V3Responses:
    """Thin handlers, one per v3 read operation: check parameters, ask the backend, render camelCase."""

    def __init__(self, backend: NcrBackend):
        self.backend = backend

    def handle(self, handler: str, region: str, query: str, params: Mapping[str, str]) -> Any:
        _check_path(params)
        method: Callable[..., Any] = getattr(self, handler)
        return method(region, query, **params)

    def list_registries(self, region: str, query: str) -> dict[str, Any]:
        # At the emulator's own address (no regional host named) a lookup by name finds a registry in any
        # public region, names being unique; the registry list, which is per region, is the default region's.
        region = LIST_REGION if region == ANY_PUBLIC_REGION else region
        items = [render_registry(r) for r in self.backend.list_registries(region)]
        return page(items, query, "list_registries")

    def get_registry(self, region: str, query: str, registry: str) -> dict[str, Any]:
        return render_registry(self.backend.get_registry(region, registry))

    def list_images(self, region: str, query: str, registry: str) -> dict[str, Any]:
        images = [self._image(region, registry, i, detail=False) for i in self.backend.list_images(region, registry)]
        return page(images, query, "list_images")

    def get_image(self, region: str, query: str, registry: str, image: str) -> dict[str, Any]:
        return self._image(region, registry, self.backend.get_image(region, registry, image), detail=True)

    def list_tags(self, region: str, query: str, registry: str, image: str) -> dict[str, Any]:
        return page([render_tag(t) for t in self.backend.list_tags(region, registry, image)], query, "list_tags")

    def get_tag(self, region: str, query: str, registry: str, image: str, tag: str) -> dict[str, Any]:
        found = next((t for t in self.backend.list_tags(region, registry, image) if t["name"] == tag), None)
        if found is None:
            # By name only: v3's tagName is a tag, never a digest.
            raise NotFound(f"Tag {tag!r} not found in image {registry}/{image}")
        return render_tag(found)

    def _image(self, region: str, registry: str, fields: Mapping[str, Any], detail: bool) -> dict[str, Any]:
        tags = self.backend.list_tags(region, registry, fields["name"])
        pulls = [p["latest_pulled"] for t in tags for p in t["images"] if type(p.get("latest_pulled")) is int]
        rendered = {
            "name": fields["name"],
            "registryName": registry,
            "description": fields.get("description"),
            "pullCount": fields.get("pull_count"),
            "lastPushedDateTime": rfc3339(fields.get("last_updated")),
            "lastPulledDateTime": rfc3339(max(pulls)) if pulls else None,
        }
        if detail:
            rendered["fullDescription"] = fields.get("full_description")
            rendered["tagMutabilityEnabled"] = fields.get("tag_mutability_enabled")
        return rendered


def render_registry(reg: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": reg["name"],
        "bucketName": reg.get("bucket"),
        "privateEndpointHost": reg.get("private_end_point") or None,
        "publicEndpointHost": reg.get("end_point"),
        "publicEndpointEnabled": True,
        "scanOnPushEnabled": reg.get("scan_on_push_enabled"),
        "publicRegistryEnabled": reg.get("public_reg_status"),
        "createdDateTime": rfc3339(reg.get("created")),
        "storageTypeCode": "OBJECT_STORAGE",
        "status": reg.get("status"),
    }


def render_tag(tag: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": tag["name"],
        "digest": tag["digest"],
        "fullSize": tag.get("full_size"),
        "images": [
            {
                "mediaType": CONFIG_MEDIA_TYPES.get(p.get("mediaType"), p.get("mediaType")),
                "size": p.get("size"),
                "architecture": p.get("architecture"),
                "digest": p.get("digest"),
                "variant": p.get("variant") or None,
                "os": p.get("os"),
                "createdDateTime": rfc3339(p.get("created")),
                "updatedDateTime": rfc3339(p.get("updated")),
                "lastPulledDateTime": rfc3339(p.get("latest_pulled")),
            }
            for p in tag["images"]
        ],
        "updatedDateTime": rfc3339(tag.get("last_updated")),
    }


def page(items: list[dict[str, Any]], query: str, operation: str) -> dict[str, Any]:
    """Sort, then cut the page `pageNo` (0-based) of `pageSize` items, in the envelope the module docstring names."""
    pairs = parse_qsl(query, keep_blank_values=True)
    page_no = _integer(pairs, "pageNo", 0, 0, MAX_PAGE_NO)
    page_size = _integer(pairs, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    allowed, default = SORTS[operation]
    orders = [v for k, v in pairs if k == "sort"] or [default]
    keys = []
    for order in orders:
        prop, _, direction = order.partition(",")
        if prop not in allowed or direction not in ("", "asc", "desc"):
            raise BadRequest(f"sort must be one of {', '.join(allowed)}, optionally followed by ,asc or ,desc; "
                             f"got {order[:60]!r}", field="sort")
        keys.append((prop, direction == "desc"))
    # Stable sorts, last key first, give the combined order; a missing time sorts as the oldest.
    for prop, descending in reversed(keys):
        items.sort(key=functools.partial(_item_sort_key, prop), reverse=descending)
    start = page_no * page_size
    total = len(items)
    return {
        "items": items[start:start + page_size],
        "pagination": {"pageNo": page_no, "pageSize": page_size, "totalElements": total,
                       "totalPages": -(-total // page_size)},
    }


def _sort_key(value: Any) -> tuple[bool, Any]:
    """Names as text, times as instants (RFC 3339 text with and without milliseconds does not sort as text)."""
    if isinstance(value, str) and value.endswith("Z") and value[:4].isdigit():
        return True, datetime.fromisoformat(value[:-1] + "+00:00").timestamp()
    return value is not None, value if value is not None else ""


def _integer(pairs: list[tuple[str, str]], name: str, default: int, low: int, high: int) -> int:
    values = [v for k, v in pairs if k == name]
    if not values:
        return default
    raw = values[0]
    if len(values) > 1 or not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadRequest(f"{name} must be one integer from {low} to {high:,}, not {raw[:40]!r}", field=name)
    return int(raw)


def _check_path(params: Mapping[str, str]) -> None:
    checks = (("registry", "registryName", REGISTRY_NAME, 30), ("image", "imageName", IMAGE_NAME, 255),
              ("tag", "tagName", TAG_NAME, 128))
    for key, field, pattern, limit in checks:
        value = params.get(key)
        if value is not None and (len(value) > limit or not pattern.fullmatch(value)):
            raise BadRequest(f"{field} {value[:80]!r} must match {pattern.pattern} (at most {limit} characters)",
                             field=field)


def _item_sort_key(prop: str, item: Mapping[str, Any]) -> Any:
    """One item's sort key for `prop` (a partial of it is a list.sort key)."""
    return _sort_key(item.get(prop))
