"""`ncr-image demo`: the whole path on a laptop, no NCP account: a local emulator, the signed client, the gate's verdicts."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..emulator import NcrEmulator
    from .verdict import Outcome

from .common import ExitCode, Unanswered


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", parents=parents, help="read sample images from an embedded NCR emulator (no account needed)",
        description="Start a local NCR emulator with sample data, read every sample image through the real "
                    "signed client, print the details and what `ncr-image check --require-immutable` says.")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..emulator import NcrEmulator
    from ..errors import NcrError

    out = sys.stdout
    try:
        emulator = NcrEmulator().start()
    except OSError as exc:
        raise Unanswered(f"cannot start the local NCR emulator: {exc}") from None
    try:
        print("ncr-image demo: a local NCR emulator with sample data, read through the real signed API client",
              file=out)
        print(f"(the same requests and NCP signature v2 as against ncr.apigw.ntruss.com).\n"
              f"Emulator: {emulator.url}\n", file=out, flush=True)
        try:
            outcomes = read_samples(emulator)
        except NcrError as exc:
            raise Unanswered(str(exc)) from None
    finally:
        emulator.stop()
    print(details_table(outcomes), file=out)
    print("\nWhat `ncr-image check --require-immutable` says about each one:", file=out)
    print(verdict_lines(outcomes), file=out)
    print(NEXT_STEPS, file=out)
    return ExitCode.OK


def read_samples(emulator: NcrEmulator) -> list[Outcome]:
    """List every registry and image of every region, then look each image up, as `check` does."""
    import dataclasses

    from ..client import NcrClient
    from ..config import SITES, Settings
    from ..lookup import ImageLookup
    from ..names import ImageRef
    from .verdict import judge

    base = Settings(endpoint=emulator.url, access_key=emulator.access_key, secret_key=emulator.secret_key)
    refs: list[ImageRef] = []
    seen_registries: set[str] = set()
    for site in SITES.values():
        for region in site.prefixes:
            settings = dataclasses.replace(base, site=site.name, region=region)
            with NcrClient(settings) as client:
                # A registry name is unique in an account: list it under the first region that shows it.
                registries = [r["name"] for r in client.list_registries() if r.get("name") not in seen_registries]
                seen_registries.update(registries)
                for registry in registries:
                    refs += [ImageRef(registry, image["name"], region=region, site=site.name)
                             for image in client.list_images(registry)]
    with ImageLookup(base, concurrency=8) as lookup:
        results = lookup.lookup_many(refs)
    return [judge(key, [], result, require_immutable=True) for key, result in results.items()]


def details_table(outcomes: list[Outcome]) -> str:
    from .output import cell, region_label, table, tags_cell

    rows = []
    for o in outcomes:
        d = o.details
        description = cell(d and d.description)
        rows.append((o.key.image, region_label(o.key), tags_cell(d), cell(d and d.pull_count),
                     cell(d and d.last_updated_at), description[:40]))
    return table(("IMAGE", "REGION", "TAGS", "PULLS", "LAST UPDATED", "DESCRIPTION"), rows)


def verdict_lines(outcomes: list[Outcome]) -> str:
    """A line per image, named by its Docker reference, the form a deployment (and `check`) uses."""
    from ..lookup import LookupKey
    from ..names import docker_host
    from .output import RESULT_LABEL, cell
    from .verdict import Summary

    refs = [f"{docker_host(o.key.registry, o.key.region, o.key.site)}/{o.key.image_name}"
            if isinstance(o.key, LookupKey) else o.key.text for o in outcomes]
    width = max(map(len, refs), default=0)
    lines = [f"  {RESULT_LABEL[o.verdict]:<5} {ref:<{width}}  {cell(o.reason)}" for o, ref in zip(outcomes, refs, strict=True)]
    summary = Summary.of(outcomes)
    lines.append(f"  {summary.sentence()}")
    lines.append(f"  So `check --require-immutable` would exit {summary.exit_code}: a CI job running it fails until those "
                 "repositories refuse tag overwrites.")
    return "\n".join(lines)


NEXT_STEPS = """
Next:
  ncr-image emulator                 serve this sample data on a port; it prints its URL and keys
  then, with NCLOUD_ACCESS_KEY, NCLOUD_SECRET_KEY and NCR_ENDPOINT set to what it printed:
  ncr-image get prod/team/web
  ncr-image check --require-immutable prod/team/web prod.kr.ncr.ntruss.com/team/api:latest
  ncr-image check --help             exit codes, --from-file, --from-stack, json and github output
Against NCP itself, set only NCLOUD_ACCESS_KEY and NCLOUD_SECRET_KEY (or ~/.ncloud/configure)."""
