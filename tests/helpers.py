"""What several test modules share, imported by name (`from helpers import ...`); fixtures stay in conftest."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ncr_provider.client import ClientOptions, NcrClient, RetryPolicy
from ncr_provider.config import ENV_VARS, Settings
from ncr_provider.emulator import NcrEmulator

# Short waits so fault tests stay fast; the policy's shape is what they check.
FAST_RETRY = RetryPolicy(attempts=3, backoff_base=0.01, backoff_max=0.05, retry_after_max=0.2)
FAST_OPTIONS = ClientOptions(retry=FAST_RETRY)

# Every variable that would point a test at the developer's NCP account instead of the emulator.
NCP_ENV_VARS = ENV_VARS


def settings_for(emulator: NcrEmulator, **changes: Any) -> Settings:
    """Settings pointing at the emulator with its keys (plus any field changed, e.g. region or secret_key)."""
    base = Settings(endpoint=emulator.url, access_key=emulator.access_key, secret_key=emulator.secret_key)
    return dataclasses.replace(base, **changes)


def make_client(emulator: NcrEmulator, settings: dict[str, Any] | None = None, **options: Any) -> NcrClient:
    """A client signed with the emulator's keys, with fast retries unless told otherwise."""
    return NcrClient(settings_for(emulator, **(settings or {})), dataclasses.replace(FAST_OPTIONS, **options))


# Every API error's sentence ends with NCP's request id; tests compare the rest of it exactly.
REQUEST_ID = re.compile(r", request id [^\s,)]+")


def without_request_id(text: str) -> str:
    """`text` with its `, request id <id>` removed; fails if it has none (so the id is proven shown)."""
    assert REQUEST_ID.search(text), f"no request id in {text!r}"
    return REQUEST_ID.sub("", text)
