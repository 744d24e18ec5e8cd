"""A Pulumi CLI older than 3.139.0 hands a dynamic provider none of the stack config: the user gets one sentence.

Here the provider server is configured exactly as such a CLI configures it (only `pulumi-python:*` keys,
namespace stripped; here none at all), behind the real gRPC server; the program side runs under mocks with the
stack config a user set with `pulumi config set`. tests/engine/test_cli_floor.py checks the same sentence through
a real CLI 3.138.0 (README, "The CLI floor").
"""

from __future__ import annotations

import pulumi
import pytest
from helpers import NCP_ENV_VARS, OLD_CLI_SENTENCE, LastLine

from ncr_provider import NcrImage, NcrImageTag
from ncr_provider.emulator import NcrEmulator
from ncr_provider.engine_config import STACK_CONFIG_KEYS
from ncr_provider.testing import ProviderCallError, ProviderMocks, ProviderServer, run_program, use_mocks

ACCESS_KEY = "OLDCLITESTACCESSKEY0"
SECRET_KEY = "old-cli-test-secret-key-0123456789abcdef"


@pytest.fixture(scope="module")
def emu():
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emulator:
        yield emulator


def user_config(emu: NcrEmulator) -> dict[str, str]:
    """What `pulumi config set` put in the stack, as the program sees it."""
    return {"ncloud:accessKey": ACCESS_KEY, "ncloud:secretKey": SECRET_KEY, "ncr:endpoint": emu.url,
            "demo:images": '["prod/team/web"]'}


@pytest.fixture
def server_env(tmp_path):
    return {**dict.fromkeys(NCP_ENV_VARS), "HOME": str(tmp_path)}


def test_an_old_cli_gets_the_version_sentence_not_missing_credentials(emu, server_env):
    with ProviderServer(server_env) as old_cli_server:
        old_cli_server.configure({})  # what an old CLI hands the provider of package pulumi-python
        with use_mocks(ProviderMocks(old_cli_server), project="demo", config=user_config(emu)):
            with pytest.raises(ProviderCallError) as caught:
                run_program(lambda: pulumi.export("pulls", NcrImage("web", registry="prod", image_name="team/web").pull_count))

    assert LastLine(caught.value) == OLD_CLI_SENTENCE
    assert SECRET_KEY not in caught.value.details and emu.requests == []


def test_a_current_cli_reads_and_the_state_holds_only_the_key_names(emu, server_env):
    with ProviderServer(server_env) as server:
        server.configure(user_config(emu), secret_keys={"ncloud:secretKey"})
        mocks = ProviderMocks(server)
        with use_mocks(mocks, project="demo", config=user_config(emu)):
            exports = run_program(lambda: pulumi.export("digest", NcrImageTag.get("web", "prod/team/web:1.2.1").digest))

    assert exports["digest"].startswith("sha256:")
    assert [r.access_key for r in emu.requests] == [ACCESS_KEY]


def test_without_stack_settings_nothing_is_expected(emu, server_env, monkeypatch):
    # given keys only in the environment, as an old CLI's users can do
    monkeypatch.setenv("NCLOUD_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("NCLOUD_SECRET_KEY", SECRET_KEY)
    env = {**server_env, "NCLOUD_ACCESS_KEY": ACCESS_KEY, "NCLOUD_SECRET_KEY": SECRET_KEY, "NCR_ENDPOINT": emu.url}
    with ProviderServer(env) as old_cli_server:
        old_cli_server.configure({})
        with use_mocks(ProviderMocks(old_cli_server), project="demo", config={}):
            exports = run_program(lambda: pulumi.export("pulls", NcrImage("web", registry="prod", image_name="team/web").pull_count))

    assert exports == {"pulls": 1284}


def test_the_registered_inputs_name_the_settings_never_their_values(emu):
    class Recording(pulumi.runtime.Mocks):
        def __init__(self):
            self.inputs = []

        def new_resource(self, args):
            self.inputs.append(dict(args.inputs))
            return args.resource_id, {}

        def call(self, args):
            return {}, None

    recording = Recording()
    with use_mocks(recording, project="demo", config=user_config(emu)):
        run_program(lambda: NcrImage("web", registry="prod", image_name="team/web"))

    [inputs] = recording.inputs
    assert inputs[STACK_CONFIG_KEYS] == ["ncloud:accessKey", "ncloud:secretKey", "ncr:endpoint"]
    assert SECRET_KEY not in repr(inputs) and ACCESS_KEY not in repr(inputs)
