"""Many image lookups at once: each image (and each tag list) fetched once, concurrently, over one pool per region."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .cache import DETAILS, TAG, TAGS, DiskCache
from .client import ClientOptions, NcrClient
from .config import SITES, Settings
from .errors import NcrError
from .model import ImageDetails, TagDetails
from .names import ImageRef

Result = ImageDetails | NcrError
TagsResult = tuple[TagDetails, ...] | NcrError
"""An image's tags, every page read, newest first; or why they could not be read."""
TagResult = TagDetails | NcrError
"""One tag's details (its digest among them); or why they could not be read."""


@dataclasses.dataclass(frozen=True)
class LookupKey:
    """One image in one place: what a lookup is cached by."""

    site: str
    region: str
    registry: str
    image_name: str

    @property
    def image(self) -> str:
        return f"{self.registry}/{self.image_name}"


class ImageLookup:
    """Concurrent, deduplicated, cached image (and tag list) lookups shared by the CLI gate and the policy pack."""

    def __init__(self, settings: Settings, concurrency: int = 8, cache: DiskCache | None = None,
                 options: ClientOptions | None = None):
        """`cache`: answers kept on disk across runs (None: only for the life of this object); `options` for
        its clients, whose `max_connections` becomes `concurrency`."""
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.settings = settings
        self.concurrency = concurrency
        self.cache = cache
        self._client_options = dataclasses.replace(options or ClientOptions(), max_connections=concurrency)
        self._clients: dict[tuple[str, str], NcrClient] = {}
        self._futures: dict[tuple[str, LookupKey, str | None], Future[Any]] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ncr-lookup")

    def key_for(self, ref: ImageRef) -> LookupKey:
        """Where a reference is looked up: its own site and region, else the configured ones."""
        site = ref.site or self.settings.site
        region = ref.region or (self.settings.region if site == self.settings.site else next(iter(SITES[site].prefixes)))
        return LookupKey(site, region, ref.registry, ref.image_name)

    def submit(self, ref: ImageRef) -> tuple[LookupKey, Future[Result]]:
        """Start (or join) the lookup of one image's details."""
        return self._submit(DETAILS, ref)

    def submit_tags(self, ref: ImageRef) -> tuple[LookupKey, Future[TagsResult]]:
        """Start (or join) the lookup of one image's tag list."""
        return self._submit(TAGS, ref)

    def submit_tag(self, ref: ImageRef, tag: str) -> tuple[LookupKey, Future[TagResult]]:
        """Start (or join) the lookup of one tag of an image (what it points at now)."""
        return self._submit(TAG, ref, tag)

    def _submit(self, what: str, ref: ImageRef, tag: str | None = None) -> tuple[LookupKey, Future[Any]]:
        key = self.key_for(ref)
        with self._lock:
            future = self._futures.get((what, key, tag))
            if future is None:
                future = self._executor.submit(self._fetch, what, key, tag)
                self._futures[(what, key, tag)] = future
        return key, future

    def lookup(self, ref: ImageRef) -> Result:
        return self.submit(ref)[1].result()

    def lookup_tags(self, ref: ImageRef) -> TagsResult:
        return self.submit_tags(ref)[1].result()

    def lookup_tag(self, ref: ImageRef, tag: str) -> TagResult:
        return self.submit_tag(ref, tag)[1].result()

    def lookup_many(self, refs: Iterable[ImageRef],
                    on_done: Callable[[LookupKey, Result], None] | None = None) -> dict[LookupKey, Result]:
        """Look up every distinct image; results in first-seen order."""
        submitted: dict[LookupKey, Future[Result]] = {}
        for ref in refs:
            key, future = self.submit(ref)
            if key not in submitted:
                submitted[key] = future
                if on_done is not None:
                    future.add_done_callback(lambda f, k=key: on_done(k, f.result()))
        return {key: future.result() for key, future in submitted.items()}

    def client_for(self, key: LookupKey) -> NcrClient:
        """The one pooled client of the key's site and region, built on first use."""
        with self._lock:
            client = self._clients.get((key.site, key.region))
            if client is None:
                settings = dataclasses.replace(self.settings, site=key.site, region=key.region)
                client = NcrClient(settings, self._client_options)
                self._clients[(key.site, key.region)] = client
            return client

    def _fetch(self, what: str, key: LookupKey, tag: str | None) -> Result | TagsResult | TagResult:
        where = (key.site, key.region, key.registry, key.image_name)
        if self.cache is not None:
            cached = self.cache.get(what, *where, tag=tag)
            if cached is not None:
                return cached
        try:
            client = self.client_for(key)
            if what == TAGS:
                answer: Any = tuple(client.list_tags(key.registry, key.image_name))
            elif what == TAG:
                answer = client.get_tag(key.registry, key.image_name, tag)
            else:
                answer = client.get_image(key.registry, key.image_name)
        except NcrError as exc:
            return exc  # never cached: the next run asks again
        if self.cache is not None:
            self.cache.put(what, *where, answer, tag=tag, permanent=what == TAG and self._known_immutable(key))
        return answer

    def _known_immutable(self, key: LookupKey) -> bool:
        """Whether this image's tags are known immutable now, from this lookup's answers or a fresh cached one."""
        with self._lock:
            future = self._futures.get((DETAILS, key, None))
        details = future.result() if future is not None and future.done() else None
        if details is None and self.cache is not None:
            details = self.cache.get(DETAILS, key.site, key.region, key.registry, key.image_name)
        return isinstance(details, ImageDetails) and details.tag_mutability_enabled is False

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> ImageLookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
