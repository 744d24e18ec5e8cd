"""Many image lookups at once: each image (and each tag list) fetched once, concurrently, over one pool per region."""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .cache import DETAILS, PRIVATE_IDS, TAG, TAGS, DiskCache
from .client import ClientOptions, NcrClient
from .config import SITES, Settings, validate_region, validate_site
from .errors import ConfigurationError, NcrError, TransportError, UnmappedReferenceError
from .model import ImageDetails, TagDetails
from .names import ImageRef
from .sites import API_VERSION

Result = ImageDetails | NcrError
# In a region's private id map: what joins the registries that share one id (never in a registry name),
# and the prefix of the keys that list its registries by name (a ':' is never in a private id).
_AMBIGUOUS = " "
_REGISTRY_KEY = "registry:"
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
        self.cache = cache.for_endpoint(settings.endpoint) if cache is not None else None
        self._client_options = dataclasses.replace(options or ClientOptions(), max_connections=concurrency)
        self._clients: dict[tuple[str, str], NcrClient] = {}
        self._futures: dict[tuple[str, LookupKey, str | None], Future[Any]] = {}
        self._private_ids: dict[tuple[str, str], Future[dict[str, str] | NcrError]] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ncr-lookup")

    def key_for(self, ref: ImageRef) -> LookupKey:
        """Where a reference is looked up: its own site and region, else the configured ones.

        A private endpoint reference is mapped to its registry through the registry list, read once
        per site and region for the life of this lookup. Raises ConfigurationError for a site or
        region NCR does not have, UnmappedReferenceError for a reference that cannot be placed, and
        the registry list's own NcrError when that list cannot be read: never a silent skip.
        """
        site, region = self.place(ref)
        if ref.private_id is None:
            if ref.site == site and ref.region is None and len(SITES[site].prefixes) > 1:
                region = self._public_region(ref, site, region)  # a host naming no region (gov)
            return LookupKey(site, region, ref.registry or "", ref.image_name)
        registry, region = self._private_registry(ref, site, region)
        return LookupKey(site, region, registry, ref.image_name)

    def place(self, ref: ImageRef) -> tuple[str, str]:
        """The site and region a reference is looked up in, without any request (a private id is not mapped)."""
        site = ref.site or self.settings.site
        if site not in SITES:
            # A site NCP documents no API host for (the financial cloud) is reached only through an
            # explicit endpoint, which then answers with the configured site's paths.
            if not self.settings.endpoint:
                raise UnmappedReferenceError(
                    reference=ref.key, reason=f"NCR on site {site!r} has no documented API host; give its API "
                                              "endpoint (--endpoint, NCR_ENDPOINT or the policy's endpoint) to check it")
            return self.settings.site, self.settings.region
        site = validate_site(site)
        region = ref.region or (self.settings.region if site == self.settings.site else next(iter(SITES[site].prefixes)))
        return site, validate_region(region, site)

    def _public_region(self, ref: ImageRef, site: str, region: str) -> str:
        """The region of the site whose registry list holds the reference's registry, the configured one
        first: a Docker host that names no region (`<registry>.ncr.gov-ntruss.com`) can be any of them.

        A registry no list holds is looked up in the configured region (and reported missing there);
        a list that cannot be read then raises its error rather than passing the image as missing.
        """
        failure: NcrError | None = None
        for candidate in [region, *(r for r in SITES[site].prefixes if r != region)]:
            try:
                if _REGISTRY_KEY + (ref.registry or "") in self.private_ids(site, candidate):
                    return candidate
            except ConfigurationError:
                return region  # the site cannot be asked at all (v3 on gov): the lookup itself says so
            except NcrError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return region

    def _private_registry(self, ref: ImageRef, site: str, region: str) -> tuple[str, str]:
        """The registry whose private_id the reference names, and its region; a host without a region
        code (gov) is looked for in every region of its site, the configured one first. An id two
        registries share cannot be placed: it is reported naming both, never resolved to either."""
        regions = [region] if ref.region else [region, *(r for r in SITES[site].prefixes if r != region)]
        for candidate in regions:
            registry = self.private_ids(site, candidate).get(ref.private_id or "")
            if registry is not None and _AMBIGUOUS in registry:
                raise UnmappedReferenceError(
                    reference=ref.key, reason=f"registries {' and '.join(registry.split(_AMBIGUOUS))} of site "
                                              f"{site}, region {candidate} share private endpoint id "
                                              f"{ref.private_id!r}, so it names neither")
            if registry is not None:
                return registry, candidate
        where = f"region {regions[0]}" if len(regions) == 1 else f"regions {', '.join(regions)}"
        raise UnmappedReferenceError(
            reference=ref.key, reason=f"no registry in the registry list of site {site}, {where} has private "
                                      f"endpoint id {ref.private_id!r}")

    def private_ids(self, site: str, region: str) -> dict[str, str]:
        """`private_id` (lowercased) -> registry name for one region, from its registry list, read once.

        An id two registries share maps to their names joined by a space (no registry name holds one);
        each registry of the list is also a key `registry:<name>` (no private id holds a ':').
        """
        with self._lock:
            existing = self._private_ids.get((site, region))
            reader = existing is None
            future = self._private_ids[(site, region)] = existing if existing is not None else Future()
        if reader:
            # Read in the caller's thread: a pool worker waiting on another pool task could deadlock.
            cached = self.cache.get(PRIVATE_IDS, site, region, "", "") if self.cache is not None else None
            answer = cached if cached is not None else self._read_private_ids(site, region)
            if cached is None and self.cache is not None and not isinstance(answer, NcrError):
                self.cache.put(PRIVATE_IDS, site, region, "", "", answer)
            future.set_result(answer)
        result = future.result()
        if isinstance(result, NcrError):
            raise result
        return result

    def _read_private_ids(self, site: str, region: str) -> dict[str, str] | NcrError:
        try:
            registries = self._client(site, region).list_registry_details()
            ids: dict[str, str] = {}
            for entry in registries:
                if not entry.name:
                    continue
                ids[_REGISTRY_KEY + entry.name] = entry.name
                # The id, and the first label of the private endpoint host where only that is given.
                for private_id in {(entry.private_id or "").lower(),
                                   (entry.private_endpoint or "").partition(".")[0].lower()} - {""}:
                    named = ids.get(private_id)
                    if named is None:
                        ids[private_id] = entry.name
                    elif entry.name not in named.split(_AMBIGUOUS):
                        ids[private_id] = f"{named}{_AMBIGUOUS}{entry.name}"
            return ids
        except NcrError as exc:
            return exc

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

    def run_in_pool(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run other work on the same pool as the lookups (e.g. listing a registry's images while they start).

        `fn` may submit lookups, but must not wait on them: with every worker waiting, none would be left.
        """
        return self._executor.submit(fn, *args)

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
                    future.add_done_callback(functools.partial(_report, on_done, key))
        return {key: future.result() for key, future in submitted.items()}

    def client_for(self, key: LookupKey) -> NcrClient:
        """The one pooled client of the key's site and region, built on first use."""
        return self._client(key.site, key.region)

    def _client(self, site: str, region: str) -> NcrClient:
        with self._lock:
            if self._closed:
                raise TransportError(endpoint=self.settings.host, what=f"region {site}/{region}", attempts=0,
                                     reason="the lookup was closed (interrupted)")
            client = self._clients.get((site, region))
            if client is None:
                settings = dataclasses.replace(self.settings, site=site, region=region)
                client = NcrClient(settings, self._client_options)
                self._clients[(site, region)] = client
            return client

    def _fetch(self, what: str, key: LookupKey, tag: str | None) -> Result | TagsResult | TagResult:
        where = self._cache_where(key)
        if self.cache is not None:
            cached = self.cache.get(what, *where, tag=tag)
            if cached is not None:
                return cached
        try:
            client = self.client_for(key)
            if what == TAGS:
                answer: Any = tuple(client.list_tags(key.registry, key.image_name))
            elif what == TAG:
                assert tag is not None, "a tag lookup names its tag"
                answer = client.get_tag(key.registry, key.image_name, tag)
            else:
                answer = client.get_image(key.registry, key.image_name)
        except NcrError as exc:
            return exc  # never cached: the next run asks again
        if self.cache is not None:
            self.cache.put(what, *where, answer, tag=tag, permanent=what == TAG and self._known_immutable(key))
        return answer

    def _cache_where(self, key: LookupKey) -> tuple[str, str, str, str]:
        """Where the cache files a key's answers; each API version apart, as their version-only fields differ."""
        api_version = self.settings.api_version
        site = key.site if api_version == API_VERSION else f"{key.site}.{api_version}"
        return site, key.region, key.registry, key.image_name

    def _known_immutable(self, key: LookupKey) -> bool:
        """Whether this image's tags are known immutable now, from this lookup's answers or a fresh cached one."""
        with self._lock:
            future = self._futures.get((DETAILS, key, None))
        details = future.result() if future is not None and future.done() else None
        if details is None and self.cache is not None:
            details = self.cache.get(DETAILS, *self._cache_where(key))
        return isinstance(details, ImageDetails) and details.tag_mutability_enabled is False

    def close(self) -> None:
        """Stop: queued lookups are cancelled, and running ones end at once (their clients are closed
        first, which ends their waits and cuts their connections), so Ctrl-C never waits out a Retry-After."""
        with self._lock:
            self._closed = True
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ImageLookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _report(on_done: Callable[[LookupKey, Result], None], key: LookupKey, future: Future[Result]) -> None:
    """A done-callback: hand one finished lookup to `on_done`."""
    on_done(key, future.result())
