"""Shared fixtures: the emulator every test talks to over real HTTP, and clean NCP settings."""

from __future__ import annotations

import pytest

from ncr_provider.client import NcrClient, RetryPolicy
from ncr_provider.config import ENV_VARS
from ncr_provider.emulator import NcrEmulator

# Short waits so fault tests stay fast; the policy's shape is what they check.
FAST_RETRY = RetryPolicy(attempts=3, backoff_base=0.01, backoff_max=0.05, retry_after_max=0.2)

NCP_ENV_VARS = ENV_VARS


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


def make_client(emulator, **options) -> NcrClient:
    """A client signed with the emulator's keys, with fast retries unless told otherwise."""
    options.setdefault("retry", FAST_RETRY)
    return NcrClient(access_key=emulator.access_key, secret_key=emulator.secret_key, endpoint=emulator.url, **options)


@pytest.fixture
def client(emulator):
    with make_client(emulator) as c:
        yield c
