"""`ncr-image tags`: list one image's tags, newest first."""

from __future__ import annotations

from .one_image import PrintingCommand
from .output import write_tags

COMMAND = PrintingCommand(
    "tags", summary="list one NCR image's tags, newest first",
    description="List an NCR image's tags, newest first: digest, size, last update and platforms of each.",
    printed="the tags were printed (an image without tags prints none)",
    preface="Every page of NCR's tag list is read. A tag or digest in REF is accepted and ignored.",
    metavar="REF", json_help="one object: image, site, region, tags[]",
    fetch=lambda lookup, ref, key: lookup.lookup_tags(ref), write=write_tags)
add_parser, run = COMMAND.add_parser, COMMAND.run
