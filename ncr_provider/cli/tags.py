"""`ncr-image tags`: list one image's tags, newest first."""

from __future__ import annotations

import argparse
import sys

from .common import ExitCode, add_ncp_options
from .one_image import look_up_one
from .output import write_tags

EPILOG = f"""\
Every page of NCR's tag list is read. A tag or digest in REF is accepted and ignored.

exit codes:
  {ExitCode.OK}  the tags were printed (an image without tags prints none)
  {ExitCode.USAGE}  bad usage or a rejected name (nothing was sent)
  {ExitCode.UNANSWERED}  no answer: the image does not exist, credentials are missing or rejected, network"""


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "tags", parents=parents, help="list one NCR image's tags, newest first",
        description="List an NCR image's tags, newest first: digest, size, last update and platforms of each.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", metavar="REF", help="registry/image (the image may contain '/'), or an NCR Docker reference")
    parser.add_argument("--output", "-o", choices=("table", "json"), default="table",
                        help="table (default) or json (one object: image, site, region, tags[])")
    add_ncp_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:

    key, tags = look_up_one(args, lambda lookup, ref, key: lookup.lookup_tags(ref))
    write_tags(sys.stdout, args.output, key, tags)
    return ExitCode.OK
