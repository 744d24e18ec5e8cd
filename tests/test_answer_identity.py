"""Answers about another image, registry or tag than was asked for are refused, in both API versions.

A verdict on prod/team/web must rest on prod/team/web's details: a server (or a proxy, or a cache in
between) answering with team/other's must make the check say "could not check", never pass.
"""

from __future__ import annotations

import json

import pytest
from cli_runner import run_cli

DIGEST = "sha256:" + "9" * 64

OTHER_IMAGE = {
    "v2": {"name": "team/other", "namespace": "evil", "tag_mutability_enabled": False, "pull_count": 1,
           "last_updated": 1_700_000_000_000},
    "v3": {"name": "team/other", "registryName": "evil", "tagMutabilityEnabled": False, "pullCount": 1,
           "lastPushedDateTime": "2024-04-01T00:01:28Z"},
}
OTHER_TAG = {
    "v2": {"name": "9.9.9", "digest": DIGEST, "full_size": 1, "last_updated": 1_700_000_000_000, "images": []},
    "v3": {"name": "9.9.9", "digest": DIGEST, "fullSize": 1, "updatedDateTime": "2024-04-01T00:01:28Z", "images": []},
}


def check_json(*args: str) -> tuple[int, dict]:
    result = run_cli("check", *args, "--output", "json")
    return result.returncode, json.loads(result.stdout)


@pytest.mark.parametrize("version", ["v2", "v3"])
@pytest.mark.parametrize("changed", [{"name": "team/other"}, {"registry": "evil"}, {"name": "Team/Web"}])
def test_image_details_about_another_image_or_registry_cannot_be_checked(ncp_env, monkeypatch, version, changed):
    monkeypatch.setenv("NCR_API_VERSION", version)
    name_key, registry_key = ("name", "namespace") if version == "v2" else ("name", "registryName")
    body = dict(OTHER_IMAGE[version], **{name_key: "team/web", registry_key: "prod"})
    body[name_key] = changed.get("name", body[name_key])
    body[registry_key] = changed.get("registry", body[registry_key])
    ncp_env.enqueue(200, body)
    code, doc = check_json("--require-immutable", "prod/team/web")
    assert code == 3, doc
    image = doc["images"][0]
    assert image["verdict"] == "error"
    assert image["error"]["type"] == "InvalidResponseError"
    assert "not 'team/web' as asked" in image["error"]["message"] or "not 'prod' as asked" in image["error"]["message"]


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_the_wrong_image_entirely_is_refused(ncp_env, monkeypatch, version):
    monkeypatch.setenv("NCR_API_VERSION", version)
    ncp_env.enqueue(200, OTHER_IMAGE[version])
    code, doc = check_json("--require-immutable", "prod/team/web")
    assert code == 3
    assert doc["images"][0]["error"]["type"] == "InvalidResponseError"


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_the_right_image_still_passes(ncp_env, monkeypatch, version):
    # the same answer naming what was asked is judged on it: immutable tags, so it passes
    monkeypatch.setenv("NCR_API_VERSION", version)
    name_key, registry_key = ("name", "namespace") if version == "v2" else ("name", "registryName")
    ncp_env.enqueue(200, dict(OTHER_IMAGE[version], **{name_key: "team/web", registry_key: "prod"}))
    code, doc = check_json("--require-immutable", "prod/team/web")
    assert (code, doc["images"][0]["verdict"]) == (0, "pass")


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_resolve_refuses_a_tag_answer_naming_another_tag(ncp_env, monkeypatch, version):
    monkeypatch.setenv("NCR_API_VERSION", version)
    ncp_env.enqueue(200, OTHER_TAG[version])
    result = run_cli("resolve", "prod/team/web:1.2.1")
    assert result.returncode == 3, result
    assert DIGEST not in result.stdout
    assert "'9.9.9'" in result.stdout + result.stderr
    # the same answer naming 1.2.1 is resolved to its digest
    ncp_env.enqueue(200, dict(OTHER_TAG[version], name="1.2.1"))
    result = run_cli("resolve", "prod/team/web:1.2.1")
    assert result.returncode == 0, result
    assert DIGEST in result.stdout
