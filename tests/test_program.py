"""Level 3: whole programs under Pulumi mocks, every NcrImage read forwarded to the real provider server."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pulumi
import pytest
from helpers import NCP_ENV_VARS, LastLine, without_request_id

from ncr_provider import NcrImage, NcrImageArgs, NcrImageTag, NcrImageTagArgs, NcrImageTagProvider
from ncr_provider.emulator import NcrEmulator
from ncr_provider.errors import InvalidNameError
from ncr_provider.names import find_references
from ncr_provider.sites import IMAGE_TYPE_TOKEN, TAG_TYPE_TOKEN
from ncr_provider.testing import ProviderCallError, ProviderMocks, ProviderServer, provider_blob, run_program, use_mocks

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "basic"
PROJECT = "ncr-provider-demo"
ACCESS_KEY = "PROGRAMTESTACCESSKEY"
SECRET_KEY = "program-test-secret-key-0123456789abcdef"


@pytest.fixture(scope="module")
def emu():
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def server(emu, tmp_path_factory):
    env = {**dict.fromkeys(NCP_ENV_VARS), "HOME": str(tmp_path_factory.mktemp("home"))}
    with ProviderServer(env) as provider_server:
        provider_server.configure(emu.stack_config(), secret_keys={"ncloud:secretKey"})
        yield provider_server


@pytest.fixture
def stack_config():
    """The example's stack config; a test overrides it with @pytest.mark.parametrize("stack_config", ...)."""
    return {"images": ["prod/team/web", "prod/hello/world"]}


@pytest.fixture
def preview():
    return False


@pytest.fixture
def mocks(server, stack_config, preview):
    """Pulumi mocks forwarding NcrImage reads to the server, set for this test only and reset after it."""
    config = {f"{PROJECT}:{key}": json.dumps(value) for key, value in stack_config.items()}
    with use_mocks(ProviderMocks(server), project=PROJECT, stack="dev", config=config, preview=preview) as installed:
        yield installed


def image_export(description: str, pull_count: int, mutable: bool, updated: str) -> dict:
    return {"description": description, "pull_count": pull_count, "tag_mutability_enabled": mutable,
            "last_updated_at": updated, "region": "KR", "approved": True}


EXPECTED = {
    "prod/team/web": image_export("Storefront web frontend", 1284, False, "2024-06-03T07:33:20Z"),
    "prod/hello/world": image_export("Hello world sample", 3, False, "2024-04-13T09:20:00Z"),
    "annotations": {
        "prod/team/web": {"ncr.ntruss.com/image": "prod/team/web", "ncr.ntruss.com/description": "Storefront web frontend",
                          "ncr.ntruss.com/last-updated": "2024-06-03T07:33:20Z"},
        "prod/hello/world": {"ncr.ntruss.com/image": "prod/hello/world", "ncr.ntruss.com/description": "Hello world sample",
                             "ncr.ntruss.com/last-updated": "2024-04-13T09:20:00Z"},
    },
}


# -- the example program -------------------------------------------------------------------


def test_example_exports_each_images_live_details(mocks):
    exports = run_program(EXAMPLE)

    assert exports == EXPECTED
    assert type(exports["prod/team/web"]["pull_count"]) is int  # a double on the wire, an int in the program
    assert sorted(mocks.reads) == [("prod-hello-world", "prod/hello/world"), ("prod-team-web", "prod/team/web")]


@pytest.mark.parametrize("preview", [True])
def test_example_outputs_are_known_at_preview(mocks):
    exports = run_program(EXAMPLE)

    assert exports == EXPECTED
    assert len(mocks.reads) == 2


@pytest.mark.parametrize("stack_config", [{"images": ["prod/team/web", "ncpdocker/ncpdocker"]}])
def test_example_refuses_an_image_with_mutable_tags(mocks):
    with pytest.raises(Exception, match=r"^Image ncpdocker/ncpdocker has mutable tags: a tag may point at a different "
                                        r"image tomorrow\. Make its tags immutable in NCR, or set allowMutableTags to true\.$"):
        run_program(EXAMPLE)


@pytest.mark.parametrize("stack_config", [{"images": ["prod/team/web", "prod/team/unreported"]}])
def test_example_refuses_an_image_whose_tag_mutability_ncr_did_not_report(emu, mocks):
    # given an image NCR reports no tag mutability for (None: neither mutable nor immutable)
    emu.add_image("prod", "team/unreported", tag_mutability_enabled=None)
    # then the program fails closed with the reason, instead of exporting "approved": true
    with pytest.raises(Exception, match=r"^NCR did not report whether image prod/team/unreported has mutable tags "
                                        r"\(None\), so it cannot be approved"):
        run_program(EXAMPLE)


@pytest.mark.parametrize("stack_config", [{"images": ["ncpdocker/ncpdocker"], "allowMutableTags": True}])
def test_example_allows_mutable_tags_when_configured(mocks):
    exports = run_program(EXAMPLE)

    assert exports["ncpdocker/ncpdocker"] == {
        "description": "ncp docker", "pull_count": 0, "tag_mutability_enabled": True,
        "last_updated_at": "2024-03-31T23:41:28Z", "region": "KR", "approved": True}
    assert exports["annotations"]["ncpdocker/ncpdocker"]["ncr.ntruss.com/description"] == "ncp docker"


@pytest.mark.parametrize("stack_config", [{"images": ["prod/missing"]}])
def test_example_fails_with_the_providers_sentence_for_a_missing_image(mocks):
    with pytest.raises(ProviderCallError) as caught:
        run_program(EXAMPLE)

    assert LastLine(caught.value, without_request_id) == (
        "ncr_provider.errors.ImageNotFoundError: Image prod/missing not found in region KR "
        "(HTTP 404 (NCP errorCode 300): Not Found).")


# -- the resource in programs of our own -----------------------------------------------------


def test_names_may_come_from_other_resources_outputs(mocks):
    def program():
        web = NcrImage("web", registry="prod", image_name="team/web")
        # Both names known only once `web` has been read: the id is composed from Outputs.
        twin = NcrImage("twin", NcrImageArgs(registry=web.namespace, image_name=web.image_name))
        looked_up = NcrImage.get("looked-up", web.id.apply(lambda _: "prod/hello/world"))
        pulumi.export("twin", pulumi.Output.all(twin.id, twin.description, twin.pull_count))
        pulumi.export("looked_up", pulumi.Output.all(looked_up.registry, looked_up.image_name, looked_up.last_updated))

    exports = run_program(program)

    assert exports == {"twin": ["prod/team/web", "Storefront web frontend", 1284],
                       "looked_up": ["prod", "hello/world", 1713000000000]}
    assert sorted(mocks.reads) == [("looked-up", "prod/hello/world"), ("twin", "prod/team/web"), ("web", "prod/team/web")]


class RecordingMocks(ProviderMocks):
    """ProviderMocks that also keep what the SDK registered, to look at the wire inputs."""

    def __init__(self, server):
        super().__init__(server)
        self.registered = []

    def new_resource(self, args):
        self.registered.append(args)
        return super().new_resource(args)


def test_ncr_image_registers_as_a_read_with_a_plain_small_provider_blob(server):
    recording = RecordingMocks(server)
    with use_mocks(recording, project=PROJECT):
        run_program(lambda: NcrImage("api", registry="prod", image_name="team/api", region="KR"))

    [args] = recording.registered
    assert (args.typ, args.name, args.resource_id) == (IMAGE_TYPE_TOKEN, "api", "prod/team/api")
    assert args.inputs["__provider"] == provider_blob()  # a plain string: not secret-wrapped, no secret inside
    assert len(args.inputs["__provider"]) <= 100
    assert {k: args.inputs[k] for k in ("registry", "image_name", "region")} == {
        "registry": "prod", "image_name": "team/api", "region": "KR"}


def test_constructor_refuses_bad_calls_before_any_rpc():
    with pytest.raises(TypeError, match="either an NcrImageArgs or keyword arguments"):
        NcrImage("x", NcrImageArgs("prod", "web"), registry="prod")
    with pytest.raises(TypeError, match="needs registry and image_name"):
        NcrImage("x", registry="prod")
    with pytest.raises(InvalidNameError, match=r"^Invalid registry 'Prod'"):
        NcrImage("x", registry="Prod", image_name="web")


# -- NcrImageTag and include_tags in programs --------------------------------------------------

WEB_1_2_1 = "sha256:16163e362774884fee5518ed9711677cbf3f6f2d728399b1857e63f1f2fe438c"
K8S_EXAMPLE = ROOT / "examples" / "k8s-by-digest"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def test_latest_tag_of_an_image_pinned_by_digest_with_typed_outputs(mocks):
    def program():
        api = NcrImage("api", registry="prod", image_name="team/api", include_tags=True)
        # The tag is known only once `api` has been read: the id is composed from its outputs.
        latest = NcrImageTag("api-latest", registry=api.registry, image_name=api.image_name, tag=api.latest_tag)
        web = NcrImageTag.get("web", "prod/team/web:1.2.1")
        pulumi.export("api", pulumi.Output.all(api.latest_tag, api.tags.apply(len), latest.id, latest.image_ref_by_digest))
        pulumi.export("web", pulumi.Output.all(web.full_size, web.last_updated, web.platforms, web.image_ref_by_digest))

    exports = run_program(program)

    latest_tag, tag_count, latest_id, latest_ref = exports["api"]
    assert (latest_tag, tag_count, latest_id) == ("build-144", 45, "prod/team/api:build-144")
    assert latest_ref.startswith("prod.kr.ncr.ntruss.com/team/api@sha256:")
    full_size, last_updated, platforms, web_ref = exports["web"]
    assert (full_size, last_updated, web_ref) == (102028836, 1717400000000, f"prod.kr.ncr.ntruss.com/team/web@{WEB_1_2_1}")
    assert type(full_size) is int and type(last_updated) is int  # doubles on the wire, ints in the program
    assert [(p["os"], p["architecture"], p.get("variant"), p["size"]) for p in platforms] == [
        ("linux", "amd64", None, 50182115), ("linux", "arm64", "v8", 51846721)]
    assert all(type(p["size"]) is int and type(p["created"]) is int for p in platforms)
    assert sorted(mocks.reads) == [("api", "prod/team/api"), ("api-latest", "prod/team/api:build-144"),
                                   ("web", "prod/team/web:1.2.1")]


@pytest.mark.parametrize("preview", [True])
def test_tag_digest_is_known_at_preview(mocks):
    exports = run_program(lambda: pulumi.export("ref", NcrImageTag.get("web", "prod/team/web:1.2.1").image_ref_by_digest))

    assert exports == {"ref": f"prod.kr.ncr.ntruss.com/team/web@{WEB_1_2_1}"}


def test_ncr_image_tag_registers_as_a_read_with_its_own_small_provider_blob(server):
    recording = RecordingMocks(server)
    with use_mocks(recording, project=PROJECT):
        run_program(lambda: NcrImageTag("web", NcrImageTagArgs("prod", "team/web", "1.2.1", region="KR")))

    [args] = recording.registered
    assert (args.typ, args.name, args.resource_id) == (TAG_TYPE_TOKEN, "web", "prod/team/web:1.2.1")
    assert args.inputs["__provider"] == provider_blob(NcrImageTagProvider()) != provider_blob()
    assert len(args.inputs["__provider"]) <= 100
    assert {k: args.inputs[k] for k in ("registry", "image_name", "tag", "region")} == {
        "registry": "prod", "image_name": "team/web", "tag": "1.2.1", "region": "KR"}


def test_a_missing_tag_fails_the_program_with_the_providers_sentence(mocks):
    with pytest.raises(ProviderCallError) as caught:
        run_program(lambda: pulumi.export("ref", NcrImageTag.get("gone", "prod/team/web:0.0.0").digest))

    assert LastLine(caught.value, without_request_id) == (
        "ncr_provider.errors.TagNotFoundError: Tag prod/team/web:0.0.0 not found in region KR "
        "(HTTP 404 (NCP errorCode 300): Not Found).")


def test_tag_constructor_refuses_bad_calls_before_any_rpc():
    with pytest.raises(TypeError, match="either an NcrImageTagArgs or keyword arguments"):
        NcrImageTag("x", NcrImageTagArgs("prod", "web", "1"), tag="2")
    with pytest.raises(TypeError, match="needs registry, image_name and one of tag, digest or most_recent=True"):
        NcrImageTag("x", registry="prod", image_name="web")
    with pytest.raises(InvalidNameError, match=r"^Invalid tag '-1'"):
        NcrImageTag("x", registry="prod", image_name="web", tag="-1")


class _StandInDeployment(pulumi.CustomResource):
    """The one pulumi_kubernetes class the example uses, registered with its real type token and inputs."""

    def __init__(self, resource_name, metadata=None, spec=None, opts=None):
        super().__init__(DEPLOYMENT, resource_name, {"metadata": metadata, "spec": spec}, opts)


@pytest.fixture
def stand_in_kubernetes(monkeypatch):
    """pulumi_kubernetes is the example's dependency, not ours: a stand-in registers the same resource."""
    module = types.ModuleType("pulumi_kubernetes")
    module.apps = types.SimpleNamespace(v1=types.SimpleNamespace(Deployment=_StandInDeployment))
    monkeypatch.setitem(sys.modules, "pulumi_kubernetes", module)


def test_k8s_example_deploys_the_tag_by_digest(server, stand_in_kubernetes):
    recording = RecordingMocks(server)
    config = {"ncr-k8s-by-digest:image": "prod/team/web:1.2.1", "ncr-k8s-by-digest:replicas": "3"}
    with use_mocks(recording, project="ncr-k8s-by-digest", config=config):
        exports = run_program(K8S_EXAMPLE)

    pinned = f"prod.kr.ncr.ntruss.com/team/web@{WEB_1_2_1}"
    assert exports == {"image": pinned, "digest": WEB_1_2_1, "platforms": ["linux/amd64", "linux/arm64"]}
    [deployment] = [args for args in recording.registered if args.typ == DEPLOYMENT]
    spec = deployment.inputs["spec"]
    assert spec["replicas"] == 3
    assert spec["template"]["spec"]["containers"] == [{"name": "team-web", "image": pinned}]
    assert deployment.inputs["metadata"]["annotations"] == {
        "ncr.ntruss.com/tag": "prod/team/web:1.2.1", "ncr.ntruss.com/tag-updated": "2024-06-03T07:33:20Z"}
    # What the policy pack will see: one NCR reference, pinned by digest, at the container's path.
    [found] = find_references(deployment.inputs)
    assert (found.path, found.ref.digest, found.ref.tag) == ("spec.template.spec.containers[0].image", WEB_1_2_1, None)
