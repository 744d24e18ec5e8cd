"""Level 2: the provider protocol, through `python -u -m pulumi.dynamic` started as the engine starts it."""

from __future__ import annotations

import base64
import threading

import grpc
import pulumi._types
import pytest
from helpers import EXPECTED_IMAGE_OUTPUTS, NCP_ENV_VARS, OLD_CLI_SENTENCE, LastLine, without_request_id
from pulumi.runtime.rpc import translate_output_properties

from ncr_provider import NcrImage, NcrImageTag
from ncr_provider.emulator import NcrEmulator
from ncr_provider.engine_config import STACK_CONFIG_KEYS
from ncr_provider.sites import TAG_TYPE_TOKEN
from ncr_provider.testing import ProviderCallError, ProviderServer, provider_blob

ACCESS_KEY = "GRPCTESTACCESSKEY001"
SECRET_KEY = "grpc-test-secret-key-0123456789abcdefghij"


@pytest.fixture(scope="module")
def server_env(tmp_path_factory):
    """The server's environment: no developer NCP variables, an empty HOME (module scope outlives conftest's)."""
    home = tmp_path_factory.mktemp("home")
    return {**dict.fromkeys(NCP_ENV_VARS), "HOME": str(home)}


@pytest.fixture(scope="module")
def emu():
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emulator:
        yield emulator


def stack_config(endpoint: str, **overrides: str) -> dict:
    """A whole stack config, namespaced as the engine sends it, with keys of other packages too."""
    return {"ncloud:accessKey": ACCESS_KEY, "ncloud:secretKey": SECRET_KEY, "ncr:endpoint": endpoint,
            "ncr-provider-demo:images": '["prod/team/web"]', "aws:region": "ap-northeast-2", **overrides}


@pytest.fixture(scope="module")
def server(emu, server_env):
    """One provider process per module, configured once (as the engine does) with the secret key as a secret."""
    with ProviderServer(server_env) as provider_server:
        provider_server.configure(stack_config(emu.url), secret_keys={"ncloud:secretKey"})
        yield provider_server


def read_error(server: ProviderServer, image: str = "prod/team/web") -> ProviderCallError:
    """The error the provider process answers a Read of `image` (registry/name) with."""
    registry, name = image.split("/", 1)
    with pytest.raises(ProviderCallError) as caught:
        server.read(image, {"registry": registry, "image_name": name})
    return caught.value


def started(env: dict, config: dict) -> ProviderServer:
    """Another provider process: the server configures its provider once, so each stack config needs its own."""
    provider_server = ProviderServer(env).start()
    try:
        provider_server.configure(config)
    except BaseException:
        provider_server.close()
        raise
    return provider_server


def test_read_answers_with_the_outputs_the_engine_receives(server):
    image_id, outputs = server.read("prod/team/web", {"registry": "prod", "image_name": "team/web"})

    assert image_id == "prod/team/web"
    assert outputs == EXPECTED_IMAGE_OUTPUTS | {"namespace": "prod", "private_id": "k7x2p9q4m1"}  # v2 also names these
    # Numbers cross gRPC as doubles; NcrImage's Output[int] declarations turn them back into ints.
    assert type(outputs["pull_count"]) is float and type(outputs["tag_mutability_enabled"]) is bool
    types = pulumi._types.resource_types(NcrImage)
    assert (types["pull_count"], types["last_updated"], types["tag_mutability_enabled"]) == (int, int, bool)


def test_read_keeps_the_provider_blob_and_answers_per_resource_region(server):
    response = server.read_response("sgn-apps/shop/cart", {"registry": "sgn-apps", "image_name": "shop/cart",
                                                            "region": "SGN"})

    assert response.properties["__provider"] == provider_blob()
    assert response.properties["region"] == "SGN"
    assert response.properties["description"] == "Cart service for the APAC shop"


def test_provider_blob_is_small_and_plain(server):
    blob = provider_blob()

    assert len(blob) <= 100
    assert base64.b64decode(blob).count(b"ncr_provider.provider") == 1


def test_check_over_grpc_names_the_failing_properties(server):
    inputs, failures = server.check({}, {"registry": "prod", "image_name": "a//b", "region": "XX"})

    assert inputs == {"registry": "prod", "image_name": "a//b", "region": "XX"}
    assert failures == [
        ("image_name", "Invalid image_name 'a//b': it has an empty path segment (leading, trailing or double '/')"),
        ("region", "Unknown region 'XX' for site public: valid regions are KR, SGN, JPN"),
    ]


def test_sixteen_concurrent_reads_answer_correctly_over_at_most_four_connections(server):
    images = ["prod/team/web", "prod/team/api", "prod/hello/world", "ncpdocker/ncpdocker"]
    answers: dict[int, tuple[str, dict]] = {}
    errors: list[Exception] = []
    # A fresh emulator reached through the resources' own endpoint gives a fresh client and pool to count.
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as fresh:
        fresh.latency = 0.02  # long enough for the reads to overlap on the server's worker threads

        def read(n: int) -> None:
            registry, image_name = images[n % 4].split("/", 1)
            try:
                answers[n] = server.read(images[n % 4], {"registry": registry, "image_name": image_name,
                                                         "endpoint": fresh.url}, name=f"image-{n}")
            except Exception as exc:  # collected: an assert in a thread would go unseen
                errors.append(exc)

        threads = [threading.Thread(target=read, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        for n, (image_id, outputs) in answers.items():
            assert image_id == images[n % 4]
            assert f"{outputs['registry']}/{outputs['image_name']}" == images[n % 4]
            assert outputs["endpoint"] == fresh.url
        assert len(answers) == 16 and len(fresh.requests) == 16
        assert 2 <= fresh.connections <= 4


def test_missing_image_last_line_is_the_sentence(server):
    error = read_error(server, "prod/nope")
    assert error.code == grpc.StatusCode.UNKNOWN
    assert LastLine(error, without_request_id) == (
        "ncr_provider.errors.ImageNotFoundError: Image prod/nope not found in region KR "
        "(HTTP 404 (NCP errorCode 300): Not Found).")


def test_throttling_is_retried_then_reported_in_one_sentence(server, emu):
    for _ in range(4):  # the provider's default policy makes 4 attempts
        emu.enqueue(status=429)

    assert LastLine(read_error(server), without_request_id) == (
        "ncr_provider.errors.ThrottledError: NCR throttled the request for image prod/team/web: HTTP 429 "
        "(NCP errorCode 400): Quota Exceeded, still throttled after 4 attempt(s). "
        "Lower the request rate or concurrency and retry later.")
    assert emu.pending == 0


def test_bad_signature_last_line_is_the_sentence_without_the_secret(emu, server_env):
    wrong_secret = "wrong-secret-key-9876543210"
    with started(server_env, stack_config(emu.url, **{"ncloud:secretKey": wrong_secret})) as bad:
        error = read_error(bad)

    assert LastLine(error, without_request_id) == (
        "ncr_provider.errors.AuthenticationError: NCR rejected the credentials for image prod/team/web "
        "(HTTP 401 (NCP errorCode 200): Authentication Failed). Check the access key GRPC**** and its secret key, "
        "and that this machine's clock is correct.")
    assert wrong_secret not in error.details and ACCESS_KEY not in error.details


def test_missing_credentials_last_line_names_config_keys_and_variables(emu, server_env):
    with started(server_env, {"ncr:endpoint": emu.url}) as unconfigured:
        error = read_error(unconfigured)

    assert LastLine(error) == (
        "ncr_provider.errors.ConfigurationError: No NCP access key and secret key found: run "
        "`pulumi config set ncloud:accessKey <access-key>` and `pulumi config set --secret ncloud:secretKey <secret-key>`, "
        "or set the environment variables NCLOUD_ACCESS_KEY and NCLOUD_SECRET_KEY, or add ncloud_access_key_id and "
        f"ncloud_secret_access_key to [DEFAULT] in {server_env['HOME']}/.ncloud/configure.")


def test_a_cli_too_old_to_pass_the_stack_config_gets_the_version_sentence(emu, server_env):
    # Given a provider configured as a CLI older than 3.139.0 configures it (none of the stack config), and a
    # read resource that registered the names of the settings the stack sets: they must reach the provider
    # through this SDK's provider server (pulumi 3.139's drops every input named `__...` but `__provider`)
    inputs = {"registry": "prod", "image_name": "team/web",
              STACK_CONFIG_KEYS: ["ncloud:accessKey", "ncloud:secretKey", "ncr:endpoint"]}
    emu.clear_requests()
    with started(server_env, {}) as old_cli:
        with pytest.raises(ProviderCallError) as caught:
            old_cli.read("prod/team/web", inputs)

    assert LastLine(caught.value) == OLD_CLI_SENTENCE
    assert emu.requests == []


def test_the_secret_key_is_in_neither_outputs_nor_serialized_properties(server):
    inputs = {"registry": "ncpdocker", "image_name": "ncpdocker"}
    request = server.read_request("ncpdocker/ncpdocker", inputs)

    response = server.read_response("ncpdocker/ncpdocker", inputs)

    assert response.properties["description"] == "ncp docker"
    for wire in (request.SerializeToString(), response.SerializeToString(),
                 base64.b64decode(response.properties["__provider"])):
        assert SECRET_KEY.encode() not in wire
        assert ACCESS_KEY.encode() not in wire


# -- NcrImageTag, and NcrImage's include_tags, through the same server --------------------------

WEB_1_2_1 = "sha256:16163e362774884fee5518ed9711677cbf3f6f2d728399b1857e63f1f2fe438c"


def test_tag_read_answers_with_the_outputs_the_engine_receives(server):
    tag_id, outputs = server.read("prod/team/web:1.2.1", {"registry": "prod", "image_name": "team/web", "tag": "1.2.1"},
                                  name="web-tag", type_=TAG_TYPE_TOKEN)

    assert tag_id == "prod/team/web:1.2.1"
    assert outputs["image_ref_by_digest"] == f"prod.kr.ncr.ntruss.com/team/web@{WEB_1_2_1}"
    assert (outputs["digest"], outputs["tag"], outputs["region"]) == (WEB_1_2_1, "1.2.1", "KR")
    assert (outputs["full_size"], outputs["last_updated_at"]) == (102028836.0, "2024-06-03T07:33:20Z")
    # A null inside a list of objects does not cross the wire: amd64 arrives without "variant".
    assert [(p["os"], p["architecture"], p.get("variant"), p["size"]) for p in outputs["platforms"]] == [
        ("linux", "amd64", None, 50182115.0), ("linux", "arm64", "v8", 51846721.0)]
    # Doubles on the wire; the resource's declared types turn them, nested ones included, back into ints.
    types = pulumi._types.resource_types(NcrImageTag)
    platforms = translate_output_properties(outputs["platforms"], lambda k: k, types["platforms"], True)
    assert (types["full_size"], types["last_updated"]) == (int, int)
    assert type(platforms[0]["size"]) is int and platforms[1].latest_pulled == 1717403600000
    assert isinstance(platforms[0], dict) and platforms[0]["variant"] is None  # every key is back in the program


def test_tag_read_is_served_by_the_tag_providers_own_small_blob(server):
    blob = server.blob_for(TAG_TYPE_TOKEN)

    response = server.read_response("prod/hello/world:1.1", {}, name="hello", type_=TAG_TYPE_TOKEN)

    assert response.properties["__provider"] == blob != server.blob
    assert len(blob) <= 100 and base64.b64decode(blob).count(b"NcrImageTagProvider") == 1
    assert response.properties["image_ref_by_digest"].startswith("prod.kr.ncr.ntruss.com/hello/world@sha256:")


def test_missing_tag_last_line_is_the_sentence(server):
    with pytest.raises(ProviderCallError) as caught:
        server.read("prod/team/web:0.0.1", {}, type_=TAG_TYPE_TOKEN)

    assert LastLine(caught.value, without_request_id) == (
        "ncr_provider.errors.TagNotFoundError: Tag prod/team/web:0.0.1 not found in region KR "
        "(HTTP 404 (NCP errorCode 300): Not Found).")


def test_tag_check_over_grpc_names_the_tag(server):
    _, failures = server.check({}, {"registry": "prod", "image_name": "team/web", "tag": "-x"}, type_=TAG_TYPE_TOKEN)

    assert [name for name, _ in failures] == ["tag"]


def test_include_tags_over_grpc_adds_tags_and_latest_tag_from_one_more_request(server, emu):
    before = len(emu.requests)

    _, outputs = server.read("prod/hello/world", {"registry": "prod", "image_name": "hello/world", "include_tags": True})

    assert (outputs["tags"], outputs["latest_tag"]) == (["1.1", "1.0"], "1.1")
    assert [r.raw_path for r in emu.requests[before:]] == [
        "/ncr/api/v2/repositories/prod/hello%2Fworld", "/ncr/api/v2/repositories/prod/hello%2Fworld/tags?page=1&pagesize=100"]
