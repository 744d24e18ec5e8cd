"""`check --from-stack` on what real stacks hold: prose and URLs beside references, stdin, malformed entries.
Each runs the CLI as its own process against the emulator over real HTTP."""

from __future__ import annotations

import json

import pytest
from cli_runner import image_requests, run_cli

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def stack_document(*resources: object) -> str:
    return json.dumps({"version": 3, "deployment": {"resources": list(resources)}})


def config_map(name: str, data: dict) -> dict:
    return {"urn": f"urn:pulumi:dev::p::{CONFIG_MAP}::{name}", "type": CONFIG_MAP,
            "inputs": {"data": data}, "outputs": {"data": data}}


def check_stack(ncp_env, tmp_path, *resources: object, stdin: bool = False):
    if stdin:
        return run_cli("check", "--from-stack", "-", "--output", "json", stdin=stack_document(*resources))
    path = tmp_path / "stack.json"
    path.write_text(stack_document(*resources))
    return run_cli("check", "--from-stack", str(path), "--output", "json")


def test_prose_and_urls_in_a_config_map_are_not_broken_references(ncp_env, tmp_path):
    # given a ConfigMap whose values are sentences and links around NCR host names
    result = check_stack(ncp_env, tmp_path, config_map("notes", {
        "readme": "Our image is prod.kr.ncr.ntruss.com/team/web.",
        "docs": "see https://prod.kr.ncr.ntruss.com/v2/",
        "script": "docker pull prod.kr.ncr.ntruss.com/hello/world; echo done",
        "list": "images: prod.kr.ncr.ntruss.com/hello/world:1.1, prod.kr.ncr.ntruss.com/team/web!",
    }))
    # then the sentence punctuation ends each reference, the URL names no image, and everything passes
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    refs = sorted(r["ref"] for image in doc["images"] for r in image["references"])
    assert refs == ["prod.kr.ncr.ntruss.com/hello/world", "prod.kr.ncr.ntruss.com/hello/world:1.1",
                    "prod.kr.ncr.ntruss.com/team/web"]
    assert sorted(image_requests(ncp_env)) == ["/ncr/api/v2/repositories/prod/hello%2Fworld",
                                               "/ncr/api/v2/repositories/prod/team%2Fweb"]


def test_a_malformed_reference_in_prose_is_still_reported(ncp_env, tmp_path):
    # given prose with a reference attempt that is broken inside (not just followed by a full stop)
    result = check_stack(ncp_env, tmp_path, config_map("notes", {"readme": "Pull prod.kr.ncr.ntruss.com/Team/Web."}))
    # then it is reported as malformed, the punctuation aside, and nothing is looked up
    assert result.returncode == 3, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert [r["ref"] for image in doc["images"] for r in image["references"]] == ["prod.kr.ncr.ntruss.com/Team/Web"]
    assert image_requests(ncp_env) == []


def test_from_stack_dash_reads_the_export_from_stdin(ncp_env, tmp_path):
    # given `pulumi stack export | ncr-image check --from-stack -`
    deployment = {"urn": "urn:pulumi:dev::p::kubernetes:apps/v1:Deployment::web", "type": "kubernetes:apps/v1:Deployment",
                  "inputs": {"image": "prod.kr.ncr.ntruss.com/team/web:1.2.1"}, "outputs": {}}
    result = check_stack(ncp_env, tmp_path, deployment, stdin=True)
    # then the export on stdin is read like a file, and its reference is named as coming from stdin
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert [(r["ref"], r["origin"]) for image in doc["images"] for r in image["references"]] == [
        ("prod.kr.ncr.ntruss.com/team/web:1.2.1", "stdin: web (kubernetes:apps/v1:Deployment) inputs.image")]
    assert image_requests(ncp_env) == ["/ncr/api/v2/repositories/prod/team%2Fweb"]


def test_stdin_is_read_only_once(ncp_env):
    result = run_cli("check", "--from-stack", "-", "--from-file", "-", stdin="{}")
    assert result.returncode == 2
    assert "stdin ('-') can be read only once" in result.stderr
    assert ncp_env.requests == []


GOOD = {"urn": "urn:pulumi:dev::p::kubernetes:apps/v1:Deployment::web", "type": "kubernetes:apps/v1:Deployment",
        "inputs": {"image": "prod.kr.ncr.ntruss.com/team/web:1.2.1"}}


@pytest.mark.parametrize("entry,expected", [
    (None, "deployment.resources[1] is null, not a resource object"),
    (7, "deployment.resources[1] is a number, not a resource object"),
    ({"urn": "urn:pulumi:dev::p::x:y:Z::cm", "type": "x:y:Z", "outputs": ["prod.kr.ncr.ntruss.com/team/web"]},
     "deployment.resources[1] (urn:pulumi:dev::p::x:y:Z::cm) has outputs that is a list, not an object of properties"),
    ({"urn": "urn:pulumi:dev::p::x:y:Z::cm", "type": "x:y:Z", "inputs": "prod.kr.ncr.ntruss.com/team/web"},
     "deployment.resources[1] (urn:pulumi:dev::p::x:y:Z::cm) has inputs that is a string, not an object of properties"),
])
def test_a_malformed_stack_entry_is_a_usage_error_never_a_silent_pass(ncp_env, tmp_path, entry, expected):
    # given an export with a good resource and an entry the gate cannot read
    result = check_stack(ncp_env, tmp_path, GOOD, entry)
    # then the run is a usage error naming the entry and what was wrong, and nothing is sent
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == (f"ncr-image: error: --from-stack {tmp_path / 'stack.json'}: {expected}; "
                             "give the output of `pulumi stack export`\n")
    assert ncp_env.requests == []
