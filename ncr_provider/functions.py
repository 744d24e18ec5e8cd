"""Pulumi functions (data sources): get_image, get_image_tag, get_registry and their `_output` forms.

Spelled as Pulumi's own packages spell them (pulumi-aws `ecr.get_repository`): the plain form takes
plain values and returns a typed result you may also `await`; the `_output` form takes Inputs and
returns an `Output` of the same result. Unlike a resource, nothing reaches state and nothing is
diffed: the signed lookup runs right here, in the program's process, with the stack's settings
(`pulumi.Config`: `ncloud:*`, `ncr:endpoint`), then the environment, then the profile file, and
one shared client per place. With known inputs the result is known at preview too.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import threading
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, TypeAlias

import pulumi

from .client import NcrClient
from .config import SETTINGS, Settings, resolve_settings
from .errors import ConfigurationError, ImageNotFoundError
from .names import validate_image_name, validate_registry
from .provider import read_image_outputs, registry_outputs, require_credentials, tag_list_outputs, tag_outputs
from .selection import select_tag, tag_selection

__all__ = [
    "GetImageResult", "AwaitableGetImageResult", "get_image", "get_image_output",
    "GetImageTagResult", "AwaitableGetImageTagResult", "get_image_tag", "get_image_tag_output",
    "GetRegistryResult", "AwaitableGetRegistryResult", "get_registry", "get_registry_output",
]


# -- typed results: one table of fields per result, turned into Pulumi output types -------------------

IMAGE_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("id", str, "`registry/image_name`."),
    ("registry", str, "The registry name."),
    ("image_name", str, "The image name inside the registry."),
    ("region", str, "The region the image was read in."),
    ("description", str, "The image's short description."),
    ("full_description", str, "The image's full description."),
    ("pull_count", int, "How many times the image has been pulled."),
    ("tag_mutability_enabled", bool, "True when a pushed tag can be overwritten (mutable tags)."),
    ("last_updated", int, "Last update, in milliseconds since the epoch."),
    ("last_updated_at", str, "Last update, as ISO-8601 UTC text."),
    ("namespace", str, "The namespace NCR reports (the registry name)."),
    ("private_id", str, "The registry's private endpoint id (empty: none)."),
    ("repository_url", str, "`<registry>.<kr|sg|jp>.ncr.ntruss.com/<image>` (gov: `<registry>.ncr.gov-ntruss.com/...`)."),
    ("private_repository_url", str, "The repository on the private endpoint when the private id is known; else None."),
    ("last_pulled", int, "Last pull, in milliseconds since the epoch (API v3 only; None with v2)."),
    ("last_pulled_at", str, "Last pull, as ISO-8601 UTC text (API v3 only; None with v2)."),
    ("tags", list, "With include_tags: every tag name, newest first; else None."),
    ("latest_tag", str, "With include_tags: the most recently updated tag; else None."),
)
TAG_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("id", str, "`registry/image:tag`, `registry/image@digest` or `registry/image` (most recent)."),
    ("registry", str, "The registry name."),
    ("image_name", str, "The image name inside the registry."),
    ("tag", str, "The tag read (with digest or most_recent: the tag selected)."),
    ("region", str, "The region the tag was read in."),
    ("digest", str, "The digest the tag points at now."),
    ("full_size", int, "Total size of the tag's images in bytes."),
    ("last_updated", int, "Last push or move, in milliseconds since the epoch."),
    ("last_updated_at", str, "Last push or move, as ISO-8601 UTC text."),
    ("platforms", list, "One dict per platform image, each with its own image_ref_by_digest."),
    ("image_ref", str, "`<docker host>/<image>:<tag>`."),
    ("image_ref_by_digest", str, "`<docker host>/<image>@<digest>`."),
    ("tags", list, "With digest or most_recent: every tag pointing at the selected digest, newest first; else None."),
)
REGISTRY_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("id", str, "The registry name."),
    ("name", str, "The registry name."),
    ("region", str, "The region the registry was read in."),
    ("public_endpoint", str, "Docker host of the public endpoint."),
    ("private_endpoint", str, "Docker host of the private endpoint (empty: none)."),
    ("private_id", str, "The private endpoint id."),
    ("public_endpoint_enabled", bool, "Whether the public endpoint accepts requests; None where NCR does not say (v2)."),
    ("public_registry_enabled", bool, "Whether anonymous pulls are allowed."),
    ("scan_on_push_enabled", bool, "Whether pushed images are scanned for vulnerabilities."),
    ("bucket", str, "The Object Storage bucket holding the images."),
    ("created", int, "Creation, in milliseconds since the epoch."),
    ("created_at", str, "Creation, as ISO-8601 UTC text."),
    ("status", str, "The registry's status, e.g. RUNNING."),
)


def _result_types(name: str, doc: str, fields: tuple[tuple[str, type, str], ...]) -> tuple[type, type]:
    """A `pulumi.output_type` result class with one documented getter per field, and its awaitable subclass."""
    names = tuple(field for field, _, _ in fields)

    def __init__(self: Any, **values: Any) -> None:
        unknown = set(values) - set(names)
        if unknown:
            raise TypeError(f"{name} has no field(s) {', '.join(sorted(unknown))}")
        for field in names:
            pulumi.set(self, field, values.get(field))

    def __repr__(self: Any) -> str:
        return f"{name}(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in names) + ")"

    namespace: dict[str, Any] = {"__init__": __init__, "__repr__": __repr__, "__doc__": doc, "__module__": __name__}
    for field, typ, field_doc in fields:
        def getter(self: Any, _field: str = field) -> Any:
            return pulumi.get(self, _field)

        getter.__name__ = field
        getter.__doc__ = field_doc
        getter.__annotations__ = {"return": typ | None}
        namespace[field] = property(pulumi.getter(getter))
    result: type = pulumi.output_type(type(name, (), namespace))

    def __await__(self: Any) -> Generator[Any, None, Any]:
        if False:  # a generator that finishes at once: `await get_x(...)` gives the result itself
            yield self
        return self

    awaitable = type(f"Awaitable{name}", (result,), {"__await__": __await__, "__module__": __name__,
                                                     "__doc__": f"{name} that may also be awaited."})
    return result, awaitable


if TYPE_CHECKING:
    # Built at run time from the field tables; a type checker knows them only as classes.
    GetImageResult: TypeAlias = Any
    AwaitableGetImageResult: TypeAlias = Any
    GetImageTagResult: TypeAlias = Any
    AwaitableGetImageTagResult: TypeAlias = Any
    GetRegistryResult: TypeAlias = Any
    AwaitableGetRegistryResult: TypeAlias = Any
else:
    GetImageResult, AwaitableGetImageResult = _result_types(
        "GetImageResult", "One NCR image's details, as get_image returns them.", IMAGE_FIELDS)
    GetImageTagResult, AwaitableGetImageTagResult = _result_types(
        "GetImageTagResult", "One selected NCR image tag, as get_image_tag returns it.", TAG_FIELDS)
    GetRegistryResult, AwaitableGetRegistryResult = _result_types(
        "GetRegistryResult", "One NCR registry's endpoints and settings, as get_registry returns them.", REGISTRY_FIELDS)


# -- settings and the one shared client -----------------------------------------------------------

_clients: dict[tuple[Any, ...], NcrClient] = {}
_clients_lock = threading.Lock()


def stack_config() -> dict[str, str]:
    """The stack's NCP settings (`ncloud:accessKey`, ..., `ncr:endpoint`) through `pulumi.Config`, secrets included."""
    config: dict[str, str] = {}
    for setting in SETTINGS:
        namespace, _, key = setting.pulumi_key.partition(":")
        value = pulumi.Config(namespace).get(key)
        if value is not None:
            config[setting.pulumi_key] = value
    return config


def settings_for(region: str | None = None, endpoint: str | None = None, api_version: str | None = None) -> Settings:
    """Stack config, then environment, then profile file; `region`, `endpoint`, `api_version` override them for one call."""
    return resolve_settings({"region": region, "endpoint": endpoint, "api_version": api_version}, stack_config())


def client_for(settings: Settings) -> NcrClient:
    """The one client of this process for a place and key pair, built on first use and shared by every call."""
    require_credentials(settings)
    access_key, secret_key = settings.credentials()
    # The secret enters the cache key only as a hash: a changed key pair gets a fresh client.
    key = (settings.site, settings.region, settings.endpoint, settings.api_version, access_key,
           hashlib.sha256(secret_key.encode()).hexdigest())
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = NcrClient(settings)
        return client


def close_clients() -> None:
    """Close every shared client (tests and long-lived automation programs)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def _lift(fetch: Callable[..., Any], *inputs: Any, **keywords: Any) -> pulumi.Output[Any]:
    """Output form: wait for the Inputs, then run the plain lookup on a worker thread (never on Pulumi's loop)."""
    async def run(values: list[Any]) -> Any:
        # The SDK keeps stack config in context variables: the worker thread gets a copy of ours.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(None, context.run, lambda: fetch(*values, **keywords))

    return pulumi.Output.all(*inputs).apply(run)


# -- get_image ------------------------------------------------------------------------------------

def get_image(registry: str, image_name: str, region: str | None = None, endpoint: str | None = None,
              include_tags: bool | None = None, allow_missing: bool = False, api_version: str | None = None,
              opts: pulumi.InvokeOptions | None = None) -> AwaitableGetImageResult | None:
    """Look up one NCR image now. With `allow_missing=True` a missing image gives None instead of an error.

    `opts` is accepted for the usual signature; the lookup runs in this process, not through a provider.
    """
    registry, image_name = validate_registry(registry), validate_image_name(image_name)
    include_tags = _flag("include_tags", include_tags)
    allow_missing = _flag("allow_missing", allow_missing)
    settings = settings_for(region, endpoint, api_version)
    client = client_for(settings)
    try:
        outputs = read_image_outputs(client, settings, registry, image_name)
    except ImageNotFoundError:
        if allow_missing:
            return None
        raise
    if include_tags:
        outputs |= tag_list_outputs(client.list_tags(registry, image_name))
    outputs.pop("include_tags", None)
    return AwaitableGetImageResult(id=f"{registry}/{image_name}", **outputs)


def get_image_output(registry: pulumi.Input[str], image_name: pulumi.Input[str],
                     region: pulumi.Input[str | None] = None, endpoint: pulumi.Input[str | None] = None,
                     include_tags: pulumi.Input[bool | None] = None, allow_missing: bool = False,
                     api_version: pulumi.Input[str | None] = None,
                     opts: pulumi.InvokeOptions | None = None) -> pulumi.Output[GetImageResult | None]:
    """get_image taking Inputs (other resources' outputs); an Output of the result (of None, with allow_missing)."""
    allow_missing = _flag("allow_missing", allow_missing)
    return _lift(get_image, registry, image_name, region, endpoint, include_tags, allow_missing, api_version)


# -- get_image_tag --------------------------------------------------------------------------------

def get_image_tag(registry: str, image_name: str, tag: str | None = None, digest: str | None = None,
                  most_recent: bool | None = None, tag_pattern: str | None = None, region: str | None = None,
                  endpoint: str | None = None, api_version: str | None = None,
                  opts: pulumi.InvokeOptions | None = None) -> AwaitableGetImageTagResult:
    """Look up one tag now, selected by `tag`, by `digest`, or `most_recent=True` (optionally with `tag_pattern`)."""
    registry, image_name = validate_registry(registry), validate_image_name(image_name)
    selection = tag_selection(tag, digest, most_recent, tag_pattern, what="get_image_tag tag selection")
    settings = settings_for(region, endpoint, api_version)
    selected = select_tag(client_for(settings), registry, image_name, selection)
    outputs = tag_outputs(registry, image_name, settings, selected, selection)
    outputs.pop("most_recent", None)
    outputs.pop("tag_pattern", None)
    suffix = f":{tag}" if tag is not None else f"@{digest}" if digest is not None else ""
    return AwaitableGetImageTagResult(id=f"{registry}/{image_name}{suffix}", **outputs)


def get_image_tag_output(registry: pulumi.Input[str], image_name: pulumi.Input[str],
                         tag: pulumi.Input[str | None] = None, digest: pulumi.Input[str | None] = None,
                         most_recent: pulumi.Input[bool | None] = None, tag_pattern: pulumi.Input[str | None] = None,
                         region: pulumi.Input[str | None] = None, endpoint: pulumi.Input[str | None] = None,
                         api_version: pulumi.Input[str | None] = None,
                         opts: pulumi.InvokeOptions | None = None) -> pulumi.Output[GetImageTagResult]:
    """get_image_tag taking Inputs; an Output of the result."""
    return _lift(get_image_tag, registry, image_name, tag, digest, most_recent, tag_pattern, region, endpoint,
                 api_version)


# -- get_registry ---------------------------------------------------------------------------------

def get_registry(name: str, region: str | None = None, endpoint: str | None = None, api_version: str | None = None,
                 opts: pulumi.InvokeOptions | None = None) -> AwaitableGetRegistryResult:
    """Look up one registry now: endpoints, private id, scan-on-push, anonymous pull, bucket, created, status."""
    name = validate_registry(name, "name")
    settings = settings_for(region, endpoint, api_version)
    details = client_for(settings).get_registry(name)
    return AwaitableGetRegistryResult(id=name, **registry_outputs(settings.region, details))


def get_registry_output(name: pulumi.Input[str], region: pulumi.Input[str | None] = None,
                        endpoint: pulumi.Input[str | None] = None, api_version: pulumi.Input[str | None] = None,
                        opts: pulumi.InvokeOptions | None = None) -> pulumi.Output[GetRegistryResult]:
    """get_registry taking Inputs; an Output of the result."""
    return _lift(get_registry, name, region, endpoint, api_version)


def _flag(name: str, value: Any) -> bool:
    """An optional true/false argument; anything else is refused before a request is sent."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ConfigurationError(reason=f"{name} must be true or false, got {type(value).__name__}")
    return value
