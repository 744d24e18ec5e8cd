"""The pack's credentials arrive as the engine sends them: in `ConfigureStack`, not in PULUMI_CONFIG.

The Pulumi CLI the engine tier runs (3.274) starts a policy pack without PULUMI_CONFIG and sends the stack
config, secrets decrypted, in the Analyzer's ConfigureStack call; older CLIs set PULUMI_CONFIG. The pack is
served here as the engine serves it and driven over gRPC in the engine's order: ConfigureStack, Configure,
Analyze.
"""

from __future__ import annotations

import os
import subprocess
import sys

import grpc
import pytest
from helpers import NCP_ENV_VARS
from policy_helpers import DEPLOYMENT, IMMUTABLE, PACK_DIR, UNUSED_ENGINE_ADDRESS, analyze, configure, deployment, read_port
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from ncr_provider.emulator import NcrEmulator
from ncr_provider.policy import MUTABLE_TAGS_POLICY
from ncr_provider.testing import stop_process

pytestmark = pytest.mark.skipif(
    "ConfigureStack" not in analyzer_pb2.DESCRIPTOR.services_by_name["Analyzer"].methods_by_name,
    reason="this pulumi's Analyzer protocol has no ConfigureStack (engines of its time set PULUMI_CONFIG instead)")


@pytest.fixture
def bare_pack(tmp_path):
    """The pack with no NCP keys anywhere in its environment, no PULUMI_CONFIG and an empty home."""
    env = {k: v for k, v in os.environ.items() if k not in NCP_ENV_VARS and not k.startswith("PULUMI_")}
    env["HOME"] = str(tmp_path)
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", UNUSED_ENGINE_ADDRESS, "."],
                                cwd=PACK_DIR, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
    try:
        port = read_port(proc, stderr_path)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        stop_process(proc)


def test_credentials_sent_in_configure_stack_reach_the_lookups(bare_pack):
    with NcrEmulator() as emu:
        # given the stack config as the engine sends it: secrets decrypted, listed as secret
        bare_pack.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
            stack="dev", project="shop", organization="organization", dry_run=True,
            config={"ncloud:accessKey": emu.access_key, "ncloud:secretKey": emu.secret_key, "ncr:endpoint": emu.url},
            config_secret_keys=["ncloud:secretKey"]), timeout=10)
        configure(bare_pack, emu)

        # when a workload running an immutable image is analyzed
        diagnostics = analyze(bare_pack, DEPLOYMENT, deployment(IMMUTABLE))

        # then the image was looked up with those keys, and passes
        assert diagnostics == []
        assert [r.access_key for r in emu.requests] == [emu.access_key]


def test_without_any_stack_config_the_pack_says_it_has_no_keys(bare_pack):
    with NcrEmulator() as emu:
        configure(bare_pack, emu)

        diagnostics = analyze(bare_pack, DEPLOYMENT, deployment(IMMUTABLE))

        # fail closed: the image could not be checked, and the sentence says where keys were looked for
        assert [d.policyName for d in diagnostics] == [MUTABLE_TAGS_POLICY]
        assert "No NCP access key and secret key found" in diagnostics[0].message
        assert emu.requests == []
