"""`check -o sarif` validated against the official SARIF 2.1.0 schema, `-o junit` read as a CI consumer reads it,
and `check --min-tag-age`: all run as a separate process against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
from cli_runner import run_cli
from helpers import validate_sarif

from ncr_provider.signing import now_ms

DATA = Path(__file__).parent / "data"
STACK_EXPORT = DATA / "stack-export.json"
KINDS = ["passed", "image-not-found", "mutable-tags", "tag-too-old", "tag-too-new", "tag-not-found", "not-checked"]
MINUTE_MS = 60_000


@pytest.fixture
def images_file(tmp_path):
    """A --from-file list: an immutable image, a mutable one, a missing one, and a comment."""
    path = tmp_path / "images.txt"
    path.write_text("# release images\nprod/team/web\nprod.kr.ncr.ntruss.com/team/api:build-144\nprod/team/gone\n")
    return path


def sarif(*args: str) -> tuple[int, dict]:
    result = run_cli("check", *args, "-o", "sarif")
    document = json.loads(result.stdout)
    validate_sarif(document)
    return result.returncode, document


# -- SARIF ----------------------------------------------------------------------------------------

def test_sarif_from_a_file_is_valid_with_one_rule_per_kind_and_one_located_result_per_reference(ncp_env, images_file):
    code, doc = sarif("--require-immutable", "--from-file", str(images_file))

    assert code == 1
    [run] = doc["runs"]
    assert doc["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "ncr-image"
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == KINDS
    results = {r["properties"]["reference"]: r for r in run["results"]}
    assert set(results) == {"prod/team/web", "prod.kr.ncr.ntruss.com/team/api:build-144", "prod/team/gone"}
    expected = {"prod/team/web": ("passed", "pass", "none", 2),
                "prod.kr.ncr.ntruss.com/team/api:build-144": ("mutable-tags", "fail", "error", 3),
                "prod/team/gone": ("image-not-found", "fail", "error", 4)}
    for reference, (rule, kind, level, line) in expected.items():
        result = results[reference]
        assert (result["ruleId"], result["kind"], result["level"]) == (rule, kind, level)
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == rule
        [location] = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == str(images_file)
        assert location["physicalLocation"]["region"]["startLine"] == line
    assert "Image prod/team/gone not found in region KR" in results["prod/team/gone"]["message"]["text"]
    assert run["invocations"][0]["exitCode"] == 1


def test_sarif_from_a_stack_locates_each_reference_at_its_resource_and_property(ncp_env):
    code, doc = sarif("--require-immutable", "--from-stack", str(STACK_EXPORT))

    [run] = doc["runs"]
    located = {(r["properties"]["reference"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"])
               for r in run["results"]}
    deployment = "urn:pulumi:dev::shop::kubernetes:apps/v1:Deployment::storefront"
    assert f"{deployment}/inputs.spec.template.spec.containers[0].image" in {where for _, where in located}
    assert ("prod/hello/world", "urn:pulumi:dev::shop::pulumi-python:dynamic/ncr:NcrImage::hello-image/NcrImage") in located
    for result in run["results"]:
        [location] = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == str(STACK_EXPORT)
        assert location["logicalLocations"][0]["kind"] == "resource"
    # one result per reference: as many as the JSON report's references
    references = json.loads(run_cli("check", "--require-immutable", "--from-stack", str(STACK_EXPORT),
                                    "-o", "json").stdout)["summary"]["references"]
    assert len(run["results"]) == references
    assert code == 1


def test_sarif_marks_an_unchecked_image_and_a_mutable_advisory(ncp_env):
    for _ in range(4):
        ncp_env.enqueue(status=503)
    code, doc = sarif("--concurrency", "1", "prod/hello/world", "prod/team/api")

    results = {r["properties"]["image"]: r for r in doc["runs"][0]["results"]}
    assert code == 3
    assert (results["prod/hello/world"]["ruleId"], results["prod/hello/world"]["level"]) == ("not-checked", "error")
    # mutable tags without --require-immutable: a warning, not a failure of the gate
    assert (results["prod/team/api"]["ruleId"], results["prod/team/api"]["level"]) == ("mutable-tags", "warning")
    assert "locations" not in results["prod/team/api"]  # a REF argument was written nowhere


def test_the_schema_check_can_fail():
    # the validator really applies the official schema: a log with a wrong version or a result level it does
    # not define is refused
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"message": {"text": "m"}, "level": "error"}]}]}
    validate_sarif(good)
    for broken in ({**good, "version": "2.0.0"},
                   {**good, "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
                       {"message": {"text": "m"}, "level": "fatal"}]}]}):
        with pytest.raises(jsonschema.ValidationError):
            validate_sarif(broken)


def test_sarif_secret_and_control_characters_stay_out(ncp_env):
    ncp_env.enqueue(status=500, body={"error": {"errorCode": "900", "message": "boom\x1b[31m\nred"}})
    result = run_cli("check", "prod/team/web", "-o", "sarif")
    validate_sarif(json.loads(result.stdout))
    assert "\x1b" not in result.stdout


# -- JUnit ----------------------------------------------------------------------------------------

def test_junit_has_one_testcase_per_image_failing_and_erroring_as_a_ci_consumer_reads_it(ncp_env, images_file):
    for _ in range(4):
        ncp_env.enqueue(status=503)  # the first lookup (prod/hello/world) cannot be answered
    result = run_cli("check", "--require-immutable", "--concurrency", "1", "prod/hello/world", "prod/team/web",
                     "--from-file", str(images_file), "-o", "junit")

    assert result.returncode == 1
    root = ElementTree.fromstring(result.stdout)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    cases = [case for suite in suites for case in suite.iter("testcase")]
    # one test case per image (prod/team/web named twice is one image)
    assert sorted(case.get("name") for case in cases) == ["prod/hello/world", "prod/team/api", "prod/team/gone",
                                                          "prod/team/web"]
    outcome = {case.get("name"): ("failure" if case.find("failure") is not None
                                  else "error" if case.find("error") is not None else "passed") for case in cases}
    assert outcome == {"prod/hello/world": "error", "prod/team/api": "failure", "prod/team/gone": "failure",
                       "prod/team/web": "passed"}
    suite = suites[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "1")
    failure = next(case for case in cases if case.get("name") == "prod/team/gone").find("failure")
    assert failure.get("type") == "image-not-found" and failure.get("message") == "image not found"
    assert f"{images_file}:4" in failure.text


def test_junit_passes_cleanly_when_every_image_passes(ncp_env):
    result = run_cli("check", "prod/team/web", "-o", "junit")
    assert result.returncode == 0
    root = ElementTree.fromstring(result.stdout)
    assert root.find("testsuite").get("failures") == "0"
    assert [c.get("name") for c in root.iter("testcase")] == ["prod/team/web"]


# -- --min-tag-age --------------------------------------------------------------------------------

def test_min_tag_age_fails_a_tag_pushed_minutes_ago_and_passes_a_settled_one(ncp_env):
    # given a tag moved 3 minutes ago and one pushed an hour ago
    ncp_env.add_image("prod", "fresh/app", tag_mutability_enabled=True)
    ncp_env.add_tag("prod", "fresh/app", "moving", last_updated=now_ms() - 3 * MINUTE_MS)
    ncp_env.add_tag("prod", "fresh/app", "settled", last_updated=now_ms() - 60 * MINUTE_MS)

    moving = run_cli("check", "--min-tag-age", "10", "prod.kr.ncr.ntruss.com/fresh/app:moving", "-o", "json")
    settled = run_cli("check", "--min-tag-age", "10", "prod.kr.ncr.ntruss.com/fresh/app:settled")

    assert moving.returncode == 1
    [image] = json.loads(moving.stdout)["images"]
    assert (image["verdict"], image["kind"]) == ("violation", "tag-too-new")
    assert image["reason"].startswith("tag moving was pushed or moved 3 minute(s) ago (under 10; updated ")
    assert settled.returncode == 0, settled.stdout


def test_min_tag_age_judges_every_reference_of_an_image_and_a_missing_tag(ncp_env):
    ncp_env.add_tag("prod", "team/web", "hotfix", digest="sha256:" + "c3" * 32, last_updated=now_ms() - MINUTE_MS)

    both = run_cli("check", "--min-tag-age", "5", "prod.kr.ncr.ntruss.com/team/web:1.2.1",
                   "prod.kr.ncr.ntruss.com/team/web:hotfix", "-o", "json")
    missing = run_cli("check", "--min-tag-age", "5", "prod.kr.ncr.ntruss.com/team/web:9.9.9", "-o", "json")
    by_digest = run_cli("check", "--min-tag-age", "5", "prod.kr.ncr.ntruss.com/team/web@sha256:" + "c3" * 32)

    assert both.returncode == 1 and "tag hotfix was pushed or moved 1 minute(s) ago" in both.stdout
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["images"][0]["kind"] == "tag-not-found"
    assert by_digest.returncode == 0  # a digest pins content: no push to race


def test_min_tag_age_reads_each_tag_list_once_beside_max_tag_age(ncp_env):
    result = run_cli("check", "--min-tag-age", "5", "--max-tag-age", "100000", "prod.kr.ncr.ntruss.com/team/web:1.2.1",
                     "prod.kr.ncr.ntruss.com/team/web:1.2.0")
    assert result.returncode == 0, result.stdout
    paths = [r.path for r in ncp_env.requests]
    assert paths.count("/ncr/api/v2/repositories/prod/team/web/tags") == 1


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_min_tag_age_is_bad_usage(ncp_env, value):
    result = run_cli("check", "--min-tag-age", value, "prod/team/web")
    assert result.returncode == 2
    assert ncp_env.requests == []


# -- setup errors: a document still, saying the gate did not run ----------------------------------

def setup_failure_runs(tmp_path, emulator, monkeypatch, output):
    """`check -o OUTPUT` runs that end before any lookup, each asserted to exit 2 or 3: missing credentials, a bad
    cache TTL, a bad reference, a stack export that is not JSON. Yields (arguments, result)."""
    stack = tmp_path / "stack.json"
    stack.write_text("not json {")
    creds = {"NCLOUD_ACCESS_KEY": emulator.access_key, "NCLOUD_SECRET_KEY": emulator.secret_key,
             "NCR_ENDPOINT": emulator.url}
    for args, env in [
        (["prod/team/web"], {"NCR_ENDPOINT": emulator.url}),
        (["prod/team/web"], {**creds, "NCR_CACHE_TTL": "abc", "NCR_CACHE_DIR": str(tmp_path / "cache")}),
        (["prod/Team Web"], creds),
        (["--from-stack", str(stack)], creds),
    ]:
        with monkeypatch.context() as m:
            for name, value in env.items():
                m.setenv(name, value)
            result = run_cli("check", *args, "-o", output)
        assert result.returncode in (2, 3), (args, result.stderr)
        yield args, result


def test_sarif_on_a_setup_error_is_a_valid_log_of_an_unsuccessful_run(emulator, tmp_path, monkeypatch):
    for _args, result in setup_failure_runs(tmp_path, emulator, monkeypatch, "sarif"):
        document = json.loads(result.stdout)
        validate_sarif(document)
        run = document["runs"][0]
        assert run["results"] == []
        invocation = run["invocations"][0]
        assert invocation["executionSuccessful"] is False and invocation["exitCode"] == result.returncode
        notification = invocation["toolExecutionNotifications"][0]
        assert notification["level"] == "error"
        # the sentence stderr carried, once, as the notification's text
        said = result.stderr.splitlines()[0].removeprefix("ncr-image: error: ").strip()
        assert " ".join(said.split()).rstrip(".") in notification["message"]["text"], (said, notification)
    assert emulator.requests == []


def test_junit_on_a_setup_error_has_one_erroring_test_case(emulator, tmp_path, monkeypatch):
    for _args, result in setup_failure_runs(tmp_path, emulator, monkeypatch, "junit"):
        root = ElementTree.fromstring(result.stdout)
        cases = list(root.iter("testcase"))
        assert len(cases) == 1
        error = cases[0].find("error")
        assert error is not None and error.get("message")
        assert root.get("errors") == "1"
    assert emulator.requests == []
