"""Selecting one tag of an image: by name, by the digest it points at, or the most recent (matching a pattern).

Shared by NcrImageTag, get_image_tag and the CLI, so the rule "exactly one way of selecting" and its
wording live here once. Values still unknown during a preview (`pulumi.runtime.rpc.UNKNOWN`) are
passed in as `unknown` and never judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ConfigurationError, InvalidNameError, NoMatchingTagError
from .model import TagDetails
from .names import validate_digest, validate_tag

TAG_PATTERN_MAX = 256
SELECTORS = ("tag", "digest", "most_recent")


@dataclass(frozen=True)
class TagSelection:
    """Which tag to read: exactly one of `tag`, `digest` or `most_recent` (optionally narrowed by `tag_pattern`)."""

    tag: str | None = None
    digest: str | None = None
    most_recent: bool = False
    tag_pattern: str | None = None

    @property
    def needs_tag_list(self) -> bool:
        """A digest or most-recent selection reads the whole tag list; a named tag is one request."""
        return self.tag is None

    def describe(self) -> str:
        """What was asked for, as the end of `No tag of image x/y in region KR ...`."""
        if self.digest is not None:
            return f"points at digest {self.digest}"
        if self.tag_pattern is not None:
            return f"matches tag_pattern {self.tag_pattern!r}"
        return "exists (the image has no tags)"


@dataclass(frozen=True)
class SelectedTag:
    """The tag a selection found, and (for digest and most-recent selections) every tag pointing at its digest."""

    details: TagDetails
    tag: str
    digest: str
    tags: tuple[str, ...] | None
    """With a digest or most-recent selection: every tag whose digest is the selected one, newest first."""


def selection_problems(tag: Any = None, digest: Any = None, most_recent: Any = None, tag_pattern: Any = None,
                       unknown: object = object()) -> list[tuple[str, str]]:
    """(input, reason) for every problem with a selection; values equal to `unknown` are not judged."""
    problems: list[tuple[str, str]] = []
    if tag is not None and tag != unknown:
        try:
            validate_tag(tag)
        except InvalidNameError as exc:
            problems.append(("tag", str(exc)))
    if digest is not None and digest != unknown:
        try:
            validate_digest(digest)
        except InvalidNameError as exc:
            problems.append(("digest", str(exc)))
    if most_recent is not None and most_recent != unknown and not isinstance(most_recent, bool):
        problems.append(("most_recent", f"most_recent must be true or false, got {type(most_recent).__name__}"))
    if tag_pattern is not None and tag_pattern != unknown:
        reason = pattern_problem(tag_pattern)
        if reason:
            problems.append(("tag_pattern", reason))
    if any(value == unknown for value in (tag, digest, most_recent)):
        return problems  # how many ways were chosen is known only once every selector is
    chosen = [name for name, value in (("tag", tag), ("digest", digest), ("most_recent", most_recent))
              if value is not None and value is not False]
    if len(chosen) != 1:
        given = ", ".join(chosen) if chosen else "none of them"
        problems.append(("tag", f"select the tag in exactly one way: tag, digest, or most_recent=True "
                                f"(optionally with tag_pattern); got {given}"))
    if tag_pattern is not None and tag_pattern != unknown and most_recent is not True:
        problems.append(("tag_pattern", "tag_pattern narrows most_recent=True; it needs most_recent=True"))
    return problems


def pattern_problem(pattern: Any) -> str | None:
    """Why a tag_pattern cannot be used, or None."""
    if not isinstance(pattern, str):
        return f"tag_pattern must be text (a regular expression), got {type(pattern).__name__}"
    if not pattern:
        return "tag_pattern is empty; leave it out to take the most recent tag of all"
    if len(pattern) > TAG_PATTERN_MAX:
        return f"tag_pattern is longer than {TAG_PATTERN_MAX} characters"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"tag_pattern {pattern!r} is not a regular expression: {exc}"
    return None


def tag_selection(tag: Any = None, digest: Any = None, most_recent: Any = None, tag_pattern: Any = None,
                  what: str = "tag selection") -> TagSelection:
    """A validated TagSelection; every problem in one ConfigurationError naming the inputs."""
    problems = selection_problems(tag, digest, most_recent, tag_pattern)
    if problems:
        raise ConfigurationError(reason=f"Invalid {what}: " + "; ".join(reason for _, reason in problems))
    return TagSelection(tag=tag, digest=digest, most_recent=bool(most_recent), tag_pattern=tag_pattern)


def choose(tags: list[TagDetails], selection: TagSelection, registry: str, image_name: str,
           region: str, site: str = "public") -> SelectedTag:
    """The tag a digest or most-recent selection picks from a tag list already newest first."""
    if selection.digest is not None:
        matching = [t for t in tags if t.digest == selection.digest and t.name]
    else:
        pattern = re.compile(selection.tag_pattern) if selection.tag_pattern is not None else None
        # The newest match is the answer even without a digest: require_digest then fails loudly, rather
        # than an older tag being deployed in its place.
        matching = [t for t in tags if t.name and (pattern is None or pattern.search(t.name))]
    if not matching:
        raise NoMatchingTagError(registry=registry, image=image_name, region=region, site=site,
                                 selection=selection.describe())
    chosen = matching[0]
    digest = chosen.require_digest(f"tag {registry}/{image_name}:{chosen.name}")
    pointing = tuple(t.name for t in tags if t.digest == digest and t.name)
    return SelectedTag(chosen, str(chosen.name), digest, pointing)


def select_tag(client: Any, registry: str, image_name: str, selection: TagSelection) -> SelectedTag:
    """Read the selected tag with `client`: one request for a named tag, the whole tag list otherwise."""
    if selection.tag is not None:
        details = client.get_tag(registry, image_name, selection.tag)
        digest = details.require_digest(f"tag {registry}/{image_name}:{selection.tag}")
        return SelectedTag(details, selection.tag, digest, None)
    tags = client.list_tags(registry, image_name)
    return choose(tags, selection, registry, image_name, client.settings.region, client.settings.site)
