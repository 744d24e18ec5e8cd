"""Read the NCR images named in stack config, export their details, and refuse mutable tags.

Config (project ncr-provider-demo):
  images            list of "registry/image" to read, e.g. ["prod/team/web"]
  allowMutableTags  true to continue when an image's tags can be moved (default false)
Credentials and place come from ncloud:accessKey, ncloud:secretKey, ncloud:region, ncr:endpoint.
"""

import pulumi

from ncr_provider import NcrImage
from ncr_provider.names import split_image_id

config = pulumi.Config()
images: list[str] = config.require_object("images")
allow_mutable_tags = config.get_bool("allowMutableTags") or False


def refuse_mutable_tags(image_id: str, mutable: bool | None) -> bool:
    """Stop the deployment unless NCR says this image's tags are immutable (or allowMutableTags is true).

    Fails closed: only `False` is approved. NCR may not report tag mutability (None): that is no proof
    of immutable tags, so it is refused with its own reason, never passed as if it were.
    """
    if mutable is False or allow_mutable_tags:
        return True
    if mutable is True:
        message = (f"Image {image_id} has mutable tags: a tag may point at a different image tomorrow. "
                   "Make its tags immutable in NCR, or set allowMutableTags to true.")
    else:
        message = (f"NCR did not report whether image {image_id} has mutable tags ({mutable!r}), so it cannot be "
                   "approved: a tag may point at a different image tomorrow. Check the image in NCR, or set "
                   "allowMutableTags to true.")
    pulumi.log.error(message)
    raise Exception(message)


def annotations(image_id: str, description: str | None, last_updated_at: str | None) -> dict[str, str]:
    """Kubernetes-style annotations describing the image, built from its live details."""
    return {
        "ncr.ntruss.com/image": image_id,
        "ncr.ntruss.com/description": description or "",
        "ncr.ntruss.com/last-updated": last_updated_at or "",
    }


all_annotations = {}
for image_id in images:
    registry, image_name = split_image_id(image_id)
    image = NcrImage(image_id.replace("/", "-"), registry=registry, image_name=image_name)
    approved = image.tag_mutability_enabled.apply(lambda mutable, i=image_id: refuse_mutable_tags(i, mutable))
    pulumi.export(image_id, {
        "description": image.description,
        "pull_count": image.pull_count,
        "tag_mutability_enabled": image.tag_mutability_enabled,
        "last_updated_at": image.last_updated_at,
        "region": image.region,
        "approved": approved,
    })
    # Only approved images get annotations: a refused image stops the program here.
    all_annotations[image_id] = pulumi.Output.all(approved, image.description, image.last_updated_at).apply(
        lambda values, i=image_id: annotations(i, values[1], values[2]))

pulumi.export("annotations", all_annotations)
