"""Typed answers parsed from the NCR wire format, tolerant of nulls, gaps and extra fields."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import InvalidNameError, InvalidResponseError
from .names import validate_digest


def iso_from_ms(ms: int | None) -> str | None:
    """Milliseconds since the epoch as ISO-8601 UTC text (`2024-04-01T00:01:28Z`)."""
    if ms is None:
        return None
    try:
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    text = moment.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    return text.replace("+00:00", "Z")


# RFC 3339 date-time, as NCR's v3 API writes times: a full date, a time, an offset (Z or +hh:mm).
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_MS = 60 * 1000
DAY_MS = 24 * 60 * MINUTE_MS


def ms_from_rfc3339(text: str) -> int:
    """RFC 3339 date-time text as milliseconds since the epoch; ValueError for anything else.

    Stricter than `datetime.fromisoformat`, which also takes dates without a time or an offset:
    a time without its offset is a different instant in every zone.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 date-time: {text!r:.60}")
    day, clock, fraction, offset = match.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    moment = datetime.fromisoformat(f"{day}T{clock}{offset}")  # ValueError for 2026-13-40 and the like
    micros = int((fraction or "0").ljust(6, "0")[:6])
    return (moment - _EPOCH + timedelta(microseconds=micros)) // timedelta(milliseconds=1)


def parse_json_object(body: bytes | str, what: str) -> dict[str, Any]:
    """Decode a body that must be one JSON object."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidResponseError(what=what, reason="the body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidResponseError(what=what, reason=f"expected a JSON object, got a JSON {_json_kind(data)}")
    return data


def _plain(obj: Any) -> dict[str, Any]:
    """A flat dataclass's fields as a dict; dataclasses.asdict deep-copies and costs ten times more, and
    `fields()` filters the class's fields afresh on every call (a tenth of `check -o json`'s CPU for 1000 images)."""
    cls = type(obj)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return {name: getattr(obj, name) for name in names}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _number(data: dict, key: str, what: str, *aliases: str) -> int | None:
    for name in (key, *aliases):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidResponseError(what=what, reason=f"{name} must be a number, got {_json_kind(value)} {value!r:.40}")
        return int(value)
    return None


def _text(data: dict, key: str) -> str | None:
    """Descriptive text no verdict depends on: anything but null is shown as text."""
    value = data.get(key)
    return None if value is None else str(value)


def _name(data: dict, key: str, what: str) -> str | None:
    """Text a verdict or a mapping depends on (a name, a private id): a JSON string or null, nothing else."""
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InvalidResponseError(what=what, reason=f"{key} must be a string, got {_json_kind(value)} {value!r:.40}")


def _flag(data: dict, key: str, what: str) -> bool | None:
    """A flag a verdict depends on: JSON true, false or null. `""`, `0`, `"false"` or `[]` is an error, never False."""
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise InvalidResponseError(what=what, reason=f"{key} must be true or false, got {_json_kind(value)} {value!r:.40}")


def _unused_flag(data: dict, key: str) -> bool | None:
    """A flag NCP documents as "Not used": kept when it is a boolean, else None; never an error."""
    value = data.get(key)
    return value if isinstance(value, bool) else None


def _unused_number(data: dict, key: str) -> int | None:
    """A number NCP documents as "Not used": kept when it is one, else None; never an error."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return int(value)


def _digest(data: dict, key: str, what: str) -> str | None:
    """A digest field; one that is not `algorithm:hex` is refused, since it ends up in a pullable reference."""
    value = data.get(key)
    if value is None:
        return None
    try:
        return validate_digest(value, key)
    except InvalidNameError:
        raise InvalidResponseError(what=what, reason=f"{key} must be sha256:<64 lowercase hex> or sha512:<128 lowercase hex>, "
                                                     f"got {_json_kind(value)} {value!r:.80}") from None


def _instant(data: dict, key: str, what: str) -> int | None:
    """A v3 time field (RFC 3339 text or null) as milliseconds since the epoch, so both versions share one unit."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidResponseError(what=what, reason=f"{key} must be an RFC 3339 date-time, "
                                                     f"got {_json_kind(value)} {value!r:.40}")
    try:
        return ms_from_rfc3339(value)
    except (ValueError, OverflowError):
        raise InvalidResponseError(what=what, reason=f"{key} must be an RFC 3339 date-time, got {value!r:.60}") from None


def _object(value: Any, what: str, where: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidResponseError(what=what, reason=f"{where} must be a JSON object, got a JSON {_json_kind(value)}")
    return value


@dataclass(frozen=True)
class ImageDetails:
    """One image's details: v2 `GET /repositories/{registry}/{imageName}` or v3 getImage.

    `last_updated` is the last push in both versions; `namespace`, `private_id` and the "Not used"
    fields come from v2 only, `last_pulled` from v3 only (None from the other).
    """

    name: str | None
    namespace: str | None
    description: str | None
    full_description: str | None
    pull_count: int | None
    tag_mutability_enabled: bool | None
    last_updated: int | None
    private_id: str | None
    # Documented as "Not used": kept, never depended on.
    can_edit: bool | None = None
    is_automated: bool | None = None
    is_private: bool | None = None
    repository_type: str | None = None
    star_count: int | None = None
    status: int | None = None
    user: str | None = None
    last_pulled: int | None = None
    """When the image was last pulled, in milliseconds since the epoch (API v3 only)."""

    @property
    def last_updated_at(self) -> str | None:
        """`last_updated` as ISO-8601 UTC text."""
        return iso_from_ms(self.last_updated)

    @property
    def last_pulled_at(self) -> str | None:
        """`last_pulled` as ISO-8601 UTC text (API v3 only)."""
        return iso_from_ms(self.last_pulled)

    @classmethod
    def from_v3(cls, data: Any, what: str = "image details") -> ImageDetails:
        """An API v3 `ImageDetail` (camelCase, RFC 3339 times) as the same typed details v2 gives."""
        data = _object(data, what, "an image")
        return cls(
            name=_name(data, "name", what),
            namespace=None,
            description=_text(data, "description"),
            full_description=_text(data, "fullDescription"),
            pull_count=_number(data, "pullCount", what),
            tag_mutability_enabled=_flag(data, "tagMutabilityEnabled", what),
            last_updated=_instant(data, "lastPushedDateTime", what),
            private_id=None,
            last_pulled=_instant(data, "lastPulledDateTime", what),
        )

    @classmethod
    def from_wire(cls, data: Any, what: str = "image details") -> ImageDetails:
        if not isinstance(data, dict):
            raise InvalidResponseError(what=what, reason=f"expected a JSON object, got a JSON {_json_kind(data)}")
        return cls(
            name=_name(data, "name", what),
            namespace=_name(data, "namespace", what),
            description=_text(data, "description"),
            full_description=_text(data, "full_description"),
            pull_count=_number(data, "pull_count", what),
            tag_mutability_enabled=_flag(data, "tag_mutability_enabled", what),
            last_updated=_number(data, "last_updated", what, "last_update"),
            private_id=_name(data, "private_id", what),
            can_edit=_unused_flag(data, "can_edit"),
            is_automated=_unused_flag(data, "is_automated"),
            is_private=_unused_flag(data, "is_private"),
            repository_type=_text(data, "repository_type"),
            star_count=_unused_number(data, "star_count"),
            status=_unused_number(data, "status"),
            user=_text(data, "user"),
            # NCR's v2 never sends it; the answer cache stores v3 answers in this shape too.
            last_pulled=_number(data, "last_pulled", what),
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field, plus `last_updated_at` and `last_pulled_at`, as plain JSON-ready values."""
        out = _plain(self)
        out["last_updated_at"] = self.last_updated_at
        out["last_pulled_at"] = self.last_pulled_at
        return out


@dataclass(frozen=True)
class PlatformImage:
    """One platform's image inside a tag (an entry of the tag's `images` list on the wire)."""

    architecture: str | None
    os: str | None
    digest: str | None
    size: int | None
    created: int | None
    updated: int | None
    latest_pulled: int | None
    variant: str | None = None

    @classmethod
    def from_wire(cls, data: Any, what: str = "platform image") -> PlatformImage:
        data = _object(data, what, "each entry of 'images'")
        return cls(
            architecture=_name(data, "architecture", what),
            os=_name(data, "os", what),
            digest=_digest(data, "digest", what),
            size=_number(data, "size", what),
            created=_number(data, "created", what),
            updated=_number(data, "updated", what),
            latest_pulled=_number(data, "latest_pulled", what),
            variant=_text(data, "variant"),
        )

    @classmethod
    def from_v3(cls, data: Any, what: str = "platform image") -> PlatformImage:
        """An API v3 `ImageManifest` (an entry of a tag's `images`) in the v2 fields' units."""
        data = _object(data, what, "each entry of 'images'")
        return cls(
            architecture=_text(data, "architecture"),
            os=_text(data, "os"),
            digest=_digest(data, "digest", what),
            size=_number(data, "size", what),
            created=_instant(data, "createdDateTime", what),
            updated=_instant(data, "updatedDateTime", what),
            latest_pulled=_instant(data, "lastPulledDateTime", what),
            variant=_text(data, "variant"),
        )

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class TagDetails:
    """One tag from `GET .../tags/{reference}` or an entry of the tag list."""

    name: str | None
    digest: str | None
    full_size: int | None
    last_updated: int | None
    last_updater: str | None
    creator: str | None
    platforms: tuple[PlatformImage, ...] = ()
    """The tag's per-platform images (`images` on the wire): one for a plain image, several for a multi-arch one."""

    @property
    def last_updated_at(self) -> str | None:
        """`last_updated` as ISO-8601 UTC text."""
        return iso_from_ms(self.last_updated)

    def push_age(self, now_ms: int) -> str:
        """`was pushed or moved 4 minute(s) ago`, or, for a date ahead of `now_ms` (a clock off somewhere),
        `is dated 3 minute(s) in the future`: never "0 minutes ago" for a tag from the future."""
        age = now_ms - (self.last_updated or 0)
        if age < 0:
            return f"is dated {-(age // MINUTE_MS)} minute(s) in the future"  # rounded up: never 0
        return f"was pushed or moved {age // MINUTE_MS} minute(s) ago"

    @classmethod
    def from_v3(cls, data: Any, what: str = "tag details") -> TagDetails:
        """An API v3 `Tag`; `last_updated` is its `updatedDateTime`, `creator`/`last_updater` (v2 only) are None."""
        data = _object(data, what, "a tag")
        return cls(
            name=_name(data, "name", what),
            digest=_digest(data, "digest", what),
            full_size=_number(data, "fullSize", what),
            last_updated=_instant(data, "updatedDateTime", what),
            last_updater=None,
            creator=None,
            platforms=tuple(PlatformImage.from_v3(entry, what) for entry in _images(data, what)),
        )

    @classmethod
    def from_wire(cls, data: Any, what: str = "tag details") -> TagDetails:
        data = _object(data, what, "a tag")
        images = _images(data, what)
        return cls(
            name=_name(data, "name", what),
            digest=_digest(data, "digest", what),
            full_size=_number(data, "full_size", what),
            last_updated=_number(data, "last_updated", what, "last_update"),
            last_updater=_text(data, "last_updater"),
            creator=_text(data, "creator"),
            platforms=tuple(PlatformImage.from_wire(entry, what) for entry in images),
        )

    def require_digest(self, what: str) -> str:
        """The digest, or InvalidResponseError: a tag NCR reports without one cannot be pinned."""
        if self.digest is None:
            raise InvalidResponseError(what=what, reason="NCR reported no digest for the tag")
        return self.digest

    def to_dict(self) -> dict[str, Any]:
        """Every field, plus `last_updated_at`, as plain JSON-ready values (`platforms` a list of dicts)."""
        out = _plain(self)
        out["last_updated_at"] = self.last_updated_at
        out["platforms"] = [platform.to_dict() for platform in self.platforms]
        return out


def _images(data: dict, what: str) -> list[Any]:
    images = data.get("images")
    if images is not None and not isinstance(images, list):
        raise InvalidResponseError(what=what, reason=f"images must be a list, got a JSON {_json_kind(images)}")
    return images or []


def newest_first(tags: Iterable[TagDetails]) -> list[TagDetails]:
    """Tags by `last_updated`, newest first, then by name; tags without a time last (NCR documents no order)."""
    return sorted(tags, key=lambda t: (t.last_updated is None, -(t.last_updated or 0), t.name or ""))


def _switch(data: dict, key: str, what: str, *aliases: str) -> bool | None:
    """A yes/no field whose wire type NCP does not document: a boolean, 0/1, or yes/no-like text; else an error."""
    for name in (key, *aliases):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _YES | _NO:
            return value.strip().lower() in _YES
        raise InvalidResponseError(what=what, reason=f"{name} must be true or false, got {_json_kind(value)} {value!r:.40}")
    return None


_YES = frozenset({"true", "y", "yes", "on", "enabled", "enable"})
_NO = frozenset({"false", "n", "no", "off", "disabled", "disable"})


@dataclass(frozen=True)
class RegistryDetails:
    """One registry, an entry of `GET /repositories` (v2 documents no single-registry read: the list is the source)."""

    name: str | None
    bucket: str | None
    created: int | None
    public_endpoint: str | None
    """`end_point` on the wire: the Docker host, e.g. `prod.kr.ncr.ntruss.com`."""
    private_endpoint: str | None
    """`private_end_point` on the wire: e.g. `k7x2p9q4m1.kr.private-ncr.ntruss.com`; empty when there is none."""
    private_id: str | None
    public_registry_enabled: bool | None
    """`public_reg_status` on the wire: anonymous pulls allowed."""
    scan_on_push_enabled: bool | None
    status: str | None
    public_endpoint_enabled: bool | None = None
    """Whether the public endpoint accepts requests; v2's registry list does not report it (None), API v3 does."""

    @property
    def created_at(self) -> str | None:
        """`created` as ISO-8601 UTC text."""
        return iso_from_ms(self.created)

    @classmethod
    def from_wire(cls, data: Any, what: str = "registry") -> RegistryDetails:
        data = _object(data, what, "a registry")
        return cls(
            name=_name(data, "name", what),
            bucket=_text(data, "bucket"),
            created=_number(data, "created", what),
            public_endpoint=_text(data, "end_point"),
            private_endpoint=_text(data, "private_end_point"),
            private_id=_name(data, "private_id", what),  # maps private endpoint references: strict
            public_registry_enabled=_switch(data, "public_reg_status", what),
            scan_on_push_enabled=_switch(data, "scan_on_push_enabled", what),
            status=_text(data, "status"),
            public_endpoint_enabled=_switch(data, "public_endpoint_enabled", what),
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field, plus `created_at`, as plain JSON-ready values."""
        out = _plain(self)
        out["created_at"] = self.created_at
        return out
