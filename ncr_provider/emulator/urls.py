"""Routing only: which handler answers a raw request path, in which region, with which parameters.

The raw path is split on ``/`` before any decoding, so an image name travels as one
percent-encoded segment (``hello%2Fworld``), exactly as NCR's documentation requires; a literal
``/`` in an image name makes a different (or no) route.

API v2 names the region in the path prefix. API v3 has one prefix, ``/api/v3``, and names the region
in the host (``kr-ncr.apigw.ntruss.com``, ``sg-ncr...``, ``jp-ncr...``); the emulator has one
address, so it reads the region from the Host header's first label, and for any other host
(``127.0.0.1:port``, what a client with an endpoint override sends) it stands in for every public
region at once for reads by name (registry names are unique across NCR, so nothing collides; the
registry list there is KR's, see ``responses_v3``). The gov site has no v3 API, so gov registries are
never seen there.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from ..sites import API_ENDPOINTS, SITES
from .models import ANY_PUBLIC_REGION, BadRequest, NotFound, region_key

# Path prefix segments -> region key, e.g. ("ncr", "api", "v2") -> "KR", ("ncr", "kr", "v2") -> "gov/KR".
PREFIXES: dict[tuple[str, ...], str] = {
    tuple(prefix.strip("/").split("/")): region_key(site.name, region)
    for site in SITES.values()
    for region, prefix in site.prefixes.items()
}

_V3_ROWS = [row for row in API_ENDPOINTS if row.version == "v3"]
V3_PREFIX: tuple[str, ...] = tuple(_V3_ROWS[0].prefix.strip("/").split("/"))  # ("api", "v3")
# v3 host's first label -> region key ("kr-ncr" -> "KR"); any other host serves every public region.
V3_HOST_REGIONS: dict[str, str] = {row.host.split("://", 1)[1].split(".", 1)[0]: region_key(row.site, row.region)
                                   for row in _V3_ROWS}
V3_DEFAULT_REGION = ANY_PUBLIC_REGION

# Segments after the prefix; "{}" is a path parameter, taken in order.
ROUTES: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    (("repositories",), "list_registries", ()),
    (("repositories", "{}"), "list_images", ("registry",)),
    (("repositories", "{}", "{}"), "get_image", ("registry", "image")),
    (("repositories", "{}", "{}", "tags"), "list_tags", ("registry", "image")),
    (("repositories", "{}", "{}", "tags", "{}"), "get_tag", ("registry", "image", "reference")),
)
V3_ROUTES: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    (("registries",), "list_registries", ()),
    (("registries", "{}"), "get_registry", ("registry",)),
    (("registries", "{}", "images"), "list_images", ("registry",)),
    (("registries", "{}", "images", "{}"), "get_image", ("registry", "image")),
    (("registries", "{}", "images", "{}", "tags"), "list_tags", ("registry", "image")),
    (("registries", "{}", "images", "{}", "tags", "{}"), "get_tag", ("registry", "image", "tag")),
)


@dataclass(frozen=True)
class Route:
    handler: str
    region: str
    params: dict[str, str]
    version: str = "v2"


def api_version(path: str) -> str:
    """`v3` for a path under `/api/v3`, else `v2`: which wire format answers, errors included."""
    return "v3" if tuple(path.split("/")[1:3]) == V3_PREFIX else "v2"


def v3_region(host: str | None) -> str:
    """The region a v3 request's Host header names (`sg-ncr.apigw.ntruss.com` -> SGN); every public one otherwise."""
    label = (host or "").split(".", 1)[0].lower()
    return V3_HOST_REGIONS.get(label, V3_DEFAULT_REGION)


def resolve(path: str, host: str | None = None) -> Route:
    """The route for a raw (still percent-encoded) path without its query, or NotFound."""
    segments = path.split("/")
    if len(segments) < 2 or segments[0] != "":
        raise NotFound(f"No route for {path[:200]!r}")
    segments = segments[1:]
    if tuple(segments[:2]) == V3_PREFIX:
        return _match(path, segments[2:], V3_ROUTES, v3_region(host), "v3")
    found = next(((p, r) for p, r in PREFIXES.items() if tuple(segments[: len(p)]) == p), None)
    if found is None:
        raise NotFound(f"No route for {path[:200]!r}")
    prefix, region = found
    return _match(path, segments[len(prefix):], ROUTES, region, "v2")


def _match(path: str, rest: list[str], routes: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...],
           region: str, version: str) -> Route:
    for pattern, handler, names in routes:
        if len(pattern) == len(rest) and all(p == "{}" or p == s for p, s in zip(pattern, rest, strict=True)):
            try:
                values = [unquote(s, errors="strict") for p, s in zip(pattern, rest, strict=True) if p == "{}"]
            except UnicodeDecodeError:
                raise BadRequest("A path parameter is not percent-encoded UTF-8") from None
            if all(values):
                return Route(handler, region, dict(zip(names, values, strict=True)), version)
    raise NotFound(f"No route for {path[:200]!r}")
