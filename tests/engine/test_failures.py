"""Failures as users meet them in `pulumi preview`: the CLI's output carries our one sentence."""

from __future__ import annotations

import socket

import pulumi
import pytest
from helpers import REQUEST_ID
from pulumi import automation as auto

from ncr_provider import NcrImage
from ncr_provider.emulator import NcrEmulator

from .harness import EngineStack

pytestmark = pytest.mark.engine

ACCESS_KEY = "FAILURETESTACCESSKEY"
SECRET_KEY = "failure-test-secret-key-0123456789abcdef"


def read_image(image_id: str):
    def program() -> None:
        registry, _, name = image_id.partition("/")
        pulumi.export("pulls", NcrImage("image", registry=registry, image_name=name).pull_count)
    return program


def without_request_ids(output: str) -> str:
    """The output with every `, request id <id>` removed (each API error names NCP's request id)."""
    assert REQUEST_ID.search(output), "no request id in the output"
    return REQUEST_ID.sub("", output)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def emu():
    with NcrEmulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY) as emulator:
        yield emulator


def failed_preview(engine_bin, base, emu, image_id: str, **config: str) -> str:
    """Preview a one-image program with this stack config; return everything the failed preview printed."""
    stack = EngineStack(engine_bin, base, project="ncr-failures", program=read_image(image_id))
    try:
        settings = {"ncloud:accessKey": ACCESS_KEY, "ncloud:secretKey": SECRET_KEY, "ncr:endpoint": emu.url, **config}
        for key, value in settings.items():
            stack.config_set(key, value, secret=key == "ncloud:secretKey")
        with pytest.raises(auto.CommandError):
            stack.stack.preview()
        return stack.command.all_output()
    finally:
        stack.close()


def test_a_missing_image(engine_bin, tmp_path, emu):
    output = without_request_ids(failed_preview(engine_bin, tmp_path, emu, "prod/team/nope"))

    assert "Image prod/team/nope not found in region KR (HTTP 404 (NCP errorCode 300): Not Found)." in output


def test_the_region_set_in_config_is_the_one_read(engine_bin, tmp_path, emu):
    output = failed_preview(engine_bin, tmp_path, emu, "prod/team/web", **{"ncloud:region": "JPN"})

    assert "Image prod/team/web not found in region JPN" in output


def test_wrong_keys(engine_bin, tmp_path, emu):
    wrong = "wrong-secret-key-for-the-engine-0123456789"
    output = without_request_ids(failed_preview(engine_bin, tmp_path, emu, "prod/team/web", **{"ncloud:secretKey": wrong}))

    assert ("NCR rejected the credentials for image prod/team/web (HTTP 401 (NCP errorCode 200): Authentication "
            "Failed). Check the access key FAIL**** and its secret key, and that this machine's clock is correct.") in output
    assert wrong not in output and SECRET_KEY not in output and ACCESS_KEY not in output


def test_an_unreachable_endpoint(engine_bin, tmp_path, emu):
    endpoint = f"http://127.0.0.1:{closed_port()}"
    output = failed_preview(engine_bin, tmp_path, emu, "prod/team/web", **{"ncr:endpoint": endpoint})

    assert f"Could not reach NCR at {endpoint} for image prod/team/web after 4 attempt(s): " in output
    assert "Check the endpoint and your network." in output
