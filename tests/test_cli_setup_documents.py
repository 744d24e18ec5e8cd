"""A run that ends before any lookup still writes the document its `-o` asks for: argparse's usage errors
(a bad option value, an unknown flag) and Ctrl-C, through the real `ncr-image` process."""

from __future__ import annotations

import json
import subprocess
from xml.etree import ElementTree

import pytest
from cli_runner import run_cli, run_cli_interrupted
from helpers import validate_sarif

QUOTA_EXCEEDED = {"error": {"errorCode": "400", "message": "Quota Exceeded", "requestId": "req-400"}}
USAGE_ERRORS = [
    (["--max-tag-age", "0"], "argument --max-tag-age"),
    (["--concurrency", "0"], "argument --concurrency: must be at least 1, got 0"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
]


def format_args(spelling: str, fmt: str) -> list[str]:
    return {"-o X": ["-o", fmt], "-oX": [f"-o{fmt}"], "--output X": ["--output", fmt],
            "--output=X": [f"--output={fmt}"]}[spelling]


@pytest.mark.parametrize("spelling", ["-o X", "-oX", "--output X", "--output=X"])
@pytest.mark.parametrize(("bad", "sentence"), USAGE_ERRORS)
def test_a_usage_error_still_writes_a_valid_sarif_log(ncp_env, bad, sentence, spelling):
    # when check is given a bad option, in any spelling of -o sarif
    result = run_cli("check", *bad, *format_args(spelling, "sarif"), "prod/team/web")
    # then it exits 2 with argparse's lines on stderr, sends nothing, and stdout is a log saying why
    assert result.returncode == 2
    assert f"error: {sentence}" in result.stderr and result.stderr.startswith("usage: ncr-image")
    assert ncp_env.requests == []
    log = json.loads(result.stdout)
    validate_sarif(log)
    invocation = log["runs"][0]["invocations"][0]
    assert (invocation["executionSuccessful"], invocation["exitCode"], log["runs"][0]["results"]) == (False, 2, [])
    notifications = invocation["toolExecutionNotifications"]
    assert len(notifications) == 1 and sentence in notifications[0]["message"]["text"]
    assert notifications[0]["level"] == "error" and notifications[0]["properties"] == {"type": "UsageError"}


@pytest.mark.parametrize(("bad", "sentence"), USAGE_ERRORS)
def test_a_usage_error_writes_the_json_and_junit_documents_and_a_github_annotation(ncp_env, bad, sentence):
    runs = {fmt: run_cli("check", "-o", fmt, *bad, "prod/team/web") for fmt in ("json", "junit", "github")}
    assert {fmt: r.returncode for fmt, r in runs.items()} == dict.fromkeys(runs, 2)
    document = json.loads(runs["json"].stdout)
    assert document["error"]["type"] == "UsageError" and sentence in document["error"]["message"]
    assert document["images"] == [] and document["summary"]["exit_code"] == 2
    error = ElementTree.fromstring(runs["junit"].stdout).find("testsuite/testcase/error")
    assert error is not None and sentence in error.get("message")
    annotations = [line for line in runs["github"].stdout.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 1 and sentence in annotations[0]
    assert ncp_env.requests == []


def test_audit_usage_errors_write_its_json_document(ncp_env):
    result = run_cli("audit", "--no-such-flag", "--output=json")
    assert result.returncode == 2
    document = json.loads(result.stdout)
    assert "unrecognized arguments: --no-such-flag" in document["error"]["message"]
    assert document["exit_code"] == 2


@pytest.mark.parametrize("args", [["check", "--no-such-flag", "prod/team/web"],   # no -o: today's behaviour
                                  ["check", "-o", "xml", "prod/team/web"],          # not a format
                                  ["check", "-o", "table", "--concurrency", "0"]])
def test_without_a_document_format_a_usage_error_writes_nothing_to_stdout(ncp_env, args):
    result = run_cli(*args)
    assert result.returncode == 2 and result.stdout == "" and "error:" in result.stderr


@pytest.mark.parametrize("fmt", ["sarif", "json", "junit", "github"])
def test_ctrl_c_writes_a_document_saying_the_run_was_interrupted(ncp_env, fmt):
    # given check waiting out a long Retry-After
    for _ in range(4):
        ncp_env.enqueue(status=429, body=QUOTA_EXCEEDED, headers={"Retry-After": "3600"})
    # when the user presses Ctrl-C
    code, stdout, stderr = run_cli_interrupted("check", "-o", fmt, "prod/team/web", ready=lambda: bool(ncp_env.requests))
    # then it exits 130 and stdout is still a document, saying the run was interrupted
    assert code == 130
    assert stderr.splitlines() == ["ncr-image: interrupted"], stderr
    if fmt == "sarif":
        log = json.loads(stdout)
        validate_sarif(log)
        invocation = log["runs"][0]["invocations"][0]
        assert (invocation["executionSuccessful"], invocation["exitCode"]) == (False, 130)
        assert "interrupted" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    elif fmt == "json":
        document = json.loads(stdout)
        assert document["error"]["type"] == "Interrupted" and document["summary"]["exit_code"] == 130
    elif fmt == "junit":
        assert "interrupted" in ElementTree.fromstring(stdout).find("testsuite/testcase/error").get("message")
    else:
        assert stdout.startswith("::error ") and "interrupted" in stdout


def test_the_example_workflow_fails_the_sarif_step_on_exit_2_and_130_only():
    import re
    from pathlib import Path
    workflow = (Path(__file__).resolve().parents[1] / "examples" / "pipeline" / "github-actions.yml").read_text()
    command = re.search(r"run: (ncr-image check [^\n]*--output sarif[^\n]*)", workflow).group(1)
    guard = command.split("> ncr.sarif", 1)[1]
    outcomes = {}
    for code in (0, 1, 2, 3, 130):
        step = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", f"(exit {code}) > /dev/null{guard}"])
        outcomes[code] = step.returncode == 0
    assert outcomes == {0: True, 1: True, 2: False, 3: True, 130: False}
