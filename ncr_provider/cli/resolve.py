"""`ncr-image resolve`: the by-digest reference a tag points at now, alone on stdout, for a pipeline to pin."""

from __future__ import annotations

import argparse
import sys

from .common import EXIT_OK, EXIT_UNANSWERED, EXIT_USAGE, Unanswered, UsageError, add_ncp_options

DESCRIPTION = """\
Print the pullable by-digest reference that an NCR tag points at now, and nothing else:
`<registry>.<kr|sg|jp>.ncr.ntruss.com/<image>@sha256:...` (`<registry>.ncr.gov-ntruss.com/...` on
site gov). Deploy that instead of the tag, and what runs cannot change when the tag moves:

  IMAGE=$(ncr-image resolve prod.kr.ncr.ntruss.com/team/web:1.4.2) || exit 1"""

EPILOG = f"""\
exit codes:
  {EXIT_OK}  the reference was printed
  {EXIT_USAGE}  bad usage: a rejected name, no tag, a digest instead of a tag (nothing was sent)
  {EXIT_UNANSWERED}  no answer: the tag or image does not exist, credentials are missing or rejected, network"""


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "resolve", parents=parents, help="print the by-digest reference an NCR tag points at now",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", metavar="REF:TAG",
                        help="registry/image:tag, or an NCR Docker reference with a tag")
    add_ncp_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import InvalidNameError, NcrError
    from ..lookup import ImageLookup
    from ..names import digest_reference, parse_reference
    from .check import check_places
    from .common import require_credentials, resolve
    from .targets import Target

    try:
        ref = parse_reference(args.image, "image")
    except InvalidNameError as exc:
        raise UsageError(str(exc)) from None
    if ref.digest is not None:
        raise UsageError(f"{args.image} is already pinned by digest: resolve takes REF:TAG")
    if ref.tag is None:
        raise UsageError(f"{args.image} names no tag: resolve takes REF:TAG, e.g. {ref.key}:1.0.0")
    settings = resolve(args)
    with ImageLookup(settings, concurrency=1) as lookup:
        key = lookup.key_for(ref)
        check_places([Target(args.image, ref, "argument")], [key])
        require_credentials(settings)
        what = f"tag {key.image}:{ref.tag}"
        try:
            digest = lookup.client_for(key).get_tag(key.registry, key.image_name, ref.tag).require_digest(what)
        except NcrError as exc:
            raise Unanswered(str(exc)) from None
    print(digest_reference(key.registry, key.image_name, digest, key.region, key.site), file=sys.stdout)
    return EXIT_OK
