"""Dynamic providers that read nothing: what the Pulumi SDK's server and gRPC cost on their own (the baselines)."""

from __future__ import annotations

import time

from pulumi.dynamic import ReadResult, ResourceProvider

from ncr_provider.model import ImageDetails
from ncr_provider.provider import image_outputs

# The same outputs, in the same shape, as NcrImageProvider returns for an image: serializing them costs the same.
_DETAILS = ImageDetails(name="team/web", namespace="bench", description="bench image", full_description="",
                        pull_count=0, tag_mutability_enabled=False, last_updated=1_700_000_000_000, private_id="1")


class NoopProvider(ResourceProvider):
    """Answers every Read at once with fixed NcrImage outputs; pickles by reference like NcrImageProvider."""

    def __reduce__(self):
        return type(self), ()

    def read(self, id_: str, props: dict) -> ReadResult:
        registry, _, image_name = id_.partition("/")
        return ReadResult(id_, image_outputs(registry, image_name, "KR", _DETAILS))


class SleepingProvider(NoopProvider):
    """Answers every Read with the same canned outputs after sleeping LATENCY: NCR's latency and nothing of ours."""

    LATENCY = 0.020  # the emulator latency of figures 2 and 8 (common.LATENCY)

    def read(self, id_: str, props: dict) -> ReadResult:
        time.sleep(self.LATENCY)
        return super().read(id_, props)


def canned_read(name: str, image_id: str):
    """A read resource served by SleepingProvider: what a `pulumi preview` of NcrImage reads would cost if NCR
    answered in LATENCY and our provider did nothing at all."""
    import pulumi
    import pulumi.dynamic

    class CannedImage(pulumi.dynamic.Resource, module="bench", name="CannedImage"):
        pull_count: pulumi.Output[int]

    outputs = dict.fromkeys(("registry", "image_name", "region", "description", "pull_count", "tag_mutability_enabled"))
    return CannedImage(SleepingProvider(), name, outputs, pulumi.ResourceOptions(id=image_id))
