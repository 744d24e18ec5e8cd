"""A small managed dynamic resource standing in for a workload (a Deployment, a container) that runs an image.

It only keeps its inputs; what matters is that the engine creates, diffs and updates it like any managed
resource, and that policies see it (they never see read resources). The provider server imports this module
by name, so the stack's environment puts `tests/` on PYTHONPATH.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

WORKLOAD_TYPE = "pulumi-python:dynamic/test:Workload"


class WorkloadProvider(ResourceProvider):
    """Stores `image` as given; a changed image is an in-place update."""

    serialize_as_secret_always = False

    def __reduce__(self):
        return type(self), ()

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"workload-{props['name']}", {"name": props["name"], "image": props["image"]})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = olds.get("image") != news.get("image")
        return DiffResult(changes=changed, replaces=[], stables=["name"], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({"name": news["name"], "image": news["image"]})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class Workload(pulumi.dynamic.Resource, module="test", name="Workload"):
    """Runs `image` (in name only)."""

    image: pulumi.Output[str]

    def __init__(self, name: str, image: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__(WorkloadProvider(), name, {"name": name, "image": image}, opts)
