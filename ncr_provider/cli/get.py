"""`ncr-image get`: print one image's details."""

from __future__ import annotations

from .one_image import PrintingCommand
from .output import write_details

COMMAND = PrintingCommand(
    "get", summary="print one NCR image's details",
    description="Print an NCR image's details (tag mutability, pulls, last update, descriptions).",
    printed="the details were printed", metavar="REGISTRY/IMAGE", json_help="the details as one object",
    fetch=lambda lookup, ref, key: lookup.lookup(ref), write=write_details)
add_parser, run = COMMAND.add_parser, COMMAND.run
