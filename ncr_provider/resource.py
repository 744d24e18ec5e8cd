"""NcrImage: an existing NCR image's live details as typed Pulumi outputs, read on every preview and up."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi.dynamic

from .names import split_image_id, validate_image_name, validate_registry
from .provider import NcrImageProvider

TYPE_TOKEN = "pulumi-python:dynamic/ncr:NcrImage"

# Declared to the SDK as None in the registered properties, so that Read's answer resolves them.
OUTPUT_NAMES = (
    "registry", "image_name", "region", "endpoint", "description", "full_description", "pull_count",
    "tag_mutability_enabled", "last_updated", "last_updated_at", "namespace", "private_id",
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


class NcrImage(pulumi.dynamic.Resource, module="ncr", name="NcrImage"):
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
    """When the image was last updated, in milliseconds since the epoch."""
    last_updated_at: pulumi.Output[str]
    """When the image was last updated, as ISO-8601 UTC text."""
    namespace: pulumi.Output[str]
    """The namespace NCR reports for the image (the registry name)."""
    private_id: pulumi.Output[str]
    """The registry's private endpoint id (empty when it has none)."""

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
    ) -> None:
        """Read the image `registry/image_name`; give either `args` or the keyword arguments."""
        if isinstance(args, pulumi.ResourceOptions) and opts is None:
            args, opts = None, args  # NcrImage("name", opts, registry=...) reads naturally too
        args = _args(args, registry, image_name, region, endpoint)
        image_id = pulumi.Output.all(args.registry, args.image_name).apply(lambda names: _image_id(*names))
        props = dict.fromkeys(OUTPUT_NAMES) | {
            "registry": args.registry, "image_name": args.image_name, "region": args.region, "endpoint": args.endpoint,
        }
        # Always a read: the engine then runs only a Read step, on every preview and up; opts.id is ours to set.
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=image_id))
        super().__init__(NcrImageProvider(), resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],  # shadows the builtin, as in every Pulumi get()
        opts: pulumi.ResourceOptions | None = None,
        *,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
    ) -> NcrImage:
        """Read the image whose id is `registry/image_name` (the image name may contain `/`)."""
        names = pulumi.Output.from_input(id).apply(split_image_id)
        return NcrImage(resource_name, opts=opts, registry=names.apply(lambda n: n[0]),
                        image_name=names.apply(lambda n: n[1]), region=region, endpoint=endpoint)


def _args(args: NcrImageArgs | None, registry, image_name, region, endpoint) -> NcrImageArgs:
    """One NcrImageArgs from either calling style; names given as plain text are validated right away."""
    keywords = NcrImageArgs(registry, image_name, region, endpoint)
    if args is None:
        args = keywords
    elif any(value is not None for value in (registry, image_name, region, endpoint)):
        raise TypeError("NcrImage takes either an NcrImageArgs or keyword arguments, not both")
    if args.registry is None or args.image_name is None:
        raise TypeError("NcrImage needs registry and image_name (or use NcrImage.get with an id 'registry/image')")
    # A typo in a literal name fails here, on the line that wrote it, rather than later in an apply.
    if isinstance(args.registry, str):
        validate_registry(args.registry)
    if isinstance(args.image_name, str):
        validate_image_name(args.image_name)
    return args


def _image_id(registry: str, image_name: str) -> str:
    """The id of a read: `registry/image_name`, both validated (they may come from other resources' outputs)."""
    return f"{validate_registry(registry)}/{validate_image_name(image_name)}"
