"""Telling a user whose Pulumi CLI is too old to hand our provider the stack config, in one sentence.

The engine passes a dynamic provider's `configure` the whole stack config only since Pulumi CLI 3.139.0
(pulumi/pulumi#17673); an older CLI passes none of `ncloud:*` / `ncr:*`, so the keys a user set with
`pulumi config set` would silently be missing and the read would fail with a missing-credentials error.
The program does see the stack config, so each read resource carries the *names* (never the values) of
the settings the stack sets; a provider that was configured with none of them knows the CLI dropped them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .config import SETTINGS
from .errors import ConfigurationError

MIN_CLI_VERSION = "3.139.0"
"""The oldest Pulumi CLI that hands a dynamic provider the whole stack config."""

STACK_CONFIG_KEYS = "_stack_config_keys"
"""The read resources' input listing which of our settings the stack config sets (names only). One underscore,
not two: the provider server of pulumi 3.139 (the lowest SDK allowed) drops every property named `__...` but
`__provider` before the provider sees it, and with it this list and the sentence."""


def stack_config_keys() -> list[str]:
    """The names of our settings (`ncloud:accessKey`, ...) set in this program's stack config, in table order."""
    from pulumi.runtime.config import get_config  # the program's view: every key, whatever the CLI's age

    return [s.pulumi_key for s in SETTINGS if get_config(s.pulumi_key) is not None]


def check_config_reached(props: Mapping[str, Any], configured: Collection[str], resource: str) -> None:
    """Raise the one sentence when the stack sets settings but the engine passed this provider none of them."""
    expected = props.get(STACK_CONFIG_KEYS)
    if not isinstance(expected, list) or not expected:
        return
    if any(key in configured for key in expected):
        return
    names = ", ".join(str(key) for key in expected)
    raise ConfigurationError(
        reason=f"The stack sets {names}, but the Pulumi CLI passed none of it to the {resource} provider: "
               f"{resource} needs Pulumi CLI {MIN_CLI_VERSION} or newer (`pulumi version` shows yours; "
               "or set NCLOUD_ACCESS_KEY and NCLOUD_SECRET_KEY in the environment instead).")
