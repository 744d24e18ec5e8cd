"""NCR images in a `pulumi stack export` document: NcrImage resources and references in any resource's properties."""

from __future__ import annotations

import json
from typing import Any

from ..errors import InvalidNameError
from ..names import ImageRef, find_references, split_image_id, validate_image_name, validate_registry
from ..sites import IMAGE_TYPE_TOKEN
from .common import UsageError
from .targets import Target, describe_os_error

NCR_IMAGE_TYPE = IMAGE_TYPE_TOKEN
# How the engine marks a secret in an export: the value is ciphertext, nothing to look up.
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
SKIPPED_PROPERTIES = frozenset({"__provider"})


def from_stack_file(path: str) -> tuple[list[Target], list[str]]:
    """Targets from `--from-stack FILE`; an unreadable, non-export or absurdly nested file is a usage error."""
    too_deep = UsageError(f"--from-stack {path} is nested too deeply to be a stack export "
                          "(JSON deeper than Python's recursion limit); give the output of `pulumi stack export`")
    try:
        with open(path, encoding="utf-8-sig") as fh:
            document = json.load(fh)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --from-stack {path}: {describe_os_error(exc)}") from None
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:
        raise UsageError(f"--from-stack {path} is not JSON ({exc}); give the output of `pulumi stack export`") from None
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


def from_resources(resources: list[Any], source: str) -> tuple[list[Target], list[str]]:
    """Targets from the resources of a stack export, and one sentence per unusable reference."""
    targets: list[Target] = []
    problems: list[str] = []
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        urn = str(resource.get("urn", ""))
        rtype = str(resource.get("type", ""))
        label = f"{source}: {urn.rsplit('::', 1)[-1] or '?'} ({rtype or 'unknown type'})"
        properties = {part: _without_secrets(_visible(resource.get(part))) for part in ("inputs", "outputs")}
        if rtype == NCR_IMAGE_TYPE:
            try:
                targets.append(_ncr_image_target(resource, properties, label))
            except InvalidNameError as exc:
                problems.append(f"{label}: {exc}")
        seen: set[str] = set()  # a Deployment names its image in inputs and outputs: one source is enough
        for found in find_references(properties):
            where = f"{label} {found.path}"
            if found.error is not None:
                problems.append(f"{where}: {found.error}")
            elif found.text not in seen:
                seen.add(found.text)
                targets.append(Target(found.text, found.ref, where))
    return targets, problems


def _ncr_image_target(resource: dict, properties: dict[str, dict], label: str) -> Target:
    """An NcrImage's image: registry and image_name from its outputs or inputs, else its id."""
    def prop(name: str) -> Any:
        for part in ("outputs", "inputs"):
            value = properties[part].get(name)
            if value not in (None, ""):
                return value
        return None

    registry, image_name = prop("registry"), prop("image_name")
    if isinstance(registry, str) and isinstance(image_name, str):
        registry, image_name = validate_registry(registry), validate_image_name(image_name)
    elif resource.get("id"):
        registry, image_name = split_image_id(resource["id"], "id")
    else:
        raise InvalidNameError("NcrImage", "", "it has neither registry and image_name properties nor an id")
    region, site = prop("region"), prop("site")
    ref = ImageRef(registry, image_name,
                   region=region.strip().upper() if isinstance(region, str) else None,
                   site=site.strip().lower() if isinstance(site, str) else None)
    return Target(ref.key, ref, f"{label} NcrImage")


def _visible(value: Any) -> dict:
    """A resource's property map without the engine's own bookkeeping (the provider reference)."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if k not in SKIPPED_PROPERTIES}


def _without_secrets(value: Any) -> Any:
    """The structure with every secret envelope replaced by None."""
    if isinstance(value, dict):
        if SECRET_SIGNATURE in value:
            return None
        return {k: _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value
