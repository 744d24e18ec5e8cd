"""The documented Pulumi CLI floor (README, engine_config.MIN_CLI_VERSION), checked against the real CLI that runs.

From CLI 3.139.0 the engine hands a dynamic provider the whole stack config (pulumi/pulumi#17673; in the engine
source, `Target.GetPackageConfig` for the package `pulumi-python`): the keys set with `pulumi config set` reach
NcrImage and the read works. An older engine passes only `pulumi-python:*` keys, and the preview must then end in
our one sentence, not in a missing-credentials error. Against the pinned CLI this checks the first half; run
against 3.139.0 and 3.138.0 (README, "The CLI floor") it pins MIN_CLI_VERSION to the exact release: a floor set
one release too high fails on 3.139.0, one too low on 3.138.0.
"""

from __future__ import annotations

import pulumi
import pytest
from helpers import OLD_CLI_SENTENCE
from pulumi import automation as auto
from semver import VersionInfo

from ncr_provider import NcrImage
from ncr_provider.emulator import NcrEmulator
from ncr_provider.engine_config import MIN_CLI_VERSION

from .harness import EngineStack

pytestmark = pytest.mark.engine

ACCESS_KEY = "CLIFLOORTESTACCESSK0"
SECRET_KEY = "cli-floor-test-secret-key-0123456789abcdef"


def program() -> None:
    pulumi.export("pulls", NcrImage("web", registry="prod", image_name="team/web").pull_count)


def test_from_the_floor_the_stack_config_reaches_the_provider_and_before_it_the_sentence_says_why(engine_bin, tmp_path):
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emu:
        stack = EngineStack(engine_bin, tmp_path, project="ncr-cli-floor", program=program)
        try:
            stack.use_emulator(emu)  # the README's `pulumi config set` lines: the keys live only in the stack config

            if stack.cli_version >= VersionInfo.parse(MIN_CLI_VERSION):
                up = stack.stack.up()
                assert up.outputs["pulls"].value == 1284
                assert [r.access_key for r in emu.requests] == [ACCESS_KEY]
            else:
                with pytest.raises(auto.CommandError):
                    stack.stack.preview()
                output = stack.command.all_output()
                # the sentence as the SDK shows it (older SDKs drop the exception's class), and nothing asked of NCR
                assert OLD_CLI_SENTENCE.split(": ", 1)[1] in output, output
                assert "No NCP access key" not in output
                assert emu.requests == []
            assert SECRET_KEY not in stack.command.all_output(but_show_secrets=True)
        finally:
            stack.close()
