"""get_image / get_image_tag / get_registry and their _output forms: in-process lookups, called plainly and in programs."""

from __future__ import annotations

import pulumi
import pytest

from ncr_provider import functions
from ncr_provider.errors import ConfigurationError, ImageNotFoundError, InvalidNameError
from ncr_provider.functions import (
    GetImageResult,
    get_image,
    get_image_output,
    get_image_tag,
    get_image_tag_output,
    get_registry,
    get_registry_output,
)
from ncr_provider.testing import ProviderMocks, run_program, use_mocks

WEB_1_2_1 = "sha256:16163e362774884fee5518ed9711677cbf3f6f2d728399b1857e63f1f2fe438c"
PROJECT = "fn"


@pytest.fixture(autouse=True)
def fresh_clients():
    functions.close_clients()
    yield
    functions.close_clients()


def stack(emulator, **extra: str) -> dict[str, str]:
    """Stack config as `pulumi config set` leaves it: namespaced keys, text values."""
    return emulator.stack_config(**extra)


# -- the plain form, settings from the environment ----------------------------------------------------

def test_get_image_returns_a_typed_result_with_the_resource_outputs(ncp_env):
    result = get_image("prod", "team/web")

    assert isinstance(result, GetImageResult)
    assert (result.id, result.pull_count, result.tag_mutability_enabled) == ("prod/team/web", 1284, False)
    assert result.repository_url == "prod.kr.ncr.ntruss.com/team/web"
    assert result.private_repository_url == "k7x2p9q4m1.kr.private-ncr.ntruss.com/team/web"
    assert (result.tags, result.latest_tag) == (None, None)
    assert awaited(result) is result  # the awaitable form, as Pulumi's packages return


def awaited(result):
    """`await result` driven by hand: asyncio.run would replace the event loop Pulumi's runtime keeps using."""
    async def wait():
        return await result

    coroutine = wait()
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("awaiting the result did not finish at once")


def test_get_image_with_include_tags_adds_the_tag_list(ncp_env):
    result = get_image("prod", "team/web", include_tags=True)

    assert (result.tags, result.latest_tag) == (["1.2.1", "1.2.0", "1.1.0", "1.0.0"], "1.2.1")


def test_allow_missing_gives_none_and_without_it_the_lookup_fails(ncp_env):
    assert get_image("prod", "nope", allow_missing=True) is None
    with pytest.raises(ImageNotFoundError, match=r"^Image prod/nope not found in region KR"):
        get_image("prod", "nope")


def test_allow_missing_does_not_hide_other_failures(ncp_env):
    ncp_env.enqueue(status=401, body=None)
    with pytest.raises(Exception, match="rejected the credentials"):
        get_image("prod", "team/web", allow_missing=True)


def test_get_image_tag_selects_by_tag_digest_or_most_recent(ncp_env):
    by_tag = get_image_tag("prod", "team/web", tag="1.2.1")
    by_digest = get_image_tag("prod", "team/web", digest=WEB_1_2_1)
    newest = get_image_tag("prod", "team/web", most_recent=True, tag_pattern=r"^1\.1\.")

    assert (by_tag.id, by_tag.digest, by_tag.tags) == ("prod/team/web:1.2.1", WEB_1_2_1, None)
    assert by_tag.image_ref == "prod.kr.ncr.ntruss.com/team/web:1.2.1"
    assert (by_digest.id, by_digest.tag, by_digest.tags) == (f"prod/team/web@{WEB_1_2_1}", "1.2.1", ["1.2.1"])
    assert (newest.id, newest.tag) == ("prod/team/web", "1.1.0")
    assert all(p["image_ref_by_digest"].endswith(p["digest"]) for p in by_tag.platforms)


def test_get_registry_returns_endpoints_and_settings(ncp_env):
    result = get_registry("prod")

    assert (result.id, result.public_endpoint, result.scan_on_push_enabled, result.created_at) == (
        "prod", "prod.kr.ncr.ntruss.com", True, "2024-01-01T00:00:00Z")


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: get_image("Prod", "web"), InvalidNameError, r"^Invalid registry 'Prod'"),
    (lambda: get_image("prod", "a//b"), InvalidNameError, r"^Invalid image_name 'a//b'"),
    (lambda: get_image("prod", "web", include_tags="yes"), ConfigurationError, r"^include_tags must be true or false"),
    (lambda: get_image("prod", "web", region="XX"), ConfigurationError, r"^Unknown region 'XX'"),
    (lambda: get_image("prod", "web", endpoint="http://example.com"), ConfigurationError, r"^Invalid endpoint"),
    (lambda: get_image_tag("prod", "web"), ConfigurationError, r"exactly one way.*got none of them"),
    (lambda: get_image_tag("prod", "web", tag="1", most_recent=True), ConfigurationError, r"got tag, most_recent"),
    (lambda: get_image_tag("prod", "web", most_recent=True, tag_pattern="("), ConfigurationError,
     r"tag_pattern '\(' is not a regular expression"),
    (lambda: get_registry("a/b"), InvalidNameError, r"^Invalid name 'a/b'"),
])
def test_bad_arguments_are_refused_before_any_request(ncp_env, call, error, message):
    with pytest.raises(error, match=message):
        call()
    assert ncp_env.requests == []


def test_missing_credentials_say_how_to_set_them(emulator, monkeypatch):
    monkeypatch.setenv("NCR_ENDPOINT", emulator.url)
    with pytest.raises(ConfigurationError, match=r"pulumi config set ncloud:accessKey"):
        get_image("prod", "team/web")


def test_one_client_is_shared_by_every_call_to_the_same_place(ncp_env):
    get_image("prod", "team/web")
    get_image_tag("prod", "team/web", tag="1.2.1")
    get_registry("prod")

    assert len(functions._clients) == 1
    assert ncp_env.connections == 1


# -- in a program: settings from pulumi.Config, Output forms --------------------------------------

def test_a_program_takes_the_settings_from_stack_config_over_the_environment(emulator, monkeypatch):
    monkeypatch.setenv("NCLOUD_ACCESS_KEY", "WRONGWRONGWRONGWRONG")
    monkeypatch.setenv("NCLOUD_SECRET_KEY", "wrong")

    def program():
        pulumi.export("pulls", get_image("prod", "team/web").pull_count)

    with use_mocks(ProviderMocks(None), project=PROJECT, config=stack(emulator)):
        assert run_program(program) == {"pulls": 1284}


@pytest.mark.parametrize("preview", [False, True])
def test_output_forms_take_inputs_and_are_known_at_preview(emulator, preview):
    exported: dict = {}

    def program():
        registry = pulumi.Output.from_input("prod")
        image = get_image_output(registry, "team/web")
        tag = get_image_tag_output(registry, image.apply(lambda r: r.image_name), most_recent=True)
        reg = get_registry_output(registry)
        gone = get_image_output(registry, "gone", allow_missing=True)
        pulumi.export("url", image.apply(lambda r: r.repository_url))
        pulumi.export("newest", tag.apply(lambda r: r.image_ref_by_digest))
        pulumi.export("scan", reg.apply(lambda r: r.scan_on_push_enabled))
        pulumi.export("gone", gone.apply(lambda r: r is None))
        image.apply(lambda r: exported.setdefault("ran", True))

    with use_mocks(ProviderMocks(None), project=PROJECT, config=stack(emulator), preview=preview):
        exports = run_program(program)

    assert exports == {"url": "prod.kr.ncr.ntruss.com/team/web",
                       "newest": f"prod.kr.ncr.ntruss.com/team/web@{WEB_1_2_1}", "scan": True, "gone": True}
    assert exported["ran"] is True  # the lookup ran, at preview too: its result is known


def test_a_failing_output_lookup_fails_the_program_with_its_sentence(emulator):
    def program():
        pulumi.export("d", get_image_tag_output("prod", "team/web", tag="0.0.0").apply(lambda r: r.digest))

    with use_mocks(ProviderMocks(None), project=PROJECT, config=stack(emulator)):
        with pytest.raises(Exception, match=r"Tag prod/team/web:0\.0\.0 not found in region KR"):
            run_program(program)


def test_the_secret_key_never_appears_in_a_result_or_its_repr(ncp_env):
    for result in (get_image("prod", "team/web", include_tags=True), get_image_tag("prod", "team/web", tag="1.2.1"),
                   get_registry("prod")):
        assert ncp_env.secret_key not in repr(result)
    assert ncp_env.secret_key not in repr(functions._clients)


def test_functions_speak_api_v3_when_asked(ncp_env):
    image = get_image("prod", "team/web", api_version="v3")
    registry = get_registry("prod", api_version="v3")

    assert (image.pull_count, image.tag_mutability_enabled) == (1284, False)
    assert (registry.public_endpoint, registry.public_endpoint_enabled) == ("prod.kr.ncr.ntruss.com", True)
    assert all("/api/v3/" in r.raw_path for r in ncp_env.requests)
    with pytest.raises(ConfigurationError, match="v9"):
        get_registry("prod", api_version="v9")
