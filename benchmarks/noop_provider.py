"""A dynamic provider that reads nothing: what the Pulumi SDK's server and gRPC cost on their own (figure 1's floor)."""

from __future__ import annotations

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
