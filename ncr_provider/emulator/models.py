"""The emulator's in-memory NCR state, and the API errors it can answer with.

Everything here validates its whole input before it changes anything, so a rejected seed
document or ``add_*`` call leaves the state as it was. Reads return copies.

Seed data format (``data/default.json`` is an example)::

    {"registries": [
      {"name": "prod", "region": "KR",              # region: KR, SGN, JPN, gov/KR or gov/KRS;
                                                     #   omitted or null: visible under every prefix
       "bucket": ..., "created": ..., "end_point": ..., "private_end_point": ..., "private_id": ...,
       "public_reg_status": ..., "scan_on_push_enabled": ..., "status": ...,   # all optional
       "images": [
         {"name": "team/web", "description": ..., "full_description": ..., "pull_count": ...,
          "tag_mutability_enabled": ..., "last_updated": ...,    # any image detail field, optional
          "tags": [
            {"name": "1.2.0", "digest": "sha256:<64 hex>", "full_size": ..., "last_updated": ...,
             "creator": ..., "last_updater": ...,
             "images": ["linux/amd64", {"os": "linux", "architecture": "arm64", "variant": "v8", ...}]}
          ]}
       ]}
    ]}

Keys starting with ``_`` (``"_comment"``) are ignored anywhere. Unknown keys are errors. Times
are milliseconds since the epoch; omitted ones default to the time of loading. Seed names are
held to a strict rule of the emulator's own (registry ``^[a-z][a-z0-9-]{1,28}[a-z0-9]$``, Docker
repository and tag names): NCR's API reference documents no name rules, and this is stricter than
what the client accepts, so data the emulator takes never trips the client's validation.
``tag_mutability_enabled: false`` makes an image's tags immutable: re-adding a tag with another
digest is refused, as NCR refuses the push.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from ..sites import DEFAULT_REGION, DEFAULT_SITE, SITES, docker_host_form


def epoch_ms() -> int:
    """The emulator's wall clock in milliseconds since the epoch (the server adds a test's offset)."""
    return time.time_ns() // 1_000_000


def region_key(site: str, region: str) -> str:
    """How a region is named in seed data: `KR` on site public, `gov/KR` on site gov."""
    return region if site == DEFAULT_SITE else f"{site}/{region}"


REGION_KEYS: tuple[str, ...] = tuple(region_key(s.name, r) for s in SITES.values() for r in s.prefixes)
# A v3 request to a host that names no region (the emulator's own address): NCR registry names are
# unique across all members, so the emulator can stand in for every public regional host at once.
ANY_PUBLIC_REGION = "public/*"


# --- API errors: one class per NCP error, rendered only by responses.error_response ---

class ApiException(Exception):
    """An error the emulated API answers with: HTTP status, NCP errorCode and message.

    `v3_code` and `v3_message` are how NCR's API v3 says the same thing (its standard error body);
    None where the API gateway, not NCR, answers: the gateway fronts both versions alike.
    """

    status = 500
    code = "900"
    message = "Unexpected Error"
    v3_code: str | None = None
    v3_message: str | None = None

    def __init__(self, details: str = "", field: str | None = None):
        super().__init__(details or self.message)
        self.details = details
        self.field = field
        """The request field at fault (v3 renders it as a fieldErrors entry)."""

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return ()

    @staticmethod
    def for_status(status: int, details: str = "") -> ApiException:
        """The documented error for an HTTP status, or a generic one carrying that status."""
        for cls in (BadRequest, AuthenticationFailed, PermissionDenied, Forbidden, NotFound,
                    MethodNotAllowed, QuotaExceeded):
            if cls.status == status:
                return cls(details)
        exc = ApiException(details)
        exc.status = status
        # NCP documents no errorCode for other statuses: echo the status so it is never empty.
        exc.code = str(status)
        exc.message = _reason(status)
        return exc


class BadRequest(ApiException):
    status, code, message = 400, "100", "Bad Request"
    v3_code, v3_message = "InvalidParameter", "The specified parameter is invalid."


class AuthenticationFailed(ApiException):
    status, code, message = 401, "200", "Authentication Failed"


class PermissionDenied(ApiException):
    status, code, message = 401, "210", "Permission Denied"


class Forbidden(ApiException):
    status, code, message = 403, "230", "Forbidden"


class NotFound(ApiException):
    status, code, message = 404, "300", "Not Found"
    # v3 documents 404 ResourceNotFound on deleteRegistry; the emulator answers every missing item so.
    v3_code, v3_message = "ResourceNotFound", "The specified resource could not be found."


class MethodNotAllowed(ApiException):
    # NCP documents no errorCode for 405; "100" keeps it in the client-error family.
    status, code, message = 405, "100", "Method Not Allowed"

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return (("Allow", "GET"),)


class QuotaExceeded(ApiException):
    status, code, message = 429, "400", "Quota Exceeded"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- the state ---

REGISTRY_FIELDS = ("bucket", "created", "end_point", "private_end_point", "private_id", "public_reg_status",
                   "scan_on_push_enabled", "status")
IMAGE_FIELDS = ("can_edit", "description", "full_description", "is_automated", "is_private", "last_updated",
                "private_id", "pull_count", "repository_type", "star_count", "status", "tag_mutability_enabled",
                "user")
TAG_FIELDS = ("creator", "digest", "full_size", "id", "image_id", "last_updated", "last_updater")
PLATFORM_FIELDS = ("architecture", "created", "digest", "features", "latest_pulled", "mediaType", "os",
                   "os_features", "os_version", "size", "updated", "variant")

REGISTRY_NAME = re.compile(r"[a-z][a-z0-9-]{1,28}[a-z0-9]")
# Image and tag names: the Docker rules the client validates with (names.py), as one pattern each.
# Docker's distribution reference grammar (github.com/distribution/reference, regexp.go), read for the
# emulator itself: a repository is path components of lowercase alphanumerics separated by one '.',
# one or two '_' or any run of '-', joined by '/'; a tag is a word character then up to 127 more word
# characters, '.' or '-'.
_DOCKER_PATH_COMPONENT = r"[a-z0-9]+(?:(?:\.|_{1,2}|-+)[a-z0-9]+)*"
IMAGE_NAME = re.compile(rf"{_DOCKER_PATH_COMPONENT}(?:/{_DOCKER_PATH_COMPONENT})*")
TAG_NAME = re.compile(r"\w[\w.-]{0,127}", re.ASCII)
DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
SHA256_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass
class Image:
    id: int
    fields: dict[str, Any]
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Registry:
    name: str
    region: str | None
    fields: dict[str, Any]
    images: dict[str, Image] = field(default_factory=dict)

    def visible_in(self, region: str) -> bool:
        if region == ANY_PUBLIC_REGION:
            return self.region is None or "/" not in self.region
        return self.region is None or self.region == region


class NcrBackend:
    """Registries, images and tags in memory; thread-safe; validates before it changes anything."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._registries: dict[str, Registry] = {}
        self._ids = itertools.count(1)

    # -- writes (the Python API and the seed loader) --

    def load(self, document: Mapping[str, Any]) -> None:
        """Replace the whole state with a seed document; on any error nothing changes."""
        fresh = NcrBackend()
        fresh._ids = self._ids
        try:
            fresh._apply_document(document)
        except TypeError as exc:
            raise ValueError(f"Seed data: {exc}") from None
        with self._lock:
            self._registries = fresh._registries

    def add_registry(self, name: str, region: str | None = None, **fields: Any) -> None:
        """Create a registry, or update the region and fields given of an existing one."""
        _check_name("registry", name, REGISTRY_NAME)
        if region is not None and region not in REGION_KEYS:
            raise ValueError(f"Unknown region {region!r}: use one of {', '.join(REGION_KEYS)} or None (every region)")
        _check_fields("registry", fields, REGISTRY_FIELDS)
        with self._lock:
            existing = self._registries.get(name)
            if existing is None:
                self._registries[name] = Registry(name, region, _registry_defaults(name, region, fields))
                return
            if region is not None:
                existing.region = region
            existing.fields.update(fields)

    def add_image(self, registry: str, name: str, **fields: Any) -> None:
        """Create an image (and its registry if absent), or update the fields given of an existing one."""
        _check_name("registry", registry, REGISTRY_NAME)
        _check_name("image", name, IMAGE_NAME, max_len=255)
        _check_fields("image", fields, IMAGE_FIELDS)
        _check_types(f"image {name!r}", fields, ints=("pull_count", "last_updated"),
                     bools=("tag_mutability_enabled",), strs=("description", "full_description", "private_id"))
        with self._lock:
            reg = self._ensure_registry(registry)
            image = reg.images.get(name)
            if image is None:
                reg.images[name] = Image(next(self._ids), _image_defaults(reg, name, fields))
            else:
                image.fields.update(fields)

    def add_tag(self, registry: str, image: str, name: str, *, digest: str | None = None,
                platforms: Iterable[str | Mapping[str, Any]] | None = None, **fields: Any) -> None:
        """Create or move a tag (and its image and registry if absent); immutable images refuse a move."""
        _check_name("registry", registry, REGISTRY_NAME)
        _check_name("image", image, IMAGE_NAME, max_len=255)
        _check_name("tag", name, TAG_NAME)
        if "images" in fields:
            if platforms is not None:
                raise TypeError("give the platforms once, as platforms= or images=")
            platforms = fields.pop("images")
        _check_fields("tag", fields, TAG_FIELDS)
        if digest is None:
            digest = fields.pop("digest", None)
        elif "digest" in fields:
            raise TypeError("digest given twice")
        if digest is not None:
            _check_digest(f"tag {name!r}", digest)
        _check_types(f"tag {name!r}", fields, ints=("full_size", "last_updated", "id", "image_id"))
        with self._lock:
            reg = self._registries.get(registry)
            img = reg.images.get(image) if reg else None
            existing = img.tags.get(name) if img else None
            digest = digest or (existing["digest"] if existing else _fake_digest(f"{registry}/{image}:{name}"))
            if existing and img and img.fields.get("tag_mutability_enabled") is False \
                    and existing["digest"] != digest:
                raise ValueError(f"Tag {name!r} of {registry}/{image} is immutable (tag_mutability_enabled is false): "
                                 f"it already points to {existing['digest']}")
            last_updated = fields.get("last_updated", epoch_ms())
            built = _platforms(platforms, digest, last_updated, f"tag {name!r}")
            if img is None:
                self.add_image(registry, image)
                img = self._registries[registry].images[image]
            tag = {
                "creator": "emulator",
                "digest": digest,
                "full_size": sum(p["size"] for p in built if isinstance(p.get("size"), int)),
                "id": next(self._ids),
                "image_id": img.id,
                "images": built,
                "last_updated": last_updated,
                "last_updater": "emulator",
                "name": name,
            }
            if existing:
                tag["id"], tag["creator"] = existing["id"], existing["creator"]
            tag.update(fields)
            img.tags[name] = tag

    def _ensure_registry(self, name: str) -> Registry:
        reg = self._registries.get(name)
        if reg is None:
            reg = self._registries[name] = Registry(name, None, _registry_defaults(name, None, {}))
        return reg

    def _apply_document(self, document: Mapping[str, Any]) -> None:
        if not isinstance(document, Mapping):
            raise ValueError("Seed data must be a JSON object with a 'registries' list")
        _check_keys("seed document", document, ("registries",))
        registries = document.get("registries", [])
        if not isinstance(registries, list):
            raise ValueError("Seed data: 'registries' must be a list")
        for reg in registries:
            reg = _entry("registry", reg)
            images = reg.pop("images", [])
            name = reg.pop("name", None)
            self.add_registry(name, **reg)
            for image in _list(f"registry {name!r} images", images):
                image = _entry("image", image)
                tags = image.pop("tags", [])
                image_name = image.pop("name", None)
                self.add_image(name, image_name, **image)
                for tag in _list(f"image {image_name!r} tags", tags):
                    tag = _entry("tag", tag)
                    self.add_tag(name, image_name, tag.pop("name", None), **tag)

    # -- reads: region-scoped, returning copies --

    def list_registries(self, region: str) -> list[dict[str, Any]]:
        with self._lock:
            regs = [r for r in self._registries.values() if r.visible_in(region)]
            return [{"name": r.name, **r.fields} for r in sorted(regs, key=lambda r: r.name)]

    def list_images(self, region: str, registry: str) -> list[dict[str, Any]]:
        with self._lock:
            reg = self._registry(region, registry)
            return [dict(reg.images[n].fields) for n in sorted(reg.images)]

    def get_registry(self, region: str, registry: str) -> dict[str, Any]:
        with self._lock:
            reg = self._registry(region, registry)
            return {"name": reg.name, **reg.fields}

    def get_image(self, region: str, registry: str, image: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._image(region, registry, image).fields)

    def list_tags(self, region: str, registry: str, image: str) -> list[dict[str, Any]]:
        """Tags newest first (by last_updated, then name), the order a user wants to page through."""
        with self._lock:
            tags = [_copy_tag(t) for t in self._image(region, registry, image).tags.values()]
        tags.sort(key=lambda t: t["name"])
        tags.sort(key=lambda t: t["last_updated"] if isinstance(t["last_updated"], int) else -1, reverse=True)
        return tags

    def get_tag(self, region: str, registry: str, image: str, reference: str) -> dict[str, Any]:
        """A tag by name, or else the first tag whose digest is the reference."""
        with self._lock:
            img = self._image(region, registry, image)
            tag = img.tags.get(reference)
            if tag is None:
                tag = next((t for t in img.tags.values() if t["digest"] == reference), None)
            if tag is None:
                raise NotFound(f"Tag {reference!r} not found in image {registry}/{image}")
            return _copy_tag(tag)

    def _registry(self, region: str, name: str) -> Registry:
        reg = self._registries.get(name)
        if reg is None or not reg.visible_in(region):
            raise NotFound(f"Registry {name!r} not found")
        return reg

    def _image(self, region: str, registry: str, name: str) -> Image:
        image = self._registry(region, registry).images.get(name)
        if image is None:
            raise NotFound(f"Image {name!r} not found in registry {registry!r}")
        return image


# --- validation and defaults ---

def _check_name(what: str, value: Any, pattern: re.Pattern[str], max_len: int | None = None) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value) or (max_len and len(value) > max_len):
        raise ValueError(f"Invalid {what} name {value!r}: it must match {pattern.pattern}"
                         + (f" and be at most {max_len} characters" if max_len else ""))


def _check_fields(what: str, fields: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError(f"Unknown {what} field(s) {', '.join(unknown)}; known: {', '.join(allowed)}")
    try:
        json.dumps(dict(fields), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what.capitalize()} fields must be JSON values: {exc}") from None


def _check_keys(what: str, entry: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(k for k in entry if k not in allowed and not str(k).startswith("_"))
    if unknown:
        raise ValueError(f"Seed data: unknown key(s) {', '.join(unknown)} in {what}")


def _check_types(what: str, fields: Mapping[str, Any], ints: tuple[str, ...] = (), bools: tuple[str, ...] = (),
                 strs: tuple[str, ...] = ()) -> None:
    """Type-check the fields clients read; None stays allowed because NCP documents nulls."""
    for key, value in fields.items():
        if value is None:
            continue
        if key in ints and (type(value) is not int or value < 0):
            raise ValueError(f"{what}: {key} must be a non-negative integer, not {value!r}")
        if key in bools and type(value) is not bool:
            raise ValueError(f"{what}: {key} must be true or false, not {value!r}")
        if key in strs and not isinstance(value, str):
            raise ValueError(f"{what}: {key} must be a string, not {value!r}")


def _check_digest(what: str, digest: Any) -> None:
    ok = isinstance(digest, str) and DIGEST.fullmatch(digest) is not None
    if ok and digest.startswith("sha256:"):
        ok = SHA256_DIGEST.fullmatch(digest) is not None
    if not ok:
        raise ValueError(f"{what}: invalid digest {digest!r} (expected sha256:<64 lowercase hex>)")


def _entry(what: str, entry: Any) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise ValueError(f"Seed data: each {what} must be an object, not {entry!r}")
    return {k: v for k, v in entry.items() if not str(k).startswith("_")}


def _list(what: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"Seed data: {what} must be a list")
    return value


def _fake_digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()


def _registry_defaults(name: str, region: str | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    private_id = fields.get("private_id", "")
    site, _, in_site = (region or DEFAULT_REGION).rpartition("/")  # "gov/KR" or "KR" (site public)
    end_point = docker_host_form(site or DEFAULT_SITE, in_site).host(name)
    private_end_point = docker_host_form(site or DEFAULT_SITE, in_site, private=True).host(private_id)
    values = {
        "bucket": f"ncr-{name}",
        "created": epoch_ms(),
        "end_point": end_point,
        "private_end_point": private_end_point if private_id else "",
        "private_id": private_id,
        "public_reg_status": True,
        "scan_on_push_enabled": False,
        "status": "RUNNING",
    }
    values.update(fields)
    return values


def _image_defaults(reg: Registry, name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    values = {
        "can_edit": True,
        "description": "",
        "full_description": "",
        "is_automated": None,
        "is_private": None,
        "last_updated": epoch_ms(),
        "name": name,
        "namespace": reg.name,
        "private_id": reg.fields.get("private_id", ""),
        "pull_count": 0,
        "repository_type": "image",
        "star_count": None,
        "status": 0,
        "tag_mutability_enabled": True,
        "user": None,
    }
    values.update(fields)
    return values


def _platforms(specs: Iterable[str | Mapping[str, Any]] | None, tag_digest: str, when: int | None,
               what: str) -> list[dict[str, Any]]:
    """Platform entries of a tag; a single platform shares the tag's digest, as a plain manifest does."""
    if specs is None:
        specs = ["linux/amd64"]
    if isinstance(specs, (str, Mapping)) or not isinstance(specs, Iterable):
        raise ValueError(f"{what}: platforms must be a list of 'os/arch[/variant]' strings or objects")
    specs = list(specs)
    built = []
    for spec in specs:
        if isinstance(spec, str):
            parts = spec.split("/")
            if len(parts) not in (2, 3) or not all(parts):
                raise ValueError(f"{what}: invalid platform {spec!r}, expected 'os/arch[/variant]'")
            entry: dict[str, Any] = {"os": parts[0], "architecture": parts[1], "variant": (parts + [None])[2]}
        elif isinstance(spec, Mapping):
            entry = {k: v for k, v in spec.items() if not str(k).startswith("_")}
            _check_fields("platform", entry, PLATFORM_FIELDS)
            if not isinstance(entry.get("os"), str) or not isinstance(entry.get("architecture"), str):
                raise ValueError(f"{what}: each platform needs 'os' and 'architecture' strings")
            if "digest" in entry:
                _check_digest(what, entry["digest"])
            _check_types(what, entry, ints=("size", "created", "updated", "latest_pulled"))
        else:
            raise ValueError(f"{what}: invalid platform {spec!r}")
        platform_id = f"{entry['os']}/{entry['architecture']}/{entry.get('variant')}"
        digest = entry.get("digest") or (tag_digest if len(specs) == 1 else _fake_digest(f"{tag_digest}|{platform_id}"))
        values = {
            "architecture": entry["architecture"],
            "created": when,
            "digest": digest,
            "features": "",
            "latest_pulled": None,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "os": entry["os"],
            "os_features": "",
            "os_version": "",
            # A stable, plausible size (20-80 MB) derived from the digest, so defaults never change between runs.
            "size": 20_000_000 + int(digest.split(":", 1)[1][:8], 16) % 60_000_000,
            "updated": when,
            "variant": None,
        }
        values.update(entry)
        built.append(values)
    if len({(p["os"], p["architecture"], p.get("variant")) for p in built}) != len(built):
        raise ValueError(f"{what}: platforms repeat")
    return built


def _copy_tag(tag: Mapping[str, Any]) -> dict[str, Any]:
    return {**tag, "images": [dict(p) for p in tag["images"]]}
