"""`ncr-image resolve`: the by-digest reference a tag points at now, alone on stdout, for a pipeline to pin."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING

from .common import ExitCode, Unanswered, UsageError, add_ncp_options
from .one_image import look_up_one

if TYPE_CHECKING:
    from ..lookup import ImageLookup, LookupKey
    from ..model import TagDetails
    from ..names import ImageRef

DESCRIPTION = """\
Print the pullable by-digest reference that an NCR tag points at now, and nothing else:
`<registry>.<kr|sg|jp>.ncr.ntruss.com/<image>@sha256:...` (`<registry>.ncr.gov-ntruss.com/...` on
site gov; a Docker reference keeps the host and port it was written with). Deploy that
instead of the tag, and what runs cannot change when the tag moves:

  IMAGE=$(ncr-image resolve prod.kr.ncr.ntruss.com/team/web:1.4.2) || exit 1

With --platform os/arch[/variant], the reference is pinned to that platform's own manifest
inside a multi-platform tag (e.g. `--platform linux/arm64`)."""

EPILOG = f"""\
exit codes:
  {ExitCode.OK}  the reference was printed
  {ExitCode.USAGE}  bad usage: a rejected name, no tag, a digest instead of a tag, a malformed --platform
     (nothing was sent)
  {ExitCode.UNANSWERED}  no answer: the tag or image does not exist, the tag has no image for --platform (or
     several: give the variant), credentials are missing or rejected, network"""


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "resolve", parents=parents, help="print the by-digest reference an NCR tag points at now",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", metavar="REF:TAG",
                        help="registry/image:tag, or an NCR Docker reference with a tag")
    parser.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", type=platform_argument,
                        help="pin to this platform's own manifest, e.g. linux/arm64 (default: the tag's digest)")
    add_ncp_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    def needs_a_tag(ref: ImageRef) -> None:
        if ref.digest is not None:
            raise UsageError(f"{args.image} is already pinned by digest: resolve takes REF:TAG")
        if ref.tag is None:
            raise UsageError(f"{args.image} names no tag: resolve takes REF:TAG, e.g. {ref.key}:1.0.0")

    def digest_of(lookup: ImageLookup, ref: ImageRef, key: LookupKey) -> str:
        assert ref.tag is not None, "needs_a_tag refused a reference without one"
        tag = lookup.client_for(key).get_tag(key.registry, key.image_name, ref.tag)
        if args.platform is None:
            return tag.require_digest(f"tag {key.image}:{ref.tag}")
        return platform_digest(tag, args.platform, f"{key.image}:{ref.tag}")

    key, digest = look_up_one(args, digest_of, check_ref=needs_a_tag)
    print(pinned_reference(args.image, key, digest), file=sys.stdout)
    return ExitCode.OK


def pinned_reference(given: str, key: LookupKey, digest: str) -> str:
    """The by-digest reference for what the user gave: on the Docker host (and port) they wrote, so a private
    endpoint or a mirror port stays what the pipeline pulls through; `registry/image` gets the public host."""
    from ..names import DOCKER_TRANSPORT, digest_reference, parse_reference, validate_digest, validate_image_name

    ref = parse_reference(given, "image")  # parsed (and accepted) once already; the host is the first part
    if ref.region is None and ref.site is None and ref.private_id is None:
        return digest_reference(key.registry, key.image_name, digest, key.region, key.site)
    transport = DOCKER_TRANSPORT if given.startswith(DOCKER_TRANSPORT) else ""  # kept: what the pipeline pulls with
    host = given.removeprefix(transport).partition("/")[0]
    return f"{transport}{host}/{validate_image_name(key.image_name)}@{validate_digest(digest)}"


_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")


def platform_argument(text: str) -> tuple[str, ...]:
    """argparse type: `os/arch[/variant]`, as Docker writes a platform (any case: Docker lowercases it too)."""
    platform = text.lower()
    if not _PLATFORM.fullmatch(platform):
        from ..errors import shorten

        raise argparse.ArgumentTypeError(f"expected os/arch[/variant] such as linux/arm64, got {shorten(text)}")
    return tuple(platform.split("/"))


def platform_digest(tag: TagDetails, platform: tuple[str, ...], what: str) -> str:
    """The digest of the tag's one image for `platform` (variant optional when only one matches); else Unanswered."""
    from .output import platform_label

    wanted = "/".join(platform)
    matching = [p for p in tag.platforms if (p.os, p.architecture) == platform[:2]
                and (len(platform) == 2 or p.variant == platform[2])]
    available = ", ".join(platform_label(p) for p in tag.platforms) or "none"
    if not matching:
        raise Unanswered(f"Tag {what} has no image for platform {wanted}; its platforms: {available}")
    if len(matching) > 1:
        raise Unanswered(f"Tag {what} has {len(matching)} images for platform {wanted}; give the variant "
                         f"(its platforms: {available})")
    if matching[0].digest is None:
        raise Unanswered(f"NCR reported no digest for the {wanted} image of tag {what}")
    return matching[0].digest
