"""`ncr-image tags`: list one image's tags, newest first."""

from __future__ import annotations

import argparse
import sys

from .common import EXIT_OK, EXIT_UNANSWERED, EXIT_USAGE, add_ncp_options, look_up_one

EPILOG = f"""\
Every page of NCR's tag list is read. A tag or digest in REF is accepted and ignored.

exit codes:
  {EXIT_OK}  the tags were printed (an image without tags prints none)
  {EXIT_USAGE}  bad usage or a rejected name (nothing was sent)
  {EXIT_UNANSWERED}  no answer: the image does not exist, credentials are missing or rejected, network"""


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
    from .output import tags_json, tags_table

    key, tags = look_up_one(args, lambda lookup, ref, key: lookup.lookup_tags(ref))
    print(tags_json(key, tags) if args.output == "json" else tags_table(key, tags), file=sys.stdout)
    return EXIT_OK
