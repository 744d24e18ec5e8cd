"""ncr_provider.testing behaves as the real engine does where the two were seen to differ (tests/engine/ is the judge)."""

from __future__ import annotations

import asyncio

import pulumi
import pytest
from helpers import NCP_ENV_VARS

from ncr_provider import NcrImageTag
from ncr_provider.emulator import NcrEmulator
from ncr_provider.testing import ProviderMocks, ProviderServer, run_program, use_mocks


def unknown() -> pulumi.Output:
    """An output whose value is not known (as one of a resource still to be created, during a preview)."""
    loop = asyncio.get_event_loop()
    value, known = loop.create_future(), loop.create_future()
    value.set_result(None)
    known.set_result(False)
    return pulumi.Output(set(), value, known)


@pytest.fixture
def server(tmp_path):
    with NcrEmulator() as emu, ProviderServer({**dict.fromkeys(NCP_ENV_VARS), "HOME": str(tmp_path)}) as provider_server:
        provider_server.configure({"ncloud:accessKey": emu.access_key, "ncloud:secretKey": emu.secret_key,
                                   "ncr:endpoint": emu.url})
        provider_server.emulator = emu
        yield provider_server


def test_a_preview_does_not_read_a_resource_whose_id_is_unknown(server):
    mocks = ProviderMocks(server)
    with use_mocks(mocks, preview=True):
        exports = run_program(lambda: pulumi.export(
            "digest", NcrImageTag("web", registry="prod", image_name="team/web", tag=unknown()).digest))

    # as in `pulumi preview` (tests/engine/test_tag_by_digest.py): no read, no error, the output unknown
    assert (mocks.reads, mocks.skipped_reads) == ([], ["web"])
    assert exports == {}
    assert server.emulator.requests == []
