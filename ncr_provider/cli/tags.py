"""`ncr-image tags`: list one image's tags, newest first."""

from __future__ import annotations

import argparse
import sys

from .common import ExitCode
from .one_image import add_one_image_parser, look_up_one, one_image_epilog
from .output import write_tags

EPILOG = one_image_epilog("the tags were printed (an image without tags prints none)",
                          "Every page of NCR's tag list is read. A tag or digest in REF is accepted and ignored.")


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    add_one_image_parser(
        subparsers, parents, "tags", summary="list one NCR image's tags, newest first",
        description="List an NCR image's tags, newest first: digest, size, last update and platforms of each.",
        epilog=EPILOG, metavar="REF", json_help="one object: image, site, region, tags[]", run=run)


def run(args: argparse.Namespace) -> int:
    key, tags = look_up_one(args, lambda lookup, ref, key: lookup.lookup_tags(ref))
    write_tags(sys.stdout, args.output, key, tags)
    return ExitCode.OK
