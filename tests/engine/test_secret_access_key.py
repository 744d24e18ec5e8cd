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

ACCESS_KEY = "SECRETACCESSKEYTEST0"
SECRET_KEY = "secret-access-key-test-secret-0123456789"


def program() -> None:
    pulumi.export("pulls", NcrImage("web", registry="prod", image_name="team/web").pull_count)


def test_an_access_key_set_with_secret_works_and_never_appears_in_state(engine_bin, tmp_path):
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emu:
        stack = EngineStack(engine_bin, tmp_path, project="ncr-secret-access-key", program=program)
        try:
            # given both keys set with --secret
            stack.config_set("ncloud:accessKey", ACCESS_KEY, secret=True)
            stack.config_set("ncloud:secretKey", SECRET_KEY, secret=True)
            stack.config_set("ncr:endpoint", emu.url)
            # when the stack is brought up and exported
            up = stack.stack.up()
            state = stack.export()
            export_file = tmp_path / "stack.json"
            export_file.write_text(json.dumps(state))
            check = run_cli("check", "--from-stack", str(export_file), "--endpoint", emu.url, "-o", "json",
                            env={"NCLOUD_ACCESS_KEY": ACCESS_KEY, "NCLOUD_SECRET_KEY": SECRET_KEY,
                                 "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
            files = [str(path) for path, text in stack.files_text() if ACCESS_KEY in text or SECRET_KEY in text]
            output = stack.command.all_output(but_show_secrets=True)
        finally:
            stack.close()
    # then the provider read the image with them, and neither key is anywhere in plain text
    assert up.summary.result == "succeeded" and isinstance(up.outputs["pulls"].value, (int, float))
    assert ACCESS_KEY not in json.dumps(state) and SECRET_KEY not in json.dumps(state)
    assert files == [] and ACCESS_KEY not in output
    # and the gate reads that export without calling the provider's ciphertext an unchecked reference
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["not_inspected"] == []
