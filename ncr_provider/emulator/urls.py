"""Routing only: which handler answers a raw request path, in which region, with which parameters.

The raw path is split on ``/`` before any decoding, so an image name travels as one
percent-encoded segment (``hello%2Fworld``), exactly as NCR's documentation requires; a literal
``/`` in an image name makes a different (or no) route.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from ..sites import SITES
from .models import BadRequest, NotFound, region_key

# Path prefix segments -> region key, e.g. ("ncr", "api", "v2") -> "KR", ("ncr", "kr", "v2") -> "gov/KR".
PREFIXES: dict[tuple[str, ...], str] = {
    tuple(prefix.strip("/").split("/")): region_key(site.name, region)
    for site in SITES.values()
    for region, prefix in site.prefixes.items()
}

# Segments after the prefix; "{}" is a path parameter, taken in order.
ROUTES: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    (("repositories",), "list_registries", ()),
    (("repositories", "{}"), "list_images", ("registry",)),
    (("repositories", "{}", "{}"), "get_image", ("registry", "image")),
    (("repositories", "{}", "{}", "tags"), "list_tags", ("registry", "image")),
    (("repositories", "{}", "{}", "tags", "{}"), "get_tag", ("registry", "image", "reference")),
)


@dataclass(frozen=True)
class Route:
    handler: str
    region: str
    params: dict[str, str]


def resolve(path: str) -> Route:
    """The route for a raw (still percent-encoded) path without its query, or NotFound."""
    segments = path.split("/")
    if len(segments) < 2 or segments[0] != "":
        raise NotFound(f"No route for {path[:200]!r}")
    segments = segments[1:]
    found = next(((p, r) for p, r in PREFIXES.items() if tuple(segments[: len(p)]) == p), None)
    if found is None:
        raise NotFound(f"No route for {path[:200]!r}")
    prefix, region = found
    rest = segments[len(prefix):]
    for pattern, handler, names in ROUTES:
        if len(pattern) == len(rest) and all(p == "{}" or p == s for p, s in zip(pattern, rest, strict=True)):
            try:
                values = [unquote(s, errors="strict") for p, s in zip(pattern, rest, strict=True) if p == "{}"]
            except UnicodeDecodeError:
                raise BadRequest("A path parameter is not percent-encoded UTF-8") from None
            if all(values):
                return Route(handler, region, dict(zip(names, values, strict=True)))
    raise NotFound(f"No route for {path[:200]!r}")
