"""Level 1: the NcrImageProvider object itself, against the emulator over real HTTP."""

from __future__ import annotations

import base64
import pickle
import threading
import traceback

import dill
import pytest
from helpers import FAST_RETRY, SELECT_ONE, FastRetryProvider, configured, without_request_id
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.rpc import UNKNOWN

from ncr_provider import NcrImageProvider, NcrImageTagProvider
from ncr_provider.errors import (
    AuthenticationError,
    ConfigurationError,
    ImageNotFoundError,
    InvalidNameError,
    InvalidResponseError,
    TagNotFoundError,
    ThrottledError,
)
from ncr_provider.provider import ReadOnlyError

SEED_OUTPUTS = {
    "registry": "ncpdocker",
    "image_name": "ncpdocker",
    "region": "KR",
    "description": "ncp docker",
    "full_description": "Naver Cloud Platform Docker",
    "pull_count": 0,
    "tag_mutability_enabled": True,
    "last_updated": 1711928488000,
    "last_updated_at": "2024-03-31T23:41:28Z",
    "namespace": "ncpdocker",
    "private_id": "",
    "repository_url": "ncpdocker.kr.ncr.ntruss.com/ncpdocker",
    "private_repository_url": None,
    "last_pulled": None,  # API v3 only
    "last_pulled_at": None,
}


@pytest.fixture
def provider(emulator):
    return configured(emulator.stack_config())


# -- read -----------------------------------------------------------------------------------


def test_read_returns_every_output_of_the_seed_image(provider):
    result = provider.read("ncpdocker/ncpdocker", {"registry": "ncpdocker", "image_name": "ncpdocker"})

    assert result.id == "ncpdocker/ncpdocker"
    assert result.outs == SEED_OUTPUTS
    assert type(result.outs["pull_count"]) is int and type(result.outs["last_updated"]) is int


def test_read_sends_an_image_name_with_slash_as_one_encoded_segment(provider, emulator):
    result = provider.read("prod/team/web", {})

    assert (result.outs["registry"], result.outs["image_name"]) == ("prod", "team/web")
    assert result.outs["tag_mutability_enabled"] is False
    assert result.outs["private_id"] == "k7x2p9q4m1"
    assert [r.raw_path for r in emulator.requests] == ["/ncr/api/v2/repositories/prod/team%2Fweb"]


def test_a_resource_region_overrides_the_stack_region(provider, emulator):
    with pytest.raises(ImageNotFoundError):
        provider.read("sgn-apps/shop/cart", {})  # the stack's region, KR, has no such registry

    result = provider.read("sgn-apps/shop/cart", {"region": "sgn"})

    assert result.outs["region"] == "SGN"
    assert result.outs["description"] == "Cart service for the APAC shop"
    assert emulator.requests[-1].raw_path == "/ncr/sgn-api/v2/repositories/sgn-apps/shop%2Fcart"


def test_a_resource_endpoint_overrides_the_stack_endpoint(emulator):
    # The stack points at a closed port: only the resource's own endpoint can answer.
    provider = configured(emulator.stack_config(**{"ncr:endpoint": "http://127.0.0.1:9"}))

    result = provider.read("prod/hello/world", {"endpoint": emulator.url})

    assert result.outs["description"] == "Hello world sample"
    assert result.outs["endpoint"] == emulator.url


def test_one_client_per_place_shared_by_concurrent_reads(provider, emulator):
    emulator.latency = 0.02  # reads overlap, as on the provider server's 4 worker threads
    results, errors = [], []

    def read_one(image_id: str) -> None:
        try:
            results.append(provider.read(image_id, {}).outs["image_name"])
        except Exception as exc:  # collected: an assert in a thread would go unseen
            errors.append(exc)

    ids = ["prod/team/web", "prod/team/api", "prod/hello/world", "ncpdocker/ncpdocker"] * 4
    threads = [threading.Thread(target=read_one, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == sorted(i.split("/", 1)[1] for i in ids)
    assert 1 <= emulator.connections <= 4
    assert provider.client_for(provider.settings_for()) is provider.client_for(provider.settings_for())
    assert provider.client_for(provider.settings_for("SGN")) is not provider.client_for(provider.settings_for())


# -- read failures: the exact sentence the user reads ----------------------------------------


def test_missing_image_names_image_and_region(provider):
    with pytest.raises(ImageNotFoundError) as caught:
        provider.read("prod/nope", {})

    assert without_request_id(str(caught.value)) == "Image prod/nope not found in region KR (HTTP 404 (NCP errorCode 300): Not Found)."


def test_read_error_traceback_is_short_and_ends_with_the_sentence(provider):
    with pytest.raises(ImageNotFoundError) as caught:
        provider.read("prod/nope", {})

    # The provider server sends exactly this text (traceback.format_exc) to the engine.
    text = "".join(traceback.format_exception(caught.value))
    assert without_request_id(text.splitlines()[-1]) == (
        "ncr_provider.errors.ImageNotFoundError: Image prod/nope not found in region KR "
        "(HTTP 404 (NCP errorCode 300): Not Found).")
    assert "client.py" not in text and "During handling" not in text


def test_wrong_secret_key_says_to_check_keys_and_clock(emulator):
    provider = configured(emulator.stack_config(**{"ncloud:secretKey": "not-the-secret"}))

    with pytest.raises(AuthenticationError) as caught:
        provider.read("prod/team/web", {})

    assert without_request_id(str(caught.value)) == (
        "NCR rejected the credentials for image prod/team/web (HTTP 401 (NCP errorCode 200): Authentication Failed). "
        f"Check the access key {emulator.access_key[:4]}**** and its secret key, and that this machine's clock is correct.")


def test_missing_credentials_name_the_config_commands_and_variables(emulator, clean_ncp_env):
    provider = configured({"ncr:endpoint": emulator.url})

    with pytest.raises(ConfigurationError) as caught:
        provider.read("prod/team/web", {})

    assert str(caught.value) == (
        "No NCP access key and secret key found: run `pulumi config set ncloud:accessKey <access-key>` and "
        "`pulumi config set --secret ncloud:secretKey <secret-key>`, or set the environment variables "
        "NCLOUD_ACCESS_KEY and NCLOUD_SECRET_KEY, or add ncloud_access_key_id and ncloud_secret_access_key "
        f"to [DEFAULT] in {clean_ncp_env / '.ncloud' / 'configure'}.")
    assert emulator.requests == []


def test_missing_secret_key_alone_asks_only_for_it(emulator, clean_ncp_env):
    provider = configured({"ncr:endpoint": emulator.url, "ncloud:accessKey": emulator.access_key})

    with pytest.raises(ConfigurationError, match=r"^No NCP secret key found: run `pulumi config set --secret "
                                                 r"ncloud:secretKey <secret-key>`, or set the environment variable "
                                                 r"NCLOUD_SECRET_KEY, or add ncloud_secret_access_key to"):
        provider.read("prod/team/web", {})


def test_throttling_after_retries_says_so(provider, emulator):
    for _ in range(FAST_RETRY.attempts):
        emulator.enqueue(status=429)

    with pytest.raises(ThrottledError) as caught:
        provider.read("prod/team/web", {})

    assert without_request_id(str(caught.value)) == (
        "NCR throttled the request for image prod/team/web: HTTP 429 (NCP errorCode 400): Quota Exceeded, "
        "still throttled after 3 attempt(s). Lower the request rate or concurrency and retry later.")
    assert len(emulator.requests) == 3


def test_malformed_id_is_refused_before_any_request(provider, emulator):
    with pytest.raises(InvalidNameError, match=r"^Invalid id 'no-slash': expected 'registry/image'$"):
        provider.read("no-slash", {})
    with pytest.raises(InvalidNameError, match=r"^Invalid image_name '\.\./x'"):
        provider.read("prod/../x", {})
    assert emulator.requests == []


# -- configure: precedence, and nothing kept but the settings ---------------------------------


def test_stack_config_beats_environment(emulator, monkeypatch):
    monkeypatch.setenv("NCLOUD_ACCESS_KEY", "ENVACCESSKEY")
    monkeypatch.setenv("NCLOUD_REGION", "JPN")
    provider = configured(emulator.stack_config(**{"ncloud:region": "KR"}))

    settings = provider.settings_for()

    assert (settings.access_key, settings.region) == (emulator.access_key, "KR")
    assert provider.read("prod/team/web", {}).outs["description"] == "Storefront web frontend"


def test_environment_keys_win_over_the_profile_file_as_a_pair(emulator, monkeypatch, clean_ncp_env):
    monkeypatch.setenv("NCLOUD_ACCESS_KEY", emulator.access_key)
    monkeypatch.setenv("NCLOUD_SECRET_KEY", emulator.secret_key)
    (clean_ncp_env / ".ncloud").mkdir()
    (clean_ncp_env / ".ncloud" / "configure").write_text(
        "[DEFAULT]\nncloud_access_key_id = PROFILEKEY\nncloud_secret_access_key = PROFILESECRET\n")
    provider = configured({"ncr:endpoint": emulator.url})

    settings = provider.settings_for()

    assert (settings.access_key, settings.secret_key) == (emulator.access_key, emulator.secret_key)
    assert provider.read("prod/team/web", {}).outs["registry"] == "prod"


def test_an_environment_access_key_is_never_paired_with_the_profile_files_secret(emulator, monkeypatch, clean_ncp_env):
    monkeypatch.setenv("NCLOUD_ACCESS_KEY", emulator.access_key)
    (clean_ncp_env / ".ncloud").mkdir()
    (clean_ncp_env / ".ncloud" / "configure").write_text(
        f"[DEFAULT]\nncloud_access_key_id = PROFILEKEY\nncloud_secret_access_key = {emulator.secret_key}\n")
    provider = configured({"ncr:endpoint": emulator.url})

    with pytest.raises(ConfigurationError) as caught:
        provider.read("prod/team/web", {})

    assert str(caught.value).startswith("The NCP access key is set in environment NCLOUD_ACCESS_KEY but the secret key in "
                                        "profile file ")
    assert emulator.secret_key not in str(caught.value)
    assert emulator.requests == []


def test_configure_keeps_only_the_known_settings(emulator):
    provider = configured(emulator.stack_config(**{"aws:region": "us-east-1", "p:images": '["a/b"]'}))

    settings = provider.settings_for()

    assert (settings.endpoint, settings.access_key) == (emulator.url, emulator.access_key)
    assert "us-east-1" not in repr(vars(provider)) and "a/b" not in repr(vars(provider))


def test_serialized_provider_is_a_bare_class_reference_without_secrets(emulator):
    fresh = serialize_provider(NcrImageProvider())
    provider = configured(emulator.stack_config(), cls=NcrImageProvider)
    provider.read("prod/team/web", {})  # settings, a client and its session now exist in memory

    blob = serialize_provider(provider)
    raw = base64.b64decode(blob)

    assert blob == fresh
    assert len(blob) <= 100
    assert b"ncr_provider.provider" in raw and b"NcrImageProvider" in raw
    for secret_or_setting in (emulator.secret_key, emulator.access_key, emulator.url):
        assert secret_or_setting.encode() not in raw
    restored = dill.loads(raw)
    assert type(restored) is NcrImageProvider
    assert restored.settings_for().secret_key is None  # a fresh object: the server calls configure() again
    assert NcrImageProvider.serialize_as_secret_always is False


def test_plain_pickle_carries_no_state_either(emulator):
    provider = configured(emulator.stack_config())
    provider.read("ncpdocker/ncpdocker", {})

    restored = pickle.loads(pickle.dumps(provider))

    assert type(restored) is FastRetryProvider
    assert restored.settings_for().access_key is None


# -- check --------------------------------------------------------------------------------


def test_check_accepts_valid_inputs_and_returns_them(provider):
    news = {"registry": "prod", "image_name": "team/web", "region": "SGN", "endpoint": "https://ncr.example.com"}

    result = provider.check({}, news)

    assert (result.inputs, result.failures) == (news, [])


@pytest.mark.parametrize(("news", "failure"), [
    ({"image_name": "web"}, ("registry", "registry is required")),
    ({"registry": "prod"}, ("image_name", "image_name is required")),
    ({"registry": "Prod", "image_name": "web"},
     ("registry", "Invalid registry 'Prod': use lowercase letters, digits and '-', starting and ending with a letter or digit")),
    ({"registry": "prod", "image_name": "team/../web"},
     ("image_name", "Invalid image_name 'team/../web': '.' and '..' segments are not allowed")),
    ({"registry": "prod", "image_name": "web", "region": "MARS"},
     ("region", "Unknown region 'MARS' for site public: valid regions are KR, SGN, JPN")),
    ({"registry": "prod", "image_name": "web", "endpoint": "http://ncr.example.com"},
     ("endpoint", "Invalid endpoint 'http://ncr.example.com': http:// is allowed only for loopback hosts "
                  "(127.0.0.0/8, ::1, localhost); use https://")),
    ({"registry": "prod", "image_name": 7}, ("image_name", "image_name must be text, got int")),
])
def test_check_names_the_failing_property(provider, news, failure):
    result = provider.check({}, news)

    assert [(f.property, f.reason) for f in result.failures] == [failure]


def test_check_judges_region_by_the_stack_site(emulator):
    provider = configured(emulator.stack_config(**{"ncloud:site": "gov"}))

    assert provider.check({}, {"registry": "a", "image_name": "b", "region": "KRS"}).failures == []
    [failure] = provider.check({}, {"registry": "a", "image_name": "b", "region": "SGN"}).failures
    assert (failure.property, failure.reason) == ("region", "Unknown region 'SGN' for site gov: valid regions are KR, KRS")


# -- never anything but a read -----------------------------------------------------------------


@pytest.mark.parametrize(("operation", "call"), [
    ("create", lambda p: p.create({"registry": "prod", "image_name": "web"})),
    ("update", lambda p: p.update("prod/web", {}, {})),
    ("delete", lambda p: p.delete("prod/web", {})),
    ("diff", lambda p: p.diff("prod/web", {}, {})),
])
def test_write_operations_are_refused_in_one_sentence(provider, emulator, operation, call):
    with pytest.raises(ReadOnlyError) as caught:
        call(provider)

    assert str(caught.value) == (
        f"NcrImage is read-only: it cannot {operation} an NCR image, it only reads an existing one "
        "(NcrImage(...) and NcrImage.get(...) register it as a read).")
    assert emulator.requests == []


# -- NcrImage include_tags ----------------------------------------------------------------------


def test_include_tags_adds_every_tag_newest_first_and_the_latest(provider, emulator):
    result = provider.read("prod/team/web", {"include_tags": True})

    assert result.outs == {
        "registry": "prod", "image_name": "team/web", "region": "KR", "description": "Storefront web frontend",
        "full_description": result.outs["full_description"], "pull_count": 1284, "tag_mutability_enabled": False,
        "last_updated": 1717400000000, "last_updated_at": "2024-06-03T07:33:20Z", "namespace": "prod",
        "private_id": "k7x2p9q4m1", "last_pulled": None, "last_pulled_at": None, "include_tags": True,
        "tags": ["1.2.1", "1.2.0", "1.1.0", "1.0.0"], "latest_tag": "1.2.1", "repository_url": "prod.kr.ncr.ntruss.com/team/web",
        "private_repository_url": "k7x2p9q4m1.kr.private-ncr.ntruss.com/team/web",
    }
    assert [r.raw_path for r in emulator.requests] == [
        "/ncr/api/v2/repositories/prod/team%2Fweb",
        "/ncr/api/v2/repositories/prod/team%2Fweb/tags?page=1&pagesize=100",
    ]


def test_without_include_tags_no_tag_request_is_sent(provider, emulator):
    for props in ({}, {"include_tags": None}, {"include_tags": False}):
        outs = provider.read("prod/team/api", props).outs
        assert "tags" not in outs and "latest_tag" not in outs
    assert [r.raw_path for r in emulator.requests] == ["/ncr/api/v2/repositories/prod/team%2Fapi"] * 3


def test_include_tags_reads_all_45_tags_of_a_paged_image(provider, emulator):
    outs = provider.read("prod/team/api", {"include_tags": True}).outs

    assert len(outs["tags"]) == 45 and outs["latest_tag"] == outs["tags"][0] == "build-144"
    assert outs["tags"][-1] == "build-101"


def test_include_tags_on_an_image_without_tags_gives_an_empty_list_and_no_latest(provider, emulator):
    emulator.add_image("prod", "empty/repo")

    outs = provider.read("prod/empty/repo", {"include_tags": True}).outs

    assert (outs["tags"], outs["latest_tag"]) == ([], None)


def test_include_tags_must_be_true_or_false(provider, emulator):
    with pytest.raises(ConfigurationError, match=r"^The NcrImage input include_tags must be true or false, got str$"):
        provider.read("prod/team/web", {"include_tags": "yes"})
    [failure] = provider.check({}, {"registry": "prod", "image_name": "web", "include_tags": "yes"}).failures
    assert (failure.property, failure.reason) == ("include_tags", "include_tags must be true or false, got str")
    assert provider.check({}, {"registry": "prod", "image_name": "web", "include_tags": True}).failures == []


# -- NcrImageTag ----------------------------------------------------------------------------------

WEB_1_2_1 = "sha256:16163e362774884fee5518ed9711677cbf3f6f2d728399b1857e63f1f2fe438c"


@pytest.fixture
def tag_provider(emulator):
    return configured(emulator.stack_config(), cls=NcrImageTagProvider)


def test_tag_read_returns_digest_platforms_and_the_pinned_reference(tag_provider, emulator):
    result = tag_provider.read("prod/team/web:1.2.1", {"registry": "prod", "image_name": "team/web", "tag": "1.2.1"})

    assert result.id == "prod/team/web:1.2.1"
    outs = result.outs
    assert {k: v for k, v in outs.items() if k != "platforms"} == {
        "registry": "prod", "image_name": "team/web", "tag": "1.2.1", "region": "KR", "digest": WEB_1_2_1,
        "full_size": 102028836, "last_updated": 1717400000000, "last_updated_at": "2024-06-03T07:33:20Z",
        "image_ref": "prod.kr.ncr.ntruss.com/team/web:1.2.1",
        "image_ref_by_digest": f"prod.kr.ncr.ntruss.com/team/web@{WEB_1_2_1}", "tags": None,
    }
    assert [(p["os"], p["architecture"], p["variant"], type(p["size"])) for p in outs["platforms"]] == [
        ("linux", "amd64", None, int), ("linux", "arm64", "v8", int)]
    assert set(outs["platforms"][0]) == {"architecture", "os", "variant", "digest", "size", "created", "updated",
                                         "latest_pulled", "image_ref_by_digest"}
    # Each platform carries its own pullable reference, pinned to that platform's manifest.
    assert [p["image_ref_by_digest"] for p in outs["platforms"]] == [
        f"prod.kr.ncr.ntruss.com/team/web@{p['digest']}" for p in outs["platforms"]]
    assert outs["platforms"][0]["digest"] != outs["platforms"][1]["digest"]
    assert [r.raw_path for r in emulator.requests] == ["/ncr/api/v2/repositories/prod/team%2Fweb/tags/1.2.1"]


@pytest.mark.parametrize(("stack", "resource", "tag_id", "reference"), [
    ({"ncloud:region": "SGN"}, {}, "sgn-apps/shop/cart:3.1.0", "sgn-apps.sg.ncr.ntruss.com/shop/cart@"),
    ({}, {"region": "JPN"}, "jp-media/media/transcoder:1.4.2", "jp-media.jp.ncr.ntruss.com/media/transcoder@"),
    ({"ncloud:site": "gov"}, {}, "gov-portal/portal/web:2024.06.1", "gov-portal.ncr.gov-ntruss.com/portal/web@"),
    ({"ncloud:site": "gov"}, {"region": "KRS"}, "gov-archive/archive/indexer:0.9.1",
     "gov-archive.ncr.gov-ntruss.com/archive/indexer@"),
])
def test_pinned_reference_names_the_docker_host_of_the_region_and_site(emulator, stack, resource, tag_id, reference):
    provider = configured(emulator.stack_config(**stack), cls=NcrImageTagProvider)

    outs = provider.read(tag_id, resource).outs

    assert outs["image_ref_by_digest"] == reference + outs["digest"]
    assert outs["digest"].startswith("sha256:") and len(outs["digest"]) == 71


def test_tag_that_moves_is_read_afresh(tag_provider, emulator):
    first = tag_provider.read("prod/team/api:latest", {}).outs["digest"]
    emulator.add_tag("prod", "team/api", "latest", digest="sha256:" + "ab" * 32)

    second = tag_provider.read("prod/team/api:latest", {}).outs

    assert first != second["digest"] == "sha256:" + "ab" * 32
    assert second["image_ref_by_digest"] == "prod.kr.ncr.ntruss.com/team/api@sha256:" + "ab" * 32


def test_missing_tag_names_image_tag_and_region(tag_provider):
    with pytest.raises(TagNotFoundError) as caught:
        tag_provider.read("prod/team/web:9.9.9", {})

    assert without_request_id(str(caught.value)) == "Tag prod/team/web:9.9.9 not found in region KR (HTTP 404 (NCP errorCode 300): Not Found)."
    assert "client.py" not in "".join(traceback.format_exception(caught.value))


def test_a_tag_without_a_digest_is_refused_not_deployed(tag_provider, emulator):
    emulator.enqueue(status=200, body={"name": "1.0", "digest": None, "images": []})

    with pytest.raises(InvalidResponseError, match=r"for tag prod/team/web:1\.0: NCR reported no digest for the tag$"):
        tag_provider.read("prod/team/web:1.0", {})


@pytest.mark.parametrize(("tag_id", "message"), [
    ("prod:1.0", r"^Invalid id 'prod:1.0': expected 'registry/image:tag', 'registry/image@digest' or "
                 r"'registry/image'$"),
    ("prod/team/web@sha256:xyz", r"^Invalid digest 'sha256:xyz'"),
    ("prod/team/web:.bad", r"^Invalid tag '\.bad'"),
    ("prod/../web:1", r"^Invalid image_name '\.\./web'"),
])
def test_malformed_tag_id_is_refused_before_any_request(tag_provider, emulator, tag_id, message):
    with pytest.raises(InvalidNameError, match=message):
        tag_provider.read(tag_id, {})
    assert emulator.requests == []


def test_tag_check_requires_and_validates_the_tag(tag_provider):
    failures = tag_provider.check({}, {"registry": "prod", "image_name": "web"}).failures
    assert [(f.property, f.reason) for f in failures] == [("tag", SELECT_ONE + "got none of them")]
    failures = tag_provider.check({}, {"registry": "prod", "image_name": "web", "tag": "a/b"}).failures
    assert [f.property for f in failures] == ["tag"]
    assert tag_provider.check({}, {"registry": "prod", "image_name": "web", "tag": "1.0", "region": "SGN"}).failures == []


def test_tag_provider_pickles_to_a_bare_class_reference(emulator):
    provider = configured(emulator.stack_config(), cls=NcrImageTagProvider)
    provider.read("prod/team/web:1.2.1", {})

    blob = serialize_provider(provider)
    raw = base64.b64decode(blob)

    assert blob == serialize_provider(NcrImageTagProvider()) and len(blob) <= 100
    assert emulator.secret_key.encode() not in raw and emulator.url.encode() not in raw
    assert type(dill.loads(raw)) is NcrImageTagProvider
    assert NcrImageTagProvider.serialize_as_secret_always is False


@pytest.mark.parametrize("operation", ["create", "update", "delete", "diff"])
def test_tag_write_operations_are_refused_naming_the_tag_resource(tag_provider, emulator, operation):
    calls = {"create": lambda p: p.create({}), "update": lambda p: p.update("a/b:1", {}, {}),
             "delete": lambda p: p.delete("a/b:1", {}), "diff": lambda p: p.diff("a/b:1", {}, {})}
    with pytest.raises(ReadOnlyError) as caught:
        calls[operation](tag_provider)

    assert str(caught.value) == (
        f"NcrImageTag is read-only: it cannot {operation} an NCR image tag, it only reads an existing one "
        "(NcrImageTag(...) and NcrImageTag.get(...) register it as a read).")
    assert emulator.requests == []


def test_include_tags_still_unknown_during_preview_reads_the_tags(provider, emulator):
    outs = provider.read("prod/hello/world", {"include_tags": UNKNOWN}).outs

    assert outs["tags"] == ["1.1", "1.0"]
