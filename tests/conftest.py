"""Shared fixtures: the emulator every test talks to over real HTTP, and clean NCP settings."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from helpers import NCP_ENV_VARS, make_client

from ncr_provider.emulator import NcrEmulator


@pytest.fixture(autouse=True)
def clean_ncp_env(monkeypatch, tmp_path):
    """No test sees the developer's NCP variables or ~/.ncloud/configure."""
    for name in NCP_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def emulator():
    """A fresh emulator with the default data, on 127.0.0.1 and a free port."""
    with NcrEmulator() as emu:
        yield emu


@pytest.fixture
def ncp_env(emulator, monkeypatch):
    """Environment pointing NCP tools at the emulator with its credentials."""
    monkeypatch.setenv("NCLOUD_ACCESS_KEY", emulator.access_key)
    monkeypatch.setenv("NCLOUD_SECRET_KEY", emulator.secret_key)
    monkeypatch.setenv("NCR_ENDPOINT", emulator.url)
    return emulator


@pytest.fixture
def client(emulator):
    with make_client(emulator) as c:
        yield c


# -- the policy pack's fixtures (test_policy, test_reference_forms); pulumi_policy imported only when used --

@pytest.fixture
def lookups():
    from helpers import FAST_OPTIONS

    from ncr_provider.policy import LookupCache

    cache = LookupCache(options=FAST_OPTIONS)
    yield cache
    cache.close()


@pytest.fixture
def validate(lookups):
    """Run the mutable-tags policy and its companion on one resource, in pack order."""
    from policy_helpers import validator

    return validator(lookups)


@pytest.fixture(scope="module")
def pack_emulator():
    """One emulator for the pack process, whose credentials it gets through the environment."""
    with NcrEmulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def pack(pack_emulator, tmp_path_factory):
    """`examples/policy-pack` served as the engine serves it, and a stub to drive it."""
    from policy_helpers import running_pack

    yield from running_pack(pack_emulator, tmp_path_factory.mktemp("pack-home"))


@pytest.fixture
def log_records():
    """Every log record of the test, DEBUG and up, from every logger."""
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate and key for 127.0.0.1 (and localhost), made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key
