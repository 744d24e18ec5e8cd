"""Level 3: whole programs under Pulumi mocks, every NcrImage read forwarded to the real provider server."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pulumi
import pytest
from conftest import NCP_ENV_VARS

from ncr_provider import NcrImage, NcrImageArgs
from ncr_provider.emulator import NcrEmulator
from ncr_provider.errors import InvalidNameError
from ncr_provider.resource import TYPE_TOKEN
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
        provider_server.configure({"ncloud:accessKey": ACCESS_KEY, "ncloud:secretKey": SECRET_KEY, "ncr:endpoint": emu.url},
                                  secret_keys={"ncloud:secretKey"})
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

    assert caught.value.last_line == (
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
    assert (args.typ, args.name, args.resource_id) == (TYPE_TOKEN, "api", "prod/team/api")
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


# -- with the real CLI, where it exists -----------------------------------------------------


@pytest.mark.skipif(shutil.which("pulumi") is None, reason="the Pulumi CLI is not installed (see shared/pulumi-engine.md)")
def test_example_up_with_the_pulumi_cli(emu, tmp_path):
    from pulumi import automation as auto

    # A copy of the program with its own Pulumi.yaml keeps stack files out of the repository.
    program = tmp_path / "program"
    shutil.copytree(EXAMPLE, program, ignore=shutil.ignore_patterns("__pycache__", "*.example"))
    (program / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
    env = {"PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(), "PULUMI_CONFIG_PASSPHRASE": "test",
           "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_PYTHON_CMD": sys.executable,
           "HOME": os.environ["HOME"], "PATH": os.environ["PATH"]}
    (tmp_path / "state").mkdir()
    stack = auto.create_or_select_stack("test", work_dir=str(program), opts=auto.LocalWorkspaceOptions(env_vars=env))
    try:
        stack.set_all_config({
            "ncloud:accessKey": auto.ConfigValue(ACCESS_KEY),
            "ncloud:secretKey": auto.ConfigValue(SECRET_KEY, secret=True),
            "ncr:endpoint": auto.ConfigValue(emu.url),
            f"{PROJECT}:images": auto.ConfigValue('["prod/team/web", "prod/hello/world"]'),
        })
        stack.preview()
        result = stack.up()
        outputs = {name: value.value for name, value in result.outputs.items()}
        assert outputs == EXPECTED
        assert SECRET_KEY not in json.dumps(stack.export_stack().deployment)
    finally:
        stack.destroy()
        stack.workspace.remove_stack("test")
