"""`ncr-image check`: the pipeline gate. Looks up every named NCR image once, concurrently, and judges it."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..errors import ConfigurationError, NcrError
from .common import (
    OUTPUT_FORMATS,
    ExitCode,
    UsageError,
    add_max_tag_age_option,
    add_ncp_options,
    given_value,
    non_negative_int,
    positive_int,
    require_credentials,
    resolve,
)
from .output import write_check
from .progress import Progress
from .stack_export import from_stack_file
from .targets import Problems, Target, check_places, from_arguments, from_file

if TYPE_CHECKING:
    from ..cache import DiskCache
from .verdict import Summary, judge, judge_min_tag_age, judge_tag_age, judge_unplaced

DESCRIPTION = """\
Check that NCR images exist (and, with --require-immutable, that their repositories refuse
to overwrite a pushed tag). Each REF is `registry/image` (the image may contain '/') or a Docker
reference to an NCR host in any case, with an optional port: `<registry>.<kr|sg|jp>.ncr.ntruss.com`
(region from the host), `<registry>.ncr.gov-ntruss.com` (site gov, any gov region whose registry list
holds it, the configured one first), `<registry>.ncr.fin-ntruss.com`
(only with --endpoint), or their private endpoints `<private-id>.<kr|sg|jp>.private-ncr.ntruss.com`,
`<private-id>.private-ncr.gov-ntruss.com` (mapped to a registry through the registry list, read
once), then `/<image>[:tag][@digest]`. Tags and digests are accepted and ignored: NCR decides tag
mutability per image. With --max-tag-age, each image's whole tag list is read too, and an image
whose newest tag is older (or that has no tags) fails. Every typed name is checked before anything
is sent; each distinct image is looked up once. A reference in a stack that cannot be read or
placed is reported as not checked, and the rest of the stack is still checked."""

EPILOG = f"""\
exit codes:
  {ExitCode.OK}  every image passed
  {ExitCode.VIOLATION}  at least one violation: an image that does not exist, (with --require-immutable)
     an image whose tags are mutable, (with --max-tag-age) an image whose newest tag is older, or
     (with --min-tag-age) a deployed tag that is missing or was pushed or moved too recently
  {ExitCode.USAGE}  bad usage: a rejected name, a reference to a non-NCR registry host, an unreadable
     --from-file/--from-stack, a bad option value; nothing was sent
  {ExitCode.UNANSWERED}  no violation, but at least one image could not be checked: credentials missing or
     rejected, network, throttling after retries, NCR not reporting what a check needs
     (tag mutability with --require-immutable, tag times with --max-tag-age) or answering with
     a field of the wrong type, or a reference that could not be placed (an unknown private
     endpoint id, a financial-cloud host without --endpoint, a malformed reference in a stack)

output formats:
  table   (default) a row per image, the reason for each failure, the totals
  json    one document: images[] with ref, image, site, region, verdict, reason, references,
          details or error (and newest_tag with --max-tag-age); not_inspected[] (ciphertext
          secrets of --from-stack); and summary {{images, references, passed, violations, errors,
          not_inspected, exit_code}}
  github  GitHub Actions ::error / ::warning annotations (on the line of --from-file), a summary line
  sarif   SARIF 2.1.0 for code scanning: one rule per kind of verdict, one result per reference,
          located at its --from-file line or its --from-stack resource and property path
  junit   JUnit XML: one test case per image, <failure> for a violation, <error> when not checked

A progress line goes to stderr when stderr is a terminal and the run takes over a second.
Credentials: NCLOUD_ACCESS_KEY and NCLOUD_SECRET_KEY, or ~/.ncloud/configure."""


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check", parents=parents, help="gate a pipeline on NCR images: exist, immutable tags, recent tags (as required)",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("refs", nargs="*", metavar="REF", help="registry/image or an NCR Docker reference")
    parser.add_argument("--require-immutable", action="store_true",
                        help="an image whose repository allows overwriting tags is a violation")
    parser.add_argument("--from-file", metavar="FILE", action="append", default=[],
                        help="read one REF a line ('-' for stdin; blank lines and # comments skipped); repeatable")
    parser.add_argument("--from-stack", metavar="FILE", action="append", default=[],
                        help="check every NCR image in `pulumi stack export` output ('-' for stdin; NcrImage resources and "
                             "references in any resource's inputs or outputs); repeatable")
    add_max_tag_age_option(parser)
    parser.add_argument("--min-tag-age", type=positive_int, metavar="MINUTES",
                        help="a tag a reference deploys (`latest`, as Docker pulls, for a reference naming none) pushed or moved "
                             "less than MINUTES ago, or missing, is a violation: a deploy racing an unfinished push; "
                             "references by digest are not judged; reads each image's tag list")
    parser.add_argument("--cache", metavar="DIR", type=given_value,
                        help="keep NCR's answers in DIR across runs (default NCR_CACHE_DIR; off when neither is set); "
                             "never holds credentials")
    parser.add_argument("--cache-ttl", type=non_negative_int, metavar="SECONDS",
                        help="how long a cached answer is used (default NCR_CACHE_TTL or 300); a tag's digest in a "
                             "repository whose tags are immutable never expires")
    parser.add_argument("--concurrency", type=positive_int, default=8, metavar="N",
                        help="lookups in flight at once, over one keep-alive pool per region (default 8)")
    parser.add_argument("--output", "-o", choices=OUTPUT_FORMATS, default="table", help="output format (default table)")
    add_ncp_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Parse every source, then look each distinct image up once, judge, report; returns the exit code."""
    targets, not_inspected = gather_targets(args)
    settings = resolve(args)
    cache = open_cache(args)

    # Only now: the client stack imports requests, which `ncr-image --version` must not pay for.
    from ..lookup import ImageLookup
    from ..signing import now_ms

    with ImageLookup(settings, concurrency=args.concurrency, cache=cache) as lookup:
        placeable, unplaced = check_places(lookup, targets)
        if placeable:
            require_credentials(settings)
        by_key: dict = {}
        for target in placeable:
            try:
                assert target.ref is not None, "check_places keeps only targets with a reference"
                key = lookup.key_for(target.ref)  # maps a private endpoint id through the registry list
            except NcrError as exc:
                unplaced.append((target, exc))
                continue
            by_key.setdefault(key, []).append(target)
        # Tag lists go into the same pool before any wait, so they run alongside the image lookups.
        tag_lists = {}
        if args.max_tag_age is not None or args.min_tag_age is not None:
            tag_lists = {key: lookup.submit_tags(named[0].ref)[1] for key, named in by_key.items()}
        with Progress(len(by_key) + len(tag_lists), sys.stderr) as progress:
            for future in tag_lists.values():
                future.add_done_callback(progress.done)
            results = lookup.lookup_many((named[0].ref for named in by_key.values()), on_done=progress.done)
            tags = {key: future.result() for key, future in tag_lists.items()}
    outcomes = [judge(key, by_key[key], result, args.require_immutable) for key, result in results.items()]
    now = now_ms()
    if args.max_tag_age is not None:
        outcomes = [judge_tag_age(o, tags[o.key], args.max_tag_age, now) for o in outcomes]
    if args.min_tag_age is not None:
        outcomes = [judge_min_tag_age(o, tags[o.key], args.min_tag_age, now) for o in outcomes]
    outcomes += judge_unplaced(unplaced)
    summary = Summary.of(outcomes, not_inspected)
    write_check(sys.stdout, args.output, outcomes, summary, args.require_immutable, args.max_tag_age)
    return summary.exit_code


def open_cache(args: argparse.Namespace) -> DiskCache | None:
    """The on-disk cache asked for by --cache / NCR_CACHE_DIR, or None; a bad NCR_CACHE_TTL is a configuration
    error (bad usage, 2) naming the variable, like every other bad setting: nothing was asked of NCR."""
    from ..cache import cache_from

    try:
        return cache_from(args.cache, args.cache_ttl)
    except ConfigurationError as exc:
        raise UsageError(str(exc), kind=type(exc).__name__) from None


def gather_targets(args: argparse.Namespace) -> tuple[list[Target], list[str]]:
    """Every Target from REFs, files and stacks, and where a stack holds secrets it could not read.

    A rejected name in a REF or a file line is bad usage, all reported at once before anything is
    sent; a reference a stack holds is the deployment's, so a bad one is reported as its own outcome.
    """
    if not (args.refs or args.from_file or args.from_stack):
        raise UsageError("nothing to check: give REFs, --from-file or --from-stack")
    if args.from_file.count("-") + args.from_stack.count("-") > 1:
        raise UsageError("stdin ('-') can be read only once: give it to one --from-file or --from-stack")
    problems = Problems()
    targets, bad = from_arguments(args.refs)
    problems.extend(bad)
    for path in args.from_file:
        found, _ = from_file(path, sys.stdin, problems)
        targets += found
    not_inspected: list[str] = []
    for path in args.from_stack:
        scan = from_stack_file(path, sys.stdin)
        targets += scan.targets
        not_inspected += scan.not_inspected
    if problems:
        raise UsageError(*problems.messages())
    return targets, not_inspected
