"""Parity: the scenarios that matter give the same answers, verdicts and exit codes with API v2 and v3.

Each test runs once per version against the same emulator data and compares what a user sees with
what v2 gives. Only the fields one version alone has may differ: `namespace`/`private_id` and the
"Not used" fields (v2), `last_pulled`/`last_pulled_at` (v3), a tag's `creator`/`last_updater` (v2).
"""

from __future__ import annotations

import contextlib
import json

import pytest
from cli_runner import run_cli
from helpers import EXPECTED_IMAGE_OUTPUTS, FAST_OPTIONS, make_client, provider_server, without_request_id
from policy_helpers import (
    CONTAINER,
    DEPLOYMENT,
    IMMUTABLE,
    MUTABLE,
    analyze,
    configure,
    deployment,
    docker_container,
    resource_args,
    running_pack,
    summary,
)
from pulumi.runtime.proto import analyzer_pb2

from ncr_provider.cache import DiskCache
from ncr_provider.config import resolve_settings
from ncr_provider.emulator import NcrEmulator
from ncr_provider.errors import ImageNotFoundError, RegistryNotFoundError, TagNotFoundError
from ncr_provider.lookup import ImageLookup
from ncr_provider.names import parse_reference
from ncr_provider.policy import MUTABLE_TAGS_POLICY, LookupCache, mutable_image_tags_policies
from ncr_provider.sites import TAG_TYPE_TOKEN
from ncr_provider.testing import ProviderCallError

VERSIONS = ["v2", "v3"]
# v2's "Not used" fields (can_edit, ...) have no v3 counterpart either.
ONLY_IN = {"v2": {"namespace", "private_id", "can_edit", "is_automated", "is_private", "repository_type", "star_count",
                  "status", "user"},
           "v3": {"last_pulled", "last_pulled_at"}}
VERSION_ONLY = ONLY_IN["v2"] | ONLY_IN["v3"]
TAG_V2_ONLY = {"creator", "last_updater"}
WEB_1_2_1 = "sha256:16163e362774884fee5518ed9711677cbf3f6f2d728399b1857e63f1f2fe438c"
# team/web's tags were last pulled at 1717403600000 (the seed data's latest_pulled).
WEB_LAST_PULLED_AT = "2024-06-03T08:33:20Z"


@pytest.fixture(params=VERSIONS)
def api_version(request) -> str:
    return request.param


def common(values: dict, drop: set[str] = VERSION_ONLY) -> dict:
    return {k: v for k, v in values.items() if k not in drop}


def tag_dicts(tags) -> list[dict]:
    return [common(t.to_dict(), TAG_V2_ONLY) for t in tags]


# -- the client ---------------------------------------------------------------------------------

def test_get_image(emulator, api_version):
    with make_client(emulator, {"api_version": api_version}) as client, make_client(emulator) as v2:
        details = client.get_image("prod", "team/web").to_dict()
        reference = v2.get_image("prod", "team/web").to_dict()

    assert common(details) == common(reference)
    assert (details["pull_count"], details["tag_mutability_enabled"], details["last_updated_at"]) == (
        1284, False, "2024-06-03T07:33:20Z")
    if api_version == "v2":
        assert (details["namespace"], details["private_id"], details["last_pulled_at"]) == ("prod", "k7x2p9q4m1", None)
    else:
        assert (details["namespace"], details["private_id"], details["last_pulled_at"]) == (None, None, WEB_LAST_PULLED_AT)


@pytest.mark.parametrize("pagesize", [100, 7])
def test_tags_every_page_newest_first(emulator, api_version, pagesize):
    with make_client(emulator, {"api_version": api_version}) as client, make_client(emulator) as v2:
        tags = client.list_tags("prod", "team/api", pagesize=pagesize)
        reference = v2.list_tags("prod", "team/api")

    assert len(tags) == 45 and tag_dicts(tags) == tag_dicts(reference)
    assert len(emulator.requests) == 1 + (1 if pagesize == 100 else 7)


def test_tag_details(emulator, api_version):
    with make_client(emulator, {"api_version": api_version}) as client, make_client(emulator) as v2:
        tag = client.get_tag("prod", "team/web", "1.2.1")
        reference = v2.get_tag("prod", "team/web", "1.2.1")

    assert tag_dicts([tag]) == tag_dicts([reference])
    assert (tag.digest, tag.full_size, [p.architecture for p in tag.platforms]) == (WEB_1_2_1, 102028836,
                                                                                    ["amd64", "arm64"])


def test_missing_image_and_tag_raise_the_same_errors(emulator, api_version):
    with make_client(emulator, {"api_version": api_version}) as client:
        with pytest.raises(ImageNotFoundError) as image:
            client.get_image("prod", "team/gone")
        with pytest.raises(TagNotFoundError) as tag:
            client.get_tag("prod", "team/web", "9.9.9")
    assert str(image.value).startswith("Image prod/team/gone not found in region KR (HTTP 404 (NCP errorCode ")
    assert str(tag.value).startswith("Tag prod/team/web:9.9.9 not found in region KR (HTTP 404 (NCP errorCode ")
    assert image.value.request_id and tag.value.request_id


def test_registry_details(emulator, api_version):
    with make_client(emulator, {"api_version": api_version}) as client, make_client(emulator) as v2:
        details = client.get_registry("prod").to_dict()
        reference = v2.get_registry("prod").to_dict()
        with pytest.raises(RegistryNotFoundError):
            client.get_registry("nope")
    # v2's registry list does not report whether the public endpoint is enabled; v3 does
    assert common(details, {"public_endpoint_enabled"}) == common(reference, {"public_endpoint_enabled"})
    assert (details["private_id"], details["public_endpoint"]) == ("k7x2p9q4m1", "prod.kr.ncr.ntruss.com")
    assert details["public_endpoint_enabled"] is (True if api_version == "v3" else None)
    if api_version == "v3":  # one read of its own, not the whole list
        assert [r.raw_path for r in emulator.requests if "/api/v3/" in r.raw_path] == [
            "/api/v3/registries/prod", "/api/v3/registries/nope"]


# -- the CLI ------------------------------------------------------------------------------------

def test_cli_get_and_tags(ncp_env, api_version):
    got = run_cli("get", "prod/team/web", "-o", "json", "--api-version", api_version)
    reference = run_cli("get", "prod/team/web", "-o", "json")
    assert got.returncode == reference.returncode == 0
    assert common(json.loads(got.stdout)) == common(json.loads(reference.stdout))

    tags = run_cli("tags", "prod/team/web", "--api-version", api_version)
    assert tags.returncode == 0 and tags.stdout == run_cli("tags", "prod/team/web").stdout


CHECK_CASES = [
    # (arguments, exit code, verdicts in order)
    (["--require-immutable", "prod/team/web", "prod/hello/world"], 0, ["pass", "pass"]),
    (["prod/team/api"], 0, ["pass"]),
    (["--require-immutable", "prod/team/api", "prod/team/web"], 1, ["violation", "pass"]),
    (["prod/team/web", "prod/team/gone"], 1, ["pass", "violation"]),
    (["--max-tag-age", "1", "prod/team/web"], 1, ["violation"]),
    (["sgn-apps.sg.ncr.ntruss.com/shop/cart:1", "jp-media.jp.ncr.ntruss.com/media/transcoder"], 0, ["pass", "pass"]),
]


@pytest.mark.parametrize(("args", "code", "verdicts"), CHECK_CASES)
def test_cli_check_every_outcome(ncp_env, api_version, args, code, verdicts):
    result = run_cli("check", *args, "-o", "json", "--api-version", api_version)
    reference = run_cli("check", *args, "-o", "json")

    assert result.returncode == reference.returncode == code, result.stderr
    doc, ref = json.loads(result.stdout), json.loads(reference.stdout)
    assert [i["verdict"] for i in doc["images"]] == [i["verdict"] for i in ref["images"]] == verdicts
    assert doc["summary"] == ref["summary"]
    for image, ref_image in zip(doc["images"], ref["images"], strict=True):
        if image.get("details") is not None:
            assert common(image["details"]) == common(ref_image["details"])
        if image.get("error") is None:
            assert image.get("reason") == ref_image.get("reason")


def test_cli_check_that_cannot_judge_exits_3_in_both(ncp_env, api_version):
    for _ in range(4):
        ncp_env.enqueue(status=429, headers={"Retry-After": "0"})
    result = run_cli("check", "prod/team/web", "-o", "json", "--api-version", api_version)
    assert result.returncode == 3
    assert json.loads(result.stdout)["images"][0]["verdict"] == "error"


def test_cli_check_table_rows_are_identical(ncp_env, api_version):
    args = ["check", "--require-immutable", "prod/team/web", "prod/team/api", "prod/team/gone"]
    result = run_cli(*args, "--api-version", api_version)
    reference = run_cli(*args)
    assert result.returncode == reference.returncode == 1
    # the missing image's line quotes the API's own words; every other line is the same
    assert [line for line in result.stdout.splitlines() if "gone" not in line] == [
        line for line in reference.stdout.splitlines() if "gone" not in line]


# -- the provider, through its real gRPC server -------------------------------------------------

@pytest.fixture(scope="module")
def grpc_emu():
    with NcrEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="module", params=VERSIONS)
def provider(request, grpc_emu, tmp_path_factory):
    """A provider process whose stack config sets ncr:apiVersion."""
    config = grpc_emu.stack_config(**{"ncr:apiVersion": request.param})
    with provider_server(tmp_path_factory.mktemp("home"), config) as server:
        yield request.param, server


def test_provider_read_through_grpc(provider, grpc_emu):
    version, server = provider
    before = len(grpc_emu.requests)
    _, outputs = server.read("prod/team/web", {"registry": "prod", "image_name": "team/web", "include_tags": True})

    assert common(outputs, VERSION_ONLY | {"tags", "latest_tag", "include_tags"}) == EXPECTED_IMAGE_OUTPUTS
    assert (outputs["tags"], outputs["latest_tag"]) == (["1.2.1", "1.2.0", "1.1.0", "1.0.0"], "1.2.1")
    if version == "v2":
        assert (outputs["namespace"], outputs["private_id"], outputs.get("last_pulled_at")) == ("prod", "k7x2p9q4m1", None)
    else:
        assert (outputs.get("namespace"), outputs.get("private_id")) == (None, None)
        assert (outputs["last_pulled"], outputs["last_pulled_at"]) == (1717403600000.0, WEB_LAST_PULLED_AT)
    prefix = "/ncr/api/v2/repositories/" if version == "v2" else "/api/v3/registries/"
    assert all(r.raw_path.startswith(prefix) for r in grpc_emu.requests[before:])


def test_provider_tag_read_through_grpc(provider):
    _, server = provider
    _, outputs = server.read("prod/team/web:1.2.1", {"registry": "prod", "image_name": "team/web", "tag": "1.2.1"},
                             name="web-tag", type_=TAG_TYPE_TOKEN)
    assert (outputs["digest"], outputs["full_size"], outputs["last_updated_at"]) == (
        WEB_1_2_1, 102028836.0, "2024-06-03T07:33:20Z")
    assert outputs["image_ref_by_digest"] == f"prod.kr.ncr.ntruss.com/team/web@{WEB_1_2_1}"
    assert [(p["architecture"], p["size"], p["latest_pulled"]) for p in outputs["platforms"]][1] == (
        "arm64", 51846721.0, 1717403600000.0)


def test_provider_missing_image_is_the_same_sentence_but_for_the_apis_words(provider):
    _, server = provider
    with pytest.raises(ProviderCallError) as caught:
        server.read("prod/nope", {"registry": "prod", "image_name": "nope"})
    assert caught.value.last_line.startswith(
        "ncr_provider.errors.ImageNotFoundError: Image prod/nope not found in region KR (HTTP 404 (NCP errorCode ")
    assert ", request id " in caught.value.last_line


def test_per_resource_api_version_input_overrides_the_stack(provider, grpc_emu):
    version, server = provider
    other = "v3" if version == "v2" else "v2"
    before = len(grpc_emu.requests)
    _, outputs = server.read("prod/team/web", {"registry": "prod", "image_name": "team/web", "api_version": other},
                             name="other-version")
    assert common(outputs, VERSION_ONLY | {"api_version"}) == EXPECTED_IMAGE_OUTPUTS
    assert outputs["api_version"] == other
    assert grpc_emu.requests[before].raw_path.startswith("/api/v3/" if other == "v3" else "/ncr/api/v2/")


def test_provider_check_names_a_bad_api_version_input(provider):
    _, server = provider
    _, failures = server.check({}, {"registry": "prod", "image_name": "team/web", "api_version": "v7"})
    assert failures == [("api_version", "Unknown NCR API version 'v7': valid versions are v2, v3")]


# -- the policy pack ----------------------------------------------------------------------------

def test_policy_verdicts(ncp_env, api_version, monkeypatch):
    monkeypatch.setenv("NCR_API_VERSION", api_version)
    cache = LookupCache(options=FAST_OPTIONS)
    main, _ = mutable_image_tags_policies(lookups=cache)
    try:
        violations: list[str] = []
        for image in (MUTABLE, IMMUTABLE, "prod.kr.ncr.ntruss.com/team/gone:1"):
            main.validate(resource_args(deployment(image)), lambda message, urn=None: violations.append(message))
    finally:
        cache.close()
    assert len(violations) == 2
    assert "NCR image prod/team/api (region KR) allows mutable tags" in violations[0]
    assert without_request_id(violations[1]).startswith(
        "Could not check NCR image prod/team/gone (region KR) at spec.template.spec.containers[0].image: "
        "Image prod/team/gone not found in region KR (HTTP 404")
    prefix = "/ncr/api/v2/" if api_version == "v2" else "/api/v3/"
    assert ncp_env.requests and all(r.raw_path.startswith(prefix) for r in ncp_env.requests)


def test_policy_pack_process_judges_alike(api_version, tmp_path):
    with NcrEmulator() as emu:
        with contextlib.closing(running_pack(emu, tmp_path, PULUMI_CONFIG=json.dumps({"ncr:apiVersion": api_version}))) as pack:
            stub = next(pack)
            configure(stub, emu)
            mutable = analyze(stub, DEPLOYMENT, deployment(MUTABLE), "mutable")
            immutable = analyze(stub, CONTAINER, docker_container(IMMUTABLE), "immutable")
        prefix = "/ncr/api/v2/" if api_version == "v2" else "/api/v3/"
        assert emu.requests and all(r.raw_path.startswith(prefix) for r in emu.requests)
    assert summary(mutable) == [(MUTABLE_TAGS_POLICY, analyzer_pb2.MANDATORY)]
    assert "NCR image prod/team/api (region KR) allows mutable tags" in mutable[0].message
    assert immutable == []


# -- the answer cache ---------------------------------------------------------------------------

def test_cached_answers_come_back_equal_and_each_version_keeps_its_own(ncp_env, tmp_path):
    ref = parse_reference("prod.kr.ncr.ntruss.com/team/web:1.2.1")

    def run(version: str):
        settings = resolve_settings({"endpoint": ncp_env.url, "api_version": version})
        with ImageLookup(settings, cache=DiskCache(tmp_path / "cache"), options=FAST_OPTIONS) as lookup:
            return lookup.lookup(ref), lookup.lookup_tags(ref)

    fresh_v3 = run("v3")
    assert len(ncp_env.requests) == 2
    # a v2 run is not answered with v3's entries (they lack namespace and private_id) ...
    fresh_v2 = run("v2")
    assert len(ncp_env.requests) == 4 and fresh_v2[0].namespace == "prod"
    # ... and each version's second run is answered from disk, equal to what NCR said
    assert run("v3") == fresh_v3 and run("v2") == fresh_v2
    assert len(ncp_env.requests) == 4
    assert fresh_v3[0].last_pulled_at == WEB_LAST_PULLED_AT


@pytest.mark.parametrize("args", [[], ["--max-tag-age", "3000"], ["--registry", "prod", "-o", "json"]])
def test_cli_audit(ncp_env, api_version, args):
    result = run_cli("audit", *args, "--api-version", api_version)
    reference = run_cli("audit", *args)
    assert result.returncode == reference.returncode == 1, result.stderr
    if "json" in args:
        doc, ref = json.loads(result.stdout), json.loads(reference.stdout)
        assert [(i["image"], i["verdict"]) for i in doc["images"]] == [(i["image"], i["verdict"]) for i in ref["images"]]
        assert doc["summary"] == ref["summary"]
    else:
        assert result.stdout == reference.stdout
