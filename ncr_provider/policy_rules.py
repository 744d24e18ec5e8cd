"""The pack's policies beyond tag mutability: allowed registries, image age, and pinning tags to digests.

All three are disabled until enabled in the policy config, and share `policy`'s lookups (and its
on-disk cache, when one is configured), so no image is asked about twice in one run:

- `ncr-allowed-registries` needs no lookup: an NCR reference whose registry matches none of the
  `registries` globs is a violation; with `allowNonNcr: false`, so is an `image` field that names
  no NCR image at all.
- `ncr-image-age` reads each image's tag list: `maxTagAgeDays` (the newest tag is older than that,
  so nobody has rebuilt the image) and `minTagAgeMinutes` (the tag deployed was pushed or moved
  less than that ago: a deploy racing an unfinished push).
- `ncr-pin-image-digests` is a remediation: with `enforcementLevel: remediate` the engine hands it
  every resource before analysis, and it rewrites each NCR `:tag` reference in the inputs to the
  `@sha256:` digest the tag points at now, as Kyverno's image verification does at admission, but
  before the deployment. The engine then analyzes the rewritten inputs, so its validation sees only
  what it could not pin, and reports why (fail closed unless `failOpen`). At `advisory` or
  `mandatory` it only reports each tag reference and the digest to deploy instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any, cast

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import ResourceRemediation, serialize_properties

from .errors import ConfigurationError, NcrError, TagNotFoundError
from .lookup import ImageLookup, LookupKey
from .model import DAY_MS, MINUTE_MS, TagDetails
from .names import FoundReference, find_references, replace_references
from .policy import (
    _ALLOWED_IMAGES_SCHEMA,
    _ALLOWED_TAGS_SCHEMA,
    _PROCESS_LOOKUPS,
    CACHE_CONFIG_SCHEMA,
    MUTABLE_TAGS_CONFIG_SCHEMA,
    Finding,
    LookupCache,
    PolicyConfig,
    _result,
    _unchecked,
    _unique,
    _where,
    findings_policy,
    known_values,
    patterns,
)
from .signing import now_ms

ALLOWED_REGISTRIES_POLICY = "ncr-allowed-registries"
IMAGE_AGE_POLICY = "ncr-image-age"
PIN_DIGESTS_POLICY = "ncr-pin-image-digests"
# What `pulumi policy ls` and the engine's output say each policy does.
_ALLOWED_REGISTRIES_ABOUT = ("Prohibits deploying NCR images from registries outside the allowed list "
                             "(disabled by default: enable it with registries in the policy config)")
_IMAGE_AGE_ABOUT = ("Prohibits deploying NCR images whose newest tag is older than maxTagAgeDays, or whose tag "
                    "was pushed less than minTagAgeMinutes ago (disabled by default)")

# The property names that hold an image reference in the resources people deploy images with
# (Kubernetes containers, Docker containers, Cloud Run, ECS task definitions, Compose-like specs).
IMAGE_KEYS = frozenset({"image", "imagename", "imageuri"})

_FAIL_OPEN_SKIPS = {
    "type": "boolean",
    "default": False,
    "description": "false: an image that cannot be looked up is a violation; true: it is skipped",
}

ALLOWED_REGISTRIES_CONFIG_SCHEMA = PolicyConfigSchema(properties={
    "registries": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "NCR registry name globs (fnmatch) images may come from, e.g. ['prod', 'shared-*']; "
                       "every other NCR registry is a violation (an empty list allows none)",
    },
    "allowNonNcr": {
        "type": "boolean",
        "default": True,
        "description": "false: an image field (image, imageName, imageUri) naming an image outside NCR is a violation",
    },
    # A private endpoint reference names a private id: the registry list says which registry it is.
    "region": MUTABLE_TAGS_CONFIG_SCHEMA.properties["region"],
    "endpoint": MUTABLE_TAGS_CONFIG_SCHEMA.properties["endpoint"],
    "failOpen": _FAIL_OPEN_SKIPS,
})

IMAGE_AGE_CONFIG_SCHEMA = PolicyConfigSchema(properties={
    **MUTABLE_TAGS_CONFIG_SCHEMA.properties,
    "maxTagAgeDays": {
        "type": "integer",
        "minimum": 1,
        "description": "an image whose newest tag was last updated more than this many days ago (or that has "
                       "no tags) is a violation; unset: not checked",
    },
    "minTagAgeMinutes": {
        "type": "integer",
        "minimum": 1,
        "description": "a deployed tag (':latest' when none is named) pushed or moved less than this many minutes "
                       "ago is a violation; references by digest are not judged; unset: not checked",
    },
    "failOpen": _FAIL_OPEN_SKIPS,
})

PIN_DIGESTS_CONFIG_SCHEMA = PolicyConfigSchema(properties={
    **MUTABLE_TAGS_CONFIG_SCHEMA.properties,
    "allowedImages": {**_ALLOWED_IMAGES_SCHEMA, "description": "registry/image glob patterns left as written"},
    "allowedTags": {**_ALLOWED_TAGS_SCHEMA, "description": "registry/image:tag glob patterns left as written, "
                                                           "e.g. 'prod/team/web:dev-*'"},
    "failOpen": _FAIL_OPEN_SKIPS,
    **CACHE_CONFIG_SCHEMA,
})


def place(found_references: list[FoundReference], config: PolicyConfig, lookups: LookupCache,
          ) -> tuple[ImageLookup | None, list[tuple[FoundReference, LookupKey]], list[Finding]]:
    """Where each reference is looked up, exemptions applied; a private endpoint reference is mapped to its
    registry first (the registry list, read once per run). What cannot be placed is reported, never skipped."""
    candidates = [found for found in found_references if found.parsed.private_id is not None or not config.exempts(found.parsed)]
    if not candidates:
        return None, [], []
    try:
        lookup = lookups.get(config)
    except ConfigurationError as exc:
        return None, [], [_unchecked(found.parsed.key, None, found, exc, config) for found in candidates]
    placed, findings = [], []
    for found in candidates:
        try:
            key = lookup.key_for(found.parsed)
        except NcrError as exc:
            findings.append(_unchecked(found.text, None, found, exc, config))
            continue
        if found.parsed.private_id is None or not config.exempts(found.parsed, key.registry):
            placed.append((found, key))
    return lookup, placed, findings


# -- allowed registries ---------------------------------------------------------------------------

def check_registries(props: Any, config: PolicyConfig, lookups: LookupCache) -> list[Finding]:
    """NCR references outside the `registries` globs, and (with allowNonNcr false) image fields naming no NCR image.

    Names alone decide, except for a private endpoint reference, whose registry the registry list names.
    """
    plain = known_values(props)
    allowed = patterns(config.raw.get("registries"))
    references = [found for found in find_references(plain) if found.ref is not None]  # the malformed: reported
    findings: list[Finding] = []                                                        # by the mutable-tags policy
    named = [(found, found.parsed.registry) for found in references if found.parsed.private_id is None]
    private = [found for found in references if found.parsed.private_id is not None]
    if private:
        _, placed, findings = place(private, PolicyConfig.from_mapping({**config.raw, "allowedImages": [],
                                                                         "allowedTags": []}), lookups)
        named += [(found, key.registry) for found, key in placed]
    for found, registry in named:
        if not any(fnmatchcase(registry or "", pattern) for pattern in allowed):  # named by host: never None
            listed = ", ".join(allowed) if allowed else "none: registries is empty"
            findings.append(Finding(
                f"NCR registry {registry!r} of {found.text!r} at {found.path} is not an allowed registry "
                f"(allowed: {listed}). Deploy the image from an allowed registry, or add it to registries."))
    if config.raw.get("allowNonNcr") is False:
        for path, text in image_fields(plain):
            if not find_references(text):
                findings.append(Finding(
                    f"{text!r} at {path} is not an NCR image, and allowNonNcr is false. Push the image to an "
                    "allowed NCR registry and deploy it from there."))
    return _unique(findings)


def image_fields(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every text value under a key named like an image field, with its property path."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(item, str) and str(key).lower() in IMAGE_KEYS and item.strip():
                yield where, item
            else:
                yield from image_fields(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from image_fields(item, f"{path}[{index}]")


# -- image age ------------------------------------------------------------------------------------

def check_image_age(props: Any, config: PolicyConfig, lookups: LookupCache, now: int | None = None) -> list[Finding]:
    """References to images whose newest tag is too old, or whose deployed tag is too new; one tag list per image."""
    try:
        max_days = _limit(config.raw, "maxTagAgeDays")
        min_minutes = _limit(config.raw, "minTagAgeMinutes")
    except ConfigurationError as exc:
        return [Finding(f"Invalid {IMAGE_AGE_POLICY} config: {exc}")]
    if max_days is None and min_minutes is None:
        return []
    lookup, placed, findings = place([found for found in find_references(known_values(props)) if found.ref is not None],
                                     config, lookups)
    pending = [(found, *lookup.submit_tags(found.parsed)) for found, _ in placed] if lookup is not None else []
    now = now_ms() if now is None else now
    for found, key, future in pending:
        tags = _result(future)
        if isinstance(tags, Exception):
            findings.append(_unchecked(key.image, key.region, found, tags, config))
            continue
        if max_days is not None:
            findings += _too_old(found, _where(key.image, key.region), tags, max_days, now, config)
        if min_minutes is not None and found.parsed.digest is None:
            findings += _too_new(found, _where(key.image, key.region), tags, min_minutes, now, config)
    return _unique([finding for finding in findings if finding.blocking])


def _limit(config: Mapping[str, Any], name: str) -> int | None:
    value = config.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 1:
        raise ConfigurationError(reason=f"{name} must be a whole number of at least 1, got {value!r}")
    return int(value)


def _too_old(found: FoundReference, where: str, tags: tuple[TagDetails, ...], max_days: int, now: int,
             config: PolicyConfig) -> list[Finding]:
    newest = tags[0] if tags else None  # the client lists tags newest first
    if newest is None:
        return [Finding(f"{where} has no tags, so none is recent: {found.text!r} at {found.path} "
                        f"cannot be under maxTagAgeDays {max_days}.")]
    if newest.last_updated is None:
        return [_unchecked(where, None, found, f"NCR did not report when tag {newest.name} was updated", config)]
    if now - newest.last_updated <= max_days * DAY_MS:
        return []
    return [Finding(
        f"The newest tag of {where}, {newest.name}, was last updated {(now - newest.last_updated) // DAY_MS} days ago "
        f"({newest.last_updated_at}), over maxTagAgeDays {max_days}: {found.text!r} at {found.path} runs an image "
        "nobody has rebuilt since. Rebuild and push it, or exempt it with allowedImages or allowedTags.")]


def _too_new(found: FoundReference, where: str, tags: tuple[TagDetails, ...], min_minutes: int, now: int,
             config: PolicyConfig) -> list[Finding]:
    name = found.parsed.pulled_tag
    tag = next((t for t in tags if t.name == name), None)
    if tag is None:
        return [Finding(f"Tag {name} of {where} does not exist: {found.text!r} at {found.path} cannot be pulled.")]
    if tag.last_updated is None:
        return [_unchecked(where, None, found, f"NCR did not report when tag {name} was updated", config)]
    age = now - tag.last_updated
    if age >= min_minutes * MINUTE_MS:
        return []
    return [Finding(
        f"Tag {name} of {where} {tag.push_age(now)} ({tag.last_updated_at}), "
        f"under minTagAgeMinutes {min_minutes}: {found.text!r} at {found.path} may race a push still in progress. "
        "Deploy again later, or deploy it by digest.")]


# -- pinning tags to digests ------------------------------------------------------------------------

def pin_candidates(props: Any) -> list[FoundReference]:
    """The NCR references that name a tag (or nothing, meaning `latest`); exemptions are applied by `place`."""
    return [found for found in find_references(known_values(props)) if found.ref is not None and found.ref.digest is None]


def pinned(found: FoundReference, digest: str) -> str:
    """The reference as written, host and port kept, with `:tag` replaced by `@digest`."""
    text = found.text
    if found.parsed.tag is not None:
        text = text[: -len(found.parsed.tag) - 1]
    return f"{text}@{digest}"


def resolve_pins(candidates: list[FoundReference], config: PolicyConfig,
                 lookups: LookupCache) -> tuple[dict[str, str], list[Finding]]:
    """Each candidate's text -> its pinned text; and why the others could not be pinned (exempted ones are left)."""
    lookup, placed, findings = place(candidates, config, lookups)
    if lookup is None:
        return {}, findings
    if lookup.cache is not None:
        # With a cache on disk, learn first whether each repository's tags are immutable: a digest read
        # from such a repository is kept for good. The mutable-tags policy needs these answers anyway.
        for found, _ in placed:
            _result(lookup.submit(found.parsed)[1])
    pending = [(found, *lookup.submit_tag(found.parsed, found.parsed.pulled_tag)) for found, _ in placed]
    pins: dict[str, str] = {}
    for found, key, future in pending:
        answer = _result(future)
        tag = found.parsed.pulled_tag
        if isinstance(answer, TagNotFoundError):
            findings.append(Finding(f"Cannot pin {found.text!r} at {found.path}: tag {tag} of "
                                    f"{_where(key.image, key.region)} does not exist."))
        elif isinstance(answer, Exception):
            findings.append(_unchecked(key.image, key.region, found, answer, config))
        elif answer.digest is None:
            findings.append(_unchecked(key.image, key.region, found, f"NCR reported no digest for tag {tag}", config))
        else:
            pins[found.text] = pinned(found, answer.digest)
    return pins, findings


def rewrite(value: Any, pins: Mapping[str, str]) -> Any:
    """A copy of serialized properties with every pinned reference replaced, wherever it is in any string."""
    if isinstance(value, str):
        return replace_references(value, pins)
    if isinstance(value, Mapping):
        return {key: rewrite(item, pins) for key, item in value.items()}
    if isinstance(value, list):
        return [rewrite(item, pins) for item in value]
    return value


# -- the policies ---------------------------------------------------------------------------------

def allowed_registries_policy(enforcement_level: EnforcementLevel = EnforcementLevel.DISABLED,
                              lookups: LookupCache | None = None) -> ResourceValidationPolicy:
    """NCR references must come from the configured registries (disabled by default)."""
    return findings_policy(ALLOWED_REGISTRIES_POLICY, _ALLOWED_REGISTRIES_ABOUT, check_registries, enforcement_level,
                           ALLOWED_REGISTRIES_CONFIG_SCHEMA, lookups)


def image_age_policy(enforcement_level: EnforcementLevel = EnforcementLevel.DISABLED,
                     lookups: LookupCache | None = None) -> ResourceValidationPolicy:
    """Deployed images must have been rebuilt recently, and their tags must have settled (disabled by default)."""
    return findings_policy(IMAGE_AGE_POLICY, _IMAGE_AGE_ABOUT, check_image_age, enforcement_level, IMAGE_AGE_CONFIG_SCHEMA,
                           lookups)


def pin_digests_policy(enforcement_level: EnforcementLevel = EnforcementLevel.DISABLED,
                       lookups: LookupCache | None = None) -> ResourceValidationPolicy:
    """Rewrites NCR tag references to the digests they point at now (enable with enforcementLevel remediate)."""
    lookups = lookups if lookups is not None else _PROCESS_LOOKUPS

    def remediate(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
        config = PolicyConfig.from_mapping(args.get_config())
        pins, _ = resolve_pins(pin_candidates(args.props), config, lookups)
        if not pins:
            return None
        # The serialized form keeps secrets as secrets and unknowns as unknowns: only references change.
        return deserialize_properties(rewrite(serialize_properties(args.props), pins), True)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        # After a remediation the engine analyzes the rewritten inputs: only what could not be pinned is left.
        config = PolicyConfig.from_mapping(args.get_config())
        candidates = pin_candidates(args.props)
        pins, findings = resolve_pins(candidates, config, lookups)
        for found in candidates:
            if found.text in pins:
                how = ("with enforcementLevel remediate, this policy rewrites it" if found.written else
                       "this policy cannot rewrite it: it is not written whole in one value, so pin it where it is set")
                report_violation(
                    f"{found.text!r} at {found.path} names an NCR image by tag; the tag points at "
                    f"{pins[found.text].rpartition('@')[2]} now. Deploy {pins[found.text]} instead ({how}).", None)
        for finding in _unique(findings):
            if finding.blocking:
                report_violation(finding.message, None)

    return ResourceValidationPolicy(
        name=PIN_DIGESTS_POLICY,
        description="Pins NCR image references by tag to the digest each tag points at now "
                    "(disabled by default: enable it with enforcementLevel remediate)",
        validate=validate,
        # pulumi_policy takes the mapping as it is (it awaits only an awaitable), though its type names only that
        remediate=cast(ResourceRemediation, remediate),
        enforcement_level=enforcement_level,
        config_schema=PIN_DIGESTS_CONFIG_SCHEMA,
    )


allowed_registries = allowed_registries_policy()
image_age = image_age_policy()
pin_image_digests = pin_digests_policy()
