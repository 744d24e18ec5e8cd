"""`ncr-pin-image-digests` under the real engine: `pulumi preview` / `pulumi up --policy-pack` with the policy at
`remediate` rewrite a workload's `:tag` reference to the digest the tag points at, before the deployment.

The engine calls the pack's Remediate for every resource, then analyzes the remediated inputs and
deploys them: the state after `up` holds the digest reference, though the program wrote the tag.
"""

from __future__ import annotations

import json

import pytest
from pulumi import automation as auto

from ncr_provider.emulator import NcrEmulator

from .harness import ROOT, EngineStack
from .workload import WORKLOAD_TYPE, Workload

pytestmark = pytest.mark.engine

ACCESS_KEY = "PINTESTACCESSKEY0000"
SECRET_KEY = "pin-test-secret-key-0123456789abcdef00"
PACK = ROOT / "examples" / "policy-pack"
DIGEST = "sha256:" + "5e" * 32
TAGGED = "prod.kr.ncr.ntruss.com/team/api:release"
PINNED = f"prod.kr.ncr.ntruss.com/team/api@{DIGEST}"


def runs(image: str):
    def program() -> None:
        Workload("app", image=image)
    return program


def stack_for(engine_bin, base, emu: NcrEmulator, image: str, policy_config: dict) -> tuple[EngineStack, list[str]]:
    # The pack reads its credentials from the stack config the engine hands it; the endpoint from its policy config.
    stack = EngineStack(engine_bin, base, project="ncr-pin", program=runs(image), env={"PYTHONPATH": str(ROOT / "tests")})
    stack.use_emulator(emu, endpoint=False)
    config_file = base / "policy-config.json"
    config_file.write_text(json.dumps(policy_config))
    return stack, [str(config_file)]


def pinning_config(emu: NcrEmulator, **pin: object) -> dict:
    """team/api's tags are mutable: exempt it from the mutable-tags policy, and pin it instead."""
    return {
        "ncr-disallow-mutable-image-tags": {"endpoint": emu.url, "allowedImages": ["prod/team/api"]},
        "ncr-pin-image-digests": {"enforcementLevel": "remediate", "endpoint": emu.url, **pin},
    }


def test_up_with_the_pack_deploys_the_digest_the_tag_points_at(engine_bin, tmp_path):
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emu:
        emu.add_tag("prod", "team/api", "release", digest=DIGEST)
        stack, configs = stack_for(engine_bin, tmp_path, emu, TAGGED, pinning_config(emu))
        try:
            packs = [stack.policy_pack(PACK)]
            stack.stack.preview(policy_packs=packs, policy_pack_configs=configs)
            stack.stack.up(policy_packs=packs, policy_pack_configs=configs)
            [workload] = stack.resources(WORKLOAD_TYPE)
            output = stack.command.all_output(but_show_secrets=True)
        finally:
            stack.close()

    # the program said :release; what was deployed (inputs and outputs in state) is the digest
    assert workload["inputs"]["image"] == PINNED
    assert workload["outputs"]["image"] == PINNED
    assert "ncr-pin-image-digests" in output
    assert SECRET_KEY not in output


def test_a_tag_that_cannot_be_pinned_fails_the_preview(engine_bin, tmp_path):
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emu:
        stack, configs = stack_for(engine_bin, tmp_path, emu, "prod.kr.ncr.ntruss.com/team/api:no-such-tag",
                                   pinning_config(emu))
        try:
            with pytest.raises(auto.CommandError):
                stack.stack.preview(policy_packs=[stack.policy_pack(PACK)], policy_pack_configs=configs)
            output = stack.command.all_output(but_show_secrets=True)
        finally:
            stack.close()

    assert "tag no-such-tag of NCR image prod/team/api (region KR) does not exist" in output


def test_with_a_cache_the_update_after_the_preview_asks_ncr_nothing(engine_bin, tmp_path):
    # given the pack's cache directory in its policy config, and the engine's two runs of the pack:
    # `pulumi preview`, then `pulumi up` (each starts its own pack process)
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emu:
        emu.add_tag("prod", "team/api", "release", digest=DIGEST)
        config = pinning_config(emu, cacheDir=str(tmp_path / "ncr-cache"))
        stack, configs = stack_for(engine_bin, tmp_path, emu, TAGGED, config)
        try:
            packs = [stack.policy_pack(PACK)]
            stack.stack.preview(policy_packs=packs, policy_pack_configs=configs)
            asked_in_preview = len(emu.requests)
            emu.clear_requests()
            stack.stack.up(policy_packs=packs, policy_pack_configs=configs)
            asked_in_update = len(emu.requests)
            [workload] = stack.resources(WORKLOAD_TYPE)
        finally:
            stack.close()

    # then the preview asked NCR (the image's details and the tag), the update nothing, and it still pinned
    assert asked_in_preview == 2
    assert asked_in_update == 0
    assert workload["inputs"]["image"] == PINNED
