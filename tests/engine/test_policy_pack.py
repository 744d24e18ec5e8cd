"""`pulumi preview --policy-pack examples/policy-pack`, for real, over a workload that runs an NCR image.

The engine starts the pack itself (the `pulumi-analyzer-policy-python` plugin, in this Python), hands it the
stack config (the pack's credentials and endpoint come from there), and shows its verdicts in the output.
"""

from __future__ import annotations

import json
import socket

import pytest
from pulumi import automation as auto

from ncr_provider.emulator import NcrEmulator

from .harness import ROOT, EngineStack
from .workload import Workload

pytestmark = pytest.mark.engine

ACCESS_KEY = "POLICYTESTACCESSKEY0"
SECRET_KEY = "policy-test-secret-key-0123456789abcdef"
PACK = ROOT / "examples" / "policy-pack"
MUTABLE = "prod.kr.ncr.ntruss.com/team/api:build-144"
IMMUTABLE = "prod.kr.ncr.ntruss.com/team/web:1.2.1"
POLICY = "ncr-disallow-mutable-image-tags"


def runs(image: str):
    def program() -> None:
        Workload("app", image=image)
    return program


@pytest.fixture(scope="module")
def emu():
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emulator:
        yield emulator


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def preview(engine_bin, base, emu, image: str, policy_config: dict | None = None) -> tuple[bool, str]:
    """(passed, everything printed) of `pulumi preview --policy-pack PACK [--policy-pack-config FILE]`."""
    stack = EngineStack(engine_bin, base, project="ncr-policy", program=runs(image),
                        env={"PYTHONPATH": str(ROOT / "tests")})
    try:
        stack.use_emulator(emu)
        configs = []
        if policy_config is not None:
            config_file = base / "policy-config.json"
            config_file.write_text(json.dumps(policy_config))
            configs = [str(config_file)]
        try:
            stack.stack.preview(policy_packs=[stack.policy_pack(PACK)], policy_pack_configs=configs)
            passed = True
        except auto.CommandError:
            passed = False
        return passed, stack.command.all_output()
    finally:
        stack.close()


def test_a_mutable_image_fails_the_preview_with_the_policys_name_and_message(engine_bin, tmp_path, emu):
    passed, output = preview(engine_bin, tmp_path, emu, MUTABLE)

    assert not passed
    assert POLICY in output and "mandatory" in output
    assert (f"NCR image prod/team/api (region KR) allows mutable tags, so '{MUTABLE}' at image can point at "
            "different content after review.") in output
    assert SECRET_KEY not in output


def test_an_immutable_image_passes(engine_bin, tmp_path, emu):
    passed, output = preview(engine_bin, tmp_path, emu, IMMUTABLE)

    assert passed, output
    assert "allows mutable tags" not in output


def test_allowed_images_exempts_a_mutable_repository(engine_bin, tmp_path, emu):
    passed, output = preview(engine_bin, tmp_path, emu, MUTABLE, {POLICY: {"allowedImages": ["prod/team/*"]}})

    assert passed, output


def test_fail_closed_then_fail_open_when_ncr_cannot_be_reached(engine_bin, tmp_path, emu):
    unreachable = closed_port_url()

    closed, closed_output = preview(engine_bin, tmp_path / "closed", emu, IMMUTABLE, {POLICY: {"endpoint": unreachable}})
    opened, open_output = preview(engine_bin, tmp_path / "open", emu, IMMUTABLE,
                                  {POLICY: {"endpoint": unreachable, "failOpen": True}})

    assert not closed
    assert "Could not check NCR image prod/team/web (region KR) at image" in closed_output
    assert "blocks the deployment while failOpen is false" in closed_output
    assert opened, open_output
    assert "ncr-unchecked-images" in open_output and "Not blocking: failOpen is true." in open_output
