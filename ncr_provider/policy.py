"""CrossGuard policies that prohibit deploying NCR images whose repository allows mutable tags.

With `policy_rules` (allowed registries, image age, digest pinning), the only modules of the package
that import `pulumi_policy` (the optional `policy` extra).

An optional policy, `ncr-require-digest-references` (disabled unless enabled in the policy
config), asks for something narrower: where a repository's tags are mutable, deploy it by digest
rather than by tag. It shares the main policy's lookups, so enabling it costs no extra request.

The engine never shows read resources to policies, and `NcrImage` is always a read, so the
main policy looks at what is actually deployed: every NCR Docker reference in any resource's
input properties, looked up with our client. Lookups are cached for the life of the pack
process (one `pulumi preview` or `pulumi up`), shared by the Analyzer's worker threads.

Fail-open needs a non-blocking message, and `pulumi_policy` gives a policy no way to report one
below its own enforcement level: `report_violation` always uses the policy's level, and the only
advisory diagnostic it emits itself is its "can't run policy ... during preview" message for an
`UnknownValueError`. So the images a fail-open lookup could not check are handed to a companion
policy, `ncr-unchecked-images`, whose level is advisory; `pulumi_policy` runs the policies of a
pack in order, on one thread, for each resource, so the companion reports them for the same URN.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

from .cache import DEFAULT_TTL_SECONDS, cache_from
from .client import ClientOptions
from .config import resolve_settings
from .errors import ConfigurationError, NcrError
from .lookup import ImageLookup, LookupKey, Result
from .model import ImageDetails
from .names import FoundReference, ImageRef, UncheckableReference, docker_host, find_references
from .policy_stack_config import capture_configure_stack, stack_config
from .sites import DEFAULT_SITE, IMAGE_TYPE_TOKEN, SITES, describe_docker_hosts

MUTABLE_TAGS_POLICY = "ncr-disallow-mutable-image-tags"
UNCHECKED_IMAGES_POLICY = "ncr-unchecked-images"
REGISTERED_IMAGES_POLICY = "ncr-registered-images-immutable"
DIGEST_REFERENCES_POLICY = "ncr-require-digest-references"
NCR_IMAGE_TYPE = IMAGE_TYPE_TOKEN
DEFAULT_CONCURRENCY = 8

_ALLOWED_IMAGES_SCHEMA = {
    "type": "array",
    "items": {"type": "string"},
    "default": [],
    "description": "registry/image glob patterns (fnmatch: '*' also matches '/') exempted from the policy, "
                   "e.g. 'prod/legacy/*'",
}

_ALLOWED_TAGS_SCHEMA = {
    "type": "array",
    "items": {"type": "string"},
    "default": [],
    "description": "registry/image:tag (or registry/image@digest) glob patterns exempted from the policy, "
                   "e.g. 'prod/team/web:dev-*' or 'prod/team/api@*' (any by-digest reference); "
                   "a reference naming neither tag nor digest is matched as ':latest'",
}

CACHE_CONFIG_SCHEMA: dict[str, dict[str, Any]] = {
    "cacheDir": {
        "type": "string",
        "description": "directory keeping NCR's answers across runs (default NCR_CACHE_DIR; off when neither is set); "
                       "never holds credentials",
    },
    "cacheTtlSeconds": {
        "type": "number",
        "minimum": 0,
        "default": DEFAULT_TTL_SECONDS,
        "description": "how long a cached answer is used (default NCR_CACHE_TTL or 300); a tag's digest in a "
                       "repository whose tags are immutable never expires",
    },
}

MUTABLE_TAGS_CONFIG_SCHEMA = PolicyConfigSchema(properties={
    "allowedImages": _ALLOWED_IMAGES_SCHEMA,
    "allowedTags": _ALLOWED_TAGS_SCHEMA,
    "region": {
        "type": "string",
        "enum": list(SITES[DEFAULT_SITE].prefixes),
        "description": "NCR API region for references whose host names none; "
                       f"{describe_docker_hosts(DEFAULT_SITE)} hosts name their own",
    },
    "endpoint": {
        "type": "string",
        "description": "scheme://host[:port] replacing the NCR API host (https, or http to a loopback host); "
                       "credentials never go here: they come from the environment or ~/.ncloud/configure",
    },
    "failOpen": {
        "type": "boolean",
        "default": False,
        "description": "false: an image that cannot be looked up is a violation; "
                       f"true: it is reported as advisory by {UNCHECKED_IMAGES_POLICY}",
    },
    **CACHE_CONFIG_SCHEMA,
})

REGISTERED_IMAGES_CONFIG_SCHEMA = PolicyConfigSchema(properties={"allowedImages": _ALLOWED_IMAGES_SCHEMA})

DIGEST_REFERENCES_CONFIG_SCHEMA = PolicyConfigSchema(properties={
    **MUTABLE_TAGS_CONFIG_SCHEMA.properties,
    "allowedImages": {**_ALLOWED_IMAGES_SCHEMA,
                      "description": "registry/image glob patterns (fnmatch: '*' also matches '/') that may be deployed "
                                     "by tag, e.g. 'prod/legacy/*'"},
    "failOpen": {
        "type": "boolean",
        "default": False,
        "description": "false: an image that cannot be looked up is a violation; true: it is skipped",
    },
})

_UNKNOWNS = frozenset({
    UNKNOWN_ARCHIVE_VALUE, UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE,
})


@dataclass(frozen=True)
class PolicyConfig:
    """A policy's configuration, read tolerantly from what `args.get_config()` returns."""

    allowed_images: tuple[str, ...] = ()
    allowed_tags: tuple[str, ...] = ()
    region: str | None = None
    endpoint: str | None = None
    fail_open: bool = False
    cache_dir: str | None = None
    cache_ttl_seconds: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    """The whole mapping, for the keys only one policy reads (`registries`, `maxTagAgeDays`, ...)."""

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | None) -> PolicyConfig:
        """Read a policy config; anything missing takes its default."""
        config = config or {}
        ttl = config.get("cacheTtlSeconds")
        return cls(
            allowed_images=patterns(config.get("allowedImages")),
            allowed_tags=patterns(config.get("allowedTags")),
            region=_text(config.get("region")),
            endpoint=_text(config.get("endpoint")),
            fail_open=config.get("failOpen") is True,
            cache_dir=_text(config.get("cacheDir")),
            cache_ttl_seconds=float(ttl) if isinstance(ttl, (int, float)) and not isinstance(ttl, bool) else None,
            raw=dict(config),
        )

    def allows(self, image: str) -> bool:
        """Whether `registry/image` matches an allowedImages pattern (case-sensitive, as NCR names are)."""
        return any(fnmatchcase(image, pattern) for pattern in self.allowed_images)

    def exempts(self, ref: ImageRef, registry: str | None = None) -> bool:
        """Whether a reference is exempted: its image by allowedImages, or its tag (or digest) by allowedTags.

        `registry`: the registry a private endpoint reference was mapped to, judged instead of its id.
        """
        image = f"{registry}/{ref.image_name}" if registry else ref.key
        if self.allows(image):
            return True
        named = f"{image}@{ref.digest}" if ref.digest else f"{image}:{ref.pulled_tag}"
        return any(fnmatchcase(named, pattern) for pattern in self.allowed_tags)


def patterns(value: object) -> tuple[str, ...]:
    """A list of glob patterns from policy config (one pattern given as text is a list of one)."""
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(pattern) for pattern in value) if isinstance(value, (list, tuple)) else (str(value),)


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


class LookupCache:
    """The pack process's image lookups: one `ImageLookup` per (region, endpoint), created once, under a lock."""

    def __init__(self, concurrency: int = DEFAULT_CONCURRENCY, options: ClientOptions | None = None):
        self.concurrency = concurrency
        self._client_options = options
        self._lookups: dict[tuple[str | None, str | None, str | None, float | None], ImageLookup] = {}
        self._lock = threading.Lock()

    def get(self, config: PolicyConfig) -> ImageLookup:
        """The shared lookup for this configuration; ConfigurationError if its settings are invalid."""
        key = (config.region, config.endpoint, config.cache_dir, config.cache_ttl_seconds)
        with self._lock:
            lookup = self._lookups.get(key)
            if lookup is None:
                # Credentials: the stack config the engine hands every pack (ConfigureStack, or PULUMI_CONFIG
                # from older CLIs), then the environment, then the profile file; never the policy config.
                settings = resolve_settings({"region": config.region, "endpoint": config.endpoint},
                                            stack_config=stack_config())
                cache = cache_from(config.cache_dir, config.cache_ttl_seconds)  # off unless cacheDir or NCR_CACHE_DIR
                lookup = ImageLookup(settings, self.concurrency, cache=cache, options=self._client_options)
                self._lookups[key] = lookup
            return lookup

    def close(self) -> None:
        """Close every lookup's pool (tests; the pack process just exits)."""
        with self._lock:
            for lookup in self._lookups.values():
                lookup.close()
            self._lookups.clear()


class Advisories:
    """Messages the mutable-tags policy leaves for its advisory companion, per resource URN."""

    def __init__(self) -> None:
        self._messages: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def add(self, urn: str, message: str) -> None:
        """Leave a message for the companion's turn on this resource."""
        with self._lock:
            self._messages.setdefault(urn, []).append(message)

    def take(self, urn: str) -> list[str]:
        """The messages left for this resource, removed."""
        with self._lock:
            return self._messages.pop(urn, [])


@dataclass(frozen=True)
class Finding:
    """One thing the policy has to say about one reference; `blocking` False means advisory."""

    message: str
    blocking: bool = True


def known_values(value: Any) -> Any:
    """A plain copy of policy props in which values unknown during preview are None.

    `args.props` raises UnknownValueError on access to an unknown; reading around it skips the
    value instead of failing the whole policy. Positions in lists are kept, so paths stay true.
    """
    if isinstance(value, Secret):
        return known_values(value.value)
    if isinstance(value, str):
        return None if value in _UNKNOWNS else value
    if isinstance(value, Mapping):
        return {key: known_values(_get(value, key)) for key in value}
    if isinstance(value, Sequence):
        return [known_values(_get(value, index)) for index in range(len(value))]
    return value


def _get(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except UnknownValueError:
        return None


def check_references(props: Any, config: PolicyConfig, lookups: LookupCache) -> list[Finding]:
    """Everything to report about the NCR image references in one resource's input properties."""
    references = find_references(known_values(props))
    # A host that looks like NCR's but is none of its forms, or an NCR host with no image beside it, cannot be
    # judged, so it follows failOpen; a name that breaks the rules is a broken reference and always blocks.
    findings = [_unchecked(found.text, None, found, found.error, config)
                if isinstance(found.error, UncheckableReference)
                else _malformed(found) for found in references if found.ref is None]
    findings += _look_up_and_judge([found for found in references if found.ref is not None], config, lookups, _judge)
    return _unique(findings)


def check_digest_references(props: Any, config: PolicyConfig, lookups: LookupCache) -> list[Finding]:
    """The NCR references in one resource's inputs that name a mutable repository by tag instead of by digest.

    Malformed references are left to the main policy, which reports them.
    """
    by_tag = [found for found in find_references(known_values(props)) if found.ref is not None and found.ref.digest is None]
    return _unique(_look_up_and_judge(by_tag, config, lookups, _judge_pinning))


def _placed(references: Iterable[FoundReference]) -> list[tuple[FoundReference, ImageRef]]:
    """The references that parsed, each with its ImageRef (the others are reported as malformed elsewhere)."""
    return [(found, found.ref) for found in references if found.ref is not None]


_T = TypeVar("_T")

Judge = Callable[[FoundReference, LookupKey, Result | Exception, PolicyConfig], list[Finding]]


def _look_up_and_judge(references: list[FoundReference], config: PolicyConfig, lookups: LookupCache,
                       judge: Judge) -> list[Finding]:
    """Look up every reference not exempted by allowedImages, concurrently, and judge each with `judge`.

    A private endpoint reference names its registry only once the registry list maps its id, so it
    is exempted (or not) after that; one that cannot be mapped is reported as not checked.
    """
    candidates = [(found, ref) for found, ref in _placed(references)
                  if ref.private_id is not None or not config.exempts(ref)]
    if not candidates:
        return []
    try:
        lookup = lookups.get(config)
    except ConfigurationError as exc:
        return [_unchecked(ref.key, None, found, exc, config) for found, ref in candidates]
    findings: list[Finding] = []
    # Submit every lookup before waiting on any, so they run concurrently; a duplicate joins the first.
    pending = []
    for found, ref in candidates:
        try:
            key = lookup.key_for(ref)
        except NcrError as exc:
            findings.append(_unchecked(found.text, None, found, exc, config))
            continue
        if ref.private_id is not None and config.exempts(ref, key.registry):
            continue
        pending.append((found, *lookup.submit(ref)))
    for found, key, future in pending:
        answer = _result(future)
        findings.extend(judge(found, key, answer, config))
    return findings


def _result(future: Future[_T]) -> _T | Exception:
    """A lookup's answer; an unexpected exception is kept as an answer, so it cannot crash the analyzer."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - reported to the user as the reason the image was not checked
        return exc


def _judge(found: FoundReference, key: LookupKey, result: Result | Exception, config: PolicyConfig) -> list[Finding]:
    if isinstance(result, ImageDetails):
        if result.tag_mutability_enabled is True:
            return [_mutable(found, key)]
        if result.tag_mutability_enabled is None:
            return [_unchecked(key.image, key.region, found, "NCR did not say whether its tags are mutable", config)]
        return []
    return [_unchecked(key.image, key.region, found, result, config)]


def _judge_pinning(found: FoundReference, key: LookupKey, result: Result | Exception,
                   config: PolicyConfig) -> list[Finding]:
    """A tag reference to a mutable repository should be a digest; what cannot be checked is judged as by `_judge`."""
    if isinstance(result, ImageDetails) and result.tag_mutability_enabled is True:
        return [_by_tag(found, key)]
    return _judge(found, key, result, config)


def _by_tag(found: FoundReference, key: LookupKey) -> Finding:
    pinned = f"{docker_host(key.registry, key.region, key.site)}/{key.image_name}@sha256:..."
    return Finding(
        f"{_where(key.image, key.region)} allows mutable tags, and {found.text!r} at {found.path} names it by tag, "
        f"so what runs can change without a deployment. Deploy it by digest ({pinned}): NcrImageTag's "
        "image_ref_by_digest or `ncr-image resolve` gives the reference; or exempt it with allowedImages.")


def _where(image: str, region: str | None) -> str:
    return f"NCR image {image}" + (f" (region {region})" if region else "")


def _mutable(found: FoundReference, key: LookupKey) -> Finding:
    return Finding(
        f"{_where(key.image, key.region)} allows mutable tags, so {found.text!r} at {found.path} can point at "
        "different content after review. Turn on tag immutability for the repository, or exempt it with allowedImages.")


def _unchecked(image: str, region: str | None, found: FoundReference, reason: object, config: PolicyConfig) -> Finding:
    why = str(reason) if isinstance(reason, (NcrError, str)) else f"unexpected {type(reason).__name__}: {reason}"
    message = f"Could not check {_where(image, region)} at {found.path}: {_sentence(why)}"
    if config.fail_open:
        return Finding(message + " Not blocking: failOpen is true.", blocking=False)
    return Finding(message + " An image that cannot be checked blocks the deployment while failOpen is false.")


def _malformed(found: FoundReference) -> Finding:
    return Finding(f"Malformed NCR image reference {found.text!r} at {found.path}: {_sentence(str(found.error))}")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


def mutable_image_tags_policies(
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
    lookups: LookupCache | None = None,
) -> tuple[ResourceValidationPolicy, ResourceValidationPolicy]:
    """The mutable-tags policy and its advisory companion, sharing one advisory hand-off; list them in this order."""
    lookups = lookups if lookups is not None else _PROCESS_LOOKUPS
    advisories = Advisories()

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        config = PolicyConfig.from_mapping(args.get_config())
        for finding in check_references(args.props, config, lookups):
            if finding.blocking:
                report_violation(finding.message, None)
            else:
                advisories.add(args.urn, finding.message)

    def report_unchecked(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in advisories.take(args.urn):
            report_violation(message, None)

    main = ResourceValidationPolicy(
        name=MUTABLE_TAGS_POLICY,
        description="Prohibits deploying NCR images whose repository allows mutable tags",
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=MUTABLE_TAGS_CONFIG_SCHEMA,
    )
    companion = ResourceValidationPolicy(
        name=UNCHECKED_IMAGES_POLICY,
        description=f"Reports NCR images that {MUTABLE_TAGS_POLICY} could not check while its failOpen is true "
                    "(advisory: never blocks)",
        validate=report_unchecked,
        enforcement_level=EnforcementLevel.ADVISORY,
    )
    return main, companion


def registered_images_policy(enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY) -> StackValidationPolicy:
    """The stack policy over registered `NcrImage` resources, judged by their `tag_mutability_enabled` output.

    It covers only registered (managed) resources: the engine never shows read resources to
    policies, and `NcrImage` always registers as a read, so in the usual program it sees nothing.
    The mutable-tags resource policy, which looks at what is deployed, is the one that guards.
    """

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = PolicyConfig.from_mapping(args.get_config())
        for resource in args.resources:
            if resource.resource_type != NCR_IMAGE_TYPE:
                continue
            message = _registered_violation(resource.name, known_values(resource.props), config)
            if message:
                report_violation(message, resource.urn)

    return StackValidationPolicy(
        name=REGISTERED_IMAGES_POLICY,
        description="Prohibits registered NcrImage resources whose tag_mutability_enabled output is true "
                    "(covers only registered resources: NcrImage reads never reach policies)",
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=REGISTERED_IMAGES_CONFIG_SCHEMA,
    )


def _registered_violation(name: str, outputs: Mapping[str, Any], config: PolicyConfig) -> str | None:
    # An unknown output (preview of a resource not yet created) is None and is skipped, not failed;
    # anything but true, false or unknown cannot be judged, and is never read as immutable.
    mutable = outputs.get("tag_mutability_enabled")
    if mutable is False or mutable is None:
        return None
    image = f"{outputs.get('registry')}/{outputs.get('image_name')}"
    if config.allows(image):
        return None
    region = outputs.get("region")
    where = _where(image, region if isinstance(region, str) else None)
    if mutable is not True:
        return (f"NcrImage {name!r}: could not check {where}: its tag_mutability_enabled output is "
                f"{type(mutable).__name__} {mutable!r:.40}, not true or false. Refresh the stack, or exempt it "
                "with allowedImages.")
    return (f"NcrImage {name!r}: {where} allows mutable tags. "
            "Turn on tag immutability for the repository, or exempt it with allowedImages.")


def digest_references_policy(
    enforcement_level: EnforcementLevel = EnforcementLevel.DISABLED,
    lookups: LookupCache | None = None,
) -> ResourceValidationPolicy:
    """The optional policy asking for digest references to repositories whose tags are mutable (disabled by default).

    It overlaps the mutable-tags policy, which already blocks every reference to such a repository
    while it is mandatory: it is for stacks that exempt repositories from that policy (its
    allowedImages) or run it as advisory, but still want what they deploy pinned. It uses the
    same lookup cache, so the two never ask NCR twice about one image. An image it cannot look up
    is a violation with failOpen false (the default) and is skipped with failOpen true.
    """
    return findings_policy(
        DIGEST_REFERENCES_POLICY,
        "Prohibits deploying NCR images by tag rather than by digest when the repository's tags are mutable "
        "(disabled by default: enable it in the policy config)",
        check_digest_references, enforcement_level, DIGEST_REFERENCES_CONFIG_SCHEMA, lookups)


def findings_policy(name: str, description: str, check: Callable[[Any, PolicyConfig, LookupCache], list[Finding]],
                    enforcement_level: EnforcementLevel, config_schema: PolicyConfigSchema,
                    lookups: LookupCache | None = None) -> ResourceValidationPolicy:
    """A resource policy reporting, as violations, the blocking findings `check` makes of a resource's inputs.

    `lookups` defaults to the pack process's cache, shared by every policy so that none asks NCR twice."""
    shared = lookups if lookups is not None else _PROCESS_LOOKUPS

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for finding in check(args.props, PolicyConfig.from_mapping(args.get_config()), shared):
            if finding.blocking:
                report_violation(finding.message, None)

    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    enforcement_level=enforcement_level, config_schema=config_schema)

# The pack process's shared state: lookups are created on first use, under the cache's lock.
_PROCESS_LOOKUPS = LookupCache()

disallow_mutable_image_tags, unchecked_images = mutable_image_tags_policies()
registered_images_immutable = registered_images_policy()
require_digest_references = digest_references_policy()


def policies() -> list[Any]:
    """The pack's policies, in the order they must run (the companion after the policy it reports for)."""
    from .policy_rules import allowed_registries, image_age, pin_image_digests  # they build on this module

    return [disallow_mutable_image_tags, unchecked_images, registered_images_immutable, require_digest_references,
            allowed_registries, image_age, pin_image_digests]


def policy_pack(name: str = "ncr-policies") -> PolicyPack:
    """Build the pack; like every `PolicyPack`, this serves the Analyzer, prints its port and never returns."""
    capture_configure_stack()
    description = "Prohibits deploying NCR images whose repository allows mutable tags"
    if "description" not in inspect.signature(PolicyPack).parameters:
        # pulumi-policy before 1.14 (still allowed: 1.13 is the last that runs on pulumi 3.139) has no description
        return PolicyPack(name=name, policies=policies())
    return PolicyPack(name=name, policies=policies(), description=description)
