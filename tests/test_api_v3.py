"""NCR API v3: the setting, the client's v3 dialect (paths, envelopes, errors) and the emulator's v3 wire format.

Everything runs over real HTTP against the emulator; list envelopes NCP has not confirmed are
served as canned answers, so the client's defensive parsing is tested on each shape it accepts.
"""

from __future__ import annotations

import json

import pytest
import requests
from cli_runner import run_cli
from helpers import NCP_ENV_VARS, make_client, without_request_id
from secrets_helpers import ACCESS_KEY, MASKED, SECRET, WRONG_SECRET, Captured, cli_env
from secrets_helpers import run_cli as secrets_run_cli

from ncr_provider import signing
from ncr_provider.client import NcrClient
from ncr_provider.config import Settings, resolve_settings
from ncr_provider.emulator import NcrEmulator
from ncr_provider.errors import (
    AuthenticationError,
    ConfigurationError,
    ImageNotFoundError,
    InvalidResponseError,
    NcrApiError,
    NcrError,
    PermissionDeniedError,
    TagNotFoundError,
)
from ncr_provider.model import ms_from_rfc3339
from ncr_provider.testing import ProviderCallError, ProviderServer

V3 = "/api/v3"
TAG_DIGEST = "sha256:" + "a" * 64


def v3_client(emulator, **options) -> NcrClient:
    return make_client(emulator, {"api_version": "v3"}, **options)


def enqueue_ncp_error(emulator, status: int, code: str, message: str, request_id: str, **more) -> None:
    """Queue NCP's error envelope (errorCode, message, and any `more` fields) with its request id header."""
    emulator.enqueue(status, {"error": {"errorCode": code, "message": message, **more}},
                     headers={"x-ncp-request-id": request_id})


def signed_get(emu, target: str, **headers: str) -> requests.Response:
    ts = str(signing.now_ms())
    signed = {signing.TIMESTAMP_HEADER: ts, signing.ACCESS_KEY_HEADER: emu.access_key,
              signing.SIGNATURE_HEADER: signing.sign("GET", target, ts, emu.access_key, emu.secret_key)}
    return requests.get(emu.url + target, headers={**signed, **headers}, timeout=5)


# -- the setting --------------------------------------------------------------------------------

def test_api_version_defaults_to_v2_and_comes_from_every_usual_source(monkeypatch):
    assert resolve_settings({}).api_version == "v2"
    assert resolve_settings({}, {"ncr:apiVersion": "v3"}).api_version == "v3"
    monkeypatch.setenv("NCR_API_VERSION", "V3")
    assert resolve_settings({}).api_version == "v3"
    assert resolve_settings({"api_version": "v2"}).api_version == "v2"  # explicit beats the environment


@pytest.mark.parametrize(("region", "host"), [
    ("KR", "https://kr-ncr.apigw.ntruss.com"), ("SGN", "https://sg-ncr.apigw.ntruss.com"),
    ("JPN", "https://jp-ncr.apigw.ntruss.com"),
])
def test_v3_has_a_host_per_region_and_one_prefix(region, host):
    settings = resolve_settings({"api_version": "v3", "region": region})
    assert (settings.host, settings.prefix) == (host, "/api/v3")
    v2 = resolve_settings({"region": region})
    assert v2.host == "https://ncr.apigw.ntruss.com" and v2.prefix.endswith("/v2")


def test_endpoint_override_replaces_the_host_in_both_versions():
    for version in ("v2", "v3"):
        settings = resolve_settings({"api_version": version, "endpoint": "https://ncr.example.test:8443"})
        assert settings.host == "https://ncr.example.test:8443"


def test_v3_on_gov_is_a_configuration_error_naming_the_site(monkeypatch):
    monkeypatch.setenv("NCLOUD_SITE", "gov")
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings({"api_version": "v3"})
    assert str(caught.value) == ("NCR API v3 is not available on site gov: NCP documents only API v2 there. "
                                 "Use api_version v2 (ncr:apiVersion, NCR_API_VERSION or --api-version).")
    # a client built from settings derived another way refuses too, before anything is sent
    with pytest.raises(ConfigurationError, match="site gov"):
        NcrClient(Settings(site="gov", region="KR", api_version="v3", access_key="A", secret_key="S"))


def test_unknown_api_version_is_refused():
    with pytest.raises(ConfigurationError, match=r"Unknown NCR API version 'v4': valid versions are v2, v3"):
        resolve_settings({"api_version": "v4"})


def test_cli_api_version_option_is_checked_before_anything_is_sent(ncp_env):
    result = run_cli("get", "prod/team/web", "--api-version", "v9")
    assert (result.returncode, result.stdout) == (2, "")
    assert "Unknown NCR API version 'v9'" in result.stderr
    result = run_cli("get", "gov-portal.ncr.gov-ntruss.com/portal/web", "--site", "gov", "--api-version", "v3")
    assert result.returncode == 2 and "not available on site gov" in result.stderr
    assert ncp_env.requests == []


def test_check_of_a_gov_reference_under_v3_cannot_be_checked_and_says_why(ncp_env):
    result = run_cli("check", "gov-portal.ncr.gov-ntruss.com/portal/web", "prod/team/web", "--api-version", "v3",
                     "-o", "json")
    assert result.returncode == 3  # fail closed: the gov image is not judged, the other one is
    gov, prod = json.loads(result.stdout)["images"]
    assert (gov["verdict"], prod["verdict"]) == ("error", "pass")
    assert gov["error"]["message"].startswith("NCR API v3 is not available on site gov")
    assert all(r.raw_path.startswith("/api/v3/") for r in ncp_env.requests)


# -- what the client sends ----------------------------------------------------------------------

def test_v3_client_sends_v3_paths_signed_with_english_messages_asked_for(emulator):
    with v3_client(emulator) as client:
        client.get_image("prod", "team/web")
        client.get_tag("prod", "team/web", "1.2.1")
        tags = client.list_tags("prod", "team/web", pagesize=3)
    raw = [r.raw_path for r in emulator.requests]
    assert raw[:3] == [f"{V3}/registries/prod/images/team%2Fweb", f"{V3}/registries/prod/images/team%2Fweb/tags/1.2.1",
                       f"{V3}/registries/prod/images/team%2Fweb/tags?pageNo=0&pageSize=3&sort=name%2Casc"]
    assert raw[3] == f"{V3}/registries/prod/images/team%2Fweb/tags?pageNo=1&pageSize=3&sort=name%2Casc"
    assert len(raw) == 4 and len(tags) == 4  # 4 tags in pages of 3: two pages, counted from 0
    assert all(r.status == 200 and r.headers["x-ncp-lang"] == "en-US" for r in emulator.requests)


def test_pagesize_over_v3s_limit_is_refused_before_sending(emulator):
    with v3_client(emulator) as client, pytest.raises(ValueError, match="from 1 to 1000"):
        client.list_tags("prod", "team/web", pagesize=1001)
    assert emulator.requests == []


def test_v3_registry_and_image_lists_keep_the_v2_keys(emulator):
    with v3_client(emulator) as v3, make_client(emulator) as v2:
        registries = {r["name"]: r for r in v3.list_registries(pagesize=2)}
        images = list(v3.list_images("prod"))
        v2_registries = {r["name"]: r for r in v2.list_registries()}
    assert set(registries) == set(v2_registries) == {"ncpdocker", "prod"}  # KR's, as v2 lists them
    prod = registries["prod"]
    for key in ("bucket", "created", "end_point", "private_end_point", "private_id", "public_reg_status",
                "scan_on_push_enabled", "status"):
        assert prod[key] == v2_registries["prod"][key], key
    assert [i["name"] for i in images] == ["hello/world", "team/api", "team/web"]
    assert images[2]["pull_count"] == 1284 and images[2]["last_updated"] == 1717400000000


# -- the unconfirmed list envelope --------------------------------------------------------------

def _tag(name: str) -> dict:
    return {"name": name, "digest": TAG_DIGEST, "fullSize": 10, "images": [], "updatedDateTime": "2026-08-24T07:12:33Z"}


@pytest.mark.parametrize("pages", [
    [[_tag("a"), _tag("b")], [_tag("c")]],                                                  # a bare list
    [{"items": [_tag("a"), _tag("b")], "pagination": {"pageNo": 0, "totalPages": 2}},
     {"items": [_tag("c")], "pagination": {"pageNo": 1, "totalPages": 2}}],
    [{"content": [_tag("a"), _tag("b")], "totalElements": 3}, {"content": [_tag("c")], "totalElements": 3}],
    [{"tags": [_tag("a"), _tag("b")], "hasNext": True}, {"tags": [_tag("c")], "hasNext": False}],
    [{"data": [_tag("a"), _tag("b")], "page": {"last": False}}, {"data": [_tag("c")], "page": {"last": True}}],
])
def test_every_likely_envelope_is_paged_through(emulator, pages):
    for body in pages:
        emulator.enqueue(200, body)
    with v3_client(emulator) as client:
        tags = client.list_tags("prod", "team/web", pagesize=2)
    assert sorted(t.name for t in tags) == ["a", "b", "c"]
    assert emulator.pending == 0 and len(emulator.requests) == 2


@pytest.mark.parametrize(("body", "reason"), [
    ({"registries": [], "total": 0, "next": None},
     "no list of tags in the page: expected a list under one of items, content, contents, data, results, list, "
     "tags; found registries (array), total (number), next (null)"),
    ({"items": [_tag("a")], "pagination": {"pageNo": 1}}, "asked for pageNo 0, the answer is pageNo 1"),
    ({"items": [_tag("a")], "hasNext": "yes"}, "hasNext must be true or false, got string"),
    ("[1, 2]", "each entry of 'images'"),
])
def test_an_unrecognised_envelope_is_an_invalid_response_naming_what_was_found(emulator, body, reason):
    emulator.enqueue(200, body)
    with v3_client(emulator) as client, pytest.raises(InvalidResponseError) as caught:
        client.list_tags("prod", "team/web")
    if reason.startswith("each"):
        assert "tags of image prod/team/web" in str(caught.value)
    else:
        assert str(caught.value) == f"NCR returned an invalid response for tags of image prod/team/web: {reason}"


def test_a_v3_time_that_is_not_rfc_3339_is_an_invalid_response_naming_the_field(emulator):
    emulator.enqueue(200, {"name": "team/web", "registryName": "prod", "pullCount": 1,
                           "lastPushedDateTime": "2026-08-24 07:12", "tagMutabilityEnabled": False})
    with v3_client(emulator) as client, pytest.raises(InvalidResponseError) as caught:
        client.get_image("prod", "team/web")
    assert str(caught.value) == ("NCR returned an invalid response for image prod/team/web: lastPushedDateTime must "
                                 "be an RFC 3339 date-time, got '2026-08-24 07:12'")


@pytest.mark.parametrize(("text", "ms"), [
    ("2026-08-24T07:12:33Z", 1787555553000), ("2026-08-24T16:12:33+09:00", 1787555553000),
    ("2026-08-24t07:12:33.5z", 1787555553500), ("2026-08-24T07:12:33.123456789Z", 1787555553123),
])
def test_rfc_3339_times_become_epoch_milliseconds(text, ms):
    assert ms_from_rfc3339(text) == ms


@pytest.mark.parametrize("text", ["2026-08-24", "2026-08-24T07:12:33", "2026-13-24T07:12:33Z", "1787555553000"])
def test_text_that_is_not_rfc_3339_is_refused(text):
    with pytest.raises(ValueError):
        ms_from_rfc3339(text)


# -- errors -------------------------------------------------------------------------------------

def test_v3_not_found_keeps_code_message_and_request_id(emulator):
    with v3_client(emulator) as client, pytest.raises(ImageNotFoundError) as caught:
        client.get_image("prod", "team/gone")
    error = caught.value
    request_id = error.request_id
    assert len(request_id) == 36 and error.error_code == "ResourceNotFound"
    assert str(error) == (f"Image prod/team/gone not found in region KR (HTTP 404 (NCP errorCode ResourceNotFound): "
                          f"The specified resource could not be found. Image 'team/gone' not found in registry 'prod', "
                          f"request id {request_id}).")


def test_v3_missing_tag_is_tag_not_found(emulator):
    with v3_client(emulator) as client, pytest.raises(TagNotFoundError) as caught:
        client.get_tag("prod", "team/web", "9.9.9")
    assert without_request_id(str(caught.value)).startswith("Tag prod/team/web:9.9.9 not found in region KR (HTTP 404")


def test_v3_not_found_answered_as_400_is_still_not_found(emulator):
    # UNCONFIRMED in NCP's docs: the platform's standard says a missing single item may be a 400.
    enqueue_ncp_error(emulator, 400, "NotFound", "No such image.", "0f7c1b9e-2b8e-4a51-9d7c-3c1f6f0f2a11")
    with v3_client(emulator) as client, pytest.raises(ImageNotFoundError) as caught:
        client.get_image("prod", "team/web")
    assert caught.value.request_id == "0f7c1b9e-2b8e-4a51-9d7c-3c1f6f0f2a11"


def test_v3_invalid_parameter_shows_its_field_errors(emulator):
    enqueue_ncp_error(emulator, 400, "InvalidParameter", "The specified parameter is invalid.", "req-1234-5678",
                      fieldErrors=[{"field": "pageSize", "message": "must be at most 1000"}])
    with v3_client(emulator) as client, pytest.raises(NcrApiError) as caught:
        client.list_tags("prod", "team/web")
    assert type(caught.value) is NcrApiError
    assert str(caught.value) == ("NCR request for tags of image prod/team/web failed with HTTP 400 "
                                 "(NCP errorCode InvalidParameter): The specified parameter is invalid. "
                                 "pageSize: must be at most 1000 (after 1 attempt(s), request id req-1234-5678)")


def test_request_id_header_is_kept_in_v2_too(emulator):
    enqueue_ncp_error(emulator, 403, "230", "Forbidden", "v2-req-0001")
    with make_client(emulator) as client, pytest.raises(PermissionDeniedError) as caught:
        client.get_image("prod", "team/web")
    assert caught.value.request_id == "v2-req-0001"
    assert "(HTTP 403 (NCP errorCode 230): Forbidden, request id v2-req-0001)" in str(caught.value)


def test_a_bad_signature_on_v3_names_no_secret_and_carries_the_request_id(emulator):
    client = make_client(emulator, {"secret_key": "not-the-secret-key-0000", "api_version": "v3"})
    with client, pytest.raises(AuthenticationError) as caught:
        client.get_image("prod", "team/web")
    text = str(caught.value)
    assert "not-the-secret-key-0000" not in text and emulator.secret_key not in text
    assert caught.value.request_id and f"request id {caught.value.request_id}" in text


# -- the emulator's v3 wire format --------------------------------------------------------------

def test_emulator_v3_image_detail_is_camel_case_rfc_3339_with_a_request_id(emulator):
    response = signed_get(emulator, f"{V3}/registries/prod/images/team%2Fweb")
    assert response.status_code == 200 and len(response.headers["x-ncp-request-id"]) == 36
    body = response.json()
    assert list(body) == ["name", "registryName", "description", "pullCount", "lastPushedDateTime",
                          "lastPulledDateTime", "fullDescription", "tagMutabilityEnabled"]
    assert (body["registryName"], body["pullCount"], body["tagMutabilityEnabled"]) == ("prod", 1284, False)
    assert body["lastPushedDateTime"] == "2024-06-03T07:33:20Z"


def test_emulator_v3_pages_from_zero_and_sorts(emulator):
    first = signed_get(emulator, f"{V3}/registries/prod/images/team%2Fapi/tags?pageSize=20&sort=name,desc").json()
    assert first["pagination"] == {"pageNo": 0, "pageSize": 20, "totalElements": 45, "totalPages": 3}
    names = [t["name"] for t in first["items"]]
    assert names == sorted(names, reverse=True)
    last = signed_get(emulator, f"{V3}/registries/prod/images/team%2Fapi/tags?pageNo=2&pageSize=20").json()
    assert len(last["items"]) == 5


@pytest.mark.parametrize(("query", "field"), [
    ("pageNo=-1", "pageNo"), ("pageSize=0", "pageSize"), ("pageSize=1001", "pageSize"), ("pageNo=x", "pageNo"),
    ("sort=pullCount,asc", "sort"), ("sort=name,up", "sort"),
])
def test_emulator_v3_refuses_bad_paging_with_invalid_parameter(emulator, query, field):
    response = signed_get(emulator, f"{V3}/registries/prod/images?{query}")
    assert response.status_code == 400 and response.headers["x-ncp-request-id"]
    error = response.json()["error"]
    assert (error["errorCode"], error["message"]) == ("InvalidParameter", "The specified parameter is invalid.")
    assert error["fieldErrors"][0]["field"] == field


def test_emulator_v3_holds_names_to_v3_patterns_and_tags_to_names(emulator):
    bad = signed_get(emulator, f"{V3}/registries/Prod/images/team%2Fweb").json()["error"]
    assert bad["fieldErrors"][0]["field"] == "registryName"
    digest = signed_get(emulator, f"{V3}/registries/prod/images/team%2Fweb/tags/sha256%3A{'0' * 64}")
    assert digest.status_code == 400  # a digest is no v3 tagName


def test_emulator_v3_detail_follows_x_ncp_lang_while_message_stays_english(emulator):
    for lang, detail in (("ko-KR", "요청한 리소스를 찾을 수 없습니다."), ("ja-JP", "指定されたリソースが見つかりません。")):
        error = signed_get(emulator, f"{V3}/registries/prod/images/nope", **{"X-NCP-LANG": lang}).json()["error"]
        assert (error["errorCode"], error["message"], error["detail"]) == (
            "ResourceNotFound", "The specified resource could not be found.", detail)
    refused = signed_get(emulator, f"{V3}/registries/prod/images/nope", **{"X-NCP-LANG": "fr-FR"})
    assert refused.status_code == 400 and refused.json()["error"]["fieldErrors"][0]["field"] == "X-NCP-LANG"


def test_emulator_v3_reads_the_region_from_the_host_and_has_no_gov(emulator):
    sg = {r["name"] for r in signed_get(emulator, f"{V3}/registries", Host="sg-ncr.apigw.ntruss.com").json()["items"]}
    kr = {r["name"] for r in signed_get(emulator, f"{V3}/registries", Host="kr-ncr.apigw.ntruss.com").json()["items"]}
    local = {r["name"] for r in signed_get(emulator, f"{V3}/registries").json()["items"]}
    assert "sgn-apps" in sg and "sgn-apps" not in kr and "prod" not in sg
    # at its own address it finds any public registry by name, and lists KR's; gov never has v3
    assert local == kr
    assert signed_get(emulator, f"{V3}/registries/sgn-apps/images/shop%2Fcart").status_code == 200
    assert not {"gov-portal", "gov-archive"} & (local | sg | kr)


def test_emulator_v3_gateway_errors_keep_the_gateway_body_with_a_request_id(emulator):
    response = requests.get(emulator.url + f"{V3}/registries", timeout=5)
    assert response.status_code == 401 and response.headers["x-ncp-request-id"]
    assert response.json()["error"]["errorCode"] == "200"


def test_emulator_v3_serves_the_registry_detail(emulator):
    body = signed_get(emulator, f"{V3}/registries/prod").json()
    assert body["privateEndpointHost"] == "k7x2p9q4m1.kr.private-ncr.ntruss.com"
    assert json.dumps(body).count("DateTime") == 1


# -- secrets on the v3 paths --------------------------------------------------------------------

def test_the_secret_key_reaches_nothing_written_on_the_v3_paths(log_records, capfd, tmp_path):  # noqa: F811
    captured = Captured()
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET) as emulator:
        # the client: success, missing image (a v3 error body), wrong secret (a gateway error with a request id)
        with make_client(emulator, {"api_version": "v3"}) as client:
            captured.add("details", client.get_image("prod", "team/web").to_dict())
            captured.add("registry", client.get_registry("prod").to_dict())
            with pytest.raises(NcrError) as missing:
                client.get_image("prod", "no/such")
            captured.add_error("client missing image", missing.value)
        with make_client(emulator, {"api_version": "v3", "secret_key": WRONG_SECRET}) as bad:
            with pytest.raises(NcrError) as auth:
                bad.get_image("prod", "team/web")
            captured.add_error("client auth failure", auth.value)

        # the provider through its gRPC server, v3 from the stack config
        server_env = {name: None for name in NCP_ENV_VARS} | {"HOME": str(tmp_path)}
        config = {"ncloud:accessKey": ACCESS_KEY, "ncloud:secretKey": SECRET, "ncr:endpoint": emulator.url,
                  "ncr:apiVersion": "v3"}
        for secret in (SECRET, WRONG_SECRET):
            with ProviderServer(env=server_env) as server:
                server.configure(config | {"ncloud:secretKey": secret}, secret_keys={"ncloud:secretKey"})
                try:
                    captured.add("read", server.read("prod/team/web", {"registry": "prod", "image_name": "team/web"}))
                except ProviderCallError as error:
                    captured.add("provider auth failure", error.details)
                captured.add("provider server stderr", server.stderr_text())

        # the CLI with debug logs
        for secret in (SECRET, WRONG_SECRET):
            env = cli_env(emulator, secret)
            secrets_run_cli(captured, env, "get", "prod/team/web", "--api-version", "v3", "--output", "json")
            secrets_run_cli(captured, env, "check", "prod/team/web", "prod/none", "--api-version", "v3")

    for record in log_records:
        captured.add(f"log {record.name}", record.getMessage())
    out, err = capfd.readouterr()
    captured.add("test process output", out + err)

    assert len(captured.items) > 15 and captured.containing("/api/v3/")  # the v3 paths were the ones taken
    for secret in (SECRET, WRONG_SECRET):
        assert captured.containing(secret) == []
    assert captured.containing(ACCESS_KEY) == []
    assert "client auth failure str" in captured.containing(MASKED)
    assert "provider auth failure" in captured.containing(MASKED)
