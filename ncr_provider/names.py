"""Registry and image name rules, and parsing Docker image references that point at NCR.

NCP does not document its name rules, so these follow what Docker allows, conservatively:
a registry is also a DNS label in its Docker host (`<registry>.kr.ncr.ntruss.com`), and no name may ever
change the request path (no `..`, `?`, `#`, `%`, empty segments, whitespace or controls).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from .errors import InvalidNameError, shorten
from .sites import (
    DEFAULT_SITE,
    DOCKER_HOSTS,
    NCR_HOST_PATTERN,
    PRIVATE_NCR_LABEL,
    DockerHost,
    describe_docker_hosts,
    docker_host_form,
)

DOCKER_TRANSPORT = "docker://"
"""The transport prefix podman, skopeo and buildah name a registry reference with: read past, never a URL."""
REGISTRY_MAX = 63
IMAGE_NAME_MAX = 255
_REGISTRY_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
# One Docker path component: lowercase alphanumerics joined by '.', '_', '__' or runs of '-'.
COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# The digests Docker pulls by: the algorithm and exactly its length of lowercase hex; nothing else pins content.
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")

# The Docker host forms references are read from: host suffix (`kr.ncr.ntruss.com`) -> its row.
# DNS names are case-insensitive: hosts are matched lowercased.
_DOCKER_FORMS: dict[str, DockerHost] = {form.suffix: form for form in DOCKER_HOSTS}
_SUFFIX_ALTERNATIVES = "|".join(re.escape(suffix) for suffix in _DOCKER_FORMS)
_HOST_RE = re.compile(rf"(?P<name>[^.]+)\.(?P<suffix>{_SUFFIX_ALTERNATIVES})")
_NCR_LOOKALIKE_RE = re.compile(NCR_HOST_PATTERN)
HOST_MAX = 253  # the longest DNS name: what bounds the cost of matching a host


def looks_like_ncr(host: str) -> bool:
    """Whether a lowercased host name has NCR's shape (`...ncr.<...>ntruss.com`, or a `private-ncr`
    label between others), known form or not.

    The pattern runs only on a host of DNS length; a longer one with NCR's ending counts as NCR's
    (it is then refused as malformed), so neither a hostile length nor a shape is ever skipped.
    """
    if f".{PRIVATE_NCR_LABEL}." in host and PRIVATE_NCR_LABEL in host.split(".")[1:-1]:
        return True
    if not host.endswith("ntruss.com") or "ncr." not in host:
        return False
    return len(host) > HOST_MAX or _NCR_LOOKALIKE_RE.fullmatch(host) is not None
_PORT_RE = re.compile(r"[0-9]{1,5}")


# Printable ASCII but for the space and '?', '#', '%' and '\\': a name made only of these is safe (the
# common case, checked in one match; the checks below name the reason for anything else).
_SAFE_TEXT_RE = re.compile(r"[!\"$&'()*+,\-./0-9:;<=>@A-Z\[\]^_`a-z{|}~]+")


def _why_unsafe(value: str) -> str | None:
    """The reason a name could alter a request path or header, if any."""
    if _SAFE_TEXT_RE.fullmatch(value):
        return None
    if not value:
        return "it is empty"
    if len(value) != len(value.strip()) or any(c.isspace() for c in value):
        return "it contains whitespace"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "it contains control characters"
    for char, label in (("?", "'?'"), ("#", "'#'"), ("%", "'%' (names are sent encoded; give them decoded)"),
                        ("\\", "a backslash")):
        if char in value:
            return f"it contains {label}"
    if not value.isascii():
        return "it contains non-ASCII characters"
    return None


def _text(value: object, field: str) -> tuple[str, str | None]:
    """The value as text, and why it could alter a request if it could; anything but text is refused here."""
    if not isinstance(value, str):
        raise InvalidNameError(field, str(value), f"expected text, got {type(value).__name__}")
    return value, _why_unsafe(value)


def validate_registry(value: object, field: str = "registry") -> str:
    """Return the registry name if it is one safe segment, else raise InvalidNameError naming the field."""
    value, reason = _text(value, field)
    if reason is None:
        if "/" in value:
            reason = "a registry name is a single segment and cannot contain '/'"
        elif value in (".", ".."):
            reason = "'.' and '..' are not names"
        elif len(value) > REGISTRY_MAX:
            reason = f"it is longer than {REGISTRY_MAX} characters"
        elif not _REGISTRY_RE.fullmatch(value):
            reason = "use lowercase letters, digits and '-', starting and ending with a letter or digit"
    if reason:
        raise InvalidNameError(field, value, reason)
    return value


def validate_image_name(value: object, field: str = "image_name") -> str:
    """Return the image name if its `/`-separated components are safe Docker components."""
    value, reason = _text(value, field)
    if reason is None:
        if len(value) > IMAGE_NAME_MAX:
            reason = f"it is longer than {IMAGE_NAME_MAX} characters"
        else:
            for segment in value.split("/"):
                if segment == "":
                    reason = "it has an empty path segment (leading, trailing or double '/')"
                elif segment in (".", ".."):
                    reason = "'.' and '..' segments are not allowed"
                elif not COMPONENT_RE.fullmatch(segment):
                    reason = (f"segment {segment!r} must be lowercase letters and digits, "
                              "joined by '.', '_', '__' or '-'")
                if reason:
                    break
    if reason:
        raise InvalidNameError(field, value, reason)
    return value


def validate_tag(value: object, field: str = "tag") -> str:
    if not isinstance(value, str) or not TAG_RE.fullmatch(value):
        raise InvalidNameError(field, str(value), "a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
    return value


def validate_digest(value: object, field: str = "digest") -> str:
    """Return the digest if Docker can pull by it: `sha256:` + 64 or `sha512:` + 128 lowercase hex digits."""
    if not isinstance(value, str) or not DIGEST_RE.fullmatch(value):
        raise InvalidNameError(field, str(value), "a digest is sha256:<64 lowercase hex digits> "
                                                  "or sha512:<128 lowercase hex digits>")
    return value


@dataclass(frozen=True)
class ImageRef:
    """An NCR image named by a reference: registry, image, and where it lives."""

    registry: str | None
    """None for a private endpoint reference until the registry list maps its `private_id`."""
    image_name: str
    region: str | None = None
    site: str | None = None
    tag: str | None = None
    digest: str | None = None
    private_id: str | None = None
    """The id of a private endpoint host (`<private-id>.kr.private-ncr.ntruss.com`), lowercased."""

    @property
    def key(self) -> str:
        """`registry/image`, the id NcrImage uses (`<private id>/image` before a private id is mapped)."""
        return f"{self.registry or f'<private {self.private_id}>'}/{self.image_name}"

    @property
    def pulled_tag(self) -> str:
        """The tag a pull of this reference deploys: the one it names, else `latest`, as Docker pulls."""
        return self.tag or "latest"


class NotNcrReference(InvalidNameError, init=False):
    """A Docker reference to a registry host that is not NCR."""


class UncheckableReference(InvalidNameError, init=False):
    """An NCR-looking value no gate can judge: reported as "could not be checked" (the pack's failOpen decides
    whether it blocks), never skipped, and never called malformed."""


class UnknownNcrHost(UncheckableReference, init=False):
    """A host that looks like NCR's (`*.ncr.*ntruss.com`) but is none of its known forms: reported, never skipped."""


class UnjoinedNcrHost(UncheckableReference, init=False):
    """A value that is exactly an NCR registry host with no image name beside it to join it with (a chart's
    `global.imageRegistry`, say): the image it serves cannot be named, so it is reported, never ignored."""

    fmt: ClassVar[str] = "{field} holds the NCR registry host {shown} but no image: {reason}"


def split_image_id(value: object, field: str = "id") -> tuple[str, str]:
    """Split `registry/image` (the image may contain `/`) and validate both parts."""
    if not isinstance(value, str) or "/" not in value:
        raise InvalidNameError(field, str(value), "expected 'registry/image'")
    registry, image = value.split("/", 1)
    return validate_registry(registry, "registry"), validate_image_name(image, "image_name")


def split_tag_id(value: object, field: str = "id") -> tuple[str, str, str]:
    """Split `registry/image:tag` (the id NcrImageTag uses) and validate all three parts."""
    if not isinstance(value, str) or "/" not in value or ":" not in value.rpartition("/")[2]:
        raise InvalidNameError(field, str(value), "expected 'registry/image:tag'")
    image_id, _, tag = value.rpartition(":")
    registry, image_name = split_image_id(image_id, field)
    return registry, image_name, validate_tag(tag)


def split_selection_id(value: object, field: str = "id") -> tuple[str, str, str | None, str | None]:
    """Split an NcrImageTag id: `registry/image:tag`, `registry/image@digest`, or `registry/image` (the most recent).

    Returns (registry, image_name, tag, digest), at most one of the last two set, all validated.
    """
    if not isinstance(value, str) or "/" not in value:
        raise InvalidNameError(field, str(value), "expected 'registry/image:tag', 'registry/image@digest' or "
                                                  "'registry/image'")
    if "@" in value:
        image_id, _, digest = value.partition("@")
        return (*split_image_id(image_id, field), None, validate_digest(digest))
    if ":" in value.rpartition("/")[2]:
        return (*split_tag_id(value, field), None)
    return (*split_image_id(value, field), None, None)


def parse_reference(value: object, field: str = "reference") -> ImageRef:
    """Parse `registry/image[:tag][@digest]` or a Docker reference to an NCR host, with or without a port
    (and with or without `docker://`, the transport podman, skopeo and buildah pull by).

    Hosts are the rows of `sites.DOCKER_HOSTS`, in any case: `<registry>.<kr|sg|jp>.ncr.ntruss.com`
    (region from the host), `<registry>.ncr.gov-ntruss.com` (site gov), `<registry>.ncr.fin-ntruss.com`
    (site fin), and each one's private endpoint `<private-id>.<...>.private-ncr.<...>`, whose registry
    the registry list names later. A host that looks like NCR's but is none of these raises
    UnknownNcrHost; any other host raises NotNcrReference.
    """
    if not isinstance(value, str):
        raise InvalidNameError(field, str(value), f"expected text, got {type(value).__name__}")
    reason = _why_unsafe(value)
    if reason:
        raise InvalidNameError(field, value, reason)
    rest, digest = value.removeprefix(DOCKER_TRANSPORT), None
    if "://" in rest:
        scheme, _, after = rest.partition("://")
        if "@" in after.partition("/")[0]:  # user:password@host: never echoed, not even in the suggestion
            raise NotNcrReference(field, f"{scheme[:20]}://<credentials>@...", "it is a URL with credentials, "
                                  "not an image reference: drop the scheme and the credentials (docker login holds them)")
        raise NotNcrReference(field, value, f"it is a URL ({scheme[:20]}://), not an image reference: drop the "
                                            f"scheme, e.g. {shorten(after)}")
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        validate_digest(digest, f"{field} digest")
    first, _, remainder = rest.partition("/")
    region = site = private_id = None
    if "." in first or ":" in first or first == "localhost":
        form, name = _docker_host(first, value, field)
        region, site = form.region, form.site
        if form.private:
            registry, private_id = None, validate_registry(name, "private endpoint id")
        else:
            registry = name
        image_part = remainder
    else:
        registry, image_part = first, remainder
    tag = None
    last_slash = image_part.rfind("/")
    if ":" in image_part[last_slash + 1:]:
        image_part, tag = image_part.rsplit(":", 1)
        validate_tag(tag, f"{field} tag")
    if not image_part:
        raise InvalidNameError(field, value, "expected 'registry/image' or '<registry>.<region>.ncr.ntruss.com/<image>'")
    return ImageRef(None if registry is None else validate_registry(registry, "registry"),
                    validate_image_name(image_part, "image_name"),
                    region=region, site=site, tag=tag, digest=digest, private_id=private_id)


def _docker_host(text: str, value: str, field: str) -> tuple[DockerHost, str]:
    """The host form of `host[:port]` and the name before it (registry or private id)."""
    if text.startswith("["):
        raise NotNcrReference(field, value, f"{shorten(text)} is a bracketed IPv6 address, not an NCR registry host "
                                            f"({describe_docker_hosts()})")
    host, colon, port = text.lower().partition(":")
    shown = host if len(host) <= HOST_MAX else f"{host[:40]}...{host[-40:]} ({len(host)} characters)"
    match = _HOST_RE.fullmatch(host)
    if match is None:
        if looks_like_ncr(host):
            raise UnknownNcrHost(field, value, f"{shown} looks like an NCR registry host but is none of its forms "
                                               f"({describe_docker_hosts()}, or their private endpoints "
                                               f"{describe_docker_hosts(private=True)})")
        raise NotNcrReference(field, value, f"{shown} is not an NCR registry host ({describe_docker_hosts()})")
    if colon and not (_PORT_RE.fullmatch(port) and 0 < int(port) < 65536):
        raise InvalidNameError(field, value, f"the port of {shown} must be a number from 1 to 65535")
    return _DOCKER_FORMS[match["suffix"]], match["name"]


def docker_host(registry: str, region: str, site: str = DEFAULT_SITE) -> str:
    """The Docker endpoint host of a registry (inverse of parse_reference's host forms)."""
    return docker_host_form(site, region).host(registry)


def digest_reference(registry: str, image_name: str, digest: str, region: str, site: str = DEFAULT_SITE) -> str:
    """The pullable by-digest reference `<docker host>/<image>@<digest>`, every part validated."""
    host = docker_host(validate_registry(registry), region, site)
    return f"{host}/{validate_image_name(image_name)}@{validate_digest(digest)}"


def repository_url(registry: str, image_name: str, region: str, site: str = DEFAULT_SITE) -> str:
    """`<docker host>/<image>`, what `docker push` and `docker pull` take before `:tag` or `@digest`."""
    return f"{docker_host(validate_registry(registry), region, site)}/{validate_image_name(image_name)}"


def private_docker_host(private_id: str, region: str, site: str = DEFAULT_SITE) -> str | None:
    """The private endpoint's Docker host, e.g. `<private-id>.kr.private-ncr.ntruss.com`; None without a private id."""
    if not private_id:
        return None
    validate_registry(private_id, "private_id")  # a DNS label, like a registry name
    try:
        return docker_host_form(site, region, private=True).host(private_id)
    except KeyError:
        return None  # a site with no documented private host form


def private_repository_url(private_id: str | None, image_name: str, region: str,
                           site: str = DEFAULT_SITE) -> str | None:
    """The repository on the registry's private endpoint, or None when that endpoint is not known."""
    host = private_docker_host(private_id or "", region, site)
    return None if host is None else f"{host}/{validate_image_name(image_name)}"


def tag_reference(registry: str, image_name: str, tag: str, region: str, site: str = DEFAULT_SITE) -> str:
    """The pullable by-tag reference `<docker host>/<image>:<tag>`, every part validated."""
    return f"{repository_url(registry, image_name, region, site)}:{validate_tag(tag)}"


# An NCR Docker reference inside any text: a whole host name that looks like NCR's (any case), an
# optional port, a '/', then the whole token up to whitespace, a quote, a bracket or a comma. Host
# names are the maximal runs of host characters, so `x_prod.kr.ncr.ntruss.com` is that host
# (malformed), never `prod`'s. The whole token is parsed, so a hostile tail (`?`, `%2e`, `\x00`) or
# an unknown form makes the reference malformed instead of silently shortening or skipping it.
# Runs, not one pattern over the text: a single regex with NCR's shape backtracks quadratically on
# text like `ncr.ncr.ncr...`, and a policy must not hang on a resource's input.
_HOST_RUN_RE = re.compile(r"[A-Za-z0-9_.-]+")
_PORT_RE_IN_TEXT = re.compile(r":[^/\s\"'<>(){}\[\],]*")
_TOKEN_TAIL_RE = re.compile(r"[^\s\"'<>(){}\[\],]*")
# In free text, a sentence ends a token without being part of it: `... is prod.kr.ncr.ntruss.com/team/web.`
# names `team/web`. A value that is exactly one token keeps these characters (and is malformed with them).
_SENTENCE_PUNCTUATION = ".,;:)]}'\"!"
# `scheme://` (and userinfo) right before a host: a URL such as `https://<host>/v2/` is not a Docker
# reference (docker pull takes no scheme), so it names no image and is neither checked nor an error.
# `docker://` is no URL: it is the transport podman, skopeo and buildah pull a registry reference by
# (`skopeo copy docker://<ref> ...`), so what follows it is judged like any reference. (`docker-daemon:<ref>`
# needs nothing: its `:` is no `://`, so the reference after it is read as it is.)
_URL_LOOKBEHIND = 256  # how far before a host userinfo's `://` is looked for: bounds the cost per host
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


def _is_url_host(text: str, start: int) -> bool:
    """Whether the host starting at `start` is the host of a URL (`scheme://host` or `scheme://user@host`);
    a host right after the `docker://` transport is a reference's, not a URL's."""
    if text.startswith("@", start - 1):
        mark = text.rfind("://", max(0, start - _URL_LOOKBEHIND), start)
        if mark < 0 or any(c.isspace() or c == "/" for c in text[mark + 3:start]):
            return False
    elif text.startswith("://", start - 3):
        mark = start - 3
        if _transport_start(text, start) is not None:
            return False
    else:
        return False
    return mark > 0 and text[mark - 1] in _SCHEME_CHARS


def _transport_start(text: str, start: int) -> int | None:
    """Where the `docker://` right before the host at `start` begins (a whole scheme, not `xdocker://`), if one is."""
    begin = start - len(DOCKER_TRANSPORT)
    if begin < 0 or not text.startswith(DOCKER_TRANSPORT, begin) or (begin > 0 and text[begin - 1] in _SCHEME_CHARS):
        return None
    return begin


def _embedded(text: str) -> list[str]:
    """Every NCR-looking Docker reference in one string, as written."""
    return [text[start:end] for start, end in _embedded_spans(text)]


def _embedded_spans(text: str) -> list[tuple[int, int]]:
    """Where each NCR-looking Docker reference of one string starts and ends."""
    spans: list[tuple[int, int]] = []
    resume = 0  # text up to here is inside a token already read: each character is scanned once
    for run in _HOST_RUN_RE.finditer(text):
        if run.start() < resume or not looks_like_ncr(run.group(0).lower()):
            continue
        end = run.end()
        port = _PORT_RE_IN_TEXT.match(text, end)
        if port:
            end = port.end()
        if text.startswith("/", end):
            tail = _TOKEN_TAIL_RE.match(text, end)
            assert tail is not None, "the tail pattern matches whatever follows the '/'"
            slash, end = end, tail.end()
            resume = end
            if _is_url_host(text, run.start()):
                continue  # a URL to an NCR host, not a pull reference: read past, never reported
            whole = run.start() == 0 or _transport_start(text, run.start()) == 0  # the value is this one token
            if not (whole and end == len(text)):  # free text: sentence punctuation ends the token
                while end > slash + 1 and text[end - 1] in _SENTENCE_PUNCTUATION:
                    end -= 1
            spans.append((run.start(), end))
            continue
        # else a bare host (a login server, a URL's host with no path) names no image
        resume = end
    return spans


@dataclass(frozen=True)
class FoundReference:
    """An NCR reference found inside a structure, where it was found, and what it parsed to."""

    path: str
    text: str
    ref: ImageRef | None
    error: InvalidNameError | None = None
    written: bool = True
    """False where `text` is not written as such in one string value (joined from a chart's split values,
    unescaped from `\\/`, or a key), so `replace_references` cannot rewrite it where it is."""

    @property
    def parsed(self) -> ImageRef:
        """`ref`, for code that has kept only the references that parsed (a type checker cannot follow that)."""
        if self.ref is None:
            raise ValueError(f"{self.text!r} at {self.path} did not parse: {self.error}")
        return self.ref


# Helm charts split an image over values (Bitnami's `image: {registry, repository, tag, digest}`, the chart
# starter's `image: {repository, tag}`), and the chart joins them as `registry/repository:tag@digest`. The
# parts are joined here the same way and the whole is judged at the mapping's path; the parts are then
# not read again one by one (a whole `repository` would otherwise be judged untagged).
SPLIT_IMAGE_PARTS = ("registry", "repository", "tag", "digest")
# The keys under which charts put the registry half of a split image (Bitnami's `image.registry` and
# `global.imageRegistry`): a value there that is exactly an NCR host, with no `repository` beside it to join,
# names an image that cannot be known, so it is reported (UnjoinedNcrHost). Anywhere else a bare NCR host is
# configuration (a login server, an `env` value, a `--insecure-registry` argument, stack config) and names
# no image. Keys are compared lowercased without `_` and `-`.
IMAGE_REGISTRY_KEYS = frozenset({"registry", "imageregistry"})


def _joined(values: dict) -> tuple[str, tuple[str, ...]] | None:
    """The reference a chart's split image values make, and the keys it was made of; None without a `repository`."""
    repository = values.get("repository")
    if not isinstance(repository, str) or not repository:
        return None
    registry = values.get("registry")
    text, used = repository, ["repository"]
    if isinstance(registry, str) and registry:
        text, used = f"{registry}/{repository}", [*used, "registry"]
    for key, mark in (("tag", ":"), ("digest", "@")):
        part = values.get(key)
        if isinstance(part, (int, float)) and not isinstance(part, bool):
            part = str(part)  # YAML's `tag: 1.4` is a number: the chart prints it as text
        if isinstance(part, str) and part:
            text, used = f"{text}{mark}{part}", [*used, key]
    return text, tuple(used)


def _bare_ncr_host(text: str) -> bool:
    """Whether the whole value is an NCR-looking host (with an optional port) and nothing else."""
    run = _HOST_RUN_RE.match(text)
    if run is None or not looks_like_ncr(run.group(0).lower()):
        return False
    host, colon, port = text.partition(":")
    return len(host) == run.end() and (not colon or _PORT_RE.fullmatch(port) is not None)


def _references_in(text: str, where: str, written: bool = True) -> list[FoundReference]:
    """The references in one string. JSON text written with `\\/` escapes (`prod.kr.ncr.ntruss.com\\/team\\/api`,
    as PHP's json_encode writes a slash) is read unescaped: the reference it holds is judged, never lost."""
    found = []
    escaped = "\\/" in text
    for token in _embedded(text.replace("\\/", "/") if escaped else text):
        try:
            ref, error = parse_reference(token, where or "reference"), None
        except InvalidNameError as exc:
            ref, error = None, exc
        found.append(FoundReference(where, token, ref, error, written=written and not escaped))
    return found


def find_references(value: object, path: str = "", lone_hosts: bool = True) -> list[FoundReference]:
    """Every NCR Docker reference in any string of a nested dict/list structure, with its property path.

    Paths read like `spec.template.spec.containers[0].image`. Non-text leaves are ignored. A chart's split
    image values (`registry` + `repository` + `tag`/`digest`) are one reference, at the path of their
    mapping; a value that is exactly an NCR host left over under a chart's registry key is an UnjoinedNcrHost,
    unless `lone_hosts` is False (a resource's outputs, which no policy sees: a registry's host computed
    for a `docker login` or a stack output deploys nothing).
    """
    found: list[FoundReference] = []
    stack: list[tuple[str, str | None, object]] = [(path, None, value)]
    while stack:
        where, key, item = stack.pop()
        if isinstance(item, str):
            references = _references_in(item, where)
            if not references and lone_hosts and _bare_ncr_host(item) and \
                    (key or "").lower().replace("_", "").replace("-", "") in IMAGE_REGISTRY_KEYS:
                references = [FoundReference(where, item, None, UnjoinedNcrHost(
                    where or "value", item, "no `repository` beside it to join it with, so the image it serves "
                                            "cannot be checked; write the whole reference (host/image:tag) in one "
                                            "value, or `registry` and `repository` side by side"))]
            found += references
        elif isinstance(item, dict):
            joined = _joined(item)
            used: tuple[str, ...] = ()
            if joined is not None:
                text, used = joined
                found += _references_in(text, where, written=False)
            for name in reversed(list(item)):
                if name not in used:
                    stack.append((f"{where}.{name}" if where else str(name), str(name), item[name]))
            # A reference used as a key (a map from image to settings) is judged at the key's own path;
            # a bare host as a key (`auths` of a Docker config) names no image, as in free text.
            found += [reference for name in item if isinstance(name, str)
                      for reference in _references_in(name, f"{where}.{name}" if where else name, written=False)]
        elif isinstance(item, (list, tuple)):
            for index in reversed(range(len(item))):
                stack.append((f"{where}[{index}]", None, item[index]))
    return found


def replace_references(text: str, replacements: Mapping[str, str]) -> str:
    """`text` with each whole NCR reference token that is a key of `replacements` replaced by its value.

    Tokens are found exactly as `find_references` finds them, so a reference is never matched inside
    a longer one (`...web:1` inside `...web:10`).
    """
    parts, last = [], 0
    for start, end in _embedded_spans(text):
        token = text[start:end]
        parts += [text[last:start], replacements.get(token, token)]
        last = end
    return "".join(parts) + text[last:]
