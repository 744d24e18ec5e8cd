"""NcrImage and NcrImageTag: live NCR image and tag details as typed Pulumi outputs, read on every preview and up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pulumi
import pulumi.dynamic

from .engine_config import STACK_CONFIG_KEYS, stack_config_keys
from .errors import ConfigurationError
from .names import (
    split_image_id,
    split_selection_id,
    validate_digest,
    validate_image_name,
    validate_registry,
    validate_tag,
)
from .provider import NcrImageProvider, NcrImageTagProvider, NcrRegistryProvider
from .selection import tag_selection
from .sites import IMAGE_RESOURCE, REGISTRY_RESOURCE, RESOURCE_MODULE, TAG_RESOURCE

# Declared to the SDK as None in the registered properties, so that Read's answer resolves them.
OUTPUT_NAMES = (
    "registry", "image_name", "region", "endpoint", "description", "full_description", "pull_count",
    "tag_mutability_enabled", "last_updated", "last_updated_at", "namespace", "private_id", "tags", "latest_tag",
    "repository_url", "private_repository_url", "last_pulled", "last_pulled_at", "api_version",
)
TAG_OUTPUT_NAMES = (
    "registry", "image_name", "tag", "region", "endpoint", "digest", "full_size", "last_updated", "last_updated_at",
    "platforms", "image_ref", "image_ref_by_digest", "tags", "api_version",
)
REGISTRY_OUTPUT_NAMES = (
    "name", "region", "endpoint", "public_endpoint", "private_endpoint", "private_id", "public_endpoint_enabled",
    "public_registry_enabled", "scan_on_push_enabled", "bucket", "created", "created_at", "status", "api_version",
)


@dataclass
class NcrImageArgs:
    """Which NCR image an NcrImage reads, and optionally where (plain values or Outputs)."""

    registry: pulumi.Input[str]
    """The registry name, e.g. `prod`."""
    image_name: pulumi.Input[str]
    """The image name inside the registry; it may contain `/`, e.g. `team/web`."""
    region: pulumi.Input[str] | None = None
    """Region override (KR, SGN, JPN; KR or KRS on gov); default: `ncloud:region`."""
    endpoint: pulumi.Input[str] | None = None
    """API endpoint override, scheme://host[:port]; default: `ncr:endpoint`, else the site's host."""
    include_tags: pulumi.Input[bool] | None = None
    """True to also read the tag list (`tags`, `latest_tag`): one more request per page of 100 tags."""
    api_version: pulumi.Input[str] | None = None
    """NCR API version to read with, `v2` or `v3` (site public only); default: `ncr:apiVersion`, else v2."""


class NcrImage(pulumi.dynamic.Resource, module=RESOURCE_MODULE, name=IMAGE_RESOURCE):
    """An existing NCR image, read (never created or changed) on every `pulumi preview` and `pulumi up`."""

    registry: pulumi.Output[str]
    """The registry name."""
    image_name: pulumi.Output[str]
    """The image name inside the registry."""
    region: pulumi.Output[str]
    """The region the image was read in."""
    endpoint: pulumi.Output[str | None]
    """The endpoint override given to this resource, if any."""
    description: pulumi.Output[str | None]
    """The image's short description."""
    full_description: pulumi.Output[str | None]
    """The image's full description."""
    pull_count: pulumi.Output[int]
    """How many times the image has been pulled."""
    tag_mutability_enabled: pulumi.Output[bool]
    """True when the image's tags may be moved to other images (mutable tags)."""
    last_updated: pulumi.Output[int]
    """When the image was last pushed, in milliseconds since the epoch (v3: lastPushedDateTime)."""
    last_updated_at: pulumi.Output[str]
    """When the image was last pushed, as ISO-8601 UTC text."""
    namespace: pulumi.Output[str | None]
    """The namespace NCR reports for the image (the registry name); API v2 only, None with v3."""
    private_id: pulumi.Output[str | None]
    """The registry's private endpoint id (empty when it has none); API v2 only, None with v3."""
    last_pulled: pulumi.Output[int | None]
    """When the image was last pulled, in milliseconds since the epoch; API v3 only, None with v2."""
    last_pulled_at: pulumi.Output[str | None]
    """When the image was last pulled, as ISO-8601 UTC text; API v3 only, None with v2."""
    api_version: pulumi.Output[str | None]
    """The API version given to this resource, if any."""
    tags: pulumi.Output[list[str] | None]
    """With `include_tags`: every tag name, newest first (by last update); else None."""
    latest_tag: pulumi.Output[str | None]
    """With `include_tags`: the most recently updated tag (None when the image has no tags); else None."""
    repository_url: pulumi.Output[str]
    """`<registry>.<kr|sg|jp>.ncr.ntruss.com/<image>` (`<registry>.ncr.gov-ntruss.com/<image>` on site gov)."""
    private_repository_url: pulumi.Output[str | None]
    """`<private-id>.<kr|sg|jp>.private-ncr.ntruss.com/<image>` (gov: `<private-id>.private-ncr.gov-ntruss.com/...`)
    when the private id is known; else None."""

    def __init__(
        self,
        resource_name: str,
        args: NcrImageArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        registry: pulumi.Input[str] | None = None,
        image_name: pulumi.Input[str] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
        include_tags: pulumi.Input[bool] | None = None,
        api_version: pulumi.Input[str] | None = None,
    ) -> None:
        """Read the image `registry/image_name`; give either `args` or the keyword arguments."""
        if isinstance(args, pulumi.ResourceOptions) and opts is None:
            args, opts = None, args  # NcrImage("name", opts, registry=...) reads naturally too
        args = _args(args, registry, image_name, region, endpoint, include_tags, api_version)
        image_id = pulumi.Output.all(args.registry, args.image_name).apply(lambda names: _image_id(*names))
        props = dict.fromkeys(OUTPUT_NAMES) | {
            "registry": args.registry, "image_name": args.image_name, "region": args.region, "endpoint": args.endpoint,
            "include_tags": args.include_tags, "api_version": args.api_version,
        }
        super().__init__(NcrImageProvider(), resource_name, _with_config_keys(props), _as_read(opts, image_id))

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],  # shadows the builtin, as in every Pulumi get()
        opts: pulumi.ResourceOptions | None = None,
        *,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
        include_tags: pulumi.Input[bool] | None = None,
        api_version: pulumi.Input[str] | None = None,
    ) -> NcrImage:
        """Read the image whose id is `registry/image_name` (the image name may contain `/`)."""
        names = pulumi.Output.from_input(id).apply(split_image_id)
        return NcrImage(resource_name, opts=opts, registry=names.apply(lambda n: n[0]),
                        image_name=names.apply(lambda n: n[1]), region=region, endpoint=endpoint,
                        include_tags=include_tags, api_version=api_version)


_Text = pulumi.Input[str] | None
"""An optional text input, plain or an Output."""


def _as_read(opts: pulumi.ResourceOptions | None, resource_id: pulumi.Input[str]) -> pulumi.ResourceOptions:
    # Always a read: the engine then runs only a Read step, on every preview and up; opts.id is ours to set.
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=resource_id))


def _with_config_keys(props: dict) -> dict:
    """The registered properties plus the names of our settings the stack sets, so that a provider run by a CLI too
    old to pass it the stack config can say so (engine_config.py)."""
    return props | {STACK_CONFIG_KEYS: stack_config_keys()}


def _args(args: NcrImageArgs | None, registry: _Text, image_name: _Text, region: _Text, endpoint: _Text,
          include_tags: pulumi.Input[bool] | None, api_version: _Text = None) -> NcrImageArgs:
    """One NcrImageArgs from either calling style; names given as plain text are validated right away."""
    needs = TypeError("NcrImage needs registry and image_name (or use NcrImage.get with an id 'registry/image')")
    if args is None:
        if registry is None or image_name is None:
            raise needs
        args = NcrImageArgs(registry, image_name, region, endpoint, include_tags, api_version)
    elif any(value is not None for value in (registry, image_name, region, endpoint, include_tags, api_version)):
        raise TypeError("NcrImage takes either an NcrImageArgs or keyword arguments, not both")
    if args.registry is None or args.image_name is None:  # an NcrImageArgs built with None
        raise needs
    _validate_plain_names(args)
    return args


def _validate_plain_names(args: NcrImageArgs | NcrImageTagArgs) -> None:
    """A typo in a literal name fails here, on the line that wrote it, rather than later in an apply."""
    if isinstance(args.registry, str):
        validate_registry(args.registry)
    if isinstance(args.image_name, str):
        validate_image_name(args.image_name)


def _image_id(registry: str, image_name: str) -> str:
    """The id of a read: `registry/image_name`, both validated (they may come from other resources' outputs)."""
    return f"{validate_registry(registry)}/{validate_image_name(image_name)}"


# -- NcrImageTag ------------------------------------------------------------------------------------


@pulumi.output_type
class PlatformImageOutput(dict):
    """One platform image of a tag: a dict with these keys, whose numbers are ints again after gRPC.

    `pulumi.output_type` makes a typed property of each annotated field (read with `pulumi.get`).
    """

    architecture: str | None
    """CPU architecture, e.g. `amd64`, `arm64`."""
    os: str | None
    """Operating system, e.g. `linux`."""
    variant: str | None
    """CPU variant, e.g. `v8`, when NCR reports one."""
    digest: str | None
    """This platform's own manifest digest."""
    size: int | None
    """Size in bytes."""
    created: int | None
    """Pushed, in milliseconds since the epoch."""
    updated: int | None
    """Last updated, in milliseconds since the epoch."""
    latest_pulled: int | None
    """Last pulled, in milliseconds since the epoch (None if never)."""
    image_ref_by_digest: str | None
    """This platform's own pullable reference, `<docker host>/<image>@<platform digest>`."""

    def __init__(self, *, architecture: str | None = None, os: str | None = None, variant: str | None = None,
                 digest: str | None = None, size: int | None = None, created: int | None = None,
                 updated: int | None = None, latest_pulled: int | None = None,
                 image_ref_by_digest: str | None = None) -> None:
        super().__init__(architecture=architecture, os=os, variant=variant, digest=digest, size=size, created=created,
                         updated=updated, latest_pulled=latest_pulled, image_ref_by_digest=image_ref_by_digest)


@dataclass
class NcrImageTagArgs:
    """Which NCR image tag an NcrImageTag reads, and optionally where (plain values or Outputs).

    Select the tag in exactly one way: `tag`, `digest`, or `most_recent=True` (optionally with `tag_pattern`).
    """

    registry: pulumi.Input[str]
    """The registry name, e.g. `prod`."""
    image_name: pulumi.Input[str]
    """The image name inside the registry; it may contain `/`, e.g. `team/web`."""
    tag: pulumi.Input[str] | None = None
    """The tag, e.g. `1.4.2`."""
    region: pulumi.Input[str] | None = None
    """Region override (KR, SGN, JPN; KR or KRS on gov); default: `ncloud:region`."""
    endpoint: pulumi.Input[str] | None = None
    """API endpoint override, scheme://host[:port]; default: `ncr:endpoint`, else the site's host."""
    digest: pulumi.Input[str] | None = None
    """Select by digest (`sha256:...`): the newest tag pointing at it; `tags` lists every one."""
    most_recent: pulumi.Input[bool] | None = None
    """True to select the most recently updated tag (reads the whole tag list)."""
    tag_pattern: pulumi.Input[str] | None = None
    """With `most_recent`: a regular expression (Python `re.search`; anchor it with `^...$`) the tag must match."""
    api_version: pulumi.Input[str] | None = None
    """NCR API version to read with, `v2` or `v3` (site public only); default: `ncr:apiVersion`, else v2."""


_SELECTORS = ("tag", "digest", "most_recent", "tag_pattern")


class NcrImageTag(pulumi.dynamic.Resource, module=RESOURCE_MODULE, name=TAG_RESOURCE):
    """An existing NCR image tag and the digest it points at now, read on every `pulumi preview` and `pulumi up`.

    The tag is selected by name (`tag`), by the digest it points at (`digest`), or as the most recent
    one (`most_recent=True`, optionally matching `tag_pattern`).
    """

    registry: pulumi.Output[str]
    """The registry name."""
    image_name: pulumi.Output[str]
    """The image name inside the registry."""
    tag: pulumi.Output[str]
    """The tag read (with `digest` or `most_recent`: the tag selected)."""
    region: pulumi.Output[str]
    """The region the tag was read in."""
    endpoint: pulumi.Output[str | None]
    """The endpoint override given to this resource, if any."""
    digest: pulumi.Output[str]
    """The digest the tag points at now, e.g. `sha256:...`."""
    full_size: pulumi.Output[int]
    """Total size of the tag's images in bytes."""
    last_updated: pulumi.Output[int]
    """When the tag was last pushed or moved, in milliseconds since the epoch."""
    last_updated_at: pulumi.Output[str]
    """When the tag was last pushed or moved, as ISO-8601 UTC text."""
    platforms: pulumi.Output[list[PlatformImageOutput]]
    """One dict per platform image: architecture, os, variant, digest, size, created, updated, latest_pulled,
    image_ref_by_digest."""
    image_ref: pulumi.Output[str]
    """The pullable reference by tag: `<registry>.<kr|sg|jp>.ncr.ntruss.com/<image>:<tag>`."""
    image_ref_by_digest: pulumi.Output[str]
    """The pullable reference pinned to the digest: `<registry>.<kr|sg|jp>.ncr.ntruss.com/<image>@<digest>`
    (`<registry>.ncr.gov-ntruss.com/...` on site gov)."""
    tags: pulumi.Output[list[str] | None]
    """With `digest` or `most_recent`: every tag pointing at the selected digest, newest first; with `tag`: None."""
    api_version: pulumi.Output[str | None]
    """The API version given to this resource, if any."""

    def __init__(
        self,
        resource_name: str,
        args: NcrImageTagArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        registry: pulumi.Input[str] | None = None,
        image_name: pulumi.Input[str] | None = None,
        tag: pulumi.Input[str] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
        digest: pulumi.Input[str] | None = None,
        most_recent: pulumi.Input[bool] | None = None,
        tag_pattern: pulumi.Input[str] | None = None,
        api_version: pulumi.Input[str] | None = None,
    ) -> None:
        """Read one tag of `registry/image_name`; give either `args` or the keyword arguments."""
        if isinstance(args, pulumi.ResourceOptions) and opts is None:
            args, opts = None, args
        args = _tag_args(args, registry, image_name, tag, region, endpoint, digest, most_recent, tag_pattern,
                         api_version)
        tag_id = pulumi.Output.all(args.registry, args.image_name, args.tag, args.digest, args.most_recent,
                                   args.tag_pattern).apply(
            lambda v: _tag_id(v[0], v[1], v[2], v[3], v[4], v[5], resource_name=resource_name))
        props = dict.fromkeys(TAG_OUTPUT_NAMES) | {
            "registry": args.registry, "image_name": args.image_name, "tag": args.tag, "region": args.region,
            "endpoint": args.endpoint, "digest": args.digest, "most_recent": args.most_recent,
            "tag_pattern": args.tag_pattern, "api_version": args.api_version,
        }
        super().__init__(NcrImageTagProvider(), resource_name, _with_config_keys(props), _as_read(opts, tag_id))

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],  # shadows the builtin, as in every Pulumi get()
        opts: pulumi.ResourceOptions | None = None,
        *,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
        most_recent: pulumi.Input[bool] | None = None,
        tag_pattern: pulumi.Input[str] | None = None,
        api_version: pulumi.Input[str] | None = None,
    ) -> NcrImageTag:
        """Read the tag whose id is `registry/image:tag` or `registry/image@digest`; or, with `most_recent=True`,
        the most recent tag of `registry/image` (the image name may contain `/`)."""
        names = pulumi.Output.from_input(id).apply(split_selection_id)
        return NcrImageTag(resource_name, opts=opts, registry=names.apply(lambda n: n[0]),
                           image_name=names.apply(lambda n: n[1]),
                           # None where the id names no tag (or no digest): an Output of None is a valid Input
                           tag=cast("pulumi.Output[str]", names.apply(lambda n: n[2])),
                           digest=cast("pulumi.Output[str]", names.apply(lambda n: n[3])),
                           most_recent=most_recent, tag_pattern=tag_pattern,
                           region=region, endpoint=endpoint, api_version=api_version)


def _tag_needs() -> TypeError:
    return TypeError("NcrImageTag needs registry, image_name and one of tag, digest or most_recent=True "
                     "(or use NcrImageTag.get with an id 'registry/image:tag')")


def _tag_args(args: NcrImageTagArgs | None, registry: _Text, image_name: _Text, tag: _Text, region: _Text,
              endpoint: _Text, digest: _Text, most_recent: pulumi.Input[bool] | None, tag_pattern: _Text,
              api_version: _Text = None) -> NcrImageTagArgs:
    """One NcrImageTagArgs from either calling style; values given plainly are validated right away."""
    if args is None:
        if registry is None or image_name is None:
            raise _tag_needs()
        args = NcrImageTagArgs(registry, image_name, tag, region, endpoint, digest, most_recent, tag_pattern, api_version)
    elif any(value is not None for value in (registry, image_name, tag, region, endpoint, digest, most_recent,
                                             tag_pattern, api_version)):
        raise TypeError("NcrImageTag takes either an NcrImageTagArgs or keyword arguments, not both")
    if args.registry is None or args.image_name is None or (args.tag, args.digest, args.most_recent) == (None,) * 3:
        raise _tag_needs()
    _validate_plain_names(args)
    if isinstance(args.tag, str):
        validate_tag(args.tag)
    if isinstance(args.digest, str):
        validate_digest(args.digest)
    selectors = [getattr(args, name) for name in _SELECTORS]
    if all(value is None or isinstance(value, (str, bool)) for value in selectors):
        # Every selector is plain: a wrong combination fails on the line that wrote it.
        tag_selection(selectors[0], selectors[1], selectors[2], selectors[3], what="NcrImageTag tag selection")
    return args


def _tag_id(registry: str, image_name: str, tag: str | None, digest: str | None, most_recent: bool | None,
            tag_pattern: str | None, resource_name: str = "") -> str:
    """The id of a tag read: `registry/image:tag`, `registry/image@digest`, or `registry/image` (the most recent)."""
    if tag is None and digest is None and not most_recent:
        # Most often `tag=image.latest_tag` of an image without tags: say so, rather than "Invalid tag 'None'".
        raise ConfigurationError(reason=(
            f"NcrImageTag {resource_name!r} has no tag to read in {registry}/{image_name}: its tag input resolved to "
            "None. An NcrImage's latest_tag is None when the image has no tags (or include_tags is not set); "
            "push a tag, name one, or use most_recent=True"))
    selection = tag_selection(tag, digest, most_recent, tag_pattern, what="NcrImageTag tag selection")
    image_id = _image_id(registry, image_name)
    if selection.tag is not None:
        return f"{image_id}:{selection.tag}"
    if selection.digest is not None:
        return f"{image_id}@{selection.digest}"
    return image_id


# -- NcrRegistry --------------------------------------------------------------------------------------


class NcrRegistry(pulumi.dynamic.Resource, module=RESOURCE_MODULE, name=REGISTRY_RESOURCE):
    """An existing NCR registry's endpoints and settings, read on every `pulumi preview` and `pulumi up`."""

    name: pulumi.Output[str]
    """The registry name (also the resource id)."""
    region: pulumi.Output[str]
    """The region the registry was read in."""
    endpoint: pulumi.Output[str | None]
    """The API endpoint override given to this resource, if any."""
    api_version: pulumi.Output[str | None]
    """The API version override given to this resource (v2 or v3), if any."""
    public_endpoint: pulumi.Output[str | None]
    """The Docker host of the public endpoint, e.g. `prod.kr.ncr.ntruss.com`."""
    private_endpoint: pulumi.Output[str | None]
    """The Docker host of the private endpoint, e.g. `k7x2p9q4m1.kr.private-ncr.ntruss.com` (empty: none)."""
    private_id: pulumi.Output[str | None]
    """The private endpoint id (empty: none)."""
    public_endpoint_enabled: pulumi.Output[bool | None]
    """Whether the public endpoint accepts requests; None where NCR does not report it (API v2)."""
    public_registry_enabled: pulumi.Output[bool | None]
    """Whether anonymous pulls are allowed (a public registry)."""
    scan_on_push_enabled: pulumi.Output[bool | None]
    """Whether every pushed image is scanned for vulnerabilities."""
    bucket: pulumi.Output[str | None]
    """The Object Storage bucket holding the images."""
    created: pulumi.Output[int | None]
    """When the registry was created, in milliseconds since the epoch."""
    created_at: pulumi.Output[str | None]
    """When the registry was created, as ISO-8601 UTC text."""
    status: pulumi.Output[str | None]
    """The registry's status as NCR reports it, e.g. `RUNNING`."""

    def __init__(
        self,
        resource_name: str,
        opts: pulumi.ResourceOptions | None = None,
        *,
        name: pulumi.Input[str] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
        api_version: pulumi.Input[str] | None = None,
    ) -> None:
        """Read the registry `name` (in `region`, default `ncloud:region`)."""
        if name is None:
            raise TypeError("NcrRegistry needs name (or use NcrRegistry.get with the registry name as id)")
        if isinstance(name, str):
            validate_registry(name, "name")
        registry_id = pulumi.Output.from_input(name).apply(lambda n: validate_registry(n, "name"))
        props = dict.fromkeys(REGISTRY_OUTPUT_NAMES) | {"name": name, "region": region, "endpoint": endpoint,
                                                        "api_version": api_version}
        super().__init__(NcrRegistryProvider(), resource_name, _with_config_keys(props), _as_read(opts, registry_id))

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],  # shadows the builtin, as in every Pulumi get()
        opts: pulumi.ResourceOptions | None = None,
        *,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
        api_version: pulumi.Input[str] | None = None,
    ) -> NcrRegistry:
        """Read the registry whose id (its name) is `id`."""
        return NcrRegistry(resource_name, opts, name=id, region=region, endpoint=endpoint, api_version=api_version)
