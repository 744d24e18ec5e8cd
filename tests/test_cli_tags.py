"""`ncr-image tags`, `resolve` and `check --max-tag-age`, run as a separate process against the emulator."""

from __future__ import annotations

import json
import re

import pytest
from cli_runner import run_cli
from helpers import without_request_id

from ncr_provider.signing import now_ms

DAY_MS = 24 * 60 * 60 * 1000
WEB_1_2_1 = "sha256:16163e362774884fee5518ed9711677cbf3f6f2d728399b1857e63f1f2fe438c"


def tag_requests(emulator) -> list[str]:
    return [r.raw_path for r in emulator.requests if "/tags" in r.path]


# -- tags -----------------------------------------------------------------------------------------

def test_tags_lists_newest_first_with_short_digests_sizes_and_platforms(ncp_env):
    result = run_cli("tags", "prod/team/web")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TAG", "DIGEST", "SIZE", "LAST", "UPDATED", "PLATFORMS"]
    assert [line.split()[0] for line in lines[1:]] == ["1.2.1", "1.2.0", "1.1.0", "1.0.0"]
    assert re.fullmatch(r"1\.2\.1\s+sha256:16163e362774\s+102\.0 MB\s+2024-06-03T07:33:20Z\s+linux/amd64, linux/arm64/v8",
                        lines[1])
    assert result.stderr == ""


def test_tags_json_reads_every_page_of_45_tags(ncp_env):
    result = run_cli("tags", "prod.kr.ncr.ntruss.com/team/api:latest", "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {k: doc[k] for k in ("image", "site", "region", "count")} == {
        "image": "prod/team/api", "site": "public", "region": "KR", "count": 45}
    assert len({t["name"] for t in doc["tags"]}) == 45
    assert doc["tags"][0]["name"] == "build-144" and doc["tags"][-1]["name"] == "build-101"
    assert doc["tags"][0]["platforms"][0]["architecture"] == "amd64"
    assert doc["tags"][0]["last_updated_at"] == "2024-06-13T00:00:00Z"
    assert tag_requests(ncp_env) == ["/ncr/api/v2/repositories/prod/team%2Fapi/tags?page=1&pagesize=100"]


def test_tags_of_an_image_without_tags_says_so(ncp_env):
    ncp_env.add_image("prod", "empty/repo")
    result = run_cli("tags", "prod/empty/repo")
    assert (result.returncode, result.stdout) == (0, "No tags in prod/empty/repo (KR).\n")


def test_tags_of_a_missing_image_exits_3_and_a_bad_name_exits_2(ncp_env):
    missing = run_cli("tags", "prod/team/gone")
    assert missing.returncode == 3 and missing.stdout == ""
    assert without_request_id(missing.stderr) == ("ncr-image: error: Image prod/team/gone not found in region KR "
                              "(HTTP 404 (NCP errorCode 300): Not Found).\n")
    sent = len(ncp_env.requests)
    bad = run_cli("tags", "prod/../admin")
    assert bad.returncode == 2 and len(ncp_env.requests) == sent


# -- resolve --------------------------------------------------------------------------------------

def test_resolve_prints_the_reference_by_digest_alone(ncp_env):
    result = run_cli("resolve", "prod/team/web:1.2.1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"prod.kr.ncr.ntruss.com/team/web@{WEB_1_2_1}\n"
    assert result.stderr == ""
    assert tag_requests(ncp_env) == ["/ncr/api/v2/repositories/prod/team%2Fweb/tags/1.2.1"]


@pytest.mark.parametrize("ref,host", [
    ("sgn-apps.sg.ncr.ntruss.com/shop/cart:3.1.0", "sgn-apps.sg.ncr.ntruss.com/shop/cart@"),
    ("gov-portal.ncr.gov-ntruss.com/portal/web:2024.06.1", "gov-portal.ncr.gov-ntruss.com/portal/web@"),
])
def test_resolve_keeps_the_region_and_site_of_the_reference(ncp_env, ref, host):
    result = run_cli("resolve", ref)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(re.escape(host) + r"sha256:[0-9a-f]{64}\n", result.stdout)


def test_resolve_follows_a_moved_tag(ncp_env):
    ncp_env.add_tag("prod", "team/api", "latest", digest="sha256:" + "cd" * 32)
    result = run_cli("resolve", "prod/team/api:latest")
    assert result.stdout == "prod.kr.ncr.ntruss.com/team/api@sha256:" + "cd" * 32 + "\n"


@pytest.mark.parametrize("ref,message", [
    ("prod/team/web", "ncr-image: error: prod/team/web names no tag: resolve takes REF:TAG, e.g. prod/team/web:1.0.0"),
    (f"prod/team/web@{WEB_1_2_1}",
     f"ncr-image: error: prod/team/web@{WEB_1_2_1} is already pinned by digest: resolve takes REF:TAG"),
    ("prod/team/web:-x", "ncr-image: error: Invalid image tag '-x': a tag is 1-128 letters, digits, '_', '.' or '-', "
                         "not starting with '.' or '-'"),
    ("docker.io/library/nginx:1.27", None),
])
def test_resolve_bad_usage_exits_2_and_sends_nothing(ncp_env, ref, message):
    result = run_cli("resolve", ref)
    assert result.returncode == 2 and result.stdout == ""
    if message:
        assert result.stderr.splitlines() == [message]
    assert ncp_env.requests == []


def test_resolve_of_a_missing_tag_exits_3_with_one_line(ncp_env):
    result = run_cli("resolve", "prod/team/web:9.9.9")
    assert (result.returncode, result.stdout) == (3, "")
    assert without_request_id(result.stderr).splitlines() == [
        "ncr-image: error: Tag prod/team/web:9.9.9 not found in region KR (HTTP 404 (NCP errorCode 300): Not Found)."]


# -- check --max-tag-age ---------------------------------------------------------------------------

def test_max_tag_age_fails_stale_images_and_passes_fresh_ones(ncp_env):
    # given hello/world freshly tagged 3 days ago; team/web's newest tag is from 2024
    ncp_env.add_tag("prod", "hello/world", "2.0", last_updated=now_ms() - 3 * DAY_MS)
    result = run_cli("check", "--max-tag-age", "30", "prod/hello/world", "prod/team/web")
    assert result.returncode == 1, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:3]}
    assert rows["prod/hello/world"].endswith("PASS  exists; tags are immutable; newest tag 2.0 is 3 days old")
    assert re.search(r"FAIL  newest tag 1\.2\.1 is \d+ days old \(over 30; updated 2024-06-03T07:33:20Z\)$",
                     rows["prod/team/web"])
    assert result.stdout.splitlines()[-1] == "2 images checked: 1 passed, 1 violation, 0 could not be checked."


def test_max_tag_age_reads_each_tag_list_once_alongside_the_details(ncp_env):
    # given one image named three ways and a second image
    refs = ["prod/team/api", "prod.kr.ncr.ntruss.com/team/api:latest", "prod.kr.ncr.ntruss.com/team/api:build-101",
            "prod/team/web"]
    code = run_cli("check", "--max-tag-age", "100000", *refs).returncode
    assert code == 0
    # then each image's details and its whole tag list were read once
    assert sorted(r.raw_path for r in ncp_env.requests) == [
        "/ncr/api/v2/repositories/prod/team%2Fapi", "/ncr/api/v2/repositories/prod/team%2Fapi/tags?page=1&pagesize=100",
        "/ncr/api/v2/repositories/prod/team%2Fweb", "/ncr/api/v2/repositories/prod/team%2Fweb/tags?page=1&pagesize=100"]


def test_without_max_tag_age_no_tag_list_is_read(ncp_env):
    assert run_cli("check", "prod/team/api", "prod/team/web").returncode == 0
    assert tag_requests(ncp_env) == []


def test_max_tag_age_json_names_the_newest_tag_and_flags_an_untagged_image(ncp_env):
    ncp_env.add_image("prod", "empty/repo", tag_mutability_enabled=False)
    result = run_cli("check", "--max-tag-age", "100000", "prod/team/web", "prod/empty/repo", "-o", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["max_tag_age_days"] == 100000
    web, empty = doc["images"]
    assert (web["verdict"], web["newest_tag"]["name"], web["newest_tag"]["digest"]) == ("pass", "1.2.1", WEB_1_2_1)
    assert (empty["verdict"], empty["reason"], empty["newest_tag"]) == ("violation", "has no tags, so no recent one", None)


def test_an_unreadable_tag_list_is_an_error_exit_3_saying_why(ncp_env):
    # given one worker, so the tag list (submitted first) meets the canned 403 and the details come after
    ncp_env.enqueue(status=403, body={"error": {"errorCode": "230", "message": "Forbidden"}})
    result = run_cli("check", "--max-tag-age", "30", "prod/team/web", "--concurrency", "1", "-o", "json")
    assert result.returncode == 3, result.stdout
    [image] = json.loads(result.stdout)["images"]
    assert (image["verdict"], image["reason"]) == ("error", "tags could not be checked (HTTP 403)")
    assert image["details"]["name"] == "team/web"
    assert image["error"]["type"] == "PermissionDeniedError"
    assert image["error"]["message"].startswith(f"Access key {ncp_env.access_key[:4]}**** may not read tags of image "
                                                "prod/team/web (HTTP 403 (NCP errorCode 230): Forbidden).")
