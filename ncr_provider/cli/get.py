"""`ncr-image get`: print one image's details."""

from __future__ import annotations

import argparse
import sys

from .common import ExitCode, add_ncp_options
from .one_image import look_up_one
from .output import write_details

EPILOG = f"""\
exit codes:
  {ExitCode.OK}  the details were printed
  {ExitCode.USAGE}  bad usage or a rejected name (nothing was sent)
  {ExitCode.UNANSWERED}  no answer: the image does not exist, credentials are missing or rejected, network"""


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "get", parents=parents, help="print one NCR image's details",
        description="Print an NCR image's details (tag mutability, pulls, last update, descriptions).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", metavar="REGISTRY/IMAGE",
                        help="registry/image (the image may contain '/'), or an NCR Docker reference")
    parser.add_argument("--output", "-o", choices=("table", "json"), default="table",
                        help="table (default) or json (the details as one object)")
    add_ncp_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:

    key, details = look_up_one(args, lambda lookup, ref, key: lookup.lookup(ref))
    write_details(sys.stdout, args.output, key, details)
    return ExitCode.OK
