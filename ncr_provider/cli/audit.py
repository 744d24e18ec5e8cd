"""`ncr-image audit`: every image of every registry (or of the ones named), judged like `check --require-immutable`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .common import ExitCode, Unanswered, UsageError, add_max_tag_age_option, add_ncp_options, positive_int

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ..errors import NcrError
    from ..lookup import ImageLookup, LookupKey
    from ..model import RegistryDetails
    from .verdict import Outcome, Summary

AUDIT_FORMATS = ("table", "json", "github")

DESCRIPTION = """\
Audit a whole account region: list every registry (or only those named with --registry), every
image in each, and judge each image like `check --require-immutable`: an image whose tags are
mutable is a violation. With --max-tag-age, each image's tag list is read too and an image whose
newest tag is older (or that has no tags) fails. Each row also shows the image's last push, its
pulls and its registry's scan-on-push setting. Lookups run concurrently over one pool."""

EPILOG = f"""\
exit codes (as `check`):
  {ExitCode.OK}  every image passed
  {ExitCode.VIOLATION}  at least one violation: mutable tags, (with --max-tag-age) an old newest tag, or a
     --registry that does not exist
  {ExitCode.USAGE}  bad usage: a rejected registry name or option value; nothing was sent
  {ExitCode.UNANSWERED}  no violation, but something could not be checked: credentials, network, a registry's
     image list, or NCR not reporting tag mutability

output formats:
  table   (default) a row per image: mutability, last push, pulls, scan on push, result; the totals
  json    one document: registries[] (details or error), images[] (as `check -o json`, plus
          registry_scan_on_push), summary {{registries, images, passed, violations, errors, exit_code}}
  github  GitHub Actions ::error annotations for violations and unchecked images, a summary line

A progress bar goes to stderr when stderr is a terminal and the run takes over a second."""


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "audit", parents=parents, help="judge every image of every registry (or of the named ones) like check",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", metavar="NAME", action="append", default=[],
                        help="audit this registry only; repeatable (default: every registry of the region)")
    add_max_tag_age_option(parser)
    parser.add_argument("--concurrency", type=positive_int, default=8, metavar="N",
                        help="requests in flight at once, over one keep-alive pool (default 8)")
    parser.add_argument("--output", "-o", choices=AUDIT_FORMATS, default="table", help="output format (default table)")
    add_ncp_options(parser)
    parser.set_defaults(run=run)


@dataclass
class Listed:
    """One image found in a registry's image list, and its lookups already under way."""

    registry: str
    image_name: str | None
    error: NcrError | None
    details: Future[Any] | None = None
    tags: Future[Any] | None = None


@dataclass
class RegistryAudit:
    """One registry: its details (None if it does not exist), and why its images could not be listed, if so."""

    name: str
    details: RegistryDetails | None
    error: NcrError | None = None
    outcomes: list[Outcome] = field(default_factory=list)


def run(args: argparse.Namespace) -> int:
    """List, look up and judge every image; report; returns the exit code (as `check`)."""
    from ..errors import InvalidNameError, NcrError
    from ..lookup import ImageLookup, LookupKey
    from ..names import validate_registry
    from ..signing import now_ms
    from .common import require_credentials, resolve
    from .progress import Progress
    from .verdict import Summary

    problems = []
    for name in args.registry:
        try:
            validate_registry(name, "--registry")
        except InvalidNameError as exc:
            problems.append(str(exc))
    if problems:
        raise UsageError(*problems)
    settings = resolve(args)
    require_credentials(settings)

    with ImageLookup(settings, concurrency=args.concurrency) as lookup:
        client = lookup.client_for(LookupKey(settings.site, settings.region, "", ""))
        try:
            registries = {r.name: r for r in client.list_registry_details() if r.name}
        except NcrError as exc:
            raise Unanswered(str(exc)) from None
        names = list(dict.fromkeys(args.registry)) or sorted(registries)
        with Progress(0, sys.stderr, label="auditing images", growing=True) as progress:
            listings = {name: lookup.run_in_pool(list_and_submit, lookup, settings, name, args.max_tag_age is not None,
                                                 progress)
                        for name in names if name in registries}
            audits = [collect(name, registries.get(name), listings.get(name), settings, args.max_tag_age, now_ms)
                      for name in names]
    summary = Summary.of([o for a in audits for o in a.outcomes])
    print(render(args.output, audits, summary, args.max_tag_age), file=sys.stdout)
    return summary.exit_code


def list_and_submit(lookup: ImageLookup, settings: Any, registry: str, with_tags: bool, progress: Any) -> list[Listed]:
    """Page through a registry's image list; each image's lookups go into the pool as soon as its page arrives."""
    from ..errors import InvalidNameError, InvalidResponseError
    from ..names import ImageRef, validate_image_name

    client = lookup.client_for(_key(settings, registry, ""))
    found = []
    for entry in client.list_images(registry):  # an NcrError here fails the whole listing: collect() reports it
        name = entry.get("name") if isinstance(entry, dict) else None
        try:
            image_name = validate_image_name(name, "image name")
        except InvalidNameError as exc:
            what = f"images of registry {registry}"
            found.append(Listed(registry, None, InvalidResponseError(what=what, reason=str(exc))))
            continue
        ref = ImageRef(registry, image_name, region=settings.region, site=settings.site)
        listed = Listed(registry, image_name, None, lookup.submit(ref)[1])
        if with_tags:
            listed.tags = lookup.submit_tags(ref)[1]
        for future in (listed.details, listed.tags):
            if future is not None:
                progress.add()
                future.add_done_callback(progress.done)
        found.append(listed)
    return found


def collect(name: str, details: RegistryDetails | None, listing: Future[Any] | None, settings: Any,
            max_tag_age: int | None, now_ms: Any) -> RegistryAudit:
    """Wait for one registry's lookups and judge each image; a missing registry is a violation."""
    from ..errors import NcrError, RegistryNotFoundError
    from .targets import Target
    from .verdict import Outcome, Unplaced, Verdict, judge, judge_tag_age, short_error

    place = Unplaced(f"{name}/*", settings.site, settings.region, name)
    target = Target(name, None, "--registry" if listing is None else "registry list")
    if details is None or listing is None:
        error = RegistryNotFoundError(registry=name, region=settings.region, site=settings.site)
        return RegistryAudit(name, None, error, [Outcome(place, [target], error, Verdict.VIOLATION, "registry not found")])
    try:
        listed = listing.result()
    except NcrError as exc:
        reason = f"its images could not be listed ({short_error(exc)})"
        return RegistryAudit(name, details, exc, [Outcome(place, [target], exc, Verdict.ERROR, reason)])
    audit = RegistryAudit(name, details)
    now = now_ms()
    for item in listed:
        if item.error is not None:
            audit.outcomes.append(Outcome(place, [target], item.error, Verdict.ERROR, "the image list named an invalid image"))
            continue
        key = _key(settings, name, item.image_name)
        image_target = Target(f"{name}/{item.image_name}", None, f"registry {name}")
        outcome = judge(key, [image_target], item.details.result(), require_immutable=True)
        if item.tags is not None:
            assert max_tag_age is not None, "tag lists are read only with --max-tag-age"
            outcome = judge_tag_age(outcome, item.tags.result(), max_tag_age, now)
        audit.outcomes.append(outcome)
    return audit


def _key(settings: Any, registry: str, image_name: str | None) -> LookupKey:
    from ..lookup import LookupKey

    return LookupKey(settings.site, settings.region, registry, image_name or "")


# -- output ---------------------------------------------------------------------------------------

def render(fmt: str, audits: list[RegistryAudit], summary: Summary, max_tag_age: int | None) -> str:
    if fmt == "json":
        return audit_json(audits, summary, max_tag_age)
    if fmt == "github":
        return audit_github(audits, summary)
    return audit_table(audits, summary)


def sentence(audits: list[RegistryAudit], summary: Summary) -> str:
    """`2 registries audited: 40 images, 38 passed, 2 violations, 0 could not be checked.`"""
    from .verdict import Unplaced

    images = sum(1 for a in audits for o in a.outcomes if not isinstance(o.key, Unplaced))
    registries = f"{len(audits)} {'registry' if len(audits) == 1 else 'registries'}"
    return (f"{registries} audited: {images} image{'' if images == 1 else 's'}, {summary.passed} passed, "
            f"{summary.violations} violation{'' if summary.violations == 1 else 's'}, "
            f"{summary.errors} could not be checked.")


def _scan_cell(audit: RegistryAudit) -> str:
    enabled = audit.details.scan_on_push_enabled if audit.details else None
    return "-" if enabled is None else "on" if enabled else "off"


def audit_table(audits: list[RegistryAudit], summary: Summary) -> str:
    """A row per image (and per registry that failed as a whole), then each failure's sentence, then the totals."""
    from .output import RESULT_LABEL, cell, region_label, table, tags_cell
    from .verdict import Verdict

    rows = []
    for audit in audits:
        for o in audit.outcomes:
            d = o.details
            rows.append((o.key.image, region_label(o.key), tags_cell(d), cell(d and d.last_updated_at),
                         cell(d and d.pull_count), _scan_cell(audit), f"{RESULT_LABEL[o.verdict]:<5} {o.reason}"))
    if not rows:
        return "No registries or images to audit.\n" + sentence(audits, summary)
    parts = [table(("IMAGE", "REGION", "TAGS", "LAST PUSH", "PULLS", "SCAN ON PUSH", "RESULT"), rows)]
    failed = [o for a in audits for o in a.outcomes if o.verdict != Verdict.PASS]
    if failed:
        parts.append("")
        parts += [f"{RESULT_LABEL[o.verdict]} {o.message}" for o in failed]
    parts += ["", sentence(audits, summary)]
    return "\n".join(parts)


def audit_document(audits: list[RegistryAudit], summary: Summary, max_tag_age: int | None) -> dict[str, Any]:
    """The `--output json` document."""
    from .output import JSON_VERSION, outcome_dict

    def error_dict(error: NcrError | None) -> dict[str, Any] | None:
        return None if error is None else {"type": type(error).__name__, "message": str(error)}

    images = []
    for audit in audits:
        for o in audit.outcomes:
            entry = outcome_dict(o, with_tags=max_tag_age is not None)
            entry["registry_scan_on_push"] = audit.details.scan_on_push_enabled if audit.details else None
            images.append(entry)
    return {
        "version": JSON_VERSION,
        "require_immutable": True,
        "max_tag_age_days": max_tag_age,
        "registries": [{"name": a.name, "details": a.details.to_dict() if a.details else None,
                        "images": sum(1 for o in a.outcomes if o.details is not None), "error": error_dict(a.error)}
                       for a in audits],
        "images": images,
        "summary": {"registries": len(audits), **summary.to_dict()},
    }


def audit_json(audits: list[RegistryAudit], summary: Summary, max_tag_age: int | None) -> str:
    indent = 2 if sys.stdout.isatty() else None
    return json.dumps(audit_document(audits, summary, max_tag_age), indent=indent)


def audit_github(audits: list[RegistryAudit], summary: Summary) -> str:
    """`::error` for each violation and each image (or registry) that could not be checked, then the totals."""
    from .output import annotation, region_label
    from .verdict import Verdict

    lines = []
    for audit in audits:
        for o in audit.outcomes:
            if o.verdict == Verdict.VIOLATION:
                lines.append(annotation("error", f"NCR audit violation: {o.key.image}", o.message))
            elif o.verdict == Verdict.ERROR:
                lines.append(annotation("error", f"NCR audit could not check: {o.key.image}", o.message))
            else:
                lines.append(f"ok {o.key.image} ({region_label(o.key)}): {o.reason}")
    lines.append(f"ncr-image audit: {sentence(audits, summary)}")
    return "\n".join(lines)
