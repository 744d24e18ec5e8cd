"""`ncr-image get`: print one image's details."""

from __future__ import annotations

import argparse
import sys

from .common import EXIT_OK, EXIT_UNANSWERED, EXIT_USAGE, add_ncp_options, look_up_one

EPILOG = f"""\
exit codes:
  {EXIT_OK}  the details were printed
  {EXIT_USAGE}  bad usage or a rejected name (nothing was sent)
  {EXIT_UNANSWERED}  no answer: the image does not exist, credentials are missing or rejected, network"""


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
    from .output import details_json, details_table

    key, details = look_up_one(args, lambda lookup, ref, key: lookup.lookup(ref))
    print(details_json(details) if args.output == "json" else details_table(key, details), file=sys.stdout)
    return EXIT_OK
