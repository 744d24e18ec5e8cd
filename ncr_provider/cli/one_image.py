"""The one-image commands' shared path (`get`, `tags`, `resolve`): parse, refuse, look up, or say why not."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ..errors import InvalidNameError, NcrError
from ..names import ImageRef, parse_reference
from .common import ExitCode, Unanswered, UsageError, add_ncp_options, require_credentials, resolve
from .targets import Target, check_places

if TYPE_CHECKING:
    from ..lookup import ImageLookup, LookupKey


def look_up_one(args: argparse.Namespace, fetch: Callable[[ImageLookup, ImageRef, LookupKey], Any],
                check_ref: Callable[[ImageRef], None] | None = None) -> tuple[LookupKey, Any]:
    """The one-image commands' path: parse `args.image`, refuse a bad name, place or missing credentials
    before anything is sent, then `fetch`; an NcrError, raised or returned, becomes Unanswered."""
    from ..lookup import ImageLookup  # the client stack imports requests: only when a command runs

    try:
        ref = parse_reference(args.image, "image")
    except InvalidNameError as exc:
        raise UsageError(str(exc), kind=type(exc).__name__) from None
    if check_ref is not None:
        check_ref(ref)
    settings = resolve(args)
    with ImageLookup(settings, concurrency=1) as lookup:
        unplaced = check_places(lookup, [Target(args.image, ref, "argument")])[1]
        if unplaced:
            raise Unanswered(str(unplaced[0][1]))
        require_credentials(settings)
        try:
            key = lookup.key_for(ref)  # maps a private endpoint id through the registry list
            result = fetch(lookup, ref, key)
        except NcrError as exc:
            raise Unanswered(exc) from None
    if isinstance(result, NcrError):
        raise Unanswered(result)
    return key, result


def add_one_image_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser], name: str, *,
                         summary: str, description: str, epilog: str, metavar: str, json_help: str,
                         run: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    """A one-image command's parser: the image, `--output table|json`, the NCP options, and its `run`."""
    parser = subparsers.add_parser(name, parents=parents, help=summary, description=description, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", metavar=metavar, help="registry/image (the image may contain '/'), or an NCR Docker reference")
    parser.add_argument("--output", "-o", choices=("table", "json"), default="table",
                        help=f"table (default) or json ({json_help})")
    add_ncp_options(parser)
    parser.set_defaults(run=run)
    return parser


def one_image_epilog(printed: str, preface: str = "") -> str:
    """A one-image command's exit codes (after `preface`, if any); `printed` says what exit 0 printed."""
    return (f"{preface}\n\n" if preface else "") + f"""exit codes:
  {ExitCode.OK}  {printed}
  {ExitCode.USAGE}  bad usage or a rejected name (nothing was sent)
  {ExitCode.UNANSWERED}  no answer: the image does not exist, credentials are missing or rejected, network"""


@dataclass(frozen=True)
class PrintingCommand:
    """A one-image command that looks the image up with `fetch` and prints the answer with `write` (get, tags)."""

    name: str
    summary: str
    description: str
    printed: str
    """What exit code 0 means was printed."""
    metavar: str
    json_help: str
    fetch: Callable[[ImageLookup, ImageRef, LookupKey], Any]
    write: Callable[[IO[str], str, LookupKey, Any], None]
    preface: str = ""
    """Text before the exit codes in `--help`."""

    def add_parser(self, subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
        """The command's parser, whose `run` is this command's."""
        add_one_image_parser(subparsers, parents, self.name, summary=self.summary, description=self.description,
                             epilog=one_image_epilog(self.printed, self.preface), metavar=self.metavar,
                             json_help=self.json_help, run=self.run)

    def run(self, args: argparse.Namespace) -> int:
        key, answer = look_up_one(args, self.fetch)
        self.write(sys.stdout, args.output, key, answer)
        return ExitCode.OK
