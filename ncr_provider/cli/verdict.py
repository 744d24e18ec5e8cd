"""The gate's judgement of one looked-up image: pass, violation or error, and why."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import (
    ConfigurationError,
    ImageNotFoundError,
    InvalidNameError,
    InvalidResponseError,
    NcrApiError,
    NcrError,
    TransportError,
    UnmappedReferenceError,
)
from ..names import UnjoinedNcrHost, UnknownNcrHost
from .common import ExitCode

if TYPE_CHECKING:
    from ..lookup import LookupKey
    from ..model import ImageDetails, TagDetails
    from .targets import Target



class Verdict(enum.StrEnum):
    """The gate's judgement of one image (its value is what `-o json` prints)."""

    PASS = "pass"
    VIOLATION = "violation"
    ERROR = "error"

NOT_INSPECTED = ("secret value not inspected (ciphertext: the policy pack checks it decrypted, or pipe "
                 "`pulumi stack export --show-secrets` into `--from-stack -` so that no file holds it)")

# What an outcome is about, for reports that give each kind its own rule (SARIF) or failure type (JUnit).
PASSED = "passed"
IMAGE_NOT_FOUND = "image-not-found"
MUTABLE_TAGS = "mutable-tags"
TAG_TOO_OLD = "tag-too-old"
TAG_TOO_NEW = "tag-too-new"
TAG_NOT_FOUND = "tag-not-found"
NOT_CHECKED = "not-checked"
KINDS = (PASSED, IMAGE_NOT_FOUND, MUTABLE_TAGS, TAG_TOO_OLD, TAG_TOO_NEW, TAG_NOT_FOUND, NOT_CHECKED)


@dataclass(frozen=True)
class Unplaced:
    """What an outcome is filed under when its reference names no image we could look up."""

    text: str
    site: str | None = None
    region: str | None = None
    registry: str | None = None
    image_name: str | None = None

    @property
    def image(self) -> str:
        return self.text


@dataclass
class Outcome:
    """One distinct image: every reference that named it, NCR's answer and the verdict."""

    key: LookupKey | Unplaced
    targets: list[Target]
    result: ImageDetails | NcrError
    verdict: Verdict
    reason: str
    """A few words for a table cell: `tags are mutable`, `not found`, `could not be checked`."""
    advisory: str | None = None
    """Worth a warning without failing, e.g. mutable tags when immutability is not required."""
    newest_tag: TagDetails | None = None
    """With --max-tag-age: the most recently updated tag, if the tag list was read and has one."""
    tags_error: NcrError | None = None
    """With --max-tag-age or --min-tag-age: why the tag list could not be read."""
    kind: str = PASSED
    """One of KINDS: which check decided the verdict (for a pass with an advisory, still `passed`)."""

    @property
    def details(self) -> ImageDetails | None:
        return None if isinstance(self.result, NcrError) else self.result

    @property
    def error(self) -> NcrError | None:
        """Why the image could not be judged: its lookup's error, else its tag list's."""
        return self.result if isinstance(self.result, NcrError) else self.tags_error

    @property
    def message(self) -> str:
        """The full sentence for a person: the error's own, or the verdict's."""
        if self.error is not None:
            return " ".join(str(self.error).split())
        return f"{self.key.image} ({region_label(self.key)}): {self.reason}"


def region_label(key: LookupKey | Unplaced) -> str:
    """`KR` on the public site, `gov/KRS` on another site; `-` for what could not be placed."""
    if key.region is None:
        return key.site or "-"
    return key.region if key.site in ("public", None) else f"{key.site}/{key.region}"


def judge_unplaced(unplaced: Sequence[tuple[Target, NcrError]]) -> list[Outcome]:
    """A reference that looks like NCR but cannot be read or placed could not be checked: an error, never a pass.

    References with the same text and the same reason share one outcome.
    """
    grouped: dict[tuple[str, str], Outcome] = {}
    for target, error in unplaced:
        ref = target.ref
        key = (Unplaced(target.text, ref.site, ref.region, ref.registry, ref.image_name) if ref is not None
               else Unplaced(target.text))
        outcome = grouped.get((target.text, str(error)))
        if outcome is None:
            grouped[(target.text, str(error))] = Outcome(key, [target], error, Verdict.ERROR,
                                                         f"could not be checked ({short_error(error)})",
                                                         kind=NOT_CHECKED)
        else:
            outcome.targets.append(target)
    return list(grouped.values())


def judge(key: LookupKey, targets: list[Target], result: ImageDetails | NcrError, require_immutable: bool) -> Outcome:
    """A missing image always violates; mutable tags violate only when immutability is required."""
    if isinstance(result, ImageNotFoundError):
        return Outcome(key, targets, result, Verdict.VIOLATION, "image not found", kind=IMAGE_NOT_FOUND)
    if isinstance(result, NcrError):
        return Outcome(key, targets, result, Verdict.ERROR, f"could not be checked ({short_error(result)})", kind=NOT_CHECKED)
    mutable = result.tag_mutability_enabled
    if mutable is None:
        if require_immutable:
            # NCR did not say: neither a pass nor proof of a violation.
            return Outcome(key, targets, result, Verdict.ERROR, "NCR did not report tag mutability", kind=NOT_CHECKED)
        return Outcome(key, targets, result, Verdict.PASS, "exists")
    if mutable:
        if require_immutable:
            return Outcome(key, targets, result, Verdict.VIOLATION, "tags are mutable: a pushed tag can be overwritten",
                           kind=MUTABLE_TAGS)
        return Outcome(key, targets, result, Verdict.PASS, "exists; tags are mutable",
                       advisory="tags are mutable: a pushed tag can be overwritten")
    return Outcome(key, targets, result, Verdict.PASS,
                   "tags are immutable" if require_immutable else "exists; tags are immutable")


def judge_tag_age(outcome: Outcome, tags: Sequence[TagDetails] | NcrError, max_age_days: int, now_ms: int) -> Outcome:
    """With --max-tag-age: an image that otherwise passed violates if its newest tag is older, or it has none.

    An image that already failed keeps its verdict (its first reason is the one to fix).
    """
    if isinstance(tags, NcrError):
        if outcome.verdict != Verdict.PASS:
            return outcome
        return dataclasses.replace(outcome, verdict=Verdict.ERROR, tags_error=tags, kind=NOT_CHECKED,
                                   reason=f"tags could not be checked ({short_error(tags)})")
    newest = tags[0] if tags else None  # the client lists tags newest first
    outcome = dataclasses.replace(outcome, newest_tag=newest)
    if outcome.verdict != Verdict.PASS:
        return outcome
    if newest is None:
        return dataclasses.replace(outcome, verdict=Verdict.VIOLATION, kind=TAG_TOO_OLD, reason="has no tags, so no recent one")
    if newest.last_updated is None:
        return dataclasses.replace(outcome, verdict=Verdict.ERROR, kind=NOT_CHECKED,
                                   reason=f"NCR did not report when tag {newest.name} was updated")
    from ..model import DAY_MS  # loaded by now (tags are model objects); not at CLI start-up

    age_days = max(0, now_ms - newest.last_updated) // DAY_MS
    if now_ms - newest.last_updated > max_age_days * DAY_MS:
        return dataclasses.replace(
            outcome, verdict=Verdict.VIOLATION, kind=TAG_TOO_OLD,
            reason=f"newest tag {newest.name} is {age_days} days old (over {max_age_days}; updated {newest.last_updated_at})")
    return dataclasses.replace(outcome, reason=f"{outcome.reason}; newest tag {newest.name} is {age_days} days old")


def judge_min_tag_age(outcome: Outcome, tags: Sequence[TagDetails] | NcrError, min_age_minutes: int,
                      now_ms: int) -> Outcome:
    """With --min-tag-age: an image that otherwise passed violates if a tag it is deployed by was pushed or
    moved less than MINUTES ago (a deploy racing an unfinished push), or does not exist.

    Each reference's own tag is judged; a reference by digest pins content and is not; one naming
    neither is judged by `latest`, the tag Docker pulls for it (as the pack's ncr-image-age does), so
    a missing `latest` is a violation. An image that already failed keeps its verdict.
    """
    from ..model import MINUTE_MS  # loaded by now (tags are model objects); not at CLI start-up

    if outcome.verdict != Verdict.PASS:
        return outcome
    if isinstance(tags, NcrError):
        return dataclasses.replace(outcome, verdict=Verdict.ERROR, tags_error=tags, kind=NOT_CHECKED,
                                   reason=f"tags could not be checked ({short_error(tags)})")
    by_name = {tag.name: tag for tag in tags}
    for target in outcome.targets:
        if target.ref is None or target.ref.digest is not None:
            continue
        name = target.ref.pulled_tag
        tag = by_name.get(name)
        if tag is None:
            return dataclasses.replace(outcome, verdict=Verdict.VIOLATION, kind=TAG_NOT_FOUND,
                                       reason=f"tag {name} does not exist ({target.text})")
        if tag.last_updated is None:
            return dataclasses.replace(outcome, verdict=Verdict.ERROR, kind=NOT_CHECKED,
                                       reason=f"NCR did not report when tag {tag.name} was updated")
        age = now_ms - tag.last_updated
        if age < min_age_minutes * MINUTE_MS:
            return dataclasses.replace(
                outcome, verdict=Verdict.VIOLATION, kind=TAG_TOO_NEW,
                reason=f"tag {tag.name} {tag.push_age(now_ms)} (under "
                       f"{min_age_minutes}; updated {tag.last_updated_at}): a deploy may race an unfinished push")
    return outcome


# Cell-sized names of the errors a lookup can end in, by type, the first that fits winning (an API error
# says its HTTP status instead).
SHORT_ERRORS: tuple[tuple[type[NcrError], str], ...] = (
    (UnknownNcrHost, "unknown NCR host"),
    (UnjoinedNcrHost, "NCR host without an image"),
    (InvalidNameError, "malformed reference"),
    (TransportError, "network"),
    (InvalidResponseError, "invalid response"),
    (ConfigurationError, "configuration"),
    (UnmappedReferenceError, "unmapped reference"),
)


def short_error(error: NcrError) -> str:
    """A cell-sized name for an error: `HTTP 401`, `network`, `invalid response`."""
    if isinstance(error, NcrApiError):
        return f"HTTP {error.status}"
    return next((label for kind, label in SHORT_ERRORS if isinstance(error, kind)), type(error).__name__)


@dataclass
class Summary:
    """Counts over every outcome, and the exit code they add up to."""

    images: int = 0
    passed: int = 0
    violations: int = 0
    errors: int = 0
    references: int = 0
    not_inspected: tuple[str, ...] = ()
    """Where a stack export held ciphertext secrets: values the gate could not read."""

    @classmethod
    def of(cls, outcomes: list[Outcome], not_inspected: Sequence[str] = ()) -> Summary:
        return cls(
            images=len(outcomes),
            passed=sum(o.verdict == Verdict.PASS for o in outcomes),
            violations=sum(o.verdict == Verdict.VIOLATION for o in outcomes),
            errors=sum(o.verdict == Verdict.ERROR for o in outcomes),
            references=sum(len(o.targets) for o in outcomes),
            not_inspected=tuple(not_inspected),
        )

    @property
    def exit_code(self) -> int:
        """1 on any violation; else 3 if any image could not be checked; else 0."""
        if self.violations:
            return ExitCode.VIOLATION
        if self.errors:
            return ExitCode.UNANSWERED
        return ExitCode.OK

    def sentence(self) -> str:
        """`3 images checked: 1 passed, 1 violation, 1 could not be checked.`"""
        plural = lambda n, word: f"{n} {word}{'' if n == 1 else 's'}"
        hidden = (f" {plural(len(self.not_inspected), 'secret value')} not inspected."
                  if self.not_inspected else "")
        return (f"{plural(self.images, 'image')} checked: {self.passed} passed, {plural(self.violations, 'violation')}, "
                f"{self.errors} could not be checked.{hidden}")

    def to_dict(self) -> dict[str, Any]:
        return {"images": self.images, "references": self.references, "passed": self.passed,
                "violations": self.violations, "errors": self.errors, "not_inspected": len(self.not_inspected),
                "exit_code": self.exit_code}
