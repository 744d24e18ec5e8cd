"""The README's advice for a team that wants the access key hidden too: `pulumi config set --secret
ncloud:accessKey`. The provider reads it like the plain one, and state then holds neither key in plain text."""

from __future__ import annotations

import json

import pulumi
import pytest
from cli_runner import run_cli

from ncr_provider import NcrImage
from ncr_provider.emulator import NcrEmulator

from .harness import EngineStack

pytestmark = pytest.mark.engine

KEYS = {"ncloud:accessKey": "SECRETACCESSKEYTEST0", "ncloud:secretKey": "secret-access-key-test-secret-0123456789"}


@pytest.fixture
def emu():
    with NcrEmulator(access_key=KEYS["ncloud:accessKey"], secret_key=KEYS["ncloud:secretKey"]) as emulator:
        yield emulator


def test_an_access_key_set_with_secret_works_and_never_appears_in_state(engine_bin, tmp_path, emu):
    def program() -> None:
        pulumi.export("mutable", NcrImage("web", registry="prod", image_name="team/web").tag_mutability_enabled)

    stack = EngineStack(engine_bin, tmp_path, project="ncr-secret-access-key", program=program)
    try:
        # given both keys set with --secret
        for key, value in KEYS.items():
            stack.config_set(key, value, secret=True)
        stack.config_set("ncr:endpoint", emu.url)
        # when the stack is brought up and exported, and the export is given to the gate
        up = stack.stack.up()
        state = json.dumps(stack.export())
        (tmp_path / "stack.json").write_text(state)
        gate = run_cli("check", "--from-stack", str(tmp_path / "stack.json"), "--endpoint", emu.url, "-o", "json",
                       env={"NCLOUD_ACCESS_KEY": KEYS["ncloud:accessKey"], "NCLOUD_SECRET_KEY": KEYS["ncloud:secretKey"],
                            "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        written = [str(path) for path, text in stack.files_text() if any(key in text for key in KEYS.values())]
        printed = stack.command.all_output(but_show_secrets=True)
    finally:
        stack.close()
    # then the provider read the image with them, and neither key is anywhere in plain text
    assert up.summary.result == "succeeded" and up.outputs["mutable"].value is False
    assert [key for key in KEYS.values() if key in state or key in printed] == [] and written == []
    # and the gate reads that export without calling the provider's ciphertext an unchecked reference
    assert gate.returncode == 0, gate.stderr
    assert json.loads(gate.stdout)["not_inspected"] == []
