"""The output formats: `table` for people, `json` for programs, `github` for GitHub Actions annotations.

Each command's report is written by one `write_*` function to the stream it is given; the pieces
they are built from return text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from ..terminal import strip_control
from .verdict import NOT_INSPECTED, Outcome, Summary, Verdict, region_label

if TYPE_CHECKING:
    from ..lookup import LookupKey
    from ..model import ImageDetails, PlatformImage, TagDetails

JSON_VERSION = 1
RESULT_LABEL = {Verdict.PASS: "PASS", Verdict.VIOLATION: "FAIL", Verdict.ERROR: "ERROR"}


# -- shared cells ---------------------------------------------------------------------------------

def tags_cell(details: ImageDetails | None) -> str:
    if details is None:
        return "-"
    mutable = details.tag_mutability_enabled
    return "unknown" if mutable is None else "mutable" if mutable else "immutable"


def cell(value: Any) -> str:
    """A value as one line of plain text: API text could carry newlines or terminal escape sequences."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return strip_control(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns two spaces apart, no trailing blanks."""
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = [headers, *cells]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines)


# -- get ----------------------------------------------------------------------------------------

def details_table(key: LookupKey, details: ImageDetails) -> str:
    """One image as `field  value` lines."""
    rows = [("image", key.image), ("region", region_label(key))]
    rows += [(name, cell(value)) for name, value in details.to_dict().items()]
    return table(("FIELD", "VALUE"), rows)


def details_json(details: ImageDetails) -> str:
    return json.dumps(details.to_dict(), indent=2)


def write_details(out: IO[str], fmt: str, key: LookupKey, details: ImageDetails) -> None:
    """`get`'s report: the details as a table or as one JSON object."""
    print(details_json(details) if fmt == "json" else details_table(key, details), file=out)


# -- tags ---------------------------------------------------------------------------------------

def tags_table(key: LookupKey, tags: Sequence[TagDetails]) -> str:
    """A row per tag, newest first: short digest, size, last update, platforms."""
    if not tags:
        return f"No tags in {key.image} ({region_label(key)})."
    rows = [(t.name, short_digest(t.digest), size_cell(t.full_size), t.last_updated_at,
             ", ".join(platform_label(p) for p in t.platforms) or None) for t in tags]
    return table(("TAG", "DIGEST", "SIZE", "LAST UPDATED", "PLATFORMS"), rows)


def tags_json(key: LookupKey, tags: Sequence[TagDetails]) -> str:
    """One document: which image, where, and every tag with its platforms."""
    return json.dumps({"image": key.image, "registry": key.registry, "image_name": key.image_name,
                       "site": key.site, "region": key.region, "count": len(tags),
                       "tags": [t.to_dict() for t in tags]}, indent=2)


def write_tags(out: IO[str], fmt: str, key: LookupKey, tags: Sequence[TagDetails]) -> None:
    """`tags`' report: a row per tag, or one JSON document."""
    print(tags_json(key, tags) if fmt == "json" else tags_table(key, tags), file=out)


def short_digest(digest: str | None) -> str | None:
    """`sha256:` and the first 12 hex digits, as `docker images` shows a digest."""
    if digest is None:
        return None
    algorithm, _, encoded = digest.partition(":")
    return f"{algorithm}:{encoded[:12]}"


def size_cell(size: int | None) -> str | None:
    return None if size is None else f"{size / 1e6:.1f} MB"


def platform_label(platform: PlatformImage) -> str:
    """`linux/arm64/v8`, as Docker names a platform."""
    return "/".join(part or "?" for part in (platform.os, platform.architecture)) + (
        f"/{platform.variant}" if platform.variant else "")


# -- check --------------------------------------------------------------------------------------

def write_check(out: IO[str], fmt: str, outcomes: list[Outcome], summary: Summary, require_immutable: bool,
                max_tag_age_days: int | None = None) -> None:
    """The check report in one of OUTPUT_FORMATS."""
    if fmt == "json":
        text = check_json(outcomes, summary, require_immutable, max_tag_age_days, pretty=out.isatty())
    elif fmt == "github":
        text = check_github(outcomes, summary)
    elif fmt in ("sarif", "junit"):
        from .reports import check_junit, check_sarif  # xml.etree only for these formats, not at every start-up

        text = check_sarif(outcomes, summary) if fmt == "sarif" else check_junit(outcomes, summary)
    else:
        text = check_table(outcomes, summary)
    print(text, file=out)


def check_table(outcomes: list[Outcome], summary: Summary) -> str:
    """A row per image, then the full sentence and the referencing places for each failure, then the totals."""
    hidden = _not_inspected_lines(summary)
    if not outcomes:
        return "\n".join(["No NCR images to check.", *hidden, summary.sentence()])
    rows = []
    for o in outcomes:
        d = o.details
        rows.append((o.key.image, region_label(o.key), tags_cell(d), cell(d and d.pull_count),
                     cell(d and d.last_updated_at), f"{RESULT_LABEL[o.verdict]:<5} {o.reason}"))
    parts = [table(("IMAGE", "REGION", "TAGS", "PULLS", "LAST UPDATED", "RESULT"), rows)]
    failed = [o for o in outcomes if o.verdict != Verdict.PASS]
    if failed:
        parts.append("")
        for o in failed:
            parts.append(f"{RESULT_LABEL[o.verdict]} {cell(o.message)}")
            parts.append(f"      named by: {cell('; '.join(t.origin if t.origin != 'argument' else t.text for t in o.targets))}")
    if hidden:
        parts += ["", *hidden]
    parts += ["", summary.sentence()]
    return "\n".join(parts)


def _not_inspected_lines(summary: Summary) -> list[str]:
    return [f"NOT INSPECTED {cell(where)}: {NOT_INSPECTED}" for where in summary.not_inspected]


def check_document(outcomes: list[Outcome], summary: Summary, require_immutable: bool,
                   max_tag_age_days: int | None = None) -> dict[str, Any]:
    """The `--output json` document: every image with its details or its error, and a summary."""
    return {
        "version": JSON_VERSION,
        "require_immutable": require_immutable,
        "max_tag_age_days": max_tag_age_days,
        "images": [outcome_dict(o, with_tags=max_tag_age_days is not None) for o in outcomes],
        "not_inspected": [{"origin": where, "reason": NOT_INSPECTED} for where in summary.not_inspected],
        "summary": summary.to_dict(),
    }


def outcome_dict(o: Outcome, with_tags: bool = False) -> dict[str, Any]:
    """One image of the JSON document; `newest_tag` only when tag ages were checked."""
    error = o.error
    tag = {"newest_tag": None if o.newest_tag is None else o.newest_tag.to_dict()} if with_tags else {}
    return {
        "ref": o.targets[0].text,
        "image": o.key.image,
        "registry": o.key.registry,
        "image_name": o.key.image_name,
        "site": o.key.site,
        "region": o.key.region,
        "verdict": o.verdict,
        "kind": o.kind,
        "reason": o.reason,
        "references": [{"ref": t.text, "origin": t.origin, "tag": t.ref and t.ref.tag, "digest": t.ref and t.ref.digest}
                       for t in o.targets],
        "details": o.details.to_dict() if o.details is not None else None,
        "error": None if error is None else {
            "type": type(error).__name__,
            "message": str(error),
            "status": getattr(error, "status", None),
            "error_code": getattr(error, "error_code", None),
        },
        **tag,
    }


def check_json(outcomes: list[Outcome], summary: Summary, require_immutable: bool,
               max_tag_age_days: int | None = None, pretty: bool = False) -> str:
    # Indented for a person at a terminal; compact for a pipe (json's C encoder only runs without indent).
    indent = 2 if pretty else None
    return json.dumps(check_document(outcomes, summary, require_immutable, max_tag_age_days), indent=indent)


def write_error_document(out: IO[str], command: str, kind: str, messages: Sequence[str], exit_code: int) -> None:
    """The `-o json` document of a run that ended before any result: the error, and for `check` an
    empty image list and a summary carrying the exit code, so readers of either shape see the failure."""
    error: dict[str, Any] = {"type": kind, "message": " ".join(str(messages[0]).split())}
    if len(messages) > 1:
        error["problems"] = [" ".join(str(m).split()) for m in messages]
    document: dict[str, Any] = {"version": JSON_VERSION, "error": error, "exit_code": exit_code}
    if command == "check":
        document["images"] = []
        document["summary"] = {**Summary().to_dict(), "exit_code": exit_code}
    print(json.dumps(document, indent=2 if out.isatty() else None), file=out)


def check_github(outcomes: list[Outcome], summary: Summary) -> str:
    """`::error` for violations and unchecked images, `::warning` for advisories, a plain line per pass, the totals."""
    lines = []
    for o in outcomes:
        where = _file_properties(o)
        named_by = "; ".join(t.origin if t.origin != "argument" else t.text for t in o.targets)
        if o.verdict == Verdict.VIOLATION:
            lines.append(annotation("error", f"NCR image violation: {o.key.image}",
                                    f"{_sentence(o.message)} Named by: {named_by}", where))
        elif o.verdict == Verdict.ERROR:
            lines.append(annotation("error", f"NCR image not checked: {o.key.image}",
                                    f"{_sentence(o.message)} Named by: {named_by}", where))
        elif o.advisory:
            lines.append(annotation("warning", f"NCR image has mutable tags: {o.key.image}",
                                    f"{o.key.image} ({region_label(o.key)}): {o.advisory}. Named by: {named_by}", where))
            lines.append(f"ok {o.key.image} ({region_label(o.key)}): {cell(o.reason)}")
        else:
            lines.append(f"ok {o.key.image} ({region_label(o.key)}): {cell(o.reason)}")
    for place in summary.not_inspected:
        lines.append(annotation("warning", "NCR reference not inspected", f"{place}: {NOT_INSPECTED}."))
    lines.append(f"ncr-image check: {summary.sentence()}")
    return "\n".join(lines)


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def _file_properties(o: Outcome) -> dict[str, str]:
    """file= and line= of the first reference read from a file, so the annotation lands on that line."""
    for t in o.targets:
        if t.file and t.line:
            return {"file": t.file, "line": str(t.line)}
    return {}


def annotation(level: str, title: str, message: str, properties: dict[str, str] | None = None) -> str:
    """One GitHub Actions workflow command, escaped as the runner expects."""
    props = {"title": strip_control(title), **(properties or {})}
    rendered = ",".join(f"{k}={_escape_property(v)}" for k, v in props.items())
    # A newline in API text would end the workflow command early and start a forged one: stripped too.
    return f"::{level} {rendered}::{_escape_data(strip_control(message))}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
