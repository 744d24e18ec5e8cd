"""`ncr-image get`: print one image's details."""

from __future__ import annotations

import argparse
import sys

from .common import ExitCode
from .one_image import add_one_image_parser, look_up_one, one_image_epilog
from .output import write_details

EPILOG = one_image_epilog("the details were printed")


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    add_one_image_parser(
        subparsers, parents, "get", summary="print one NCR image's details",
        description="Print an NCR image's details (tag mutability, pulls, last update, descriptions).",
        epilog=EPILOG, metavar="REGISTRY/IMAGE", json_help="the details as one object", run=run)


def run(args: argparse.Namespace) -> int:
    key, details = look_up_one(args, lambda lookup, ref, key: lookup.lookup(ref))
    write_details(sys.stdout, args.output, key, details)
    return ExitCode.OK
