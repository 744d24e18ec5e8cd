"""A cache of NCR answers on disk that outlives one run (off unless a directory is given).

The policy pack runs twice per `pulumi up` (preview, then update) and a pipeline gate may run many
times an hour; each run would otherwise ask NCR the same questions again. An answer is kept for a
TTL (default 5 minutes), except a tag's digest in a repository whose tags are immutable: NCR
refuses to move such a tag, so what it pointed at when it was read is what it points at for good.

Safe to share: every file is written beside its final name and renamed over it (`os.replace`, atomic
on POSIX and Windows), so a concurrent reader sees the old answer or the new one, never half of
either. Only NCR's answers are stored (image and tag details), never a key, a signature or a
header. A file that cannot be read back (truncated, edited, from another version) is ignored with
a warning and replaced by the next answer.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .errors import ConfigurationError, NcrError, shorten
from .model import ImageDetails, TagDetails

log = logging.getLogger(__name__)

FORMAT = 1
DEFAULT_TTL_SECONDS = 300
CACHE_DIR_ENV = "NCR_CACHE_DIR"
CACHE_TTL_ENV = "NCR_CACHE_TTL"

# What is cached, per image: its details, its whole tag list, or one tag; per region: the private endpoint ids.
DETAILS, TAGS, TAG = "details", "tags", "tag"
PRIVATE_IDS = "private-ids"


class DiskCache:
    """NCR answers under one directory, keyed by endpoint, site/region/registry/image (and tag), each in its own file."""

    def __init__(self, directory: str | os.PathLike[str], ttl_seconds: float = DEFAULT_TTL_SECONDS,
                 clock: Callable[[], float] = time.time, endpoint: str | None = None):
        """`endpoint`: the API endpoint override the answers come from (None: NCP's own hosts), kept apart."""
        if ttl_seconds < 0:
            raise ValueError("the cache TTL cannot be negative")
        self.directory = Path(directory)
        self.ttl_seconds = ttl_seconds
        self.endpoint = endpoint
        self._clock = clock

    def for_endpoint(self, endpoint: str | None) -> DiskCache:
        """The same cache for answers from another endpoint: an emulator's answers never pass for NCP's."""
        return DiskCache(self.directory, self.ttl_seconds, self._clock, endpoint)

    def __repr__(self) -> str:
        return f"DiskCache({str(self.directory)!r}, ttl_seconds={self.ttl_seconds}, endpoint={self.endpoint!r})"

    @property
    def root(self) -> Path:
        """`<dir>/v1/ncp` for NCP's hosts, `<dir>/v1/<endpoint, encoded>` for an endpoint override."""
        return self.directory / f"v{FORMAT}" / (quote(self.endpoint, safe="") if self.endpoint else "ncp")

    def path_for(self, what: str, site: str, region: str, registry: str, image_name: str, tag: str | None = None) -> Path:
        """The file of one answer: `<root>/<site>/<region>/<registry>/<image, encoded>.<what>[.<tag>].json`.

        The image name is one encoded segment (`team%2Fweb`), so `team` and `team/web` never collide.
        The private endpoint ids of a region (from its registry list) are `<root>/<site>/<region>/private-ids.json`.
        """
        if what == PRIVATE_IDS:
            return self.root / site / region / f"{PRIVATE_IDS}.json"
        name = quote(image_name, safe="") + f".{what}" + (f".{quote(tag, safe='')}" if tag is not None else "")
        return self.root / site / region / registry / f"{name}.json"

    def get(self, what: str, site: str, region: str, registry: str, image_name: str,
            tag: str | None = None) -> Any | None:
        """The stored answer if it is still fresh (or never expires), else None."""
        path = self.path_for(what, site, region, registry, image_name, tag)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("Ignoring unreadable NCR cache file %s: %s", path, exc)
            return None
        try:
            entry = json.loads(raw)
            expected = {"format": FORMAT, "endpoint": self.endpoint, "what": what, "site": site, "region": region,
                        "registry": registry, "image_name": image_name, "tag": tag}
            if not isinstance(entry, dict) or any(entry.get(k) != v for k, v in expected.items()):
                raise ValueError("it is not an entry for this image (wrong format or key)")
            stored_at, permanent = entry.get("stored_at"), entry.get("permanent")
            if not isinstance(stored_at, (int, float)) or not isinstance(permanent, bool):
                raise ValueError("stored_at or permanent is missing")
            answer = _load(what, entry.get("answer"))
        except (ValueError, TypeError, NcrError) as exc:
            log.warning("Ignoring corrupt NCR cache file %s: %s", path, exc)
            return None
        if permanent or 0 <= self._clock() - stored_at <= self.ttl_seconds:
            return answer
        return None

    def put(self, what: str, site: str, region: str, registry: str, image_name: str, answer: Any,
            tag: str | None = None, permanent: bool = False) -> None:
        """Store an answer atomically; a failure to write only costs the next run a request (logged)."""
        path = self.path_for(what, site, region, registry, image_name, tag)
        entry = {"format": FORMAT, "endpoint": self.endpoint, "what": what, "site": site, "region": region, "registry": registry,
                 "image_name": image_name, "tag": tag, "stored_at": self._clock(), "permanent": permanent,
                 "answer": _dump(what, answer)}
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Written beside the final name, on the same file system, then renamed over it.
            fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(entry, fh, separators=(",", ":"))
                os.replace(temporary, path)
            except BaseException:
                _remove(temporary)
                raise
        except OSError as exc:
            log.warning("Could not write NCR cache file %s: %s", path, exc)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _dump(what: str, answer: Any) -> Any:
    if what == PRIVATE_IDS:
        return dict(answer)
    if what == DETAILS:
        return answer.to_dict()
    if what == TAG:
        return _tag_wire(answer)
    return [_tag_wire(tag) for tag in answer]


def _tag_wire(tag: TagDetails) -> dict[str, Any]:
    # Stored as NCR sends it (`images`, not `platforms`), so reading back is parsing the wire again.
    data = tag.to_dict()
    data["images"] = data.pop("platforms")
    return data


def _load(what: str, data: Any) -> Any:
    """Parse a stored answer with the wire parsers: a damaged entry fails the way a bad answer would."""
    if what == DETAILS:
        return ImageDetails.from_wire(data, "cached image details")
    if what == TAG:
        return TagDetails.from_wire(data, "cached tag")
    if what == PRIVATE_IDS:
        if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise ValueError("cached private endpoint ids must map text to text")
        return data
    if what == TAGS:
        if not isinstance(data, list):
            raise ValueError("a cached tag list must be a list")
        return tuple(TagDetails.from_wire(item, "cached tag list") for item in data)
    raise ValueError(f"unknown cached answer kind {what!r}")


def cache_from(directory: str | None, ttl_seconds: float | None = None,
               environ: Mapping[str, str] | None = None) -> DiskCache | None:
    """The cache a command or the pack was asked for: an explicit directory, else NCR_CACHE_DIR; None when neither.

    The TTL likewise: explicit, else NCR_CACHE_TTL (seconds), else 5 minutes. A bad TTL raises
    ConfigurationError naming where it came from.
    """
    environ = os.environ if environ is None else environ
    directory = directory or environ.get(CACHE_DIR_ENV) or None
    if not directory:
        return None
    source = "the cache TTL"
    if ttl_seconds is None and environ.get(CACHE_TTL_ENV):
        source, text = CACHE_TTL_ENV, environ[CACHE_TTL_ENV]
        try:
            ttl_seconds = float(text)
        except ValueError:
            raise ConfigurationError(reason=f"Invalid {CACHE_TTL_ENV} {shorten(text)}: expected a number of seconds") from None
    ttl = DEFAULT_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    if not ttl >= 0:
        raise ConfigurationError(reason=f"Invalid {source} {shorten(ttl)}: expected 0 or more seconds")
    return DiskCache(os.path.expanduser(directory), ttl)
