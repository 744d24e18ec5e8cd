"""NCR images in a `pulumi stack export` document: NcrImage resources and references in any resource's properties."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import IO, Any

from ..errors import InvalidNameError
from ..names import ImageRef, find_references, split_image_id, validate_image_name, validate_registry
from ..sites import IMAGE_TYPE_TOKEN
from .common import UsageError
from .targets import Target, describe_os_error

NCR_IMAGE_TYPE = IMAGE_TYPE_TOKEN
# How the engine marks a secret in an export: `ciphertext`, or with --show-secrets `plaintext` (the value as JSON).
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
SKIPPED_PROPERTIES = frozenset({"__provider"})
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
"""A provider resource's type (`pulumi:providers:pulumi-python`): its config holds credentials (the default
provider keeps `ncloud:secretKey` as ciphertext), never an image reference a workload deploys."""


@dataclass
class StackScan:
    """What a stack export holds for the gate: its references, and the secret values it could not read."""

    targets: list[Target] = field(default_factory=list)
    not_inspected: list[str] = field(default_factory=list)
    """Where a ciphertext secret sits (`stack.json: cart (docker:...) inputs.registryAuth`): not inspected."""


def from_stack_file(path: str, stdin: IO[str] | None = None) -> StackScan:
    """Targets from `--from-stack FILE` (`-` reads `stdin`, as `pulumi stack export | ncr-image check
    --from-stack -`); an unreadable, non-export or absurdly nested file is a usage error."""
    name = "stdin" if path == "-" else path
    too_deep = UsageError(f"--from-stack {name} is nested too deeply to be a stack export "
                          "(JSON deeper than Python's recursion limit); give the output of `pulumi stack export`")
    try:
        if path == "-":
            if stdin is None:
                raise UsageError("--from-stack - reads stdin, and there is none here")
            text = stdin.read()
            document = json.loads(text[1:] if text.startswith("\ufeff") else text)
        else:
            with open(path, encoding="utf-8-sig") as fh:
                document = json.load(fh)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --from-stack {name}: {describe_os_error(exc)}") from None
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:
        raise UsageError(f"--from-stack {name} is not JSON ({exc}); give the output of `pulumi stack export`") from None
    path = name
    resources = _resources(document)
    if resources is None:
        raise UsageError(f"--from-stack {path} has no deployment.resources list; give the output of `pulumi stack export`")
    try:
        return from_resources(resources, path)
    except RecursionError:  # parsed, but a property is nested past what the walk can follow
        raise too_deep from None


def _resources(document: Any) -> list[Any] | None:
    deployment = document.get("deployment") if isinstance(document, dict) else None
    resources = deployment.get("resources", []) if isinstance(deployment, dict) else None
    return resources if isinstance(resources, list) else None


def from_resources(resources: list[Any], source: str) -> StackScan:
    """The references of a stack export's resources, as the policy pack sees them: secrets with a
    plaintext (`--show-secrets`) are read, ciphertext ones named as not inspected (except in a provider
    resource's config, which holds credentials such as `ncloud:secretKey`, not image references). A reference that
    cannot be read or placed becomes a target carrying its error, so one bad token is reported for
    its resource while every other reference is still checked."""
    scan = StackScan()
    for index, resource in enumerate(resources):
        _require_shape(resource, index, source)
        urn = str(resource.get("urn", ""))
        rtype = str(resource.get("type", ""))
        label = f"{source}: {urn.rsplit('::', 1)[-1] or '?'} ({rtype or 'unknown type'})"
        hidden: list[str] = []
        properties = {part: _reveal(_visible(resource.get(part)), part, hidden) for part in ("inputs", "outputs")}
        if not rtype.startswith(PROVIDER_TYPE_PREFIX):  # never advise revealing a provider's credentials
            scan.not_inspected += [f"{label} {where}" for where in hidden]
        if rtype == NCR_IMAGE_TYPE:
            scan.targets.append(dataclasses.replace(_ncr_image_target(resource, properties, label),
                                                    file=source, resource=urn, path="NcrImage"))
        seen: set[str] = set()  # a Deployment names its image in inputs and outputs: one source is enough
        # A lone NCR host is judged where a policy would see it, in the inputs (see find_references).
        for found in find_references(properties["inputs"], "inputs") + \
                find_references(properties["outputs"], "outputs", lone_hosts=False):
            if found.text in seen:
                continue
            seen.add(found.text)
            scan.targets.append(Target(found.text, found.ref, f"{label} {found.path}", error=found.error,
                                      in_stack=True, file=source, resource=urn, path=found.path))
    return scan


def _require_shape(resource: Any, index: int, source: str) -> None:
    """Refuse a resource entry the gate cannot read, so no reference hides in it behind a silent pass."""
    if not isinstance(resource, dict):
        raise UsageError(f"--from-stack {source}: deployment.resources[{index}] is {_json_kind(resource)}, not a "
                         "resource object; give the output of `pulumi stack export`")
    for part in ("inputs", "outputs"):
        value = resource.get(part)
        if value is not None and not isinstance(value, dict):
            urn = resource.get("urn")
            where = f"deployment.resources[{index}] ({urn})" if isinstance(urn, str) and urn else \
                f"deployment.resources[{index}]"
            raise UsageError(f"--from-stack {source}: {where} has {part} that is {_json_kind(value)}, not an "
                             "object of properties; give the output of `pulumi stack export`")


def _json_kind(value: Any) -> str:
    """What a JSON value is, in words: `null`, `a number`, `a list`, `a string`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _ncr_image_target(resource: dict, properties: dict[str, dict], label: str) -> Target:
    """An NcrImage's image: registry and image_name from its outputs or inputs, else its id."""
    def prop(name: str) -> Any:
        for part in ("outputs", "inputs"):
            value = properties[part].get(name)
            if value not in (None, ""):
                return value
        return None

    registry, image_name = prop("registry"), prop("image_name")
    text = f"{registry}/{image_name}" if registry or image_name else str(resource.get("id") or "NcrImage")
    origin = f"{label} NcrImage"
    try:
        if isinstance(registry, str) and isinstance(image_name, str):
            registry, image_name = validate_registry(registry), validate_image_name(image_name)
        elif resource.get("id"):
            registry, image_name = split_image_id(resource["id"], "id")
        else:
            raise InvalidNameError("NcrImage", "", "it has neither registry and image_name properties nor an id")
    except InvalidNameError as exc:
        return Target(text, None, origin, error=exc, in_stack=True)
    region, site = prop("region"), prop("site")
    ref = ImageRef(registry, image_name,
                   region=region.strip().upper() if isinstance(region, str) else None,
                   site=site.strip().lower() if isinstance(site, str) else None)
    return Target(ref.key, ref, origin, in_stack=True)


def _visible(value: Any) -> dict:
    """A resource's property map without the engine's own bookkeeping (the provider reference)."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if k not in SKIPPED_PROPERTIES}


def _reveal(value: Any, where: str, hidden: list[str]) -> Any:
    """The structure with every secret envelope replaced by its plaintext value, as a policy sees it;
    a ciphertext envelope (an export without --show-secrets) becomes None and its path joins `hidden`."""
    if isinstance(value, dict):
        if SECRET_SIGNATURE in value:
            plaintext = value.get("plaintext")
            if isinstance(plaintext, str):
                try:
                    return _reveal(json.loads(plaintext), where, hidden)
                except ValueError:
                    pass
            hidden.append(where)
            return None
        return {k: _reveal(v, f"{where}.{k}", hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v, f"{where}[{i}]", hidden) for i, v in enumerate(value)]
    return value
