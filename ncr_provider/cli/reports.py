"""Reports CI systems read: `check -o sarif` (SARIF 2.1.0, for code scanning) and `-o junit` (JUnit XML, for test tabs).

SARIF: one rule per kind of verdict (`verdict.KINDS`), one result per reference, located where the
reference was written: a line of a `--from-file` list, or a resource (and property path) of a
`--from-stack` export. JUnit: one test case per image, failing on a violation and erroring when
the image could not be checked, the way test runners mark a failed assertion and a broken test.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from .. import __version__
from .verdict import (
    IMAGE_NOT_FOUND,
    KINDS,
    MUTABLE_TAGS,
    NOT_CHECKED,
    NOT_INSPECTED,
    PASSED,
    TAG_NOT_FOUND,
    TAG_TOO_NEW,
    TAG_TOO_OLD,
    Outcome,
    Summary,
    Verdict,
)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL = "ncr-image"
INFORMATION_URI = "https://github.com/ncr-provider/ncr-provider#the-pipeline-gate-ncr-image"

# kind -> (rule name, what the rule checks, its default level)
RULES: dict[str, tuple[str, str, str]] = {
    PASSED: ("ImageChecked", "The NCR image exists and passed every check that was asked for.", "none"),
    IMAGE_NOT_FOUND: ("ImageNotFound", "The NCR image named by the reference does not exist.", "error"),
    MUTABLE_TAGS: ("MutableTags", "The repository allows mutable tags: a pushed tag can be overwritten, so what "
                                  "runs can change without a deployment.", "error"),
    TAG_TOO_OLD: ("TagTooOld", "The image's newest tag was last updated longer ago than --max-tag-age allows "
                               "(or the image has no tags).", "error"),
    TAG_TOO_NEW: ("TagTooNew", "The tag deployed was pushed or moved more recently than --min-tag-age allows: the "
                               "deployment may race an unfinished push.", "error"),
    TAG_NOT_FOUND: ("TagNotFound", "The tag named by the reference does not exist in the image.", "error"),
    NOT_CHECKED: ("ImageNotChecked", "The image could not be checked (credentials, network, throttling, an answer "
                                     "missing what the check needs, or a reference that cannot be placed).", "error"),
}
assert set(RULES) == set(KINDS)


def _rule_of(o: Outcome) -> tuple[str, str, str]:
    """(rule id, SARIF kind, level) of an outcome; a pass with an advisory is a warning of its rule."""
    if o.verdict == Verdict.PASS and o.advisory:
        return MUTABLE_TAGS, "fail", "warning"
    if o.verdict == Verdict.PASS:
        return PASSED, "pass", "none"
    return o.kind, "fail", "error"


def sarif_document(outcomes: Sequence[Outcome], summary: Summary) -> dict[str, Any]:
    """The SARIF log: one run of ncr-image, every rule, one result per reference."""
    rule_ids = list(RULES)
    results = []
    for o in outcomes:
        rule, kind, level = _rule_of(o)
        text = _sentence(o.message if o.verdict != Verdict.PASS else f"{o.key.image} ({o.key.region}): {o.reason}")
        if o.advisory and o.verdict == Verdict.PASS:
            text = _sentence(f"{o.key.image} ({o.key.region}): {o.advisory}")
        for target in o.targets:
            result: dict[str, Any] = {
                "ruleId": rule,
                "ruleIndex": rule_ids.index(rule),
                "kind": kind,
                "level": level,
                "message": {"text": f"{text} Reference: {target.text}"},
                "properties": {"image": o.key.image, "region": o.key.region, "verdict": o.verdict,
                               "reference": target.text, "origin": target.origin},
            }
            location = _location(target)
            if location:
                result["locations"] = [location]
            results.append(result)
    # Ciphertext secrets of --from-stack: named, since the gate could not look inside them.
    notifications = [{"level": "warning", "message": {"text": f"{where}: {NOT_INSPECTED}."}}
                     for where in summary.not_inspected]
    return _sarif_log({"executionSuccessful": True, "exitCode": summary.exit_code,
                       "toolExecutionNotifications": notifications}, results)


def sarif_error_document(kind: str, messages: Sequence[str], exit_code: int) -> dict[str, Any]:
    """The SARIF log of a run that ended before any result (missing credentials, a bad setting or
    reference): no results, an unsuccessful invocation, and one error notification per problem, so a
    code-scanning upload still gets a valid log that says the gate did not run."""
    notifications = [{"level": "error", "message": {"text": _sentence(str(message))},
                      "properties": {"type": kind}} for message in messages]
    return _sarif_log({"executionSuccessful": False, "exitCode": exit_code,
                       "toolExecutionNotifications": notifications}, [])


def _sarif_log(invocation: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": TOOL,
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [{
                    "id": rule_id,
                    "name": name,
                    "shortDescription": {"text": description},
                    "defaultConfiguration": {"level": level},
                } for rule_id, (name, description, level) in RULES.items()],
            }},
            "invocations": [invocation],
            "results": results,
        }],
    }


def _location(target: Any) -> dict[str, Any] | None:
    """Where a reference was written: a file line, a stack resource (with its property path), or nothing (a REF)."""
    if target.resource is not None:
        location: dict[str, Any] = {"logicalLocations": [{
            "name": target.resource.rsplit("::", 1)[-1] or target.resource,
            "fullyQualifiedName": f"{target.resource}/{target.path}" if target.path else target.resource,
            "kind": "resource",
        }]}
        if target.file:
            location["physicalLocation"] = {"artifactLocation": {"uri": _uri(target.file)}}
        return location
    if target.file and target.line:
        return {"physicalLocation": {"artifactLocation": {"uri": _uri(target.file)},
                                     "region": {"startLine": target.line}}}
    return None


def _uri(path: str) -> str:
    """A file path as a SARIF uri-reference: forward slashes, reserved characters encoded."""
    return quote(path.replace("\\", "/"), safe="/:")


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def check_sarif(outcomes: Sequence[Outcome], summary: Summary) -> str:
    return json.dumps(sarif_document(outcomes, summary), indent=2)


def check_junit(outcomes: Sequence[Outcome], summary: Summary) -> str:
    """JUnit XML: one <testcase> per image; <failure> for a violation, <error> for an image that could not be checked."""
    suite = ElementTree.Element("testsuite", {
        "name": "ncr-image check",
        "tests": str(len(outcomes)),
        "failures": str(summary.violations),
        "errors": str(summary.errors),
        "skipped": str(len(summary.not_inspected)),
    })
    for o in outcomes:
        case = ElementTree.SubElement(suite, "testcase", {"classname": f"ncr-image.{o.key.region or 'unplaced'}",
                                                          "name": _xml_text(o.key.image)})
        named_by = "\n".join(f"{t.text} ({t.origin})" for t in o.targets)
        if o.verdict in (Verdict.VIOLATION, Verdict.ERROR):
            element = ElementTree.SubElement(case, "failure" if o.verdict == Verdict.VIOLATION else "error",
                                             {"message": _xml_text(o.reason), "type": o.kind})
            element.text = _xml_text(f"{_sentence(o.message)}\nNamed by:\n{named_by}")
        out = ElementTree.SubElement(case, "system-out")
        out.text = _xml_text(f"{o.reason}" + (f"\nwarning: {o.advisory}" if o.advisory else "") + f"\n{named_by}")
    for where in summary.not_inspected:  # ciphertext secrets of --from-stack: the gate could not look inside
        case = ElementTree.SubElement(suite, "testcase", {"classname": "ncr-image.not-inspected", "name": _xml_text(where)})
        ElementTree.SubElement(case, "skipped", {"message": NOT_INSPECTED})
    suite.set("tests", str(len(outcomes) + len(summary.not_inspected)))
    root = ElementTree.Element("testsuites", {"name": "ncr-image", "tests": suite.get("tests", ""),
                                              "failures": str(summary.violations), "errors": str(summary.errors)})
    root.append(suite)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True)


def check_junit_error(kind: str, messages: Sequence[str]) -> str:
    """JUnit XML of a run that ended before any image was looked up: one erroring test case saying why,
    so a CI test tab shows a broken gate rather than an empty (or unreadable) report."""
    suite = ElementTree.Element("testsuite", {"name": "ncr-image check", "tests": "1", "failures": "0", "errors": "1",
                                              "skipped": "0"})
    case = ElementTree.SubElement(suite, "testcase", {"classname": "ncr-image.setup", "name": "ncr-image check"})
    element = ElementTree.SubElement(case, "error", {"message": _xml_text(_sentence(str(messages[0]))), "type": kind})
    element.text = _xml_text("\n".join(_sentence(str(m)) for m in messages))
    root = ElementTree.Element("testsuites", {"name": "ncr-image", "tests": "1", "failures": "0", "errors": "1"})
    root.append(suite)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True)


def _xml_text(text: str) -> str:
    """Text XML 1.0 can carry: control characters other than tab and newline (from an API's text) become spaces."""
    return "".join(c if c in "\t\n" or (c >= " " and c not in "\ufffe\uffff") else " " for c in str(text))
